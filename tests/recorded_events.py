"""A domain event as the event store takes it, for tests that write a pilot's record straight to the store."""

from __future__ import annotations

from domain.events import DirectoryEvent, Event, event_record
from eventstore import NewEvent


def recorded(event: Event | DirectoryEvent) -> NewEvent:
    event_type, schema_version, data = event_record(event)
    return NewEvent(event_id=event.event_id, event_type=event_type, schema_version=schema_version, data=data)
