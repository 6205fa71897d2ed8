"""Operations' steps on a whole pilot: pause, resume, withdraw and retry, each checked and on the record."""

from __future__ import annotations

import pytest

from devstack import sample_payloads
from domain.control import ControlPilot, check_control, control_events
from domain.events import PilotPaused, PilotWithdrawn, TaskClosed
from domain.inspection import check_registration
from domain.refusals import TaskRejected
from domain.roles import Role
from domain.state import TaskStatus
from domain.steering import SteerTask, check_steering

OPERATOR = "p-1861-analytiker"


def control(pilot, action: str, *, failed_steps: list[str] | None = None) -> list:
    request = ControlPilot(action=action, actor_id=OPERATOR, reason=f"skäl för {action}")
    return pilot.record(
        control_events(pilot.state, request, failed_steps=failed_steps or [], now=pilot.now, new_id=pilot.new_id)
    )


def rejection(check) -> str:
    with pytest.raises(TaskRejected) as refused:
        check()
    return refused.value.code


def test_a_pause_is_recorded_with_the_operator_and_reason_and_a_resume_lifts_it(pilot):
    [paused] = control(pilot, "pause")
    assert isinstance(paused, PilotPaused) and (paused.by, paused.reason) == (OPERATOR, "skäl för pause")
    assert pilot.state.paused == paused

    control(pilot, "resume")
    assert pilot.state.paused is None


def test_a_paused_pilot_takes_no_answers_no_steering_and_no_inspection_decisions(pilot):
    control(pilot, "pause")
    lead = pilot.state.participants[Role.PROGRAMLEDARE][0]
    today = pilot.now.date()

    assert rejection(lambda: pilot.complete("self_assessment@F")) == "pilot_paused"
    steering = SteerTask(task_key="self_assessment@F", actor_id=lead, action="extend", reason="x", due_at=pilot.now)
    assert rejection(lambda: check_steering(pilot.state, steering, now=pilot.now)) == "pilot_paused"
    decision = sample_payloads.inspection_decision(today)
    assert rejection(lambda: check_registration(pilot.state, lead, decision, today=today)) == "pilot_paused"

    control(pilot, "resume")
    pilot.complete("self_assessment@F")
    assert pilot.state.tasks["self_assessment@F"].status is TaskStatus.COMPLETED


@pytest.mark.parametrize(
    ("setup", "action", "code"),
    [
        (["pause"], "pause", "already_paused"),
        ([], "resume", "not_paused"),
        ([], "retry", "nothing_failed"),
        (["withdraw"], "pause", "pilot_ended"),
        (["withdraw"], "withdraw", "pilot_ended"),
    ],
)
def test_a_step_that_does_not_fit_the_pilots_state_is_refused_with_the_reason(pilot, setup, action, code):
    for earlier in setup:
        control(pilot, earlier)
    request = ControlPilot(action=action, actor_id=OPERATOR, reason="skäl")
    assert rejection(lambda: check_control(pilot.state, request, failed_steps=[])) == code


def test_a_retry_names_the_steps_it_tries_again(pilot):
    [retried] = control(pilot, "retry", failed_steps=["assignment mail: self_assessment@F → p-x"])
    assert retried.steps == ["assignment mail: self_assessment@F → p-x"]


def test_a_withdrawal_closes_every_open_task_and_nothing_opens_after_it(pilot):
    open_before = {t.key for t in pilot.state.open_tasks()}
    assert open_before

    withdrawn, *closed = control(pilot, "withdraw")

    assert isinstance(withdrawn, PilotWithdrawn)
    assert all(isinstance(e, TaskClosed) and "withdrew" in e.reason for e in closed)
    assert {e.task_key for e in closed} == open_before
    assert pilot.state.ended and not pilot.state.open_tasks()
    assert pilot.advance() == []


def test_a_reason_is_required():
    with pytest.raises(ValueError, match="reason"):
        ControlPilot(action="pause", actor_id=OPERATOR, reason="   ")
