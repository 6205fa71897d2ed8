"""Steering open tasks: who may move them, where to, and what is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.events import TaskDeadlineExtended, TaskReassigned
from domain.refusals import TaskRejected
from domain.roles import Role
from domain.steering import SteerTask, check_steering, steering_events


def steer(pilot, **fields):
    request = SteerTask(**{"task_key": "self_assessment@F", "reason": "skäl", **fields})
    return pilot.record(steering_events(pilot.state, request, now=pilot.now, new_id=pilot.new_id))


def participant(pilot, role: Role) -> str:
    return pilot.state.participants[role][0]


def test_a_delegation_records_who_holds_the_task_for_whom(pilot):
    owner = participant(pilot, Role.FORVALTNINGSCHEF)
    acting = participant(pilot, Role.ANALYTIKER)

    [event] = steer(pilot, actor_id=owner, action="delegate", to_participant=acting)

    assert isinstance(event, TaskReassigned) and event.kind == "delegate" and event.by == owner
    task = pilot.state.tasks["self_assessment@F"]
    assert (task.assignee_id, task.delegated_from) == (acting, owner)


def test_returning_gives_the_task_back_to_its_owner_and_ends_the_delegation(pilot):
    owner = participant(pilot, Role.FORVALTNINGSCHEF)
    acting = participant(pilot, Role.ANALYTIKER)
    steer(pilot, actor_id=owner, action="delegate", to_participant=acting)

    [event] = steer(pilot, actor_id=acting, action="return")

    assert (event.from_participant, event.to_participant) == (acting, owner)
    task = pilot.state.tasks["self_assessment@F"]
    assert (task.assignee_id, task.delegated_from) == (owner, None)


def test_an_extension_starts_a_new_round_of_reminders(pilot):
    task = pilot.state.tasks["self_assessment@F"]
    task.reminders_sent, task.escalated = 2, True
    assert task.due_at is not None
    new_due = task.due_at + timedelta(days=14)

    [event] = steer(pilot, actor_id=participant(pilot, Role.PROGRAMLEDARE), action="extend", due_at=new_due)

    assert isinstance(event, TaskDeadlineExtended) and event.previous_due_at == task.due_at
    extended = pilot.state.tasks["self_assessment@F"]
    assert (extended.due_at, extended.reminders_sent, extended.escalated) == (new_due, 0, False)


@pytest.mark.parametrize(
    ("actor_role", "fields", "code"),
    [
        (Role.REKTOR, {"action": "delegate", "to_participant": "p-analytiker"}, "not_allowed"),
        (Role.FORVALTNINGSCHEF, {"action": "reassign", "to_participant": "p-analytiker"}, "not_allowed"),
        (Role.PROGRAMLEDARE, {"action": "extend", "due_at": None}, "invalid_payload"),
        (Role.PROGRAMLEDARE, {"action": "return"}, "not_delegated"),
        (Role.PROGRAMLEDARE, {"action": "reassign", "to_participant": "p-unknown"}, "invalid_payload"),
        (
            Role.PROGRAMLEDARE,
            {"action": "reassign", "to_participant": "p-analytiker", "reason": " "},
            "reason_required",
        ),
    ],
)
def test_steering_refusals_name_the_reason(pilot, actor_role, fields, code):
    request = SteerTask(
        **{"task_key": "self_assessment@F", "reason": "skäl", "actor_id": participant(pilot, actor_role), **fields}
    )
    with pytest.raises(TaskRejected) as refused:
        check_steering(pilot.state, request, now=pilot.now)
    assert refused.value.code == code


def test_an_extension_to_an_earlier_deadline_is_refused(pilot):
    task = pilot.state.tasks["self_assessment@F"]
    assert task.due_at is not None
    request = SteerTask(
        task_key=task.key,
        actor_id=participant(pilot, Role.PROGRAMLEDARE),
        action="extend",
        due_at=task.due_at - timedelta(days=1),
        reason="skäl",
    )
    with pytest.raises(TaskRejected, match="later than the current one"):
        check_steering(pilot.state, request, now=pilot.now)
