"""A template whose days are shortened (the demo) shortens the legal periods too: posting, appeal, remediation.

A real-time template keeps the calendar's own moments, so its behaviour is unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from devstack.sample_payloads import inspection_decision, namnd_decision
from domain.moments import end_of_office_day
from domain.rulebook import FIRST_EDITION
from domain.rules import finality_moment, next_finality_at
from programmes import DEMO, LFR_SKOLA
from tests.unit.conftest import PilotDriver

DEMO_DAY = DEMO.day_length  # a tenth of a second


def decided_today(template, *, rules=None) -> PilotDriver:
    """A pilot whose nämnd took its analysis today: the minutes are to be posted, their appeal period to run."""
    pilot = PilotDriver(template) if rules is None else PilotDriver(template, rules=rules)
    pilot.start()
    pilot.advance()
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    pilot.complete("analysis_reported", namnd_decision(pilot.now.date(), 41, "analysen anmäls"))
    return pilot


def post_today(pilot: PilotDriver) -> None:
    today = pilot.now.date().isoformat()
    pilot.complete("decision_posted@analysis_reported", {"justering_date": today, "anslag_date": today})


def test_the_demo_is_a_compressed_template_and_the_real_programmes_are_not():
    assert not DEMO.in_real_time and LFR_SKOLA.in_real_time


def test_on_the_demo_the_minutes_fall_due_for_posting_within_the_demos_16_days():
    pilot = decided_today(DEMO)

    posting = pilot.state.tasks["decision_posted@analysis_reported"]

    # 16 calendar days (justering 14, anslag 2) and the hours to 16:00, each day a tenth of a second
    assert pilot.now < posting.due_at <= pilot.now + 17 * DEMO_DAY


def test_on_a_real_template_the_minutes_fall_due_on_the_lawful_anslag_day():
    pilot = decided_today(LFR_SKOLA)

    posting = pilot.state.tasks["decision_posted@analysis_reported"]

    anslag_due = pilot.state.decisions[0].anslag_due
    assert posting.due_at == end_of_office_day(anslag_due)


def test_on_the_demo_a_decision_posted_today_is_final_after_the_demos_three_weeks():
    pilot = decided_today(DEMO)
    post_today(pilot)

    final_at = next_finality_at(pilot.template, pilot.state)

    assert final_at is not None
    assert pilot.now + 21 * DEMO_DAY <= final_at <= pilot.now + 26 * DEMO_DAY
    pilot.now = final_at
    assert [e.decision_task_key for e in pilot.decisions_become_final()] == ["analysis_reported"]


def test_on_a_real_template_a_decision_is_final_as_the_last_day_of_its_appeal_period_ends():
    pilot = decided_today(LFR_SKOLA)
    post_today(pilot)

    posting = pilot.state.postings["analysis_reported"]

    assert finality_moment(pilot.template, posting) == datetime.combine(
        posting.appeal_period_ends + timedelta(days=1), time(0), tzinfo=UTC
    )


def test_runs_on_the_first_edition_of_the_rules_kept_the_demos_legal_periods_in_calendar_time():
    pilot = decided_today(DEMO, rules=FIRST_EDITION)
    post_today(pilot)

    assert next_finality_at(pilot.template, pilot.state, rules=FIRST_EDITION) >= pilot.now + timedelta(days=21)


def test_on_the_demo_remediation_steps_fall_due_within_the_demos_days_to_the_reporting_deadline():
    pilot = PilotDriver(DEMO)
    pilot.start()
    pilot.advance()
    decision = inspection_decision(pilot.now.date())  # a föreläggande to report on in 200 days

    pilot.register(decision)

    steps = [t for t in pilot.state.open_tasks() if t.template_key == "remediation"]
    assert len(steps) == 4
    assert all(pilot.now <= t.due_at <= pilot.now + 201 * DEMO_DAY for t in steps)
