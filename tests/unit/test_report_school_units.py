"""The pilot report's school-unit section: the spread between a municipality's schools beside its own value.

Every unit, title and number here is invented (SYNTETISK); none is a real school's figure.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from domain.events import Event, PhaseStarted, PilotStarted, TaskCompleted, TaskOpened
from domain.kpis import RIKET, KpiObservation, OrganisationalUnit, UnitObservation
from domain.payloads import KpiDataPack
from domain.phases import Phase
from domain.roles import Role
from domain.state import MunicipalityState, fold
from reports import render_pilot_report
from reports.pilot_report import render_pilot_charts

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
GENERATED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

UNITS = {
    "V15E186100001": "SYNTETISK skola Norr",
    "V15E186100002": "SYNTETISK skola <Söder> & Co",  # escaped on the page
    "V15E186100003": "SYNTETISK skola Väster",
}
LATEST = {"V15E186100001": 81.5, "V15E186100002": 62.0, "V15E186100003": 70.5}
"""N15419 in 2023, the latest year: highest 81,5, lowest 62,0, spread 19,5."""


def pilot_state(pack: KpiDataPack | None, *, kommunkod: str = "1861", name: str = "Hallsberg") -> MunicipalityState:
    """A pilot whose only completed task is the data pack (or none, when `pack` is None)."""
    ids = iter(range(1, 100))

    def event(cls: type[Any], **fields: Any) -> Event:
        return cls(event_id=uuid.UUID(int=next(ids)), occurred_at=START, **fields)

    events = [
        event(
            PilotStarted,
            programme="lfr-2024",
            kommunkod=kommunkod,
            municipality_name=name,
            template_key="lfr-skola",
            deciding_organ="Bildningsnämnden",
            participants={role: [f"p-{role.value}"] for role in Role},
        ),
        event(PhaseStarted, phase=Phase.DEEP_ANALYSIS),
    ]
    if pack is not None:
        events += [
            event(
                TaskOpened,
                task_key="kpi_data_pack",
                template_key="kpi_data_pack",
                phase=Phase.DEEP_ANALYSIS,
                assignee_id="system",
                due_at=None,
            ),
            event(TaskCompleted, task_key="kpi_data_pack", completed_by="system", payload=pack.model_dump(mode="json")),
        ]
    return fold(events)


def unit_pack(*, municipality_value: float | None = 71.5) -> KpiDataPack:
    """Hallsberg's three invented schools; N15419 in 2022 and 2023, N15505 in 2023, N15436 without data."""
    unit_observations = [
        UnitObservation(kpi="N15419", unit_id=uid, unit_title=title, period=2022, gender="T", value=40.0)
        for uid, title in UNITS.items()
    ]
    unit_observations += [
        UnitObservation(kpi="N15419", unit_id=uid, unit_title=UNITS[uid], period=2023, gender="T", value=value)
        for uid, value in LATEST.items()
    ]
    unit_observations += [
        # Another gender, a null value and a unit without a title in the observation: none of them may show.
        UnitObservation(kpi="N15419", unit_id="V15E186100001", period=2023, gender="K", value=99.0),
        UnitObservation(kpi="N15419", unit_id="V15E186100004", period=2023, gender="T", value=None),
        UnitObservation(kpi="N15505", unit_id="V15E186100001", period=2023, gender="T", value=231.5),
        UnitObservation(kpi="N15505", unit_id="V15E186100003", period=2023, gender="T", value=198.0),
    ]
    observations = [KpiObservation(kpi="N15419", municipality=RIKET, period=2023, gender="T", value=77.0)]
    if municipality_value is not None:
        observations += [
            KpiObservation(kpi="N15419", municipality="1861", period=2023, gender="T", value=municipality_value),
            KpiObservation(kpi="N15419", municipality="1861", period=2023, gender="K", value=11.0),
        ]
    return KpiDataPack(
        kolada_base_url="https://api.kolada.se/v3",
        kpis=["N15419"],
        municipalities=["1861", RIKET],
        years=[2022, 2023],
        observations=observations,
        unit_kpis=["N15419", "N15436", "N15505"],
        units=[
            *(OrganisationalUnit(id=uid, title=title, municipality="1861") for uid, title in UNITS.items()),
            OrganisationalUnit(id="V15E186100004", title="SYNTETISK skola utan värde", municipality="1861"),
        ],
        unit_observations=unit_observations,
    )


class UnitSections(HTMLParser):
    """The text of each school-unit block's cells: by (KPI, home, unit id or '', data-col)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str, str, str], str] = {}
        self.titles: dict[tuple[str, str], list[str]] = {}
        self._block: tuple[str, str] | None = None
        self._unit = ""
        self._col: tuple[str, str, str, str] | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and a.get("class") == "units":
            self._block = (a.get("data-kpi") or "", a.get("data-home") or "")
            self.titles[self._block] = []
        elif tag == "tr":
            self._unit = a.get("data-unit") or ""
        elif tag == "th" and self._unit and self._block:
            self._in_title = True
            self.titles[self._block].append("")
        elif tag in ("td", "dd") and a.get("data-col") and self._block:
            self._col = (*self._block, self._unit if tag == "td" else "", a["data-col"] or "")
            self.cells[self._col] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "dd"):
            self._col = None
        elif tag == "th":
            self._in_title = False
        elif tag == "tr":
            self._unit = ""

    def handle_data(self, data: str) -> None:
        if self._col is not None:
            self.cells[self._col] += data
        if self._in_title and self._block:
            self.titles[self._block][-1] += data


def sections(html: str) -> UnitSections:
    parser = UnitSections()
    parser.feed(html)
    return parser


def bar_chart(html: str, chart_id: str) -> ET.Element:
    found = [ET.fromstring(m) for m in re.findall(rf'<svg\b[^>]*id="{chart_id}".*?</svg>', html, flags=re.S)]
    assert len(found) == 1, f"expected one chart {chart_id}, found {len(found)}"
    return found[0]


def section_html(html: str) -> str:
    match = re.search(r'<section id="skolenheter".*?</section>', html, flags=re.S)
    assert match is not None, "no school-unit section"
    return match.group(0)


def test_every_school_unit_is_listed_with_its_value_in_the_latest_year():
    parsed = sections(render_pilot_report(pilot_state(unit_pack()), generated_at=GENERATED))

    values = {uid: parsed.cells[("N15419", "1861", uid, "value")] for uid in UNITS}
    assert values == {"V15E186100001": "81,5", "V15E186100002": "62,0", "V15E186100003": "70,5"}
    highest_first = [UNITS["V15E186100001"], UNITS["V15E186100003"], UNITS["V15E186100002"]]
    assert parsed.titles[("N15419", "1861")] == highest_first
    # A null value is skipped, not drawn as 0 and not listed.
    assert ("N15419", "1861", "V15E186100004", "value") not in parsed.cells


def test_the_chart_draws_a_bar_per_school_and_the_municipality():
    html = render_pilot_report(pilot_state(unit_pack()), generated_at=GENERATED)

    bars = bar_chart(html, "skolenheter-N15419-1861")
    drawn = {
        b.get("data-category"): float(b.get("data-value")) for b in bars.iter(f"{SVG}rect") if b.get("data-category")
    }
    assert drawn == {**LATEST, "1861": 71.5}
    flags = {g.get("data-category"): g.get("data-flag") for g in bars.iter(f"{SVG}g") if g.get("data-flag")}
    assert flags == {"V15E186100001": "max", "V15E186100002": "min", "1861": "kommun"}


def test_the_spread_is_the_highest_minus_the_lowest_school():
    parsed = sections(render_pilot_report(pilot_state(unit_pack()), generated_at=GENERATED))

    assert parsed.cells[("N15419", "1861", "", "highest")].startswith("81,5 (SYNTETISK skola Norr)")
    assert parsed.cells[("N15419", "1861", "", "lowest")].startswith("62,0 (SYNTETISK skola <Söder> & Co)")
    assert parsed.cells[("N15419", "1861", "", "spread")] == "19,5"
    assert parsed.cells[("N15505", "1861", "", "spread")] == "33,5"  # 231,5 − 198,0


def test_the_municipalitys_own_value_shows_beside_its_schools():
    parsed = sections(render_pilot_report(pilot_state(unit_pack()), generated_at=GENERATED))

    assert parsed.cells[("N15419", "1861", "", "municipality")] == "71,5"


def test_a_missing_municipality_value_is_said_to_be_missing_not_invented():
    html = render_pilot_report(pilot_state(unit_pack(municipality_value=None)), generated_at=GENERATED)
    parsed = sections(html)

    assert parsed.cells[("N15419", "1861", "", "municipality")].startswith("saknas")
    assert "Kolada-underlaget har inget värde för Hallsberg (1861) för N15419 år 2023" in html
    drawn = {
        b.get("data-category")
        for b in bar_chart(html, "skolenheter-N15419-1861").iter(f"{SVG}rect")
        if b.get("data-category")
    }
    assert drawn == set(LATEST)  # Riket's 77,0 is not put in the municipality's place


def test_unit_kpis_without_data_are_named_and_titles_are_escaped():
    section = section_html(render_pilot_report(pilot_state(unit_pack()), generated_at=GENERATED))

    assert "Inga värden per skolenhet i underlaget för N15436" in section
    assert "SYNTETISK skola &lt;Söder&gt; &amp; Co" in section
    assert "<Söder>" not in section


def test_a_pack_without_unit_data_says_so_in_both_languages():
    pack = unit_pack().model_copy(update={"unit_kpis": [], "units": [], "unit_observations": []})

    section = section_html(render_pilot_report(pilot_state(pack), generated_at=GENERATED))

    assert "Kolada-underlaget har inga värden per skolenhet" in section
    assert "The Kolada data pack has no values per school unit." in section
    assert "<svg" not in section


def test_a_pilot_without_a_data_pack_says_so():
    section = section_html(render_pilot_report(pilot_state(None), generated_at=GENERATED))

    assert "Statistikunderlaget från Kolada finns inte ännu, så det finns inga värden per skolenhet." in section
    assert "No Kolada data pack yet, so no values per school unit." in section


def test_the_municipality_page_charts_include_the_school_units():
    charts = render_pilot_charts(pilot_state(unit_pack()))

    assert 'id="skolenheter"' in charts
    bar_chart(charts, "skolenheter-N15419-1861")


def test_a_kommunalforbund_compares_each_members_schools_with_that_member():
    units = {"V15E108300001": "1083", "V15E108300002": "1083", "V15E127200001": "1272"}
    pack = KpiDataPack(
        kolada_base_url="https://api.kolada.se/v3",
        kpis=["N15419"],
        municipalities=["1083", "1272", RIKET],
        years=[2023],
        observations=[
            KpiObservation(kpi="N15419", municipality="1083", period=2023, gender="T", value=55.5),
            KpiObservation(kpi="N15419", municipality="1272", period=2023, gender="T", value=66.5),
        ],
        unit_kpis=["N15419"],
        units=[OrganisationalUnit(id=uid, title=f"SYNTETISK skola {uid}", municipality=m) for uid, m in units.items()],
        unit_observations=[
            UnitObservation(kpi="N15419", unit_id=uid, period=2023, gender="T", value=value)
            for uid, value in zip(units, (50.0, 60.0, 65.0), strict=True)
        ],
    )
    state = pilot_state(pack, kommunkod="1083+1272", name="Sölvesborg-Bromölla kommunalförbund")

    html = render_pilot_report(state, generated_at=GENERATED)
    parsed = sections(html)

    assert parsed.cells[("N15419", "1083", "", "spread")] == "10,0"
    assert parsed.cells[("N15419", "1083", "", "municipality")] == "55,5"
    assert parsed.cells[("N15419", "1272", "", "municipality")] == "66,5"
    assert parsed.titles[("N15419", "1272")] == ["SYNTETISK skola V15E127200001"]
    assert "N15419 Elever i åk 9 som uppnått kunskapskraven i alla ämnen, kommunala skolor: Sölvesborg (1083)" in html
