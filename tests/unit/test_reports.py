"""The pilot report and the cohort overview: what they draw is what the folded state says."""

from __future__ import annotations

import itertools
import math
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from domain.consolidation import AssessmentLevel, consolidate
from domain.events import (
    ComparisonItem,
    DecisionRecorded,
    Event,
    InspectionCompared,
    InspectionDecisionRegistered,
    PhaseStarted,
    PilotStarted,
    SelfAssessmentsConsolidated,
    TaskCompleted,
    TaskOpened,
)
from domain.kpis import (
    DATA_PACK_KPIS,
    KPI_CATALOGUE,
    RIKET,
    UNIT_KPIS,
    ComparisonGroup,
    KpiObservation,
    comparison_group_for,
    group_median,
)
from domain.payloads import InspectionDecision, KpiDataPack
from domain.phases import Phase
from domain.roles import Role
from domain.state import MunicipalityState, TaskState, TaskStatus, fold
from domain.success_factors import INDICATOR_IDS, indicators_for_level
from reports import render_cohort_overview, render_pilot_report

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
GENERATED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
P, F, R, S = AssessmentLevel.P, AssessmentLevel.F, AssessmentLevel.R, AssessmentLevel.S


class Events:
    """Hand-written events with deterministic ids."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.events: list[Event] = []

    def add(self, cls: type[Any], at: datetime = START, **fields: Any) -> Events:
        self.events.append(cls(event_id=uuid.UUID(int=next(self._ids)), occurred_at=at, **fields))
        return self

    def started(self, kommunkod: str = "1861", name: str = "Hallsberg") -> Events:
        return self.add(
            PilotStarted,
            programme="lfr-2024",
            kommunkod=kommunkod,
            municipality_name=name,
            template_key="lfr-skola",
            deciding_organ="Bildningsnämnden",
            participants={role: [f"p-{role.value}"] for role in Role},
        ).add(PhaseStarted, phase=Phase.DEEP_ANALYSIS)

    def task(self, key: str, payload: dict[str, Any], *, phase: Phase, done_at: datetime, **opened: Any) -> Events:
        self.add(
            TaskOpened,
            task_key=key,
            template_key=key.split("@")[0],
            phase=phase,
            assignee_id="p",
            due_at=None,
            **opened,
        )
        return self.add(TaskCompleted, at=done_at, task_key=key, completed_by="p", payload=payload)

    def state(self) -> MunicipalityState:
        return fold(self.events)


def level_scores(level: AssessmentLevel, default: int, **by_factor: int) -> dict[str, int]:
    """Every indicator the level scores, at `default` or at the score given for its factor (SF4=2)."""
    return {i: by_factor.get(i.split(".")[0], default) for i in indicators_for_level(level)}


def consolidated_state() -> MunicipalityState:
    p = level_scores(P, 4, SF4=2)
    p["SF4.a"] = 1  # P's SF4 mean: (1 + 2 + 2 + 2 + 2) / 5 = 1.8
    scores = {P: p, F: level_scores(F, 3), R: level_scores(R, 2, SF1=1), S: level_scores(S, 3)}
    return Events().started().add(SelfAssessmentsConsolidated, consolidation=consolidate(scores)).state()


def svgs(html: str) -> list[ET.Element]:
    """Every inline chart, parsed as XML: a chart that is not well-formed fails here."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def chart(html: str, css_class: str) -> ET.Element:
    found = [s for s in svgs(html) if css_class in s.get("class", "").split()]
    assert len(found) == 1, f"expected one {css_class} chart, found {len(found)}"
    return found[0]


class Cells(HTMLParser):
    """Text of the table cells that carry a data-col, by (the row's data-pilot, data-col)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], str] = {}
        self._row = ""
        self._col: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr":
            self._row = attributes.get("data-pilot") or ""
        elif tag == "td" and attributes.get("data-col"):
            self._col = attributes["data-col"]
            self.cells[(self._row, self._col)] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._col = None

    def handle_data(self, data: str) -> None:
        if self._col is not None:
            self.cells[(self._row, self._col)] += data


# ---- radar ------------------------------------------------------------------------------------------------


def test_radar_polygon_points_lie_at_each_levels_mean():
    state = consolidated_state()
    radar = chart(render_pilot_report(state, generated_at=GENERATED), "radar")
    plot = radar.find(f"{SVG}g[@class='plot']")
    assert plot is not None
    cx, cy = float(plot.get("data-cx")), float(plot.get("data-cy"))
    radius, scale_max = float(plot.get("data-radius")), float(plot.get("data-scale-max"))

    for level in (P, F, R):
        polygon = radar.find(f".//{SVG}polygon[@data-series='{level.value}']")
        assert polygon is not None
        points = [tuple(map(float, p.split(","))) for p in polygon.get("points").split()]
        drawn = [math.hypot(x - cx, y - cy) / radius * scale_max for x, y in points]
        expected = [state.consolidation.factors[f"SF{n}"].mean_by_level[level] for n in range(1, 9)]
        assert drawn == pytest.approx(expected, abs=0.005)
        # clockwise from the top: SF1 straight up, SF3 to the right
        assert points[0][0] == pytest.approx(cx) and points[0][1] < cy
        assert points[2][0] > cx and points[2][1] == pytest.approx(cy)
    assert state.consolidation.factors["SF4"].mean_by_level[P] == 1.8  # not only whole numbers


def test_a_level_that_scored_only_some_factors_gets_markers_not_a_polygon():
    radar = chart(render_pilot_report(consolidated_state(), generated_at=GENERATED), "radar")

    assert radar.find(f".//{SVG}polygon[@data-series='S']") is None
    marked = {m.get("data-axis") for m in radar.iter() if m.get("data-series") == "S"}
    assert marked == {"SF2", "SF6"}


def test_the_large_spread_findings_are_listed():
    html = render_pilot_report(consolidated_state(), generated_at=GENERATED)

    # P 4, F 3, R 1 on every SF1 indicator: a spread of 3
    assert "SF1.a: P 4, F 3, R 1 – stor skillnad mellan nivåerna" in html


# ---- inspection comparison --------------------------------------------------------------------------------


def inspected_state(*, consolidated: bool = True) -> MunicipalityState:
    events = Events().started()
    if consolidated:
        scores = {level: dict.fromkeys(INDICATOR_IDS, 3) for level in (P, F, R)}
        events.add(SelfAssessmentsConsolidated, consolidation=consolidate(scores))
    decision = InspectionDecision(
        diarienummer="SI 2025:123",
        decided_on=date(2025, 3, 1),
        level="huvudman",
        school_form="grundskola",
        review_type="regelbunden_tillsyn",
        findings=[
            {"area": "bedomning_och_betygssattning", "intervention": "utvecklingsomrade", "description": "Bedömning"},
            {"area": "trygghet_studiero_krankande_behandling", "intervention": "anmarkning", "description": "Studiero"},
        ],
    )
    return (
        events.add(
            InspectionDecisionRegistered,
            diarienummer=decision.diarienummer,
            decision=decision.model_dump(mode="json"),
            registered_by="p-analytiker",
        )
        .add(
            InspectionCompared,
            diarienummer=decision.diarienummer,
            items=[
                ComparisonItem(factor="SF4", classification="agreed", finding_indexes=[0]),
                ComparisonItem(factor="SF5", classification="inspection_only", finding_indexes=[1]),
                ComparisonItem(factor="SF7", classification="self_only"),
            ],
        )
        .state()
    )


def test_inspection_only_factors_are_marked_on_the_bar_chart():
    bars = chart(render_pilot_report(inspected_state(), generated_at=GENERATED), "bars")

    flags = {g.get("data-category"): g.get("data-flag") for g in bars.iter(f"{SVG}g") if g.get("data-flag")}
    assert flags == {"SF4": "agreed", "SF5": "inspection_only", "SF7": "self_only"}
    medians = {
        b.get("data-category"): float(b.get("data-value")) for b in bars.iter(f"{SVG}rect") if b.get("data-category")
    }
    assert medians == {f"SF{n}": 3.0 for n in range(1, 9)}


def test_the_comparison_table_says_whether_the_inspection_flags_each_factor():
    html = render_pilot_report(inspected_state(), generated_at=GENERATED)

    assert html.count('class="flag-inspection_only"') == 1
    assert re.search(r"SF5 Har fungerande relationer.*?ja / yes.*?flag-inspection_only.*?#2", html, flags=re.S)


def test_a_comparison_without_consolidation_keeps_the_table_and_explains_the_missing_chart():
    html = render_pilot_report(inspected_state(consolidated=False), generated_at=GENERATED)

    assert not [s for s in svgs(html) if "bars" in s.get("class", "")]
    assert "Egna medianer saknas" in html
    assert 'class="flag-inspection_only"' in html


# ---- missing data -----------------------------------------------------------------------------------------


def test_a_new_pilot_gets_sentences_instead_of_empty_charts():
    html = render_pilot_report(Events().started().state(), generated_at=GENERATED)

    assert svgs(html) == []
    assert "Självskattningarna är ännu inte sammanställda" in html
    assert "Inget beslut från Skolinspektionen har registrerats ännu" in html
    assert "Skolutvecklingsplanen är ännu inte upprättad" in html
    assert "Nämnden har inte fattat några beslut i piloten ännu" in html


def test_the_page_is_swedish_self_contained_and_escapes_what_participants_typed():
    state = Events().started().state().model_copy(update={"municipality_name": "<script>alert(1)</script>"})

    html = render_pilot_report(state, generated_at=GENERATED)

    assert '<html lang="sv">' in html
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_naive_generation_time_is_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_pilot_report(MunicipalityState(), generated_at=datetime(2026, 1, 1))


# ---- KPIs against target ----------------------------------------------------------------------------------

PLAN = {
    "period_years": 3,
    "goals": [
        {
            "title": "Fler elever godkända i alla ämnen",
            "addresses_factor": "SF4",
            "kpi": "N15419",
            "baseline": 71.0,
            "target": 80.0,
            "measures": ["Resultatdialoger"],
            "owner_role": "forvaltningschef",
        }
    ],
}


def kpi_state(group: ComparisonGroup | None = None) -> MunicipalityState:
    """A pilot with a plan goal on N15419, Kolada figures for 2021–2023 and a follow-up; with `group`, its
    members' figures too (each member `base` 60, 64, 68 ... plus the year's offset)."""
    places = [("1861", 70.0), (RIKET, 75.0)]
    if group is not None:
        places += [(code, 60.0 + 4 * i) for i, code in enumerate(c for c in group.members if c != "1861")]
    observations = [
        KpiObservation(kpi="N15419", municipality=municipality, period=year, gender=gender, value=value)
        for municipality, base in places
        for year in (2021, 2022, 2023)
        for gender, value in (("T", base + year - 2021), ("K", 99.0))
    ]
    pack = KpiDataPack(
        kolada_base_url="https://api.kolada.se/v3",
        kpis=["N15419"],
        municipalities=[code for code, _ in places],
        years=[2021, 2022, 2023],
        observations=observations,
        comparison_group=group,
    ).model_dump(mode="json")
    follow_up = {"year": 2025, "kpi_values": {"N15419": 76.5}, "progress": "Resultatdialoger införda"}
    return (
        Events()
        .started()
        .task("kpi_data_pack", pack, phase=Phase.DEEP_ANALYSIS, done_at=START + timedelta(days=1))
        .task("plan_draft", PLAN, phase=Phase.DEVELOPMENT_PLAN, done_at=datetime(2024, 11, 20, tzinfo=UTC))
        .task(
            "ska_follow_up@y1",
            follow_up,
            phase=Phase.IMPLEMENTATION,
            done_at=datetime(2025, 6, 15, tzinfo=UTC),
            year=1,
        )
        .state()
    )


def y_scale(line: ET.Element) -> tuple[float, float, float, float]:
    """Two y ticks, (value, y) each, read from the axis labels, to map a drawn y back to a value."""
    ticks = [
        (float(t.get("data-value")), float(t.get("y")) - 4)
        for t in line.iter(f"{SVG}text")
        if t.get("class") == "y-tick"
    ]
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    return v0, y0, v1, y1


def value_at(line: ET.Element, y: float) -> float:
    v0, y0, v1, y1 = y_scale(line)
    return v0 + (y - y0) * (v1 - v0) / (y1 - y0)


def test_the_kpi_chart_draws_the_target_as_a_dashed_line_at_the_target():
    line = chart(render_pilot_report(kpi_state(), generated_at=GENERATED), "line")

    target = line.find(f".//{SVG}line[@class='target']")
    assert target is not None
    assert target.get("stroke-dasharray")
    assert target.get("y1") == target.get("y2")
    assert value_at(line, float(target.get("y1"))) == pytest.approx(80.0, abs=0.01)


def test_the_kpi_chart_follows_kolada_totals_then_the_yearly_follow_up_at_its_completion_year():
    line = chart(render_pilot_report(kpi_state(), generated_at=GENERATED), "line")

    def series(key: str) -> dict[int, float]:
        return {
            int(m.get("data-x")): float(m.get("data-value"))
            for m in line.iter()
            if m.get("data-series") == key and m.get("data-x")
        }

    assert series("kommun") == {2021: 70.0, 2022: 71.0, 2023: 72.0, 2025: 76.5}
    assert series("riket") == {2021: 75.0, 2022: 76.0, 2023: 77.0}
    baseline = next(m for g in line.iter(f"{SVG}g") if g.get("class") == "baseline" for m in g if m.get("data-x"))
    assert (baseline.get("data-x"), float(baseline.get("data-value"))) == ("2024", 71.0)
    assert value_at(line, float(baseline.get("cy"))) == pytest.approx(71.0, abs=0.01)


def test_the_goal_says_how_far_the_latest_value_is_from_the_target():
    html = render_pilot_report(kpi_state(), generated_at=GENERATED)

    assert "Senaste värde 76,5 (2025): 3,5 kvar till målet." in html


def forbund_state() -> MunicipalityState:
    """Sölvesborg-Bromölla kommunalförbund (1083+1272), with a data pack of invented values per member."""
    bases = {"1083": 51.5, "1272": 62.5, RIKET: 75.0}
    observations = [
        KpiObservation(kpi="N15419", municipality=municipality, period=year, gender="T", value=base + year - 2021)
        for municipality, base in bases.items()
        for year in (2021, 2022, 2023)
    ]
    pack = KpiDataPack(
        kolada_base_url="https://api.kolada.se/v3",
        kpis=["N15419"],
        municipalities=["1083", "1272", RIKET],
        years=[2021, 2022, 2023],
        observations=observations,
    ).model_dump(mode="json")
    follow_up = {"year": 2025, "kpi_values": {"N15419": 58.5}, "progress": "Syntetisk uppföljning"}
    return (
        Events()
        .started(kommunkod="1083+1272", name="Sölvesborg-Bromölla kommunalförbund")
        .task("kpi_data_pack", pack, phase=Phase.DEEP_ANALYSIS, done_at=START + timedelta(days=1))
        .task("plan_draft", PLAN, phase=Phase.DEVELOPMENT_PLAN, done_at=datetime(2024, 11, 20, tzinfo=UTC))
        .task(
            "ska_follow_up@y1",
            follow_up,
            phase=Phase.IMPLEMENTATION,
            done_at=datetime(2025, 6, 15, tzinfo=UTC),
            year=1,
        )
        .state()
    )


def line_series(line: ET.Element) -> dict[str, dict[int, float]]:
    """Each drawn series' values by year, read from the markers' data attributes."""
    found: dict[str, dict[int, float]] = {}
    for m in line.iter():
        if m.get("data-series") and m.get("data-x"):
            found.setdefault(m.get("data-series"), {})[int(m.get("data-x"))] = float(m.get("data-value"))
    return found


def test_a_kommunalforbund_shows_each_member_municipality_beside_riket():
    html = render_pilot_report(forbund_state(), generated_at=GENERATED)

    drawn = line_series(chart(html, "line"))
    assert drawn["kommun-1083"] == {2021: 51.5, 2022: 52.5, 2023: 53.5}
    assert drawn["kommun-1272"] == {2021: 62.5, 2022: 63.5, 2023: 64.5}
    assert drawn["riket"] == {2021: 75.0, 2022: 76.0, 2023: 77.0}
    # The förbund's own follow-up is a series of its own, not put under one of the members.
    assert drawn["forbund"] == {2025: 58.5}
    assert "Inga värden för N15419" not in html
    assert "Sölvesborg (1083)" in html and "Bromölla (1272)" in html
    rows = re.findall(r'<tr><th scope="row">(\d{4})</th>(.*?)</tr>', html, flags=re.S)
    cells = {year: re.findall(r'<td class="num">(.*?)</td>', row) for year, row in rows}
    assert cells["2023"] == ["53,5", "64,5", "–", "77,0"]  # 1083, 1272, the förbund's follow-up, Riket
    assert cells["2025"] == ["–", "–", "58,5", "–"]
    assert "Sölvesborg (1083), senaste värde 53,5 (2023): 26,5 kvar till målet." in html


def test_the_kpi_chart_and_table_show_the_comparison_groups_median_beside_riket():
    group = ComparisonGroup(
        id="G1", title="Liknande kommuner grundskola, Hallsberg", members=["1861", "1864", "0643", "1488"]
    )
    html = render_pilot_report(kpi_state(group), generated_at=GENERATED)
    drawn = line_series(chart(html, "line"))

    assert set(drawn) == {"kommun", "riket", "grupp"}
    line = chart(html, "line")
    medians = {
        int(m.get("data-x")): float(m.get("data-value"))
        for m in line.iter()
        if m.get("data-series") == "grupp" and m.get("data-x")
    }
    assert medians == {2021: 64.0, 2022: 65.0, 2023: 66.0}  # of 60, 64 and 68 (+ the year): Hallsberg left out
    assert "Liknande kommuner grundskola: median" in html and "64,0 (3 st)" in html


def test_a_single_municipality_keeps_one_municipality_series():
    drawn = line_series(chart(render_pilot_report(kpi_state(), generated_at=GENERATED), "line"))

    assert set(drawn) == {"kommun", "riket"}


# ---- cohort -----------------------------------------------------------------------------------------------


def task(key: str, status: TaskStatus, due_at: datetime | None) -> TaskState:
    return TaskState(
        key=key,
        template_key=key,
        phase=Phase.DEEP_ANALYSIS,
        status=status,
        assignee_id="p",
        opened_at=START,
        due_at=due_at,
    )


def pilot(kommunkod: str, name: str, tasks: list[TaskState]) -> MunicipalityState:
    return MunicipalityState(
        programme="lfr-2024",
        kommunkod=kommunkod,
        municipality_name=name,
        active_phases=[Phase.DEEP_ANALYSIS],
        tasks={t.key: t for t in tasks},
    )


def test_the_cohort_overview_counts_open_tasks_past_their_due_time_as_overdue():
    now = GENERATED
    late = pilot(
        "1861",
        "Hallsberg",
        [
            task("a", TaskStatus.OPEN, now - timedelta(minutes=1)),  # overdue
            task("b", TaskStatus.OPEN, now - timedelta(days=30)),  # overdue
            task("c", TaskStatus.OPEN, now + timedelta(days=1)),  # not due yet
            task("d", TaskStatus.OPEN, None),  # no due time
            task("e", TaskStatus.COMPLETED, now - timedelta(days=60)),  # done, however late
            task("f", TaskStatus.CLOSED, now - timedelta(days=60)),  # no longer needed
        ],
    )
    on_time = pilot("1864", "Ljusnarsberg", [task("a", TaskStatus.OPEN, now + timedelta(hours=1))])

    parser = Cells()
    parser.feed(render_cohort_overview([late, on_time], generated_at=now))

    assert parser.cells[("lfr-2024-1861", "open")] == "4"
    assert parser.cells[("lfr-2024-1861", "overdue")] == "2"
    assert parser.cells[("lfr-2024-1861", "completed")] == "1 / 5"
    assert parser.cells[("lfr-2024-1864", "overdue")] == "0"


def test_the_cohort_progress_chart_has_a_bar_per_pilot():
    states = [pilot("1861", "Hallsberg", [task("a", TaskStatus.COMPLETED, None), task("b", TaskStatus.OPEN, None)])]

    progress = chart(render_cohort_overview(states, generated_at=GENERATED), "progress")

    bars = [
        (b.get("data-row"), b.get("data-done"), b.get("data-total"))
        for b in progress.iter(f"{SVG}rect")
        if b.get("data-row")
    ]
    assert bars == [("lfr-2024-1861", "1", "2")]


def test_an_empty_cohort_says_so():
    html = render_cohort_overview([], generated_at=GENERATED)

    assert "Inga piloter hittades." in html


def factor_cells(html: str) -> dict[str, dict[str, str]]:
    """The success-factor table's cells: pilot row -> factor id -> text."""
    parser = Cells()
    parser.feed(html)
    found: dict[str, dict[str, str]] = {}
    for (row, col), text in parser.cells.items():
        if col.startswith("SF"):
            found.setdefault(row, {})[col] = text
    return found


def rows_of(html: str) -> list[list[str]]:
    """The data-pilot of each table's rows, table by table, in the order the page shows them."""
    return [re.findall(r'<tr data-pilot="([^"]+)"', t) for t in re.findall(r"<table>.*?</table>", html, flags=re.S)]


def test_the_cohort_factor_table_shows_each_pilots_median_and_a_dash_before_the_consolidation():
    # P 4 and F 3 on most indicators: a median of 3,5; SF4 agreed on 2; SF7 split 4 against 1.
    scores = {P: level_scores(P, 4, SF4=2), F: level_scores(F, 3, SF4=2, SF7=1)}
    consolidated = (
        Events()
        .started("1861", "Hallsberg")
        .add(SelfAssessmentsConsolidated, consolidation=consolidate(scores))
        .state()
    )
    not_yet = pilot("1864", "Ljusnarsberg", [])

    html = render_cohort_overview([consolidated, not_yet], generated_at=GENERATED)

    cells = factor_cells(html)
    assert cells["lfr-2024-1861"] == {f"SF{n}": "3,5" for n in range(1, 9)} | {"SF4": "2,0", "SF7": "2,5"}
    assert cells["lfr-2024-1864"] == {f"SF{n}": "–" for n in range(1, 9)}
    assert (
        '<th scope="col" class="num" abbr="SF1">SF1 Har bra ledare <span class="en" lang="en">Good leaders</span>'
        in html
    )
    assert '<th scope="row">Hallsberg (1861)</th><td class="num" data-col="SF1">' in html


def anonymous_cohort() -> list[MunicipalityState]:
    """Four pilots, one of them a kommunalförbund and one with a consolidated self-assessment."""
    return [
        consolidated_state(),  # Hallsberg 1861
        pilot("1864", "Ljusnarsberg", [task("a", TaskStatus.OPEN, GENERATED - timedelta(days=1))]),
        pilot("0643", "Habo", []),
        pilot("1083+1272", "Sölvesborg-Bromölla kommunalförbund", []),
    ]


def test_an_anonymous_cohort_overview_names_no_municipality_anywhere():
    states = anonymous_cohort()

    html = render_cohort_overview(states, generated_at=GENERATED, anonymous=True)

    identifying = {s.municipality_name for s in states} | {s.kommunkod for s in states}
    identifying |= {"Sölvesborg", "Bromölla", "1083", "1272", "leda-lfr-2024"}
    assert [word for word in identifying if word in html] == []
    for letter in "ABCD":
        assert f"Kommun {letter}" in html
    assert "Kommun E" not in html
    assert "Kommunernas namn är dolda" in html and "names are hidden" in html
    # the pilot's figures are still there, under its letter
    assert sum(row.get("SF4") == "2,0" for row in factor_cells(html).values()) == 1


def test_anonymous_letters_follow_neither_the_names_nor_the_kommunkod():
    codes = ["0114", "0115", "0117", "0120", "0123"]
    names = ["Alingsås", "Bjuv", "Dals-Ed", "Eda", "Falun"]  # alphabetical in the order of the codes

    def cohort(names: list[str]) -> list[MunicipalityState]:
        # each pilot is told apart on the page by its number of open tasks: 1 for 0114, ..., 5 for 0123
        return [
            pilot(code, name, [task(f"t{i}", TaskStatus.OPEN, None) for i in range(n)])
            for n, (code, name) in enumerate(zip(codes, names, strict=True), start=1)
        ]

    def codes_by_letter(states: list[MunicipalityState], key: bytes) -> list[str]:
        parser = Cells()
        parser.feed(render_cohort_overview(states, generated_at=GENERATED, anonymous=True, anonymity_key=key))
        return [codes[int(parser.cells[(f"kommun-{letter}", "open")]) - 1] for letter in "abcde"]

    order = codes_by_letter(cohort(names), b"natverkstraff-2026")
    assert sorted(order) == codes
    assert order != codes  # neither kommunkod order nor, here the same, the names' alphabetical order
    # The names play no part: renamed pilots keep their letters under the same key.
    assert codes_by_letter(cohort(names[::-1]), b"natverkstraff-2026") == order
    # The key does: another key, other letters (so the order is not a fixed function of the pilots).
    assert len({tuple(codes_by_letter(cohort(names), bytes([k]))) for k in range(8)}) > 1


def test_the_anonymous_side_by_side_view_keeps_each_pilots_phase_and_overdue_work():
    states = anonymous_cohort()
    states[2] = states[2].model_copy(update={"active_phases": [Phase.IMPLEMENTATION]})  # Habo

    html = render_cohort_overview(states, generated_at=GENERATED, anonymous=True, anonymity_key=b"k")

    parser = Cells()
    parser.feed(html)
    letters = [f"kommun-{letter}" for letter in "abcd"]
    assert rows_of(html) == [letters, letters]  # both tables, the same pilots in the same order
    overdue = {row: parser.cells[(row, "overdue")] for row in letters}
    phase = {row: parser.cells[(row, "phase")] for row in letters}
    assert sorted(overdue.values()) == ["0", "0", "0", "1"]
    late = next(row for row, count in overdue.items() if count == "1")  # Ljusnarsberg's one overdue task
    assert phase[late] == "Djupanalys Deep analysis"
    assert sorted(phase.values()).count("Genomförande Implementation") == 1
    consolidated = next(row for row, cells in factor_cells(html).items() if cells["SF1"] != "–")  # Hallsberg
    assert consolidated != late and phase[consolidated] == "Djupanalys Deep analysis"


# ---- decisions --------------------------------------------------------------------------------------------


def test_a_decision_not_yet_posted_shows_the_latest_legal_dates_and_is_not_final():
    decision = {
        "organ": "Bildningsnämnden",
        "meeting_date": "2025-02-10",
        "paragraph": 12,
        "diarienummer": "BN 2025/7",
        "decision_text": "Nämnden antar skolutvecklingsplanen",
    }
    state = (
        Events()
        .started()
        .task("plan_adoption", decision, phase=Phase.DEVELOPMENT_PLAN, done_at=datetime(2025, 2, 10, tzinfo=UTC))
        .add(
            DecisionRecorded,
            task_key="plan_adoption",
            organ="Bildningsnämnden",
            meeting_date=date(2025, 2, 10),
            paragraph=12,
            diarienummer="BN 2025/7",
            justering_due=date(2025, 2, 24),
            anslag_due=date(2025, 2, 26),
            appeal_period_ends_latest=date(2025, 3, 19),
        )
        .state()
    )

    html = render_pilot_report(state, generated_at=GENERATED)

    row = re.search(r"<tr[^>]*><td>Nämnden antar skolutvecklingsplanen</td>.*?</tr>", html, flags=re.S)
    assert row is not None
    assert "§ 12, BN 2025/7" in row.group(0)
    assert "senast<br>2025-02-24" in row.group(0) and "senast<br>2025-03-19" in row.group(0)
    assert "beslutad, protokollet ännu inte anslaget" in row.group(0)
    assert "0 av 1 beslut har vunnit laga kraft" in html


def test_every_kpi_leda_gathers_says_whom_it_counts_and_unit_kpis_count_the_own_schools() -> None:
    """A school unit is one of the municipality's own schools: its KPIs are the 'kommunala skolor' ones, and each
    KPI the data pack gathers is catalogued with its population, so a report never sets one beside the other."""
    for kpi in (*DATA_PACK_KPIS, *UNIT_KPIS):
        assert kpi in KPI_CATALOGUE, kpi
    assert {KPI_CATALOGUE[kpi].population for kpi in UNIT_KPIS} == {"kommunala_skolor"}
    for kpi, definition in KPI_CATALOGUE.items():
        word = "hemkommun" if definition.population == "hemkommun" else "kommunala skolor"
        assert word in definition.title_sv, kpi  # Kolada's title says whom it counts; the catalogue agrees


def test_the_comparison_groups_median_leaves_the_municipality_out_and_counts_who_had_a_value() -> None:
    group = ComparisonGroup(
        id="G1", title="Liknande kommuner grundskola, Hallsberg", members=["1861", "1864", "0643", "1488"]
    )

    def value(code: str, year: int, v: float | None, gender: str = "T") -> KpiObservation:
        return KpiObservation(kpi="N15428", municipality=code, period=year, gender=gender, value=v)

    observations = [
        value("1861", 2023, 99.0),  # the municipality itself: left out
        value("1864", 2023, 80.0),
        value("0643", 2023, 90.0),
        value("1488", 2023, None),  # withheld: not counted
        value("1488", 2023, 10.0, gender="K"),  # not the total
        value("2482", 2023, 1.0),  # not a member
        value("1864", 2024, 70.0),
    ]
    assert group_median(observations, "N15428", group, leaving_out="1861") == {2023: (85.0, 2), 2024: (70.0, 1)}
    assert comparison_group_for([group], "Liknande kommuner grundskola", "hallsberg") == group
    assert comparison_group_for([group], "Liknande kommuner grundskola", "Laxå") is None
