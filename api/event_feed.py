"""The event feed for other systems: a pilot's or a programme's domain events as CloudEvents (JSON format, version
1.0), paged by global position.

A consumer keeps a checkpoint: the `position` of the last event it has handled (the `Leda-Checkpoint` header says
it for each page). It asks for `?after=CHECKPOINT` and gets the events recorded after it, oldest first; an event
recorded later never lands behind a checkpoint already handed out (the event store serialises its appends), so a
consumer that follows the checkpoint misses nothing and sees nothing twice. The events name people by participant
id only, as the record does. Who may read a pilot's feed is who may read its history: its lead and operations.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose `Caller` is local.
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, TypeAdapter

from access import Identity
from api.callers import API_PREFIX, ApiServices
from api.problems import PROBLEM_RESPONSES, Problem, forbidden
from domain.pilot_ids import PROGRAMME_PATTERN
from eventstore import EventStore, StoredEvent

BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"
FEED_PAGE_MOST = 1000
EVENT_TYPE_PREFIX = "se.leda.pilot."


class CloudEvent(BaseModel):
    """One domain event in the CloudEvents 1.0 JSON format, with Leda's extension attributes."""

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="the event's id: the same every time it is read")
    source: str = Field(description="the pilot the event belongs to, as a URI reference: /leda/pilots/{workflow_id}")
    type: str = Field(description="se.leda.pilot. and the event's type, e.g. se.leda.pilot.TaskCompleted")
    time: datetime = Field(description="when it happened")
    subject: str | None = Field(default=None, description="the task it concerns, where it concerns one")
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any] = Field(description="the event as recorded (participant ids, never names or addresses)")
    position: int = Field(description="its global position in Leda's record: the consumer's checkpoint")
    streamversion: int = Field(description="its place in its pilot's own record, from 1")
    schemaversion: int = Field(description="the version of the event's shape (data), as recorded")


_BATCH = TypeAdapter(list[CloudEvent])


def cloud_event(stored: StoredEvent) -> CloudEvent:
    occurred = stored.data.get("occurred_at")
    task_key = stored.data.get("task_key")
    return CloudEvent(
        id=str(stored.event_id),
        source=f"/leda/pilots/{stored.stream_id}",
        type=EVENT_TYPE_PREFIX + stored.event_type,
        time=datetime.fromisoformat(occurred) if isinstance(occurred, str) else stored.recorded_at,
        subject=task_key if isinstance(task_key, str) else None,
        data=stored.data,
        position=stored.global_position,
        streamversion=stored.stream_version,
        schemaversion=stored.schema_version,
    )


LAST_POSITION = 2**63 - 1
"""The largest global position the log can hold (a PostgreSQL bigint): a checkpoint beyond it is no checkpoint."""


def event_feed_router(api: ApiServices) -> APIRouter:
    """The feeds of a pilot's and of a programme's events."""
    Caller = Annotated[Identity, Depends(api.caller)]
    access, records = api.access, api.records
    store = EventStore(api.pool)
    router = APIRouter(prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
    After = Annotated[
        int,
        Query(
            ge=0,
            le=LAST_POSITION,
            description="the consumer's checkpoint: the position of the last event it has",
        ),
    ]
    Limit = Annotated[int, Query(ge=1, le=FEED_PAGE_MOST, description="events on the page at most")]

    def page(events: list[StoredEvent], after: int, limit: int, path: str) -> Response:
        checkpoint = events[-1].global_position if events else after
        headers = {"Leda-Checkpoint": str(checkpoint)}
        if len(events) == limit:
            headers["Link"] = f'<{path}?after={checkpoint}&limit={limit}>; rel="next"'
        body = _BATCH.dump_json([cloud_event(e) for e in events], exclude_none=True)
        return Response(body, media_type=BATCH_MEDIA_TYPE, headers=headers)

    feed_description = (
        "CloudEvents 1.0 in the JSON batch format, oldest first. Keep the `position` of the last event handled (the "
        "`Leda-Checkpoint` header) and ask with `after=` it; a full page has a `Link` to the next."
    )

    @router.get(
        "/pilots/{workflow_id}/events",
        summary="A pilot's domain events as CloudEvents, after a checkpoint (the pilot's lead and operations)",
        description=feed_description,
        response_model=list[CloudEvent],
        responses={200: {"content": {BATCH_MEDIA_TYPE: {}}}},
    )
    async def pilot_events(workflow_id: str, identity: Caller, after: After = 0, limit: Limit = 100) -> Response:
        if not await access.may_read_history(identity, workflow_id):
            raise forbidden()
        if await store.stream_version(workflow_id) == 0:
            raise Problem(404, "not_found", f"no pilot {workflow_id} is on record")
        events = await store.read_streams([workflow_id], after, limit)
        return page(events, after, limit, f"{API_PREFIX}/pilots/{workflow_id}/events")

    @router.get(
        "/programmes/{programme}/events",
        summary="The domain events of a programme's pilots as CloudEvents, after a checkpoint (its leads, operations)",
        description=feed_description + " A lead gets the events of the programme's pilots they lead.",
        response_model=list[CloudEvent],
        responses={200: {"content": {BATCH_MEDIA_TYPE: {}}}},
    )
    async def programme_events(
        programme: Annotated[str, Path(pattern=PROGRAMME_PATTERN)],
        identity: Caller,
        after: After = 0,
        limit: Limit = 100,
    ) -> Response:
        pilots = await records.of_programme(programme)
        if not pilots:
            raise Problem(404, "not_found", f"no pilot of programme {programme} is on record")
        readable = [pilot for pilot in pilots if await access.may_read_history(identity, pilot)]
        if not readable:
            raise forbidden()
        events = await store.read_streams(readable, after, limit)
        return page(events, after, limit, f"{API_PREFIX}/programmes/{programme}/events")

    return router
