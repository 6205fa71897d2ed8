"""The Temporal schedule that starts DailyDigestWorkflow every day at a set local time.

Every worker makes sure the schedule exists when it starts (``ensure_digest_schedule``): the first creates it,
the others find it and update it only if the configured time, time zone or task queue changed. A pause set by
operations (in the Temporal UI, or ``temporal schedule toggle --pause``) is kept across those updates.
"""

from __future__ import annotations

import dataclasses
from datetime import time, timedelta

import structlog
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from workflows.daily_digest import DailyDigestWorkflow

__all__ = ["DIGEST_SCHEDULE_ID", "daily_digest_schedule", "ensure_digest_schedule"]

DIGEST_SCHEDULE_ID = "leda-daily-digest"
"""Also the prefix of each run's workflow id: Temporal appends the scheduled time."""

_log = structlog.get_logger(__name__)


def daily_digest_schedule(*, task_queue: str, at: time, time_zone: str) -> Schedule:
    """The schedule as configured: DailyDigestWorkflow on ``task_queue`` every day at ``at`` in ``time_zone``."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DailyDigestWorkflow.run,
            id=DIGEST_SCHEDULE_ID,
            task_queue=task_queue,
            # A run that cannot finish (no worker, say) must not skip tomorrow's under the overlap policy.
            execution_timeout=timedelta(hours=12),
            static_summary="Leda: daily digest mail",
        ),
        spec=ScheduleSpec(
            # Tuples, as the server describes them, so a described schedule compares equal to this one.
            calendars=[
                ScheduleCalendarSpec(
                    hour=(ScheduleRange(at.hour),),
                    minute=(ScheduleRange(at.minute),),
                    second=(ScheduleRange(at.second),),
                    comment="Leda: daily digest",
                )
            ],
            time_zone_name=time_zone,
        ),
        policy=SchedulePolicy(
            # Never two digests at once: a trigger during a slow run is dropped; the run sends everything.
            overlap=ScheduleOverlapPolicy.SKIP,
            # After an outage, a missed morning's digest still goes out the same day, but not days later.
            catchup_window=timedelta(hours=12),
        ),
    )


async def ensure_digest_schedule(client: Client, *, task_queue: str, at: time, time_zone: str) -> bool:
    """Create the digest schedule, or bring an existing one up to date; False if the server has no schedules.

    Safe when several workers start at once: all but one find the schedule already there, and an update
    happens only where it differs from the configuration.
    """
    wanted = daily_digest_schedule(task_queue=task_queue, at=at, time_zone=time_zone)
    try:
        await client.create_schedule(DIGEST_SCHEDULE_ID, wanted)
    except ScheduleAlreadyRunningError:
        pass
    except RPCError as error:
        if error.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        # The time-skipping test server implements no schedules; a real server always does.
        _log.warning("this Temporal server has no schedules: no daily digest is scheduled", schedule=DIGEST_SCHEDULE_ID)
        return False
    else:
        _log.info("digest schedule created", schedule=DIGEST_SCHEDULE_ID, at=at.isoformat(), time_zone=time_zone)
        return True

    def bring_up_to_date(update: ScheduleUpdateInput) -> ScheduleUpdate | None:
        current = update.description.schedule
        changed = _differences(current, wanted)
        if not changed:
            return None
        _log.info("digest schedule updated", schedule=DIGEST_SCHEDULE_ID, changed=changed)
        # The state holds a pause set by operations, and its note: keep them.
        return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=current.state))

    await client.get_schedule_handle(DIGEST_SCHEDULE_ID).update(bring_up_to_date)
    return True


def _differences(current: Schedule, wanted: Schedule) -> list[str]:
    """The names of what this configuration sets that the schedule on the server has otherwise."""
    changed = []
    if current.spec.calendars != wanted.spec.calendars or current.spec.time_zone_name != wanted.spec.time_zone_name:
        changed.append("time")
    action, wanted_action = current.action, wanted.action
    assert isinstance(wanted_action, ScheduleActionStartWorkflow)
    if not isinstance(action, ScheduleActionStartWorkflow) or (
        action.workflow,
        action.id,
        action.task_queue,
        action.execution_timeout,
    ) != (wanted_action.workflow, wanted_action.id, wanted_action.task_queue, wanted_action.execution_timeout):
        changed.append("action")
    if (current.policy.overlap, current.policy.catchup_window) != (wanted.policy.overlap, wanted.policy.catchup_window):
        changed.append("policy")
    return changed
