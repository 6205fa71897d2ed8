"""Changing a running pilot's roster: who holds a role from now on.

People change jobs while a pilot runs for years: a new rektor comes, a head of administration leaves, a
participant is erased from the directory. Tasks are assigned by role, to the role's first participant, when they
open; so the roster decides who gets every task still to come. A change names the role, who joins it, who leaves
it, or both (a replacement: the newcomer takes the leaver's place and their open tasks), and a reason. It is one
`RosterChanged` event, with a `TaskReassigned` for each open task that moves; ids only, like every event. In a
replacement, the leaver's own open tasks go to the newcomer, a task they held for someone else goes back to that
someone, and a task they had delegated stays with its delegate, who now acts for the newcomer.

Whether the newcomer is in the municipality's directory, with that role, is checked at the edge
(`pilots.change_roster`): the workflow cannot read the directory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from domain.events import Event, ReassignmentKind, RosterChanged, TaskReassigned
from domain.refusals import TaskRejected, check_not_held, check_recordable
from domain.roles import Role
from domain.state import MunicipalityState


class ChangeRoster(BaseModel):
    role: Role
    joining: str | None = Field(default=None, min_length=1, max_length=200, description="participant id")
    leaving: str | None = Field(default=None, min_length=1, max_length=200, description="participant id")
    reason: str = Field(min_length=1, max_length=1000)
    actor_id: str = Field(min_length=1)
    joining_manager: str | None = Field(
        default=None, min_length=1, max_length=200, description="the newcomer's line manager, from the directory"
    )

    @model_validator(mode="after")
    def _someone_moves(self) -> ChangeRoster:
        if self.joining is None and self.leaving is None:
            raise ValueError("joining, leaving: name who joins the role, who leaves it, or both")
        if self.joining == self.leaving:
            raise ValueError("joining: is the one leaving; name someone else")
        return self


def check_roster_change(state: MunicipalityState, request: ChangeRoster) -> None:
    """Nothing if `request` may be carried out; else TaskRejected naming what is wrong."""
    check_not_held(state)
    if request.actor_id not in state.participants.get(Role.PROGRAMLEDARE, []):
        raise TaskRejected("not_allowed", "only the programme lead changes the roster")
    if not request.reason.strip():
        raise TaskRejected("reason_required", "reason: say why the roster changes")
    check_recordable({"reason": request.reason})
    holders = state.participants.get(request.role, [])
    role = request.role.value
    if request.joining is not None and request.joining in holders:
        raise TaskRejected("invalid_payload", f"joining: {request.joining} already holds the role {role}")
    if request.leaving is None:
        return
    if request.leaving not in holders:
        raise TaskRejected("invalid_payload", f"leaving: {request.leaving} does not hold the role {role}")
    if request.joining is None:
        if request.role is Role.PROGRAMLEDARE and len(holders) == 1:
            raise TaskRejected("invalid_payload", "leaving: a pilot keeps a programme lead; name who joins instead")
        held = sorted(t.key for t in state.open_tasks() if request.leaving in (t.assignee_id, t.delegated_from))
        if held and not _holds_elsewhere(state, request.leaving, request.role):
            raise TaskRejected(
                "invalid_payload",
                f"leaving: {request.leaving} holds open tasks ({', '.join(held)}); name who joins in their place, "
                "or reassign the tasks first",
            )


def roster_events(
    state: MunicipalityState, request: ChangeRoster, *, now: datetime, new_id: Callable[[], UUID]
) -> list[Event]:
    """The events of a checked roster change: the change, then each open task that moves to the newcomer."""
    check_roster_change(state, request)
    events: list[Event] = [
        RosterChanged(
            event_id=new_id(),
            occurred_at=now,
            role=request.role,
            joining=request.joining,
            leaving=request.leaving,
            reason=request.reason,
            by=request.actor_id,
            joining_manager=request.joining_manager,
        )
    ]
    if request.leaving is None or request.joining is None:
        return events
    leaving, joining = request.leaving, request.joining

    def moved(task_key: str, from_: str, to: str, kind: ReassignmentKind) -> TaskReassigned:
        return TaskReassigned(
            event_id=new_id(),
            occurred_at=now,
            task_key=task_key,
            from_participant=from_,
            to_participant=to,
            kind=kind,
            reason=request.reason,
            by=request.actor_id,
        )

    for task in sorted(state.open_tasks(), key=lambda t: t.key):
        if task.assignee_id == leaving and task.delegated_from is None:
            events.append(moved(task.key, leaving, joining, "reassign"))  # the leaver's own: the newcomer's now
        elif task.assignee_id == leaving:
            assert task.delegated_from is not None
            events.append(moved(task.key, leaving, task.delegated_from, "return"))  # back to whom they acted for
        elif task.delegated_from == leaving:
            events.append(moved(task.key, joining, task.assignee_id, "delegate"))  # its delegate acts for the newcomer
    return events


def moved_tasks(events: list[Event]) -> list[str]:
    """The tasks a roster change moved, whose new holder is told and reminded from now on."""
    return [e.task_key for e in events if isinstance(e, TaskReassigned)]


def _holds_elsewhere(state: MunicipalityState, participant_id: str, role: Role) -> bool:
    """Whether the participant keeps another role in the pilot, and with it a reason to hold tasks."""
    return any(participant_id in ids for other, ids in state.participants.items() if other is not role)
