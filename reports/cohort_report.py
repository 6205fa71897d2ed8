"""A cohort's overview: one row per pilot, for the programme lead who follows many municipalities at once.

The pilots stand side by side (phase, tasks, overdue work and their self-assessment per success factor) so that
at a network meeting the municipalities can learn from each other. For such a meeting the page can hide who is
who: every pilot is then "Kommun A", "Kommun B" …, lettered in an order nobody can work out from the cohort list.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.moments import in_swedish_time
from domain.phases import PHASE_TITLES
from domain.state import MunicipalityState, TaskStatus
from domain.success_factors import SUCCESS_FACTORS
from reports.charts import ProgressRow, format_number, progress_chart
from reports.page import bilingual, esc, html_page, require_aware, table


@dataclass(frozen=True)
class PilotSummary:
    """The figures of one cohort row, all computed from the pilot's state."""

    programme: str
    kommunkod: str
    municipality: str
    phase_sv: str
    phase_en: str
    implementation_year: int
    plan_years: int
    open_tasks: int
    overdue_tasks: int
    completed_tasks: int
    counted_tasks: int
    final_decisions: int
    decisions: int
    inspection_decisions: int


def summarise(state: MunicipalityState, *, now: datetime) -> PilotSummary:
    """One pilot's row; a task is overdue when it is open and its due time has passed at `now`."""
    require_aware(now)
    open_tasks = state.open_tasks()
    if state.completed_at is not None:
        phase_sv, phase_en = "Klar", "completed"
    elif (main := state.current_main_phase) is not None:
        phase_sv, phase_en = PHASE_TITLES[main]
    else:
        phase_sv, phase_en = "–", "no main phase"
    return PilotSummary(
        programme=state.programme,
        kommunkod=state.kommunkod,
        municipality=state.municipality_name or state.kommunkod,
        phase_sv=phase_sv,
        phase_en=phase_en,
        implementation_year=state.implementation_year,
        plan_years=state.plan_years,
        open_tasks=len(open_tasks),
        overdue_tasks=sum(1 for t in open_tasks if t.due_at is not None and t.due_at < now),
        completed_tasks=sum(1 for t in state.tasks.values() if t.status is TaskStatus.COMPLETED),
        # A closed task was no longer needed; counting it as undone would keep a finished pilot below 100 %.
        counted_tasks=sum(1 for t in state.tasks.values() if t.status is not TaskStatus.CLOSED),
        final_decisions=sum(1 for d in state.decisions if d.key in state.final_decisions),
        # An annulled decision is no longer one of the pilot's: the one taken again in its place counts.
        decisions=sum(1 for d in state.decisions if d.key not in state.annulled_decisions),
        inspection_decisions=len(state.inspections),
    )


@dataclass(frozen=True)
class _CohortRow:
    """One pilot as the page shows it: the key its row and bar carry, the label it goes by, and its figures."""

    key: str
    label: str
    summary: PilotSummary
    factor_medians: dict[str, float] | None = None
    """Each success factor's median, by factor id; None while the self-assessments are not consolidated."""


def _factor_medians(state: MunicipalityState) -> dict[str, float] | None:
    """The pilot's standing per success factor: the median of every level's scores on the factor's indicators.

    It is the one figure per factor the consolidation itself ranks the factors by and the pilot report shows as
    the pilot's own median, so a municipality finds the same number here as in its own report. None before the
    consolidation: no figure is better than a figure from half the answers.
    """
    if state.consolidation is None:
        return None
    return {factor: c.median for factor, c in state.consolidation.factors.items()}


def render_cohort_overview(
    states: list[MunicipalityState],
    *,
    generated_at: datetime,
    anonymous: bool = False,
    anonymity_key: bytes | None = None,
) -> str:
    """Every pilot of a cohort on one page: phases, tasks and success factors side by side, and a chart of progress.

    With `anonymous` the page names no municipality, for a network meeting where the pilots compare themselves
    without pointing at each other. The letters are ordered by a keyed hash (`anonymity_key`, a fresh random one
    when None): a hash of the programme and kommunkod alone could be recomputed by anyone who knows who is in the
    cohort. Pass the same key to give every municipality the same letter on several pages.
    """
    require_aware(generated_at)
    rows = _cohort_rows(states, now=generated_at, anonymous=anonymous, anonymity_key=anonymity_key)
    summaries = [r.summary for r in rows]
    programmes = sorted({s.programme for s in summaries})
    title = f"Kohortöversikt: {', '.join(programmes) or 'inga piloter'}" + (" (namn dolda)" if anonymous else "")
    heading = f"<header><h1>{bilingual('Kohortöversikt', 'cohort overview')}</h1>"
    hidden = (
        '<p class="missing" role="note">'
        + bilingual(
            "Kommunernas namn är dolda: varje pilot visas som Kommun A, Kommun B och så vidare, med bokstäver i en "
            "ordning som varken följer namn eller kommunkod.",
            "Municipalities' names are hidden; the letters follow neither name nor municipality code.",
        )
        + "</p>"
        if anonymous
        else ""
    )
    if not summaries:
        body = (
            heading
            + f'<p class="missing">{bilingual("Inga piloter hittades.", "No pilots found.")}</p>{hidden}</header>'
        )
        return html_page(title=title, body=body, generated_at=generated_at, source_note="", landscape=True)
    total_open = sum(s.open_tasks for s in summaries)
    total_overdue = sum(s.overdue_tasks for s in summaries)
    stamp = in_swedish_time(generated_at)
    lead = bilingual(
        f"{len(summaries)} piloter i {', '.join(programmes)}. {total_open} öppna uppgifter, varav {total_overdue} "
        f"försenade ({stamp}).",
        f"{len(summaries)} pilots; {total_open} open tasks, {total_overdue} overdue.",
    )
    chart = progress_chart(
        chart_id="kohort-framsteg",
        title="Andel klara uppgifter per pilot",
        desc=(
            "Liggande staplar, en per pilot: klara uppgifter av alla hittills öppnade uppgifter "
            "(uppgifter som stängts som onödiga räknas inte). Samma siffror finns i tabellen."
        ),
        rows=[ProgressRow(r.key, r.label, r.summary.completed_tasks, r.summary.counted_tasks) for r in rows],
    )
    side_by_side = bilingual("Piloterna sida vid sida", "Pilots side by side")
    body = (
        f'{heading}<p class="lead">{lead}</p>{hidden}</header>'
        f'<section aria-labelledby="piloter-h"><h2 id="piloter-h">{side_by_side}</h2>'
        f"{_pilot_table(rows, show_programme=not anonymous)}{_factor_table(rows)}</section>"
        f'<section aria-labelledby="framsteg-h"><h2 id="framsteg-h">{bilingual("Framsteg", "Progress")}</h2>'
        f"<figure>{chart}<figcaption>"
        + bilingual(
            "Klara uppgifter av de uppgifter som hittills öppnats; senare faser öppnar fler.",
            "Completed of the tasks opened so far; later phases open more.",
        )
        + "</figcaption></figure></section>"
    )
    return html_page(
        title=title,
        body=body,
        generated_at=generated_at,
        source_note="Alla uppgifter är beräknade ur piloternas händelseloggar.",
        landscape=True,
    )


def _cohort_rows(
    states: Sequence[MunicipalityState], *, now: datetime, anonymous: bool = False, anonymity_key: bytes | None = None
) -> list[_CohortRow]:
    """The page's rows in the order it shows them: by name, or anonymously by letter.

    An anonymous row's key and label are its letter alone; its place and letter come from a keyed hash of the
    programme and kommunkod, so neither the alphabet of the names nor the order of the codes shows through.
    """
    pilots = [(summarise(s, now=now), _factor_medians(s)) for s in states]
    if not anonymous:
        pilots.sort(key=lambda p: (p[0].municipality, p[0].kommunkod, p[0].programme))
        return [
            _CohortRow(f"{s.programme}-{s.kommunkod}", f"{s.municipality} ({s.kommunkod})", s, m) for s, m in pilots
        ]
    key = secrets.token_bytes(32) if anonymity_key is None else anonymity_key
    pilots.sort(key=lambda p: _keyed_digest(key, p[0]))
    return [
        _CohortRow(f"kommun-{letter.lower()}", f"Kommun {letter}", s, m)
        for letter, (s, m) in zip(map(_letters, range(len(pilots))), pilots, strict=True)
    ]


def _keyed_digest(key: bytes, summary: PilotSummary) -> bytes:
    """HMAC-SHA256 of the pilot's programme and kommunkod: the same pilot always gets the same place under one
    key, and without the key the places cannot be recomputed from the (public) list of the cohort's pilots."""
    return hmac.new(key, f"{summary.programme}\x1f{summary.kommunkod}".encode(), hashlib.sha256).digest()


def _letters(index: int) -> str:
    """A, B, …, Z, then AA, AB, …: a programme may take many more than 26 municipalities."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _pilot_table(rows: Sequence[_CohortRow], *, show_programme: bool) -> str:
    """Phase, implementation year, tasks (open, overdue, completed), decisions and inspections per pilot.

    The programme gets a column only when the page has several, and never on an anonymous page: a programme with
    one pilot on the page would name it.
    """
    several_programmes = show_programme and len({r.summary.programme for r in rows}) > 1
    # Soft hyphens (\u00ad) let the long Swedish words of the header break on paper, where A4 is narrow.
    columns = [
        ("Kommun", "municipality", ""),
        *([("Program", "programme", "")] if several_programmes else []),
        ("Fas", "phase", ""),
        ("Genomförande\u00adår", "implementation year", ' class="num"'),
        ("Öppna", "open tasks", ' class="num"'),
        ("Försenade", "overdue", ' class="num"'),
        ("Laga kraft / beslut", "final / decisions", ' class="num"'),
        ("Inspektions\u00adbeslut", "inspection decisions", ' class="num"'),
        ("Klara", "tasks completed", ' class="num"'),
    ]
    head = "".join(f'<th scope="col"{cls}>{bilingual(sv, en)}</th>' for sv, en, cls in columns)
    body = []
    for r in rows:
        s = r.summary
        year = f"{s.implementation_year} av {s.plan_years}" if s.plan_years else "–"
        overdue = f"<strong>{s.overdue_tasks}</strong>" if s.overdue_tasks else "0"
        programme = f"<td>{esc(s.programme)}</td>" if several_programmes else ""
        body.append(
            f'<tr data-pilot="{esc(r.key)}"><th scope="row">{esc(r.label)}</th>'
            f'{programme}<td data-col="phase">{bilingual(s.phase_sv, s.phase_en)}</td>'
            f'<td class="num">{esc(year)}</td><td class="num" data-col="open">{s.open_tasks}</td>'
            f'<td class="num" data-col="overdue">{overdue}</td>'
            f'<td class="num" data-col="decisions">{s.final_decisions} / {s.decisions}</td>'
            f'<td class="num" data-col="inspections">{s.inspection_decisions}</td>'
            f'<td class="num" data-col="completed">{s.completed_tasks} / {s.counted_tasks}</td></tr>'
        )
    return table(head, body, caption=bilingual("Faser, uppgifter och beslut", "phases, tasks and decisions"))


def _factor_table(rows: Sequence[_CohortRow]) -> str:
    """Each pilot's median per success factor, the pilots in the same order as in the table above them.

    The full title heads each column because the factors are what the pilots compare; `abbr` gives screen
    readers the short id to repeat in every cell instead of the whole title.
    """
    head = f'<th scope="col">{bilingual("Kommun", "municipality")}</th>' + "".join(
        f'<th scope="col" class="num" abbr="{esc(f.id)}">{esc(f.id)} {bilingual(f.title_sv, f.title_en)}</th>'
        for f in SUCCESS_FACTORS
    )
    body = []
    for r in rows:
        medians = r.factor_medians or {}
        cells = "".join(
            f'<td class="num" data-col="{esc(f.id)}">{_score(medians[f.id]) if f.id in medians else "–"}</td>'
            for f in SUCCESS_FACTORS
        )
        body.append(f'<tr data-pilot="{esc(r.key)}"><th scope="row">{esc(r.label)}</th>{cells}</tr>')
    consolidated = sum(1 for r in rows if r.factor_medians is not None)
    note = bilingual(
        "Talet är faktorns median av alla nivåers skattningar, från 1 (svagt) till 4 (starkt): samma median som i "
        "pilotens egen rapport. – betyder att självskattningarna ännu inte är sammanställda, eller att ingen nivå "
        f"har skattat faktorn. {consolidated} av {len(rows)} piloter har sammanställt sin självskattning.",
        f"The factor's median of all levels' scores, 1 (weak) to 4 (strong); – : not consolidated yet, or not "
        f"scored. {consolidated} of {len(rows)} pilots have consolidated their self-assessment.",
    )
    return (
        table(
            head,
            body,
            caption=bilingual(
                "Självskattning: median per framgångsfaktor", "self-assessment: median by success factor"
            ),
        )
        + f"<p>{note}</p>"
    )


def _score(value: float) -> str:
    """A median on the 1–4 scale as the pilot report writes it: one decimal, or two where a median of half
    scores needs them, so that 2,75 is not rounded to 2,8 here while the pilot's own report says 2,75."""
    return format_number(value, 1 if round(value, 1) == value else 2)
