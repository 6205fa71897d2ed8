"""Calendar feeds as a calendar client reads them: RFC 5545 that a maintained iCalendar library parses, an entry per
open deadline and per coming nämnd meeting that concerns the subscriber, stable UIDs so a moved deadline changes its
entry in place, and a secret address that renewing revokes.

Over the HTTP API, against a worker on the time-skipping server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from icalendar import Calendar
from temporalio.testing import WorkflowEnvironment

from access import issue_token
from domain.calendar import SchoolCalendar
from pilots import start_pilot
from settings import Settings
from tests.over_the_api import open_task
from tests.people import bearer

CHEF, REKTOR, LEAD = "p-1861-forvaltningschef", "p-1861-rektor", "p-1861-programledare"
TASK = "self_assessment@F"


@pytest.fixture
def api(skipping_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return skipping_api


async def subscribe(api: httpx.AsyncClient, headers: dict[str, str]) -> str:
    renewed = await api.post("/api/v1/me/calendar-feed", headers=headers)
    assert renewed.status_code == 201, renewed.text
    url = renewed.json()["url"]
    assert url.endswith(".ics") and "/calendar/leda_cal_" in url
    return urlsplit(url).path


async def events_of(api: httpx.AsyncClient, path: str) -> dict[str, dict]:
    """The feed's events by UID, as the icalendar library parses the feed."""
    response = await api.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert calendar["version"] == "2.0"
    events = calendar.walk("VEVENT")
    uids = [str(e["uid"]) for e in events]
    assert len(uids) == len(set(uids)), "a UID twice: a client would show the entry twice"
    return {
        str(e["uid"]): {
            "summary": str(e["summary"]),
            "start": e.decoded("dtstart"),
            "end": e.decoded("dtend"),
            "sequence": int(e.get("sequence", 0)),
            "url": str(e.get("url", "")),
        }
        for e in events
    }


def of_pilot(events: dict[str, dict], workflow_id: str) -> dict[str, dict]:
    """The entries of one pilot (the session's database holds other tests' pilots of the same people)."""
    return {uid: e for uid, e in events.items() if f"/pilots/{workflow_id}" in e["url"]}


async def test_a_calendar_feed_holds_the_deadlines_and_meetings_and_follows_a_moved_deadline_in_place(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool, time_skipping_env: WorkflowEnvironment, settings: Settings
) -> None:
    meetings = [date.today() + timedelta(days=d) for d in (30, 60)] + [date.today() - timedelta(days=30)]
    workflow_id = await start_pilot(
        time_skipping_env.client,
        db_pool,
        programme=f"cal-{uuid.uuid4().hex[:8]}",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=settings.task_queue,
        calendar=SchoolCalendar(meeting_dates=meetings),
    )
    chef = bearer(await issue_token(db_pool, CHEF, "participant"))
    rektor = bearer(await issue_token(db_pool, REKTOR, "participant"))
    lead = bearer(await issue_token(db_pool, LEAD, "programme_lead"))
    task = await open_task(api, chef, workflow_id, TASK)
    path = await subscribe(api, chef)

    events = of_pilot(await events_of(api, path), workflow_id)

    [deadline] = [
        e for e in events.values() if e["summary"].startswith("Sista dag") and "Självskattning" in e["summary"]
    ]
    assert deadline["end"] == datetime.fromisoformat(task["due_at"]).replace(microsecond=0)  # iCalendar keeps seconds
    meeting_days = sorted(e["start"] for e in events.values() if "sammanträder" in e["summary"])
    assert meeting_days == sorted(meetings[:2])  # the coming ones only, whole days
    # The rektor's calendar has their own deadlines, and no nämnd meetings: those concern the nämnd's people.
    rektors = of_pilot(await events_of(api, await subscribe(api, rektor)), workflow_id)
    assert rektors and not any("sammanträder" in e["summary"] for e in rektors.values())

    # The lead moves the deadline: the same entry (UID) moves, with a higher SEQUENCE; none is added.
    uid = next(u for u, e in events.items() if e is deadline)
    new_due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=70)
    steer = {"action": "extend", "reason": "sjukskrivning", "due_at": new_due.isoformat()}
    moved = await api.post(f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/steer", json=steer, headers=lead)
    assert moved.status_code == 200, moved.text
    after = of_pilot(await events_of(api, path), workflow_id)
    assert after[uid]["end"] == new_due and after[uid]["sequence"] > deadline["sequence"]
    assert set(after) == set(events)

    # Renewing the address revokes the old one; an address nobody was given opens nothing.
    renewed = await subscribe(api, chef)
    assert (await api.get(path)).status_code == 404
    assert (await api.get(renewed)).status_code == 200
    assert (await api.get(f"/calendar/leda_cal_{uuid.uuid4().hex}.ics")).status_code == 404
