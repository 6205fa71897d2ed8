"""One pilot's report: where it stands, how it assesses itself, what the inspectorate found, KPIs against target.

Every number on the page is computed from the folded state. Where the state has nothing yet (no consolidated
self-assessment, no inspection decision, no plan) the page says so in a sentence rather than drawing an
empty chart that could be mistaken for a result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.appeals import DECISION_STATUS_TITLES, OUTCOME_TITLES, DecisionStanding, decision_standings
from domain.consolidation import AssessmentLevel, Consolidation, FactorConsolidation, SpreadFinding
from domain.events import ComparisonItem, InspectionDecisionRegistered, RemediationScheduled
from domain.follow_up import gathered_figures, same_figure
from domain.inspectorate import InspectionArea, Intervention, ReviewType
from domain.instances import LEVEL_NAMES
from domain.kpis import KPI_CATALOGUE, POPULATION_TITLES, RIKET, TOTAL, group_median, kpi_name
from domain.municipalities import members_of, pilot_name
from domain.payloads import InspectionDecision, KpiDataPack, PlanDraft, PlanGoal, YearlyFollowUp
from domain.phases import MAIN_TRACK, PHASE_TITLES, Phase
from domain.state import Appeal, MunicipalityState, TaskState, TaskStatus
from domain.success_factors import SUCCESS_FACTORS
from domain.task_keys import KPI_DATA_PACK, PLAN_DRAFT, REMEDIATION, SELF_ASSESSMENT, SKA_FOLLOW_UP
from reports.charts import (
    BarSeries,
    LinePoint,
    LineSeries,
    MarkerKind,
    MarkerShape,
    RadarSeries,
    format_number,
    grouped_bar_chart,
    line_chart,
    nice_ticks,
    radar_chart,
)
from reports.page import bilingual, esc, html_page, iso_date, require_aware, table

KPI_LABELS: dict[str, tuple[str, str]] = {kpi: (d.title_sv, d.unit) for kpi, d in KPI_CATALOGUE.items()}
"""Kolada titles and units of the KPIs in domain.kpis.KPI_CATALOGUE; any other KPI is shown by its id."""


def _population(kpi: str) -> str:
    """Whom a known KPI counts, as a clause for its heading (', elever folkbokförda i kommunen'); '' if unknown."""
    definition = KPI_CATALOGUE.get(kpi)
    return f" ({POPULATION_TITLES[definition.population][0]})" if definition else ""


FACTOR_TITLES = {f.id: (f.title_sv, f.title_en) for f in SUCCESS_FACTORS}

CLASSIFICATIONS: dict[str, tuple[str, str]] = {
    "agreed": ("Båda flaggar faktorn", "both flag it"),
    "inspection_only": ("Endast inspektionen (blind fläck)", "inspection only: a blind spot"),
    "self_only": ("Endast den egna analysen", "own analysis only"),
}

FLAG_MARKERS: tuple[MarkerKind, ...] = (
    MarkerKind("inspection_only", "Endast inspektionen / inspection only", "triangle", "#b5480a", "I"),
    MarkerKind("agreed", "Båda / both", "circle", "#1a1a1a", "I+E"),
    MarkerKind("self_only", "Endast egen analys / own analysis only", "square", "#7a3e8e", "E"),
)

REVIEW_TYPES: dict[ReviewType, str] = {
    ReviewType.REGELBUNDEN_TILLSYN: "regelbunden tillsyn",
    ReviewType.KVALITETSGRANSKNING: "kvalitetsgranskning",
    ReviewType.RIKTAD_TILLSYN: "riktad tillsyn",
    ReviewType.UPPFOLJNING: "uppföljning",
}

AREAS: dict[InspectionArea, str] = {
    InspectionArea.FORUTSATTNINGAR_UTBILDNINGEN: "Förutsättningar för utbildningen",
    InspectionArea.UTVECKLING_AV_UTBILDNINGEN: "Utveckling av utbildningen",
    InspectionArea.UNDERVISNING_OCH_LARANDE: "Undervisning och lärande",
    InspectionArea.EXTRA_ANPASSNINGAR: "Extra anpassningar och särskilt stöd",
    InspectionArea.BEDOMNING_OCH_BETYG: "Bedömning och betygssättning",
    InspectionArea.TRYGGHET_OCH_STUDIERO: "Trygghet, studiero och kränkande behandling",
    InspectionArea.FORUTSATTNINGAR_SKOLENHETEN: "Förutsättningar för skolenheten",
    InspectionArea.STYRNING_OCH_UTVECKLING: "Styrning och utveckling av verksamheten",
}

INTERVENTIONS: dict[Intervention, str] = {
    Intervention.FORELAGGANDE: "föreläggande",
    Intervention.FORELAGGANDE_MED_VITE: "föreläggande med vite",
    Intervention.ANMARKNING: "anmärkning",
    Intervention.AVSTAENDE: "avstående från ingripande",
    Intervention.UTVECKLINGSOMRADE: "utvecklingsområde",
}


def render_pilot_report(state: MunicipalityState, *, generated_at: datetime) -> str:
    """The pilot's report as one self-contained HTML page."""
    require_aware(generated_at)
    name = state.municipality_name or state.kommunkod or "okänd kommun"
    body = "\n".join(
        [
            _header(state, name),
            _self_assessment(state),
            _inspection_comparison(state),
            _kpi_trends(state),
            _school_units(state),
            _decisions(state),
            _timeline(state),
        ]
    )
    return html_page(
        title=f"{name} ({state.kommunkod}) – {state.programme}: lägesrapport",
        body=body,
        generated_at=generated_at,
        source_note=f"Alla uppgifter är beräknade ur pilotens händelselogg, händelse 1–{state.version}.",
    )


def render_pilot_charts(state: MunicipalityState) -> str:
    """The report's charts with their tables, without the page around them: for the web's municipality page."""
    return "\n".join([_self_assessment(state), _inspection_comparison(state), _kpi_trends(state), _school_units(state)])


# ---- header -----------------------------------------------------------------------------------------------


def _header(state: MunicipalityState, name: str) -> str:
    facts = [
        (("Kommun", "Municipality"), esc(name)),
        (("Kommunkod", "Municipality code"), esc(state.kommunkod or "–")),
        (
            ("Program", "Programme"),
            f'{esc(state.programme or "–")} <span class="en">({esc(state.template_key)})</span>',
        ),
        (("Beslutande organ", "Deciding organ"), esc(state.deciding_organ or "–")),
        (("Startad", "Started"), esc(iso_date(state.started_at))),
        (("Aktuell fas", "Current phase"), _current_phase(state)),
        (("Avslutade faser", "Completed phases"), _phase_list(state.completed_phases)),
        (("Genomförandeår", "Implementation year"), _implementation_year(state)),
    ]
    rows = "".join(f"<dt>{bilingual(*label)}</dt><dd>{value}</dd>" for label, value in facts)
    return (
        f"<header><h1>{esc(name)} {bilingual('– lägesrapport', 'pilot report')}</h1>"
        + _para(
            "Leda för resultat: självskattning, Skolinspektionens iakttagelser, nyckeltal mot mål och nämndens beslut.",
            "Self-assessment, inspection findings, key figures against target and the nämnd decisions.",
            css="lead",
        )
        + f'<dl class="facts">{rows}</dl></header>'
    )


def _current_phase(state: MunicipalityState) -> str:
    if state.completed_at is not None:
        return bilingual(f"Alla faser klara ({iso_date(state.completed_at)})", "all phases completed")
    main = state.current_main_phase
    parts = [bilingual(*PHASE_TITLES[main]) if main else bilingual("Ingen huvudfas pågår", "no main phase running")]
    parallel = [p for p in state.active_phases if p not in MAIN_TRACK]
    if parallel:
        parts.append(
            f"<br>{esc('pågår även: ' + ', '.join(PHASE_TITLES[p][0] for p in parallel))} "
            f'<span class="en" lang="en">(also running)</span>'
        )
    return "".join(parts)


def _phase_list(phases: Sequence[Phase]) -> str:
    if not phases:
        return bilingual("inga ännu", "none yet")
    return esc(", ".join(PHASE_TITLES[p][0] for p in phases))


def _implementation_year(state: MunicipalityState) -> str:
    years = state.plan_years
    if years == 0:
        return bilingual("Ingen skolutvecklingsplan ännu", "no development plan yet")
    if state.implementation_year == 0:
        return bilingual(f"Inte påbörjat; planen omfattar {years} år", f"not started; the plan runs {years} years")
    since = iso_date(state.implementation_year_started_at)
    return bilingual(
        f"År {state.implementation_year} av {years} (från {since})",
        f"year {state.implementation_year} of {years}",
    )


def _section(anchor: str, sv: str, en: str, content: str) -> str:
    heading = f'<h2 id="{anchor}-h">{bilingual(sv, en)}</h2>'
    return f'<section id="{anchor}" aria-labelledby="{anchor}-h">{heading}{content}</section>'


def _para(sv: str, en: str, *, css: str = "") -> str:
    css_attr = f' class="{css}"' if css else ""
    return f"<p{css_attr}>{bilingual(sv, en)}</p>"


def _missing(sv: str, en: str) -> str:
    return f'<p class="missing">{bilingual(sv, en)}</p>'


def _factor_cell(factor: str) -> str:
    sv, en = FACTOR_TITLES.get(factor, (factor, factor))
    return f'<th scope="row">{esc(factor)} {bilingual(sv, en)}</th>'


# ---- self-assessment --------------------------------------------------------------------------------------


def _self_assessment(state: MunicipalityState) -> str:
    consolidation = state.consolidation
    if consolidation is None:
        return _section(
            "sjalvskattning", "Självskattning: de åtta framgångsfaktorerna", "Self-assessment", _answers_so_far(state)
        )

    levels = list(consolidation.levels)
    axes = [(f.id, f.title_sv) for f in SUCCESS_FACTORS]
    series = [
        RadarSeries(
            key=level.value,
            label=f"{level.value} {LEVEL_NAMES[level.value][0]} / {LEVEL_NAMES[level.value][1]}",
            values={f: c.mean_by_level[level] for f, c in consolidation.factors.items() if level in c.mean_by_level},
        )
        for level in levels
    ]
    level_names = ", ".join(f"{lv.value} {LEVEL_NAMES[lv.value][0]}" for lv in levels)
    chart = radar_chart(
        chart_id="radar-faktorer",
        title="Självskattning per nivå: medelvärde per framgångsfaktor (1–4)",
        desc=(
            f"Radardiagram med de åtta framgångsfaktorerna SF1–SF8 och en linje per nivå ({level_names}). "
            "Avståndet från mitten är nivåns medelvärde på skalan 1–4. Samma siffror finns i tabellen nedan."
        ),
        axes=axes,
        series=series,
    )
    content = (
        f"<figure>{chart}<figcaption>"
        + bilingual(
            "Skala 1 (svagt) – 4 (starkt). En nivå som bara skattar några indikatorer (stödfunktionerna) "
            "visas med markörer på de faktorer den skattat.",
            "Scale 1 (weak) to 4 (strong); a level that scores only some factors is shown as markers.",
        )
        + "</figcaption></figure>"
        + _answer_counts(consolidation)
        + _factor_table(consolidation)
        + _spread_findings(consolidation)
        + _within_level_findings(consolidation)
    )
    return _section("sjalvskattning", "Självskattning: de åtta framgångsfaktorerna", "Self-assessment", content)


def _answers_so_far(state: MunicipalityState) -> str:
    """Before the consolidation: how many of the assessments asked for are in, level by level.

    A level may be asked more than once (every rektor, HR and ekonomi both), so the count is of answers, not of
    levels.
    """
    tasks = [t for t in state.tasks.values() if t.template_key == SELF_ASSESSMENT]
    asked = Counter(t.level or "?" for t in tasks)
    answered = Counter(t.level or "?" for t in tasks if t.status is TaskStatus.COMPLETED)
    order = [*LEVEL_NAMES, *sorted(set(asked) - set(LEVEL_NAMES))]
    by_level = ", ".join(f"{level} {answered[level]} av {asked[level]}" for level in order if level in asked)
    done = sum(answered.values())
    return _missing(
        "Självskattningarna är ännu inte sammanställda, så det finns inget diagram över framgångsfaktorerna. "
        f"{done} av {len(tasks)} svar har kommit in" + (f" ({by_level})." if by_level else "."),
        f"The self-assessments are not consolidated yet; {done} of {len(tasks)} answers are in.",
    )


def _answer_counts(consolidation: Consolidation) -> str:
    """How many answered for each level: a level's score is the median of its answers, so a level of ten
    rektorer weighs as much as the nämnd's one answer, and its score may be a half."""
    counts = _answers_by_level(consolidation)
    listed = ", ".join(f"{lv.value} {LEVEL_NAMES[lv.value][0]} {counts[lv]}" for lv in consolidation.levels)
    listed_en = ", ".join(f"{lv.value} {counts[lv]}" for lv in consolidation.levels)
    return _para(
        f"Antal svar per nivå: {listed}. En nivås skattning av en indikator är medianen av nivåns svar, så varje "
        "nivå väger lika mycket hur många som än svarar; med ett jämnt antal svar kan den bli ett halvt steg (2,5).",
        f"Answers by level: {listed_en}. A level's score is the median of its answers, so it may be a half.",
    )


def _answers_by_level(consolidation: Consolidation) -> dict[AssessmentLevel, int]:
    """The most answers any indicator got from each level (everyone who answers for a level scores its
    indicators); a consolidation recorded before levels took several answers counts one for each level."""
    counts: dict[AssessmentLevel, int] = {}
    for indicator in consolidation.indicators.values():
        for level in indicator.scores:
            counts[level] = max(counts.get(level, 0), indicator.answers.get(level, 1))
    return counts


def _factor_table(consolidation: Consolidation) -> str:
    """Each level's mean per factor, the median, and the largest spread between the levels and within one.

    The column for the spread within a level is there only when some level answered more than once: with one
    answer a level has no spread of its own, and a column of zeros would say they agreed.
    """
    levels = list(consolidation.levels)
    within = any(i.within_level_spread for i in consolidation.indicators.values())
    head = "".join(
        f'<th scope="col" class="num">{esc(lv.value)} {bilingual(*LEVEL_NAMES[lv.value])}</th>' for lv in levels
    )
    rows = []
    for factor in SUCCESS_FACTORS:
        c = consolidation.factors.get(factor.id)
        if c is None:
            span = len(levels) + (3 if within else 2)
            cells = f'<td colspan="{span}">{bilingual("ingen nivå har skattat faktorn", "not scored")}</td>'
        else:
            cells = "".join(f'<td class="num">{_maybe(c.mean_by_level.get(lv), 2)}</td>' for lv in levels) + (
                f'<td class="num">{_score(c.median)}</td><td class="num">{_steps(c.max_spread)}</td>'
            )
            if within:
                cells += f'<td class="num">{_within_level_cell(consolidation, factor.id, c)}</td>'
        rows.append(f"<tr>{_factor_cell(factor.id)}{cells}</tr>")
    within_head = (
        f'<th scope="col" class="num">{bilingual("Största spridning inom en nivå", "max spread within a level")}</th>'
        if within
        else ""
    )
    return table(
        f'<th scope="col">{bilingual("Faktor", "Factor")}</th>{head}'
        f'<th scope="col" class="num">{bilingual("Median", "median")}</th>'
        f'<th scope="col" class="num">{bilingual("Största spridning mellan nivåerna", "max spread between levels")}'
        f"</th>{within_head}",
        rows,
        caption=bilingual("Medelvärde per nivå, median och största spridning", "Mean by level, median, largest spread"),
    )


def _within_level_cell(consolidation: Consolidation, factor: str, c: FactorConsolidation) -> str:
    """The factor's largest spread within a level, or '–' where no level answered it more than once."""
    answered_more_than_once = any(
        i.within_level_spread for i in consolidation.indicators.values() if i.factor == factor
    )
    return _steps(c.max_within_level_spread) if answered_more_than_once else "–"


def _maybe(value: float | None, decimals: int) -> str:
    return "–" if value is None else format_number(value, decimals)


def _maybe_score(value: float | None) -> str:
    return "–" if value is None else _score(value)


def _score(value: float) -> str:
    """A median on the 1–4 scale: one decimal, or two where a median of half scores needs them, so that 2,75
    is not rounded to 2,8."""
    return format_number(value, 1 if round(value, 1) == value else 2)


def _steps(value: float) -> str:
    """A score or a spread in steps of the scale: a whole number (3), or a half (2,5) where a level's score is
    the median of an even number of answers."""
    return format_number(value, 0 if float(value).is_integer() else 1)


def _spread_findings(consolidation: Consolidation) -> str:
    """The indicators where the levels disagree: each level's score, so the reader sees who stands apart."""
    threshold = consolidation.large_spread_threshold
    heading = f"<h3>{bilingual('Stor skillnad mellan nivåerna', 'Large spread between levels')}</h3>" + _para(
        f"Indikatorer där nivåernas skattningar skiljer minst {threshold} steg: det saknas samsyn (SF8.c).",
        f"Indicators where the levels differ by {threshold} or more.",
    )
    findings = [f for f in consolidation.findings if f.within_level is None]
    if not findings:
        return heading + f"<p>{bilingual('Inga sådana indikatorer.', 'None.')}</p>"
    items = "".join(f"<li>{_between_levels_text(consolidation, f)}</li>" for f in findings)
    return heading + f'<ul class="findings">{items}</ul>'


def _between_levels_text(consolidation: Consolidation, finding: SpreadFinding) -> str:
    """The finding as the consolidation words it, its scores written as the rest of the page writes numbers
    (a half score as 2,5, not 2.5)."""
    indicator = consolidation.indicators.get(finding.indicator)
    if indicator is None:
        return esc(finding.text_sv)
    scores = ", ".join(f"{level.value} {_steps(score)}" for level, score in indicator.scores.items())
    return bilingual(
        f"{finding.indicator}: {scores} – stor skillnad mellan nivåerna",
        f"the levels differ by {_steps(finding.spread)}",
    )


def _within_level_findings(consolidation: Consolidation) -> str:
    """The indicators where those who answer for one level disagree (one school far from the others): listed
    apart from the spreads between the levels, since the remedy differs. Said only when a level answered more
    than once, for otherwise there is no spread within a level to speak of."""
    if not any(i.within_level_spread for i in consolidation.indicators.values()):
        return ""
    threshold = consolidation.large_spread_threshold
    heading = f"<h3>{bilingual('Stor skillnad inom en nivå', 'Large spread within a level')}</h3>" + _para(
        f"Indikatorer där svaren inom samma nivå (till exempel rektorerna för olika skolenheter, eller HR och "
        f"ekonomi) skiljer minst {threshold} steg.",
        f"Indicators where the answers within one level differ by {threshold} or more.",
    )
    findings = [f for f in consolidation.findings if f.within_level is not None]
    if not findings:
        return heading + f"<p>{bilingual('Inga sådana indikatorer.', 'None.')}</p>"
    items = "".join(f"<li>{_within_level_text(consolidation, f)}</li>" for f in findings)
    return heading + f'<ul class="findings">{items}</ul>'


def _within_level_text(consolidation: Consolidation, finding: SpreadFinding) -> str:
    level = finding.within_level
    indicator = consolidation.indicators.get(finding.indicator)
    if level is None or indicator is None:
        return esc(finding.text_sv)
    count, spread = indicator.answers.get(level, 0), _steps(finding.spread)
    return bilingual(
        f"{finding.indicator}: {count} svar på nivå {level.value} skiljer {spread} steg – stor skillnad inom nivån",
        f"{count} answers at level {level.value} differ by {spread}",
    )


# ---- inspection comparison --------------------------------------------------------------------------------


def _inspection_comparison(state: MunicipalityState) -> str:
    sv, en = "Självskattning mot Skolinspektionens iakttagelser", "Self-assessment against inspection findings"
    if not state.inspections:
        return _section("inspektion", sv, en, _no_inspection(state))
    parts = []
    for diarienummer, registered in state.inspections.items():
        decision = InspectionDecision.model_validate(registered.decision)
        items = state.comparisons.get(diarienummer)
        heading = (
            f"<h3>{esc(diarienummer)} "
            + bilingual(
                f"({iso_date(decision.decided_on)}, {REVIEW_TYPES[decision.review_type]}, {decision.level.value})",
                "inspection decision",
            )
            + "</h3>"
            + _registered_late(state, registered)
        )
        if items is None:
            why = (
                f"Beslutet följer upp {decision.follow_up_of}; uppföljningsbeslut jämförs inte med självskattningen."
                if decision.follow_up_of
                else "Beslutet har ännu inte jämförts med den egna analysen (styrkor och svagheter)."
            )
            parts.append(heading + _missing(why, "Not compared with the self-assessment."))
            continue
        parts.append(heading + _comparison(state, diarienummer, decision, items))
    return _section("inspektion", sv, en, "".join(parts))


def _no_inspection(state: MunicipalityState) -> str:
    """No decision to compare with: none yet, or none at all once the track closed at the programme's end.

    Inspection is optional: a programme that ends with no decision registered closes the comparison track, and
    the page says so rather than seeming to wait for a decision that can no longer come.
    """
    closed = state.inspection_closed_without_decision
    if closed is None:
        return _missing(
            "Inget beslut från Skolinspektionen har registrerats ännu, så det finns inget att jämföra med.",
            "No inspection decision has been registered yet.",
        )
    return _missing(
        "Inget beslut från Skolinspektionen registrerades under programmet. Jämförelsen med Skolinspektionen "
        f"stängdes {iso_date(closed)} utan något att jämföra självskattningen med.",
        "No Skolinspektionen decision was registered during the programme; the inspection comparison closed on "
        f"{iso_date(closed)}.",
    )


def _registered_late(state: MunicipalityState, registered: InspectionDecisionRegistered) -> str:
    """A decision registered after a finding's reporting deadline had passed: its remediation counts forward
    from the registration, not back from the deadline, so the report says why its dates are not the deadline's."""
    late = registered.overdue_findings
    if not late:
        return ""
    numbers = _finding_numbers(late)
    on = iso_date(registered.occurred_at)
    finding_sv, finding_en = ("iakttagelse", "finding") if len(late) == 1 else ("iakttagelserna", "findings")
    sv = f"Beslutet registrerades sent, efter redovisningsdagen för {finding_sv} {numbers}."
    en = f"The decision was registered late, after the reporting deadline of {finding_en} {numbers}"
    if any(_remediated(state, registered.diarienummer, index) for index in late):
        sv += f" Åtgärderna planeras därför från registreringsdagen {on}, inte bakåt från redovisningsdagen."
        en += f"; its remediation is planned from the registration date {on}"
    return f'<p class="status">{bilingual(sv, en + ".")}</p>'


def _finding_numbers(indexes: Sequence[int]) -> str:
    """Finding indexes as the people who read them count: from 1."""
    return ", ".join(f"#{i + 1}" for i in indexes)


def _remediated(state: MunicipalityState, diarienummer: str, index: int) -> bool:
    """Whether the finding got a remediation schedule: one still running, or the steps it opened (the schedule
    itself leaves the state once a follow-up decision ends it). A template without remediation has neither."""
    if f"{diarienummer}#{index}" in state.remediation:
        return True
    prefix = f"{REMEDIATION}@{diarienummer}#{index + 1}/"
    return any(key.startswith(prefix) for key in state.tasks)


def _comparison(
    state: MunicipalityState, diarienummer: str, decision: InspectionDecision, items: Sequence[ComparisonItem]
) -> str:
    by_factor = {item.factor: item for item in items}
    consolidation = state.consolidation
    medians = {f: c.median for f, c in consolidation.factors.items()} if consolidation else {}
    flagged_by_inspection = [f for f, i in by_factor.items() if i.classification != "self_only"]
    if consolidation is None:
        chart = _missing(
            "Egna medianer saknas: självskattningarna är ännu inte sammanställda. Tabellen visar klassningen.",
            "No own medians yet; the table shows the classification.",
        )
    else:
        blind = [f for f, i in by_factor.items() if i.classification == "inspection_only"]
        chart_id = "jamforelse-" + "".join(ch if ch.isalnum() else "-" for ch in diarienummer)
        svg = grouped_bar_chart(
            chart_id=chart_id,
            title=f"Egen median per framgångsfaktor och Skolinspektionens iakttagelser ({diarienummer})",
            desc=(
                "Stapeldiagram med medianen av alla nivåers skattningar per framgångsfaktor, skala 1–4. "
                f"Inspektionen flaggar {', '.join(flagged_by_inspection) or 'ingen faktor'}; "
                f"endast inspektionen (blind fläck): {', '.join(blind) or 'ingen'}. Samma uppgifter finns i tabellen."
            ),
            categories=[(f.id, f.title_sv) for f in SUCCESS_FACTORS],
            series=[BarSeries("median", "Egen median / own median", medians)],
            y_max=4,
            y_ticks=[0, 1, 2, 3, 4],
            y_label="Median (1–4)",
            value_format=_score,
            markers={f: i.classification for f, i in by_factor.items()},
            marker_kinds=FLAG_MARKERS,
        )
        chart = (
            f"<figure>{svg}<figcaption>"
            + bilingual(
                "Markören ovanför stapeln visar vem som flaggar faktorn: I = endast inspektionen, "
                "I+E = både inspektionen och den egna analysen, E = endast den egna analysen.",
                "I = inspection only, I+E = both, E = own analysis only.",
            )
            + "</figcaption></figure>"
        )
    rows = []
    for factor in SUCCESS_FACTORS:
        item = by_factor.get(factor.id)
        if item is None:
            flag, css, refs = bilingual("Ingen flaggar faktorn", "not flagged"), "", "–"
        else:
            flag, css = bilingual(*CLASSIFICATIONS[item.classification]), f' class="flag-{item.classification}"'
            refs = ", ".join(f"#{i + 1}" for i in item.finding_indexes) or "–"
        inspection = "ja / yes" if item is not None and item.classification != "self_only" else "nej / no"
        rows.append(
            f'<tr>{_factor_cell(factor.id)}<td class="num">{_maybe_score(medians.get(factor.id))}</td>'
            f"<td>{esc(inspection)}</td><td{css}>{flag}</td><td>{esc(refs)}</td></tr>"
        )
    table_html = table(
        f'<th scope="col">{bilingual("Faktor", "Factor")}</th>'
        f'<th scope="col" class="num">{bilingual("Egen median", "own median")}</th>'
        f'<th scope="col">{bilingual("Inspektionen flaggar", "flagged by inspection")}</th>'
        f'<th scope="col">{bilingual("Klassning", "classification")}</th>'
        f'<th scope="col">{bilingual("Iakttagelser", "findings")}</th>',
        rows,
        caption=bilingual("Per framgångsfaktor", "By success factor"),
    )
    return chart + table_html + _inspection_findings(state, diarienummer, decision)


def _inspection_findings(state: MunicipalityState, diarienummer: str, decision: InspectionDecision) -> str:
    """The decision's findings, numbered from 1 as the decision numbers them, each with its remediation schedule
    while one runs: the dates the steps are due by, which is what the municipality has to keep."""
    if not decision.findings:
        return f"<p>{bilingual('Beslutet har inga iakttagelser.', 'The decision has no findings.')}</p>"
    items = []
    for index, finding in enumerate(decision.findings):
        deadline = f"; redovisas senast {iso_date(finding.deadline)}" if finding.deadline else ""
        schedule = state.remediation.get(f"{diarienummer}#{index}")
        items.append(
            f"<li><strong>#{index + 1} {esc(AREAS[finding.area])}</strong> "
            f"({esc(INTERVENTIONS[finding.intervention])}{esc(deadline)}): {esc(finding.description)}"
            + (_remediation_steps(schedule) if schedule is not None else "")
            + "</li>"
        )
    return f'<h3>{bilingual("Iakttagelser i beslutet", "Findings")}</h3><ol class="findings">{"".join(items)}</ol>'


def _remediation_steps(schedule: RemediationScheduled) -> str:
    """A finding's remediation steps with their due dates, and what they were counted from: back from the
    reporting deadline, or forward from the registration when that deadline had passed."""
    if schedule.registered_late:
        basis = bilingual(
            f"Åtgärderna planerade från registreringen {iso_date(schedule.occurred_at)} (redovisningsdagen "
            f"{iso_date(schedule.deadline)} hade passerat):",
            "measures planned from the registration date (the reporting deadline had passed)",
        )
    else:
        basis = bilingual(
            f"Åtgärderna planerade bakåt från redovisningsdagen {iso_date(schedule.deadline)}:",
            "measures planned back from the reporting deadline",
        )
    steps = "".join(
        f'<li data-step="{esc(step.key)}"><span class="date">{esc(iso_date(step.due))}</span> '
        + bilingual(step.title_sv, step.title_en)
        + (
            " " + bilingual("(hoptryckt: tiden räckte inte för planen)", "compressed: too little time")
            if step.compressed
            else ""
        )
        + "</li>"
        for step in schedule.steps
    )
    return f'<div class="remediation"><p>{basis}</p><ul>{steps}</ul></div>'


# ---- KPIs against target ----------------------------------------------------------------------------------


SOURCE_NOTES = {
    "kolada": "Kolada",
    "uppfoljning": "årlig uppföljning",
    "rattad": "årlig uppföljning, rättad från Koladas värde",
}
"""Where a goal's value comes from, as its table and chart say it."""


@dataclass(frozen=True)
class _GoalValue:
    year: int
    value: float
    source: str  # "kolada", "uppfoljning" (typed in a follow-up) or "rattad" (Kolada's figure, corrected in one)


@dataclass(frozen=True)
class _Place:
    """One line of a goal's chart and one value column of its table.

    A municipality is one place: its Kolada values and its yearly follow-ups together. A kommunalförbund is
    one place per member municipality, because Kolada publishes each member on its own and has nothing under
    the förbund's '+'-joined code; the förbund's own follow-up figures are a place of their own rather than
    being put under one of the members.
    """

    key: str
    label: str
    heading: tuple[str, str]  # the table column's heading, Swedish and English
    values: dict[int, _GoalValue]
    show_source: bool = False  # a source column, for a place whose values mix Kolada and follow-ups


def _data_pack(state: MunicipalityState) -> KpiDataPack | None:
    payload = state.completed_payload(KPI_DATA_PACK)
    return KpiDataPack.model_validate(payload) if payload else None


def _is_forbund(state: MunicipalityState) -> bool:
    return len(members_of(state.kommunkod)) > 1


def _member_label(kommunkod: str) -> str:
    """A member municipality as the report names it: 'Sölvesborg (1083)', or the bare code when unknown."""
    name = pilot_name(kommunkod)
    return f"{name} ({kommunkod})" if name else kommunkod


def _kpi_trends(state: MunicipalityState) -> str:
    sv, en = "Nyckeltal mot målvärden", "Key figures against target"
    plan_payload = state.completed_payload(PLAN_DRAFT)
    if not plan_payload:
        return _section(
            "nyckeltal",
            sv,
            en,
            _missing(
                "Skolutvecklingsplanen är ännu inte upprättad, så det finns inga mål och målvärden att följa.",
                "The development plan is not drafted yet: no goals or targets to follow.",
            ),
        )
    plan = PlanDraft.model_validate(plan_payload)
    pack = _data_pack(state)
    plan_task = state.tasks[PLAN_DRAFT]
    plan_year = plan_task.completed_at.year if plan_task.completed_at else None
    follow_ups = _follow_ups(state)

    intro = (
        _para(
            f"Källa: Kolada ({pack.kolada_base_url}), kön = totalt, och de årliga uppföljningarna "
            "(år = det år Koladas siffror i uppföljningen gäller, eller det kalenderår den lämnades om inga hämtades).",
            "Source: Kolada and the yearly follow-ups.",
        )
        if pack
        else _missing(
            "Statistikunderlaget från Kolada finns inte ännu; diagrammen visar bara de årliga uppföljningarna.",
            "No Kolada data pack yet.",
        )
    )
    if _is_forbund(state):
        members = ", ".join(_member_label(code) for code in members_of(state.kommunkod))
        intro += _para(
            f"Kommunalförbundet har inga egna värden i Kolada, så varje medlemskommun visas för sig ({members}) "
            "bredvid riket. Förbundets årliga uppföljningar är en egen serie.",
            "A kommunalförbund has no Kolada figures of its own: each member municipality is shown beside Sweden.",
        )
    goals = [_goal(state, index, goal, pack, plan_year, follow_ups) for index, goal in enumerate(plan.goals, start=1)]
    return _section("nyckeltal", sv, en, intro + "".join(goals))


def _follow_ups(state: MunicipalityState) -> list[tuple[TaskState, YearlyFollowUp]]:
    done = [
        t
        for t in state.tasks.values()
        if t.template_key == SKA_FOLLOW_UP and t.status is TaskStatus.COMPLETED and t.completed_at is not None
    ]
    done.sort(key=lambda t: (t.completed_at, t.key))
    return [(t, YearlyFollowUp.model_validate(t.payload)) for t in done]


def _observed(pack: KpiDataPack | None, kpi: str, municipality: str) -> dict[int, float]:
    if pack is None:
        return {}
    return {
        o.period: o.value
        for o in pack.observations
        if o.kpi == kpi and o.municipality == municipality and o.gender == TOTAL and o.value is not None
    }


def _kolada_values(pack: KpiDataPack | None, kpi: str, municipality: str) -> dict[int, _GoalValue]:
    return {y: _GoalValue(y, v, "kolada") for y, v in _observed(pack, kpi, municipality).items()}


def _followed(
    state: MunicipalityState, kpi: str, follow_ups: Sequence[tuple[TaskState, YearlyFollowUp]]
) -> dict[int, _GoalValue]:
    """The pilot's figures from the yearly follow-ups. One made on figures gathered from Kolada stands under the year
    the figures are for, as Kolada's value unless the follow-up corrected it; one typed without them stands under
    the calendar year it was made."""
    values: dict[int, _GoalValue] = {}
    for task, follow_up in follow_ups:
        if kpi not in follow_up.kpi_values or task.completed_at is None:
            continue
        value = follow_up.kpi_values[kpi]
        figures = gathered_figures(state, task.key)
        if figures is None:
            year, source = task.completed_at.year, "uppfoljning"
        else:
            gathered = figures.published(state.kommunkod).get(kpi)
            year = follow_up.year
            source = "kolada" if gathered is not None and same_figure(value, gathered) else "rattad"
        values[year] = _GoalValue(year, value, source)
    return values


def _places(
    state: MunicipalityState,
    kpi: str,
    pack: KpiDataPack | None,
    follow_ups: Sequence[tuple[TaskState, YearlyFollowUp]],
) -> list[_Place]:
    """Whose values a goal follows: the municipality, or a förbund's members and the förbund's follow-ups."""
    followed = _followed(state, kpi, follow_ups)
    if not _is_forbund(state):
        # The follow-up is the municipality's own figure for the year it was made; it supersedes a Kolada value.
        values = _kolada_values(pack, kpi, state.kommunkod) | followed
        label = f"{state.municipality_name or state.kommunkod} ({state.kommunkod})"
        return [_Place("kommun", label, ("Kommunen", "municipality"), values, show_source=True)]
    places = [
        _Place(
            f"kommun-{code}",
            _member_label(code),
            (_member_label(code), "member municipality, Kolada"),
            _kolada_values(pack, kpi, code),
        )
        for code in members_of(state.kommunkod)
    ]
    if followed:
        name = state.municipality_name or state.kommunkod
        places.append(
            _Place(
                "forbund",
                f"{name}: årlig uppföljning",
                ("Förbundets årliga uppföljning", "the förbund's yearly follow-up"),
                followed,
            )
        )
    return places


def _goal(
    state: MunicipalityState,
    index: int,
    goal: PlanGoal,
    pack: KpiDataPack | None,
    plan_year: int | None,
    follow_ups: Sequence[tuple[TaskState, YearlyFollowUp]],
) -> str:
    kpi_title, unit = KPI_LABELS.get(goal.kpi, (goal.kpi, ""))
    decimals = 0 if max(abs(goal.baseline), abs(goal.target)) >= 1000 else 1

    def fmt(value: float) -> str:
        return format_number(value, decimals)

    places = _places(state, goal.kpi, pack, follow_ups)
    shown = [p for p in places if p.values]
    riket = _observed(pack, goal.kpi, RIKET)

    factor_sv = FACTOR_TITLES.get(goal.addresses_factor, ("", ""))[0]
    heading = (
        f'<div class="goal"><h3>{bilingual(f"Mål {index}: {goal.title}", f"goal {index}")}</h3>'
        f"<p>{esc(goal.addresses_factor)} {esc(factor_sv)} · {esc(goal.kpi)} {esc(kpi_title)}"
        f"{', ' + esc(unit) if unit else ''}{esc(_population(goal.kpi))}<br>"
        + bilingual(
            f"Utgångsvärde {fmt(goal.baseline)} → målvärde {fmt(goal.target)}",
            f"baseline {fmt(goal.baseline)}, target {fmt(goal.target)}",
        )
        + "</p>"
    )
    if not shown:
        return (
            heading
            + _missing(
                f"Inga värden för {goal.kpi} i Kolada-underlaget eller i uppföljningarna ännu, så det finns "
                "ingen kurva att rita.",
                "No values for this KPI yet.",
            )
            + "</div>"
        )

    series = [_place_series(place) for place in shown]
    if riket:
        series.append(LineSeries("riket", "Riket (0000)", [LinePoint(y, v) for y, v in sorted(riket.items())]))
    group = _group_values(pack, goal.kpi, state.kommunkod)
    if group:
        series.append(LineSeries("grupp", _group_label(pack), [LinePoint(y, v) for y, (v, _) in group.items()]))
    years = {year for place in shown for year in place.values}
    baseline_year = plan_year if plan_year is not None else max(years)
    single = len(places) == 1
    who = state.municipality_name if single else ", ".join(p.label for p in shown)
    latest = ", ".join(f"{'' if single else p.label + ' '}{fmt(_latest(p).value)} ({_latest(p).year})" for p in shown)
    chart = line_chart(
        chart_id=f"nyckeltal-{index}-{goal.kpi}",
        title=f"{goal.kpi} {kpi_title}: {state.municipality_name} mot mål {fmt(goal.target)}",
        desc=(
            f"Linjediagram per år {min(years)}–{max(years)} för {who}"
            + (" och riket" if riket else "")
            + (f" och {_group_label(pack)}" if group else "")
            + f". Streckad linje: målvärdet {fmt(goal.target)}. Ring: utgångsvärdet {fmt(goal.baseline)} "
            f"när planen upprättades ({baseline_year}). Senaste värde {latest}."
        ),
        series=series,
        y_label=unit or goal.kpi,
        target=goal.target,
        target_label="Mål / target",
        baseline=LinePoint(baseline_year, goal.baseline),
        baseline_label=f"Utgångsvärde {baseline_year} / baseline",
        value_format=fmt,
    )
    without = [
        _missing(f"Inga värden för {goal.kpi} för {p.label} i Kolada-underlaget.", "No values for this member.")
        for p in places
        if not p.values
    ]
    statuses = [_goal_status(goal, _latest(p), fmt, label="" if single else p.label) for p in shown]
    return (
        heading
        + f"<figure>{chart}</figure>"
        + "".join(without)
        + "".join(statuses)
        + _goal_table(shown, riket, fmt, group, _group_label(pack) if group else "")
        + "</div>"
    )


def _latest(place: _Place) -> _GoalValue:
    return place.values[max(place.values)]


def _place_series(place: _Place) -> LineSeries:
    """A place's line; a value from a yearly follow-up is a diamond, so it reads apart from Kolada's."""
    followed = any(v.source != "kolada" for v in place.values.values())
    points = [
        LinePoint(
            v.year,
            v.value,
            marker="diamond" if v.source != "kolada" else None,
            note=SOURCE_NOTES[v.source],
        )
        for v in sorted(place.values.values(), key=lambda v: v.year)
    ]
    extra: tuple[tuple[MarkerShape, str], ...] = (
        (("diamond", "årlig uppföljning / yearly follow-up"),) if followed else ()
    )
    return LineSeries(place.key, place.label, points, extra_markers=extra)


def _goal_status(goal: PlanGoal, latest: _GoalValue, fmt: Callable[[float], str], *, label: str = "") -> str:
    """Whether the latest value reaches the target; `label` names the place when a goal follows several."""
    higher_is_better = goal.target >= goal.baseline
    reached = latest.value >= goal.target if higher_is_better else latest.value <= goal.target
    prefix = f"{label}, senaste" if label else "Senaste"
    if reached:
        sv = f"{prefix} värde {fmt(latest.value)} ({latest.year}): målet är nått."
        en = "target reached"
    else:
        gap = fmt(abs(goal.target - latest.value))
        sv = f"{prefix} värde {fmt(latest.value)} ({latest.year}): {gap} kvar till målet."
        en = "target not reached yet"
    return f'<p class="status">{bilingual(sv, en)}</p>'


def _goal_table(
    places: Sequence[_Place],
    riket: dict[int, float],
    fmt: Callable[[float], str],
    group: dict[int, tuple[float, int]] | None = None,
    group_label: str = "",
) -> str:
    group = group or {}
    rows = []
    for year in sorted(set(riket).union(group, *(p.values for p in places))):
        cells = "".join(_place_cells(p, year, fmt) for p in places)
        median = f"{fmt(group[year][0])} ({group[year][1]} st)" if year in group else "–"
        rows.append(
            f'<tr><th scope="row">{year}</th>{cells}'
            f'<td class="num">{fmt(riket[year]) if year in riket else "–"}</td>'
            + (f'<td class="num">{median}</td>' if group_label else "")
            + "</tr>"
        )
    head = "".join(
        f'<th scope="col" class="num">{bilingual(*p.heading)}</th>'
        + (f'<th scope="col">{bilingual("Källa", "source")}</th>' if p.show_source else "")
        for p in places
    )
    return table(
        f'<th scope="col">{bilingual("År", "year")}</th>{head}'
        f'<th scope="col" class="num">{bilingual("Riket", "Sweden")}</th>'
        + (
            f'<th scope="col" class="num">{bilingual(group_label, "comparison group, median")}</th>'
            if group_label
            else ""
        ),
        rows,
    )


def _group_values(pack: KpiDataPack | None, kpi: str, kommunkod: str) -> dict[int, tuple[float, int]]:
    """The comparison group's median of ``kpi`` per year (the municipality left out), with how many had a value."""
    if pack is None or pack.comparison_group is None:
        return {}
    return group_median(pack.observations, kpi, pack.comparison_group, leaving_out=kommunkod)


def _group_label(pack: KpiDataPack | None) -> str:
    title = pack.comparison_group.title.split(",")[0] if pack and pack.comparison_group else "Jämförelsegrupp"
    return f"{title}: median"


def _place_cells(place: _Place, year: int, fmt: Callable[[float], str]) -> str:
    own = place.values.get(year)
    cells = f'<td class="num">{fmt(own.value) if own else "–"}</td>'
    if place.show_source:
        source = "–" if own is None else SOURCE_NOTES[own.source]
        cells += f"<td>{esc(source)}</td>"
    return cells


# ---- school units -----------------------------------------------------------------------------------------

UNKNOWN_HOME = ""
"""The group of a förbund's unit values whose unit the pack does not place in any member municipality."""

UNIT_MARKERS: tuple[MarkerKind, ...] = (
    MarkerKind("max", "Högst / highest", "triangle", "#1b7a3e", "H"),
    MarkerKind("min", "Lägst / lowest", "square", "#b5480a", "L"),
    MarkerKind("kommun", "Kommunens värde / municipality", "diamond", "#1a1a1a", "K"),
)


@dataclass(frozen=True)
class _UnitValue:
    unit_id: str
    title: str
    value: float


def _school_units(state: MunicipalityState) -> str:
    """How far apart the schools are: a municipality's average can hide a school far below it."""
    sv, en = "Skillnader mellan skolenheterna", "Differences between the school units"
    pack = _data_pack(state)
    if pack is None:
        return _section(
            "skolenheter",
            sv,
            en,
            _missing(
                "Statistikunderlaget från Kolada finns inte ännu, så det finns inga värden per skolenhet.",
                "No Kolada data pack yet, so no values per school unit.",
            ),
        )
    grouped = _unit_values(state, pack)
    if not grouped:
        return _section("skolenheter", sv, en, _no_unit_data(pack))
    titles = _unit_titles(pack)
    homes = [*members_of(state.kommunkod), UNKNOWN_HOME]
    kpis = [*pack.unit_kpis, *sorted({kpi for kpi, _ in grouped} - set(pack.unit_kpis))]
    intro = _para(
        "Källa: Kolada, värden per skolenhet, kön = totalt. För varje nyckeltal visas det senaste år som har "
        "värden för skolenheterna: varje skolas värde, det lägsta och det högsta, spridningen (högsta − lägsta) "
        "och kommunens eget värde samma år när underlaget har det.",
        "Kolada values per school unit, latest year with data: each unit, lowest, highest, spread (highest − "
        "lowest) and the municipality's own value for the same year.",
    )
    blocks = [
        _unit_spread(state, pack, kpi, home, grouped[(kpi, home)], titles)
        for kpi in kpis
        for home in homes
        if (kpi, home) in grouped
    ]
    without = [kpi for kpi in pack.unit_kpis if not any((kpi, home) in grouped for home in homes)]
    note = (
        _missing(
            "Inga värden per skolenhet i underlaget för " + ", ".join(kpi_name(kpi) for kpi in without) + ".",
            "No school-unit values for " + ", ".join(without) + ".",
        )
        if without
        else ""
    )
    return _section("skolenheter", sv, en, intro + "".join(blocks) + note)


def _no_unit_data(pack: KpiDataPack) -> str:
    if pack.units:
        return _missing(
            f"Kolada-underlaget listar {len(pack.units)} skolenheter men har inga värden för dem, så skillnaderna "
            "mellan skolorna kan inte visas.",
            "The Kolada data pack lists school units but has no values for them.",
        )
    return _missing(
        "Kolada-underlaget har inga värden per skolenhet, så skillnaderna mellan skolorna kan inte visas.",
        "The Kolada data pack has no values per school unit.",
    )


def _unit_titles(pack: KpiDataPack) -> dict[str, str]:
    """Unit titles from the unit listing, and from the observations where the gatherer filled them in."""
    titles = {unit.id: unit.title for unit in pack.units}
    titles.update({o.unit_id: o.unit_title for o in pack.unit_observations if o.unit_title})
    return titles


def _unit_values(state: MunicipalityState, pack: KpiDataPack) -> dict[tuple[str, str], dict[int, dict[str, float]]]:
    """Total values by (KPI, home municipality), year and unit id; null values are left out.

    A municipality's units are all its own. A förbund's units are grouped by the member municipality the unit
    listing places them in, since each member has its own schools and its own value in Kolada.
    """
    homes = {unit.id: unit.municipality for unit in pack.units}
    members = members_of(state.kommunkod)
    grouped: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    for o in pack.unit_observations:
        if o.gender != TOTAL or o.value is None:
            continue
        home = homes.get(o.unit_id, UNKNOWN_HOME) if _is_forbund(state) else state.kommunkod
        home = home if home in members else UNKNOWN_HOME
        grouped.setdefault((o.kpi, home), {}).setdefault(o.period, {})[o.unit_id] = o.value
    return grouped


def _unit_spread(
    state: MunicipalityState,
    pack: KpiDataPack,
    kpi: str,
    home: str,
    by_year: dict[int, dict[str, float]],
    titles: dict[str, str],
) -> str:
    """One KPI's school units in the latest year with unit data, beside the municipality's own value."""
    year = max(by_year)
    units = sorted(
        (_UnitValue(uid, titles.get(uid, uid), value) for uid, value in by_year[year].items()),
        key=lambda u: (-u.value, u.title, u.unit_id),
    )
    highest, lowest = units[0], units[-1]
    own = _observed(pack, kpi, home).get(year) if home else None
    place = _unit_home_label(state, home)
    kpi_title, unit = KPI_LABELS.get(kpi, (kpi, ""))
    where = f": {place}" if _is_forbund(state) else ""
    heading = f"<h3>{bilingual(f'{kpi} {kpi_title}{where}, {year}', f'{kpi}, school units {year}')}</h3>"
    chart = _unit_chart(kpi, home, year, units, own, place, y_label=unit or kpi)
    return (
        f'<div class="units" data-kpi="{esc(kpi)}" data-home="{esc(home)}">{heading}<figure>{chart}</figure>'
        + _unit_table(units)
        + _unit_summary(kpi, year, highest, lowest, own, place)
        + "</div>"
    )


def _unit_home_label(state: MunicipalityState, home: str) -> str:
    if home == UNKNOWN_HOME:
        return "kommun okänd"
    if _is_forbund(state):
        return _member_label(home)
    return f"{state.municipality_name or home} ({home})"


def _unit_chart(
    kpi: str,
    home: str,
    year: int,
    units: Sequence[_UnitValue],
    own: float | None,
    place: str,
    *,
    y_label: str,
) -> str:
    """The units' bars from highest to lowest, the municipality's own value as the last bar when there is one."""
    values = {u.unit_id: u.value for u in units}
    categories = [(u.unit_id, u.title) for u in units]
    markers = {units[-1].unit_id: "min", units[0].unit_id: "max"}
    if own is not None:
        values[home] = own
        categories.append((home, f"{place}, kommunens värde"))
        markers[home] = "kommun"
    ticks = [t for t in nice_ticks(0, max(0.0, *values.values())) if t >= 0]
    spread = units[0].value - units[-1].value
    own_text = format_number(own) if own is not None else "saknas i underlaget"
    return grouped_bar_chart(
        chart_id=f"skolenheter-{kpi}-{home or 'okand'}",
        title=f"{kpi} {KPI_LABELS.get(kpi, (kpi, ''))[0]} per skolenhet {year}, {place}",
        desc=(
            f"Stapeldiagram med {len(units)} skolenheters värden {year}, från högst till lägst. "
            f"Högst {format_number(units[0].value)} (H), lägst {format_number(units[-1].value)} (L), "
            f"spridning {format_number(spread)}. Kommunens värde (K): {own_text}. Samma siffror finns i tabellen."
        ),
        categories=categories,
        series=[BarSeries("skolenhet", "Värde / value", values)],
        y_max=ticks[-1],
        y_ticks=ticks,
        y_label=y_label,
        value_format=format_number,
        markers=markers,
        marker_kinds=tuple(kind for kind in UNIT_MARKERS if kind.key in markers.values()),  # only those drawn
    )


def _unit_table(units: Sequence[_UnitValue]) -> str:
    rows = [
        f'<tr data-unit="{esc(u.unit_id)}"><th scope="row">{esc(u.title)}</th><td>{esc(u.unit_id)}</td>'
        f'<td class="num" data-col="value">{format_number(u.value)}</td></tr>'
        for u in units
    ]
    return table(
        f'<th scope="col">{bilingual("Skolenhet", "school unit")}</th>'
        f'<th scope="col">{bilingual("Enhets-id i Kolada", "Kolada unit id")}</th>'
        f'<th scope="col" class="num">{bilingual("Värde", "value")}</th>',
        rows,
        caption=bilingual("Skolenheterna, från högst till lägst", "School units, highest first"),
    )


def _unit_summary(kpi: str, year: int, highest: _UnitValue, lowest: _UnitValue, own: float | None, place: str) -> str:
    """Highest, lowest, spread and the municipality's own value.

    Kolada does not always publish a municipality-level value for a school-unit KPI (the "kommunala skolor"
    variants): a missing one is said to be missing rather than stood in for by another year or KPI.
    """
    own_cell = (
        f'<dd data-col="municipality">{format_number(own)}</dd>'
        if own is not None
        else f'<dd data-col="municipality">{bilingual("saknas", "missing")}</dd>'
    )
    facts = (
        f"<dt>{bilingual('Högst', 'highest')}</dt>"
        f'<dd data-col="highest">{format_number(highest.value)} ({esc(highest.title)})</dd>'
        f"<dt>{bilingual('Lägst', 'lowest')}</dt>"
        f'<dd data-col="lowest">{format_number(lowest.value)} ({esc(lowest.title)})</dd>'
        f"<dt>{bilingual('Spridning (högst − lägst)', 'spread')}</dt>"
        f'<dd data-col="spread">{format_number(highest.value - lowest.value)}</dd>'
        f"<dt>{bilingual(f'Kommunens värde {year}', 'municipality')}</dt>{own_cell}"
    )
    missing = (
        ""
        if own is not None
        else _missing(
            f"Kolada-underlaget har inget värde för {place} för {kpi} år {year}; för nyckeltal per skolenhet "
            "publicerar Kolada inte alltid ett värde för hela kommunen.",
            "The data pack has no municipality-level value for this KPI and year.",
        )
    )
    return f'<dl class="facts">{facts}</dl>{missing}'


# ---- decisions --------------------------------------------------------------------------------------------


def _decisions(state: MunicipalityState) -> str:
    sv, en = "Nämndens beslut", "Decisions"
    standings = decision_standings(state)
    if not standings:
        return _section(
            "beslut", sv, en, _missing("Nämnden har inte fattat några beslut i piloten ännu.", "No decisions yet.")
        )
    rows = [_decision_row(state, standing) for standing in standings]
    header = "".join(
        f'<th scope="col"{cls}>{bilingual(s, e)}</th>'
        for s, e, cls in (
            ("Ärende", "matter", ""),
            ("Organ, § och diarienummer", "organ, paragraph, reg. no.", ""),
            ("Sammanträde", "meeting", ""),
            ("Justering", "approved", ""),
            ("Anslag", "posted", ""),
            ("Överklagandetiden slutar", "appeal ends", ""),
            ("Läge", "status", ""),
            ("Överklagande", "appeal", ""),
        )
    )
    return _section(
        "beslut",
        sv,
        en,
        f"<p>{_decisions_summary(standings)}</p>{table(header, rows)}",
    )


def _decisions_summary(standings: Sequence[DecisionStanding]) -> str:
    """How many decisions are final, and how many wait for a court or were annulled by one."""
    counts = Counter(s.status for s in standings)
    total, final = len(standings), counts["laga_kraft"]
    sv = f"{final} av {total} beslut har vunnit laga kraft."
    en = f"{final} of {total} decisions are final"
    if appealed := counts["overklagad"]:
        sv += f" {appealed} beslut är {'överklagat' if appealed == 1 else 'överklagade'} och väntar på domstolen."
        en += f"; {appealed} appealed, waiting for the court"
    if counts["upphavd"]:
        sv += f" {counts['upphavd']} har upphävts av domstolen; nämnden beslutar då på nytt i samma ärende."
        en += f"; {counts['upphavd']} annulled by the court"
    sv += " Datum med ”senast” är lagens sista dag för ett protokoll som ännu inte justerats och anslagits."
    return bilingual(sv, en + ".")


def _decision_row(state: MunicipalityState, standing: DecisionStanding) -> str:
    """One decision: its minuted facts, its legal dates (the real ones once posted, else the latest the law
    allows), where it stands (domain.appeals, not re-derived here) and its appeals."""
    if standing.anslag_date is not None:
        justering, anslag, appeal = (
            esc(iso_date(day)) for day in (standing.justering_date, standing.anslag_date, standing.appeal_period_ends)
        )
    elif standing.status == "upphavd":
        justering = anslag = appeal = "–"  # annulled before its minutes were posted: no legal dates run any more
    else:
        justering, anslag, appeal = (
            f"senast<br>{iso_date(latest)}"
            for latest in (standing.justering_due, standing.anslag_due, standing.appeal_period_ends_latest)
        )
    return (
        f'<tr data-decision="{esc(standing.key)}" data-status="{esc(standing.status)}">'
        f"<td>{_matter(state, standing)}</td>"
        f"<td>{esc(standing.organ)}<br>§ {standing.paragraph}, {esc(standing.diarienummer)}"
        f'</td><td class="date">{iso_date(standing.meeting_date)}</td>'
        f'<td class="date">{justering}</td><td class="date">{anslag}</td><td class="date">{appeal}</td>'
        f"<td>{bilingual(*DECISION_STATUS_TITLES[standing.status])}</td>"
        f"<td>{_appeals(standing.appeals)}</td></tr>"
    )


def _matter(state: MunicipalityState, standing: DecisionStanding) -> str:
    """What the decision is about: the text minuted in its task's answer.

    A task decided again after a court annulled its decision holds only the latest decision's answer, so an
    earlier decision is named by its task rather than by words it may not have had; the later one says it was
    taken again.
    """
    latest = [d.key for d in state.decisions if d.task_key == standing.task_key][-1]
    payload = state.completed_payload(standing.task_key) if standing.key == latest else None
    text = payload.get("decision_text") if payload else None
    matter = esc(str(text or standing.task_key))
    if standing.key != standing.task_key:
        matter += "<br>" + bilingual(f"nytt beslut i ärendet ({standing.key})", "decided again")
    return matter


def _appeals(appeals: Sequence[Appeal]) -> str:
    """Each appeal of the decision: the court, its case number, the day it was lodged, and the court's outcome
    with its date, or that the court has not yet decided."""
    if not appeals:
        return "–"
    items = []
    for appeal in appeals:
        lodged = f"{appeal.court}, mål {appeal.case_number}, inkom {iso_date(appeal.lodged_on)}"
        lodged_en = f"{appeal.court}, case {appeal.case_number}, lodged {iso_date(appeal.lodged_on)}"
        if appeal.outcome is None:
            outcome_sv, outcome_en = "domstolen har ännu inte avgjort målet", "pending"
        else:
            decided = iso_date(appeal.decided_on)
            title_sv, title_en = OUTCOME_TITLES[appeal.outcome]
            outcome_sv, outcome_en = f"{title_sv} ({decided})", f"{title_en} ({decided})"
        text = bilingual(f"{lodged}: {outcome_sv}", f"{lodged_en}: {outcome_en}")
        items.append(f'<li data-case="{esc(appeal.case_number)}">{text}</li>')
    return f'<ul class="appeals">{"".join(items)}</ul>'


# ---- timeline ---------------------------------------------------------------------------------------------


def _timeline(state: MunicipalityState) -> str:
    items = []
    if state.started_at is not None:
        items.append(
            f'<li class="done"><span class="status">{esc(iso_date(state.started_at))}</span> '
            f"{bilingual('Piloten startad', 'pilot started')}</li>"
        )
    for phase in Phase:
        tasks = [t for t in state.tasks.values() if t.phase is phase]
        done = phase in state.completed_phases
        active = phase in state.active_phases
        if phase not in MAIN_TRACK and not (tasks or done or active):
            continue
        opened = min((t.opened_at for t in tasks), default=None)
        finished = max((t.completed_at for t in tasks if t.completed_at is not None), default=None)
        if done:
            css, status = "done", bilingual("klar", "completed")
            when = f"{iso_date(opened)} – {iso_date(finished)}"
        elif active:
            css, status = "active", bilingual("pågår", "in progress")
            when = f"från {iso_date(opened)}" if opened else ""
        else:
            css, status, when = "", bilingual("ej påbörjad", "not started"), ""
        open_count = sum(1 for t in tasks if t.status is TaskStatus.OPEN)
        counts = (
            bilingual(
                f"{sum(1 for t in tasks if t.status is TaskStatus.COMPLETED)} av {len(tasks)} uppgifter klara"
                + (f", {open_count} öppna" if open_count else ""),
                "tasks completed",
            )
            if tasks
            else ""
        )
        extra = _implementation_years(state, tasks) if phase is Phase.IMPLEMENTATION else ""
        items.append(
            f'<li class="{css}"><span class="status">{esc(when)}</span> <strong>{bilingual(*PHASE_TITLES[phase])}'
            f"</strong> – {status}{'. ' + counts if counts else ''}{extra}</li>"
        )
    if state.completed_at is not None:
        items.append(
            f'<li class="done"><span class="status">{esc(iso_date(state.completed_at))}</span> '
            f"{bilingual('Piloten har gått igenom alla faser', 'pilot completed')}</li>"
        )
    if not items:
        content = _missing("Piloten har inte startat.", "The pilot has not started.")
    else:
        content = f'<ol class="timeline">{"".join(items)}</ol>'
    return _section("tidslinje", "Tidslinje", "Timeline", content)


def _implementation_years(state: MunicipalityState, tasks: Sequence[TaskState]) -> str:
    starts: dict[int, datetime] = {}
    for t in tasks:
        if t.year is not None:
            starts[t.year] = min(starts.get(t.year, t.opened_at), t.opened_at)
    if not starts:
        return ""
    years = "".join(f"<li>{bilingual(f'År {y}: från {iso_date(starts[y])}', f'year {y}')}</li>" for y in sorted(starts))
    return f"<ul>{years}</ul>"
