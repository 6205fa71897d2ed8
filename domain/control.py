"""What operations and programme leads may do to a whole pilot: pause, resume, withdraw, retry what failed.

Each is a decision on the record (who and why), checked here against the pilot's state before the workflow
acts on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.events import (
    Event,
    FailedStepRetried,
    PilotPaused,
    PilotResumed,
    PilotWithdrawn,
    TaskClosed,
)
from domain.refusals import IdSource, TaskRejected, check_recordable
from domain.state import MunicipalityState

ControlAction = Literal["pause", "resume", "withdraw", "retry"]


class ControlPilot(BaseModel):
    """An operator's (or the programme lead's) step on a whole pilot, with the reason kept on the record."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    action: ControlAction
    actor_id: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=1000, description="why; kept in the pilot's record")


def check_control(state: MunicipalityState, request: ControlPilot, *, failed_steps: list[str]) -> None:
    """TaskRejected naming why `request` cannot be carried out now; `failed_steps`: what waits for a retry."""
    if state.ended:
        raise TaskRejected("pilot_ended", "the pilot has ended (completed, withdrawn or terminated)")
    check_recordable(request.model_dump(mode="json"))
    match request.action:
        case "pause" if state.paused is not None:
            since = f"{state.paused.occurred_at:%Y-%m-%d %H:%M}"
            raise TaskRejected("already_paused", f"the pilot is already paused since {since}")
        case "resume" if state.paused is None:
            raise TaskRejected("not_paused", "the pilot is not paused; nothing to resume")
        case "retry" if not failed_steps:
            raise TaskRejected("nothing_failed", "no step of the pilot has failed; nothing to retry")


def control_events(
    state: MunicipalityState,
    request: ControlPilot,
    *,
    failed_steps: list[str],
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    """The events that record `request` (checked first)."""
    check_control(state, request, failed_steps=failed_steps)
    by, reason = request.actor_id, request.reason
    match request.action:
        case "pause":
            return [PilotPaused(event_id=new_id(), occurred_at=now, reason=reason, by=by)]
        case "resume":
            return [PilotResumed(event_id=new_id(), occurred_at=now, reason=reason, by=by)]
        case "retry":
            return [FailedStepRetried(event_id=new_id(), occurred_at=now, steps=failed_steps, reason=reason, by=by)]
        case "withdraw":
            closing = f"kommunen har lämnat programmet / the municipality withdrew: {reason}"
            return [
                PilotWithdrawn(event_id=new_id(), occurred_at=now, reason=reason, by=by),
                *(
                    TaskClosed(event_id=new_id(), occurred_at=now, task_key=task.key, reason=closing)
                    for task in state.open_tasks()
                ),
            ]
