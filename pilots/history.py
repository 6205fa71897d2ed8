"""A pilot's whole history for operations: the domain record (who did what and why) merged with what Temporal
did (every run's timers, activities, Updates and continue-as-new), on one time line.

The domain record comes from PostgreSQL and is permanent; Temporal's history is kept for the namespace's
retention period, so for an old pilot only the domain record may be left.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError

from eventstore import EventStore
from pilots.timeline import timeline

# Workflow-task bookkeeping says only that the worker ran; it would bury what happened.
_NOISE = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
}


class HistoryEntry(BaseModel):
    """One line of a pilot's history, from either source."""

    at: datetime
    source: Literal["domain", "temporal"]
    workflow_id: str
    run_id: str | None
    sequence: int  # the stream version (domain) or the event id within its run (temporal)
    kind: str
    actor: str
    summary: str


CSV_COLUMNS = tuple(HistoryEntry.model_fields)


async def pilot_history(
    store: EventStore, client: Client | None, workflow_id: str, *, since: datetime | None = None
) -> tuple[list[HistoryEntry], str | None]:
    """Both records of one pilot, oldest first; and a note when Temporal's part could not be read."""
    entries = [
        HistoryEntry(
            at=e.recorded_at,
            source="domain",
            workflow_id=e.stream_id,
            run_id=e.run_id,
            sequence=e.version,
            kind=e.event_type,
            actor=e.actor,
            summary=e.summary,
        )
        for e in await timeline(store, workflow_id)
    ]
    note = None
    if client is not None:
        try:
            entries += await temporal_entries(client, workflow_id)
        except RPCError as error:
            note = f"Temporal's history of {workflow_id} could not be read ({error.message}); domain record only"
    else:
        note = "Temporal is not reachable; domain record only"
    if since is not None:
        entries = [e for e in entries if e.at >= since]
    entries.sort(key=lambda e: (e.at, e.source, e.sequence))
    return entries, note


async def temporal_entries(client: Client, workflow_id: str) -> list[HistoryEntry]:
    """Every run of the workflow (continue-as-new included), each event as one entry."""
    runs = [execution.run_id async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    entries: list[HistoryEntry] = []
    for run_id in runs:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        entries += [
            HistoryEntry(
                at=event.event_time.ToDatetime(tzinfo=UTC),
                source="temporal",
                workflow_id=workflow_id,
                run_id=run_id,
                sequence=event.event_id,
                kind=EventType.Name(event.event_type).removeprefix("EVENT_TYPE_"),
                actor=event.principal.name if event.HasField("principal") and event.principal.name else "",
                summary=describe_temporal_event(event),
            )
            for event in history.events
            if event.event_type not in _NOISE
        ]
    return entries


def describe_temporal_event(event: HistoryEvent) -> str:
    """What the event means in a few words: the timer's or activity's summary, the Update's name, the reason."""
    summary = _text(event.user_metadata.summary.data) if event.HasField("user_metadata") else ""
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activity = event.activity_task_scheduled_event_attributes.activity_type.name
        return f"{activity}: {summary}" if summary else activity
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        return event.activity_task_failed_event_attributes.failure.message
    if kind == EventType.EVENT_TYPE_TIMER_STARTED:
        seconds = event.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()
        return f"{summary or 'timer'} (om {seconds / 86400:.1f} dygn / in {seconds / 86400:.1f} days)"
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        return event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        return event.workflow_execution_signaled_event_attributes.signal_name
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        return event.workflow_execution_terminated_event_attributes.reason
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return f"ny körning / new run {event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id}"
    if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        return event.workflow_execution_failed_event_attributes.failure.message
    if kind == EventType.EVENT_TYPE_MARKER_RECORDED:
        return event.marker_recorded_event_attributes.marker_name
    return summary


def _text(data: bytes) -> str:
    """A summary is a JSON-encoded string payload."""
    if not data:
        return ""
    try:
        value = json.loads(data)
    except ValueError:
        return data.decode(errors="replace")
    return value if isinstance(value, str) else str(value)


def history_csv(entries: list[HistoryEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow(entry.model_dump(mode="json"))
    return out.getvalue()
