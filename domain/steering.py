"""Steering open tasks: reassign, delegate (and take back), an out-of-office stand-in, a new deadline.

Every step needs a reason and becomes an event naming who did it, so the audit record says why a task moved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.events import Event, TaskDeadlineExtended, TaskReassigned
from domain.moments import Deadline
from domain.refusals import TaskRejected, check_not_held, check_recordable
from domain.roles import Role
from domain.state import MunicipalityState, TaskState, TaskStatus

SteeringAction = Literal["reassign", "delegate", "stand_in", "return", "extend"]


class SteerTask(BaseModel):
    task_key: str
    actor_id: str = Field(min_length=1)
    action: SteeringAction
    reason: str = Field(min_length=1, max_length=1000)
    to_participant: str | None = None
    due_at: Deadline | None = Field(
        default=None, description="for extend: the new deadline; a bare date is 16:00 Swedish time that day"
    )


def check_steering(state: MunicipalityState, request: SteerTask, *, now: datetime) -> TaskState:
    """The task if `request` may be carried out; else TaskRejected naming what is wrong."""
    check_not_held(state)
    task = state.tasks.get(request.task_key)
    if task is None:
        raise TaskRejected("unknown_task", f"task {request.task_key!r} is not open in this pilot")
    if task.status is not TaskStatus.OPEN:
        raise TaskRejected("not_open", f"task {request.task_key!r} is {task.status.value}; only open tasks are steered")
    if not request.reason.strip():
        raise TaskRejected("reason_required", "reason: say why the task is moved or given more time")
    check_recordable({"reason": request.reason})
    lead = request.actor_id in state.participants.get(Role.PROGRAMLEDARE, [])
    holder = request.actor_id in (task.assignee_id, task.delegated_from)
    match request.action:
        case "reassign" | "extend":
            if not lead:
                raise TaskRejected("not_allowed", f"only the programme lead may {request.action} a task")
        case "delegate" | "stand_in":
            if not (lead or request.actor_id == task.assignee_id):
                raise TaskRejected("not_allowed", f"only the assignee or the programme lead may {request.action}")
        case "return":
            if task.delegated_from is None:
                raise TaskRejected("not_delegated", f"task {request.task_key!r} is not delegated; nothing to return")
            if not (lead or holder):
                raise TaskRejected("not_allowed", "only the delegate, the owner or the programme lead may return it")
    if request.action == "extend":
        if request.due_at is None or request.due_at.tzinfo is None:
            raise TaskRejected("invalid_payload", "due_at: give the new deadline with a time zone")
        if request.due_at <= now or (task.due_at is not None and request.due_at <= task.due_at):
            raise TaskRejected("invalid_payload", "due_at: a new deadline must be later than the current one and now")
    elif request.action != "return":
        target = request.to_participant
        known = {pid for ids in state.participants.values() for pid in ids}
        if target is None or target not in known:
            raise TaskRejected("invalid_payload", f"to_participant: {target!r} is not a participant of this pilot")
        if target == task.assignee_id:
            raise TaskRejected("invalid_payload", f"to_participant: {target} already holds the task")
    return task


def steering_events(
    state: MunicipalityState, request: SteerTask, *, now: datetime, new_id: Callable[[], UUID]
) -> list[Event]:
    """The event that records a checked steering request."""
    task = check_steering(state, request, now=now)
    if request.action == "extend":
        assert request.due_at is not None
        return [
            TaskDeadlineExtended(
                event_id=new_id(),
                occurred_at=now,
                task_key=task.key,
                due_at=request.due_at,
                previous_due_at=task.due_at,
                reason=request.reason,
                by=request.actor_id,
            )
        ]
    to = task.delegated_from if request.action == "return" else request.to_participant
    assert to is not None
    return [
        TaskReassigned(
            event_id=new_id(),
            occurred_at=now,
            task_key=task.key,
            from_participant=task.assignee_id,
            to_participant=to,
            kind=request.action,
            reason=request.reason,
            by=request.actor_id,
        )
    ]
