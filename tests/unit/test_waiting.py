"""What a pilot waits for, and until when, read from its state: tasks, timers, appeals, a pause, failed steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devstack.sample_payloads import namnd_decision
from domain.appeals import AppealStep, appeal_events
from domain.events import FailedStepRetried, PilotPaused, StepFailed
from domain.waiting import waiting_for
from programmes import LFR_SKOLA
from tests.unit.conftest import PilotDriver


def waits(pilot: PilotDriver) -> list:
    return waiting_for(pilot.template, pilot.state)


def test_a_new_pilot_waits_for_its_open_tasks_soonest_due_first_with_whose_they_are(pilot):
    found = waits(pilot)

    tasks = [w for w in found if w.kind == "task"]
    dues = [w.until for w in tasks if w.until is not None]
    assert dues == sorted(dues)
    chef = next(w for w in tasks if w.task_key == "self_assessment@F")
    assert chef.participant_id == "p-forvaltningschef"
    assert "p-forvaltningschef, senast" in chef.text_sv and "p-forvaltningschef, due" in chef.text_en
    assert any("Kolada" in w.text_sv and w.participant_id is None for w in tasks)  # the system's own task


def test_the_optional_inspection_is_said_to_be_optional(pilot):
    [inspection] = [w for w in waits(pilot) if w.task_key == "inspection_decision"]

    assert "om ett kommer" in inspection.text_sv and "if one comes" in inspection.text_en


def test_a_posted_decision_waits_for_its_appeal_period_to_run_out(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    today = pilot.now.date()
    pilot.complete("analysis_reported", namnd_decision(today, 41, "analysen anmäls"))
    pilot.complete(
        "decision_posted@analysis_reported", {"justering_date": today.isoformat(), "anslag_date": today.isoformat()}
    )

    [timer] = [w for w in waits(pilot) if w.kind == "timer"]

    ends = pilot.state.postings["analysis_reported"].appeal_period_ends
    assert "överklagandetiden för Bildningsnämnden § 41" in timer.text_sv and f"löper ut {ends}" in timer.text_sv
    assert f"runs out on {ends}" in timer.text_en
    assert timer.until == datetime.combine(ends + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def test_an_appealed_decision_waits_for_the_court_and_not_for_its_appeal_period(pilot):
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses")
    today = pilot.now.date()
    pilot.complete("analysis_reported", namnd_decision(today, 41, "analysen anmäls"))
    pilot.complete(
        "decision_posted@analysis_reported", {"justering_date": today.isoformat(), "anslag_date": today.isoformat()}
    )
    step = AppealStep(
        action="lodged",
        decision_key="analysis_reported",
        actor_id="p-programledare",
        case_number="1234-24",
        court="Förvaltningsrätten i Karlstad",
        lodged_on=today,
    )
    pilot.record(appeal_events(pilot.template, pilot.state, step, now=pilot.now, new_id=pilot.new_id))

    found = waits(pilot)

    assert not [w for w in found if w.kind == "timer"]
    [appeal] = [w for w in found if w.kind == "appeal"]
    assert "Förvaltningsrätten i Karlstad, mål 1234-24" in appeal.text_sv and "case 1234-24" in appeal.text_en


def test_an_implementing_pilot_waits_for_its_next_year(implementing):
    [year] = [w for w in waits(implementing) if w.kind == "timer"]

    assert year.text_sv.startswith("genomförandeår 2 börjar") and year.text_en.startswith("implementation year 2")
    assert year.until == implementing.state.implementation_year_started_at + implementing.template.year_length


def test_a_paused_pilot_says_so_first(pilot):
    pilot.record([PilotPaused(event_id=pilot.new_id(), occurred_at=pilot.now, reason="reläet byts", by="p-ops")])

    first = waits(pilot)[0]

    assert first.kind == "paused" and "reläet byts" in first.text_sv and "p-ops" in first.text_en


def test_a_step_that_failed_for_good_waits_for_a_retry_until_it_is_retried(pilot):
    step = "assignment mail: self_assessment@F → p-forvaltningschef"
    pilot.record([StepFailed(event_id=pilot.new_id(), occurred_at=pilot.now, step=step, error="UnknownRecipient")])

    [failed] = [w for w in waits(pilot) if w.kind == "failed_step"]
    assert step in failed.text_sv and "leda retry" in failed.text_en and "UnknownRecipient" in failed.text_en

    pilot.record(
        [FailedStepRetried(event_id=pilot.new_id(), occurred_at=pilot.now, steps=[step], reason="rättad", by="p-ops")]
    )
    assert not [w for w in waits(pilot) if w.kind == "failed_step"]


def test_a_completed_pilot_waits_for_nothing(walked_pilot):
    done = walked_pilot(LFR_SKOLA)

    [end] = waiting_for(done.template, done.state)
    assert end.kind == "ended"
    assert end.text_sv.startswith("ingenting: piloten är klar sedan") and end.text_en.startswith("nothing:")
