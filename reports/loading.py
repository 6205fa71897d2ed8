"""Reading a pilot's state for a report: the same fold the workflow uses, over the stored events."""

from __future__ import annotations

from domain.events import event_from_record
from domain.state import MunicipalityState, fold
from eventstore import EventStore


async def load_pilot_state(store: EventStore, workflow_id: str) -> MunicipalityState:
    """The pilot's state folded from its stream (an empty state, version 0, when the stream has no events)."""
    stored = await store.read_stream(workflow_id)
    return fold(event_from_record(e.event_type, e.event_id, e.schema_version, e.data) for e in stored)
