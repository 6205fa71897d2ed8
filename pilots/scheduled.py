"""Pilots whose start is scheduled (a cohort's staggered starts): Temporal holds them, their record does not yet.

A pilot started with a delay is a workflow execution that runs its first step when the delay ends; until then
nothing of it is on record, so the board and the listings, which read the record, would not know it. Its workflow's
input does: who is on its roster, and so who leads it (the same definition as for a running pilot), and the template.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio.client import Client
from temporalio.service import RPCError

from domain.roles import Role
from eventstore import EventStore
from pilots.client import pilot_query
from pilots.errors import PilotError
from workflows.messages import StartPilot


class ScheduledPilot(BaseModel):
    """A pilot that starts later: what its start says, and when it starts."""

    workflow_id: str
    programme: str
    kommunkod: str
    municipality_name: str
    template_key: str
    starts_at: datetime
    leads: list[str] = Field(description="participant ids of its programme leads, by the roster it starts with")


async def scheduled_pilots(
    client: Client, store: EventStore, *, programme: str | None = None, led_by: str | None = None
) -> list[ScheduledPilot]:
    """Every pilot whose workflow waits for its start: running in Temporal, still in phase 'start', nothing recorded;
    with `led_by`, those the roster they start with gives that participant to lead."""
    scheduled = []
    try:
        async for execution in client.list_workflows(pilot_query(phase="start", programme=programme)):
            if await store.stream_version(execution.id) > 0:
                continue  # it has begun (a pilot records its start in its first step)
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            description = await handle.describe()
            async for event in handle.fetch_history_events():
                payloads = event.workflow_execution_started_event_attributes.input.payloads
                [start] = await client.data_converter.decode(payloads, [StartPilot])
                break
            else:
                continue
            leads = start.participants.get(Role.PROGRAMLEDARE, [])
            if led_by is not None and led_by not in leads:
                continue
            scheduled.append(
                ScheduledPilot(
                    workflow_id=execution.id,
                    programme=start.programme,
                    kommunkod=start.kommunkod,
                    municipality_name=start.municipality_name,
                    template_key=start.template_key,
                    starts_at=description.execution_time or description.start_time,
                    leads=leads,
                )
            )
    except RPCError as error:
        raise PilotError(f"Temporal did not list the scheduled pilots: {error.message}", "temporal_error") from None
    return sorted(scheduled, key=lambda s: (s.starts_at, s.municipality_name))
