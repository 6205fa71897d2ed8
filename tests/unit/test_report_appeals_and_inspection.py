"""The pilot report on the facts of the December 2026 rules: an inspection track closed with no decision, a decision
registered after its reporting deadline, appeals of the nämnd's decisions, and several answers per level.

Every decision, case number, court and score here is invented (SYNTETISK).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

from devstack.sample_payloads import answer_for, inspection_decision
from domain.appeals import AppealStep, appeal_events
from domain.consolidation import AssessmentLevel, consolidate
from domain.events import (
    ComparisonItem,
    DecisionAppealed,
    DecisionRecorded,
    Event,
    InspectionCompared,
    InspectionDecisionRegistered,
    PhaseStarted,
    PilotStarted,
    SelfAssessmentsConsolidated,
)
from domain.phases import Phase
from domain.roles import Role
from domain.state import MunicipalityState, fold
from domain.success_factors import INDICATOR_IDS, indicators_for_level
from programmes import LFR_SKOLA
from reports import render_pilot_report
from tests.unit.conftest import PilotDriver

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
GENERATED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
P, F, R, S = AssessmentLevel.P, AssessmentLevel.F, AssessmentLevel.R, AssessmentLevel.S
DEEP_ANALYSIS = ("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
YEAR_TASKS = (
    "ska_follow_up",
    "ska_analysis",
    "ska_planning",
    "measure_progress",
    "change_project",
    "funding_application",
    "annual_report",
)
COURT = "Förvaltningsrätten i Karlstad"


def report(state: MunicipalityState) -> str:
    return render_pilot_report(state, generated_at=GENERATED)


def section(html: str, anchor: str) -> str:
    found = re.search(rf'<section id="{anchor}".*?</section>', html, flags=re.S)
    assert found is not None, f"no section {anchor}"
    return found.group(0)


def hand_built(*extra: tuple[type[Any], dict[str, Any]]) -> MunicipalityState:
    """A started pilot and the events given, as (event class, fields), all at START."""
    ids = iter(range(1, 1000))

    def event(cls: type[Any], **fields: Any) -> Event:
        return cls(event_id=uuid.UUID(int=next(ids)), occurred_at=START, **fields)

    events = [
        event(
            PilotStarted,
            programme="lfr-2024",
            kommunkod="1861",
            municipality_name="Hallsberg",
            template_key="lfr-skola",
            deciding_organ="Bildningsnämnden",
            participants={role: [f"p-{role.value}"] for role in Role},
        ),
        event(PhaseStarted, phase=Phase.DEEP_ANALYSIS),
    ]
    events += [event(cls, **fields) for cls, fields in extra]
    return fold(events)


def started_pilot() -> PilotDriver:
    pilot = PilotDriver(LFR_SKOLA)
    pilot.start()
    pilot.advance()
    return pilot


# ---- no inspection during the programme -------------------------------------------------------------------


def test_a_programme_that_ended_with_no_inspection_decision_says_the_comparison_closed_without_one():
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported")
    pilot.complete("plan_draft", answer_for("plan_draft", pilot.now.date()) | {"period_years": 1})
    pilot.complete_all("consult_hr", "consult_finance", "plan_adoption", *YEAR_TASKS)
    assert "Inget beslut från Skolinspektionen har registrerats ännu" in section(report(pilot.state), "inspektion")

    pilot.settle(leave=("inspection_decision",))

    closed = pilot.state.inspection_closed_without_decision
    assert closed is not None and pilot.state.completed_at is not None
    html = section(report(pilot.state), "inspektion")
    day = closed.date().isoformat()
    assert "Inget beslut från Skolinspektionen registrerades under programmet." in html
    assert f"Jämförelsen med Skolinspektionen stängdes {day}" in html
    assert (
        f"No Skolinspektionen decision was registered during the programme; the inspection comparison closed on {day}."
        in html
    )
    assert "ännu" not in html and "yet" not in html


# ---- a decision registered late ---------------------------------------------------------------------------


def test_a_decision_registered_after_a_reporting_deadline_says_so_and_is_remedied_from_the_registration():
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS)
    today = pilot.now.date()
    late = inspection_decision(today - timedelta(days=400)) | {"diarienummer": "SI-2023:9"}

    pilot.register(late)

    html = section(report(pilot.state), "inspektion")
    registered = today.isoformat()
    assert (
        "Beslutet registrerades sent, efter redovisningsdagen för iakttagelse #1. Åtgärderna planeras därför från "
        f"registreringsdagen {registered}, inte bakåt från redovisningsdagen." in html
    )
    assert (
        "The decision was registered late, after the reporting deadline of finding #1; its remediation is planned "
        f"from the registration date {registered}." in html
    )
    [schedule] = pilot.state.remediation.values()
    assert schedule.registered_late
    assert (
        f"Åtgärderna planerade från registreringen {registered} (redovisningsdagen "
        f"{schedule.deadline.isoformat()} hade passerat):" in html
    )
    assert "measures planned from the registration date (the reporting deadline had passed)" in html
    assert steps_listed(html) == {step.key: step.due.isoformat() for step in schedule.steps}
    assert steps_listed(html)["atgardsplan"] == registered


def steps_listed(html: str) -> dict[str, str]:
    """The remediation steps the findings list shows, by step key, with the date shown."""
    return dict(re.findall(r'<li data-step="([^"]+)"><span class="date">([0-9-]+)</span>', html))


def test_a_decision_registered_in_time_lists_its_steps_planned_back_from_the_deadline():
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS)

    pilot.complete("inspection_decision")

    html = section(report(pilot.state), "inspektion")
    [schedule] = pilot.state.remediation.values()
    assert not schedule.registered_late
    assert "registrerades sent" not in html and "registered late" not in html
    assert f"Åtgärderna planerade bakåt från redovisningsdagen {schedule.deadline.isoformat()}:" in html
    assert "measures planned back from the reporting deadline" in html
    assert steps_listed(html) == {step.key: step.due.isoformat() for step in schedule.steps}
    assert "Åtgärdsplan upprättad" in html and "Action plan drawn up" in html


def test_a_step_squeezed_in_before_a_close_deadline_is_marked_compressed():
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS)
    soon = inspection_decision(pilot.now.date() - timedelta(days=180))  # its deadline 20 days from now

    pilot.complete("inspection_decision", soon)

    html = section(report(pilot.state), "inspektion")
    [schedule] = pilot.state.remediation.values()
    compressed = [step.key for step in schedule.steps if step.compressed]
    assert compressed
    for key in compressed:
        item = re.search(rf'<li data-step="{key}">.*?</li>', html, flags=re.S)
        assert item is not None
        assert "hoptryckt: tiden räckte inte för planen" in item.group(0)
        assert "compressed: too little time" in item.group(0)


def test_several_late_findings_are_named_and_no_remediation_is_claimed_where_none_was_scheduled():
    decision = inspection_decision(date(2023, 1, 10)) | {"diarienummer": "SI-2023:7"}
    decision["findings"][1] |= {"intervention": "forelaggande", "deadline": "2023-09-01"}
    state = hand_built(
        (
            InspectionDecisionRegistered,
            {
                "diarienummer": decision["diarienummer"],
                "decision": decision,
                "registered_by": "p-analytiker",
                "overdue_findings": [0, 1],
            },
        )
    )

    html = section(report(state), "inspektion")

    assert "Beslutet registrerades sent, efter redovisningsdagen för iakttagelserna #1, #2." in html
    assert "The decision was registered late, after the reporting deadline of findings #1, #2." in html
    assert "registreringsdagen" not in html and "from the registration date" not in html


# ---- appeals in the decisions table -----------------------------------------------------------------------


def decision_row(html: str, key: str) -> str:
    found = re.search(rf'<tr data-decision="{re.escape(key)}" data-status="[a-z_]+">.*?</tr>', html, flags=re.S)
    assert found is not None, f"no row for decision {key}"
    return found.group(0)


def status_of(html: str, key: str) -> str:
    found = re.search(rf'<tr data-decision="{re.escape(key)}" data-status="([a-z_]+)">', html)
    assert found is not None
    return found.group(1)


def appeal(pilot: PilotDriver, key: str, **step: Any) -> None:
    recorded = AppealStep(decision_key=key, actor_id="p-programledare", case_number="1234-27", **step)
    pilot.record(appeal_events(pilot.template, pilot.state, recorded, now=pilot.now, new_id=pilot.new_id))
    pilot.advance()


def appealed_pilot() -> PilotDriver:
    """The analysis reported to the nämnd, and that decision appealed ten days after its meeting."""
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported")
    lodged = pilot.state.decisions[0].meeting_date + timedelta(days=10)
    appeal(pilot, "analysis_reported", action="lodged", court=COURT, lodged_on=lodged)
    return pilot


def test_an_appealed_decision_shows_its_court_case_and_lodging_and_that_the_court_has_not_decided():
    pilot = appealed_pilot()
    lodged = pilot.state.appeals["analysis_reported"][0].lodged_on.isoformat()

    html = section(report(pilot.state), "beslut")

    row = decision_row(html, "analysis_reported")
    assert status_of(html, "analysis_reported") == "overklagad"
    assert "överklagad, i väntan på domstolen" in row and "appealed, waiting for the court" in row
    assert f"{COURT}, mål 1234-27, inkom {lodged}: domstolen har ännu inte avgjort målet" in row
    assert f"{COURT}, case 1234-27, lodged {lodged}: pending" in row
    assert "0 av 1 beslut har vunnit laga kraft. 1 beslut är överklagat och väntar på domstolen." in html
    assert "0 of 1 decisions are final; 1 appealed, waiting for the court." in html


def test_an_appeal_the_court_rejected_shows_the_outcome_and_its_date():
    pilot = appealed_pilot()
    pilot.tick(timedelta(days=20))
    decided = pilot.now.date() - timedelta(days=1)

    appeal(pilot, "analysis_reported", action="decided", outcome="avslaget", decided_on=decided)

    row = decision_row(section(report(pilot.state), "beslut"), "analysis_reported")
    assert f"överklagandet avslogs: beslutet står fast ({decided.isoformat()})" in row
    assert f"the appeal was rejected: the decision stands ({decided.isoformat()})" in row
    assert "överklagad, i väntan på domstolen" not in row


def test_an_annulled_decision_shows_as_annulled_and_the_decision_taken_again_is_a_row_of_its_own():
    pilot = appealed_pilot()
    pilot.tick(timedelta(days=20))
    decided = pilot.now.date() - timedelta(days=1)
    appeal(pilot, "analysis_reported", action="decided", outcome="upphavt", decided_on=decided)

    pilot.complete("analysis_reported")

    html = section(report(pilot.state), "beslut")
    annulled, again = decision_row(html, "analysis_reported"), decision_row(html, "analysis_reported/2")
    assert status_of(html, "analysis_reported") == "upphavd"
    assert "upphävd av domstolen" in annulled and "annulled by the court" in annulled
    assert f"beslutet upphävdes: nämnden beslutar på nytt ({decided.isoformat()})" in annulled
    assert "senast" not in annulled  # no legal dates run for a decision that is gone
    assert status_of(html, "analysis_reported/2") == "beslutad"
    assert "nytt beslut i ärendet (analysis_reported/2)" in again and "decided again" in again
    assert "beslutad, protokollet ännu inte anslaget" in again and "decided, its minutes not yet posted" in again
    assert "1 har upphävts av domstolen" in html and "1 annulled by the court" in html
    assert html.index('data-decision="analysis_reported"') < html.index('data-decision="analysis_reported/2"')


def test_a_posted_decision_whose_appeal_period_ended_shows_as_final():
    pilot = started_pilot()
    pilot.complete_all(*DEEP_ANALYSIS, "analysis_reported", "decision_posted")
    pilot.decisions_become_final()

    html = section(report(pilot.state), "beslut")

    assert status_of(html, "analysis_reported") == "laga_kraft"
    row = decision_row(html, "analysis_reported")
    assert "har vunnit laga kraft" in row and "final (laga kraft)" in row
    assert "1 av 1 beslut har vunnit laga kraft." in html


def test_what_an_appeal_records_is_escaped():
    state = hand_built(
        (
            DecisionRecorded,
            {
                "task_key": "analysis_reported",
                "organ": "Bildningsnämnden",
                "meeting_date": date(2024, 8, 12),
                "paragraph": 41,
                "diarienummer": "BN 2024/41",
                "justering_due": date(2024, 8, 26),
                "anslag_due": date(2024, 8, 28),
                "appeal_period_ends_latest": date(2024, 9, 18),
            },
        ),
        (
            DecisionAppealed,
            {
                "decision_key": "analysis_reported",
                "court": "SYNTETISK <förvaltningsrätt> & co",
                "case_number": "Mål nr 12-24 E",
                "lodged_on": date(2024, 8, 30),
                "by": "p-programledare",
            },
        ),
    )

    row = decision_row(report(state), "analysis_reported")

    assert "SYNTETISK &lt;förvaltningsrätt&gt; &amp; co, mål Mål nr 12-24 E, inkom 2024-08-30" in row
    assert "<förvaltningsrätt>" not in row


# ---- several answers per level ----------------------------------------------------------------------------


def answers(level: AssessmentLevel, score: int, **by_indicator: int) -> dict[str, int]:
    """Every indicator `level` scores at `score`, or at the score given for it (SF1_a=1 for SF1.a)."""
    given = {key.replace("_", "."): value for key, value in by_indicator.items()}
    return {i: given.get(i, score) for i in indicators_for_level(level)}


def several_answers_state() -> MunicipalityState:
    """Two rektorer (2 and 3 on most indicators: R scores 2,5), HR and ekonomi for the support functions.

    On SF1.a the rektorer answer 1 and 4: a spread of 3 within R. On SF4.a they answer 1 and 2: R 1,5 against
    P 4, a spread of 2,5 between the levels.
    """
    scores = {
        P: answers(P, 4),
        F: answers(F, 3),
        R: [answers(R, 2, SF1_a=1, SF4_a=1), answers(R, 3, SF1_a=4, SF4_a=2)],
        S: [answers(S, 3), answers(S, 3)],
    }
    return hand_built((SelfAssessmentsConsolidated, {"consolidation": consolidate(scores)}))


def test_the_self_assessment_says_how_many_answered_at_each_level():
    html = section(report(several_answers_state()), "sjalvskattning")

    assert "Antal svar per nivå: P politik 1, F förvaltning 1, R rektorer 2, S stödfunktioner 2." in html
    assert "Answers by level: P 1, F 1, R 2, S 2." in html


def test_a_large_spread_within_a_level_is_listed_apart_from_the_spreads_between_levels():
    html = section(report(several_answers_state()), "sjalvskattning")

    between, within = html.split("<h3>Stor skillnad inom en nivå")
    assert "SF1.a: 2 svar på nivå R skiljer 3 steg – stor skillnad inom nivån" in within
    assert "2 answers at level R differ by 3" in within
    assert "inom nivån" not in between
    assert "SF4.a: P 4, F 3, R 1,5 – stor skillnad mellan nivåerna" in between
    assert "SF4.a" not in within
    assert "Large spread within a level" in within


def test_half_scores_and_spreads_are_written_with_a_decimal_comma():
    html = section(report(several_answers_state()), "sjalvskattning")

    assert "R 1,5" in html and "R 1.5" not in html
    assert "the levels differ by 2,5" in html
    sf4 = re.search(r'<tr><th scope="row">SF4 .*?</tr>', html, flags=re.S)
    assert sf4 is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', sf4.group(0))
    # P, F, R and S means (S does not score SF4); the median; the largest spread between the levels, within one
    assert cells == ["4,00", "3,00", "2,30", "–", "3,0", "2,5", "1"]


def test_a_table_of_one_answer_per_level_has_no_column_for_the_spread_within_a_level():
    scores = {level: dict.fromkeys(indicators_for_level(level), 3) for level in (P, F, R)}
    state = hand_built((SelfAssessmentsConsolidated, {"consolidation": consolidate(scores)}))

    html = section(report(state), "sjalvskattning")

    assert "Största spridning inom en nivå" not in html
    assert "Stor skillnad inom en nivå" not in html
    assert "Antal svar per nivå: P politik 1, F förvaltning 1, R rektorer 1." in html


def quarter_median_state() -> MunicipalityState:
    """P scores 3 and two rektorer 2 and 3 (R 2,5) everywhere: each factor's median is 2,75; compared with an
    inspection decision."""
    scores = {P: dict.fromkeys(INDICATOR_IDS, 3), R: [answers(R, 2), answers(R, 3)]}
    decision = inspection_decision(date(2025, 3, 1))
    return hand_built(
        (SelfAssessmentsConsolidated, {"consolidation": consolidate(scores)}),
        (
            InspectionDecisionRegistered,
            {"diarienummer": decision["diarienummer"], "decision": decision, "registered_by": "p-analytiker"},
        ),
        (
            InspectionCompared,
            {
                "diarienummer": decision["diarienummer"],
                "items": [ComparisonItem(factor="SF4", classification="agreed", finding_indexes=[0])],
            },
        ),
    )


def test_a_median_of_half_scores_is_not_rounded_to_a_tenth_in_the_tables_or_the_bar_chart():
    state = quarter_median_state()
    assert state.consolidation is not None and state.consolidation.factors["SF1"].median == 2.75
    html = report(state)

    own = section(html, "sjalvskattning")
    sf1 = re.search(r'<tr><th scope="row">SF1 .*?</tr>', own, flags=re.S)
    assert sf1 is not None
    assert re.findall(r'<td class="num">(.*?)</td>', sf1.group(0)) == ["3,00", "2,50", "2,75", "0,5", "1"]
    compared = section(html, "inspektion")
    assert '<td class="num">2,75</td>' in compared and "2,8" not in compared
    bars = next(ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", compared, flags=re.S))
    labels = {t.text for t in bars.iter(f"{SVG}text")}
    assert "2,75" in labels


def test_a_level_with_a_half_score_is_drawn_at_its_half_on_the_radar():
    html = report(quarter_median_state())

    radar = next(
        ET.fromstring(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, flags=re.S) if 'class="chart radar' in svg
    )
    values = {
        m.get("data-axis"): m.get("data-value")
        for m in radar.iter()
        if m.get("data-series") == "R" and m.get("data-axis")
    }
    assert values == {f"SF{n}": "2.5" for n in range(1, 9)}
    titles = [t.text for t in radar.iter(f"{SVG}title") if t.text and t.text.startswith("R ")]
    assert titles and all(t.endswith(": 2,50") for t in titles)
