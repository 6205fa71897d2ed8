"""The event feed, read as another system reads it: CloudEvents that the CloudEvents SDK parses, paged by a checkpoint
the consumer keeps, the programme's feed holding its own pilots' events only, and no one outside the pilot reading it.

Over the HTTP API, against a worker on the time-skipping server.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import httpx
import pytest
from cloudevents.http import from_dict

from access import issue_token
from directory import list_participants
from eventstore import EventStore
from tests.people import bearer, programme_lead

BATCH = "application/cloudevents-batch+json"


@pytest.fixture
def api(skipping_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return skipping_api


async def started(api: httpx.AsyncClient, lead: dict[str, str], programme: str, kommunkod: str = "1861") -> str:
    response = await api.post("/api/v1/pilots", json={"programme": programme, "kommunkod": kommunkod}, headers=lead)
    assert response.status_code == 201, response.text
    return str(response.json()["workflow_id"])


async def settled(pool: asyncpg.Pool, workflow_id: str) -> int:
    """Until the pilot's record stands still for a moment (its Kolada pack gathered); its version then."""
    store, last, steady = EventStore(pool), -1, 0
    for _ in range(200):
        version = await store.stream_version(workflow_id)
        steady = steady + 1 if version == last and version > 0 else 0
        if steady >= 5:
            return version
        last = version
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never stood still")


async def read_feed(api: httpx.AsyncClient, url: str, headers: dict[str, str], limit: int) -> list[dict]:
    """Every event of the feed, page by page, as a consumer keeping its checkpoint reads it."""
    events, checkpoint = [], 0
    while True:
        page = await api.get(url, params={"after": checkpoint, "limit": limit}, headers=headers)
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith(BATCH)
        batch = page.json()
        assert len(batch) <= limit
        events += batch
        checkpoint = int(page.headers["leda-checkpoint"])
        if "link" not in page.headers:
            return events


async def test_a_pilots_feed_is_its_record_as_cloudevents_paged_by_the_consumers_checkpoint(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    programme = f"feed-{uuid.uuid4().hex[:8]}"
    _, lead = await programme_lead(db_pool, programme)
    workflow_id = await started(api, lead, programme)
    await settled(db_pool, workflow_id)

    events = await read_feed(api, f"/api/v1/pilots/{workflow_id}/events", lead, limit=4)

    recorded = await EventStore(db_pool).read_stream(workflow_id)
    assert [e["id"] for e in events] == [str(e.event_id) for e in recorded]
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    for event, stored in zip(events, recorded, strict=True):
        parsed = from_dict(event)  # what a consumer's CloudEvents SDK makes of it
        assert parsed["specversion"] == "1.0" and parsed["source"] == f"/leda/pilots/{workflow_id}"
        assert parsed["type"] == f"se.leda.pilot.{stored.event_type}" and parsed.data == stored.data
        assert event["streamversion"] == stored.stream_version
    assert any(e.get("subject") == "self_assessment@F" for e in events)

    # Nothing new after the last checkpoint: an empty page that keeps it.
    last = positions[-1]
    empty = await api.get(f"/api/v1/pilots/{workflow_id}/events", params={"after": last}, headers=lead)
    assert (empty.json(), empty.headers["leda-checkpoint"]) == ([], str(last))
    # A checkpoint past any position the log can hold is refused, naming the parameter (found by the API fuzz test).
    beyond = await api.get(f"/api/v1/pilots/{workflow_id}/events", params={"after": 2**63}, headers=lead)
    assert beyond.status_code == 422 and "after" in beyond.text

    # Ids only: no name or address of anyone in the directory is in the feed.
    text = json.dumps(events, ensure_ascii=False)
    for person in await list_participants(db_pool, "1861"):
        assert person.email not in text and person.display_name not in text


async def test_a_programmes_feed_holds_its_pilots_events_only_and_is_read_as_the_history_is(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    programme, other = f"feed-{uuid.uuid4().hex[:8]}", f"feed-{uuid.uuid4().hex[:8]}"
    _, lead = await programme_lead(db_pool, programme)
    _, other_lead = await programme_lead(db_pool, other)
    ours = [await started(api, lead, programme, code) for code in ("1861", "1864")]
    theirs = await started(api, other_lead, other)
    for workflow_id in (*ours, theirs):
        await settled(db_pool, workflow_id)

    events = await read_feed(api, f"/api/v1/programmes/{programme}/events", lead, limit=7)

    assert {e["source"] for e in events} == {f"/leda/pilots/{w}" for w in ours}
    store = EventStore(db_pool)
    assert len(events) == sum([await store.stream_version(w) for w in ours])
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)

    participant = bearer(await issue_token(db_pool, "p-1861-rektor", "participant"))
    for headers in (participant, other_lead):
        assert (await api.get(f"/api/v1/pilots/{ours[0]}/events", headers=headers)).status_code == 403
        assert (await api.get(f"/api/v1/programmes/{programme}/events", headers=headers)).status_code == 403
    unknown = await api.get(f"/api/v1/programmes/feed-{uuid.uuid4().hex[:8]}/events", headers=lead)
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    refused = await api.get(f"/api/v1/pilots/{ours[0]}/events", params={"limit": 0}, headers=lead)
    assert (refused.status_code, refused.json()["field"]) == (422, "limit")
