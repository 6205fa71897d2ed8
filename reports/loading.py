"""Reading a pilot's state for a report: the same fold the workflow uses, over the stored events."""

from __future__ import annotations

from pathlib import Path

from domain.events import event_of
from domain.state import MunicipalityState, fold
from eventstore import EventStore


async def load_pilot_state(store: EventStore, workflow_id: str) -> MunicipalityState:
    """The pilot's state folded from its stream (an empty state, version 0, when the stream has no events)."""
    stored = await store.read_stream(workflow_id)
    return fold(map(event_of, stored))


def write_report(path: Path, html: str) -> None:
    """Write a rendered report, creating its directory (blocking: call it in a thread from async code)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
