"""Calendar feeds (iCalendar, RFC 5545): a participant's or lead's deadlines and nämnd meetings, at a secret address
their calendar (Outlook, Google, Apple) subscribes to. `POST /api/v1/me/calendar-feed` gives a new address and
revokes the one before; the web inbox offers the same. What the feed holds is `pilots.calendar`.
"""

# No `from __future__ import annotations`: FastAPI reads the route signatures, whose `Caller` is local.
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from icalendar import Calendar, Event
from pydantic import BaseModel, Field

from access import Identity
from access.calendar_feeds import calendar_feed_holder, calendar_feed_url, renew_calendar_feed
from api.callers import API_PREFIX, ApiServices
from api.problems import PROBLEM_RESPONSES, Problem
from directory import Participant, get_participant
from eventstore import EventStore
from pilots.calendar import CalendarEntry, calendar_of

CALENDAR_MEDIA_TYPE = "text/calendar"
REFRESH = timedelta(hours=1)
"""How often a subscribing calendar is asked to fetch the feed again."""


class CalendarFeed(BaseModel):
    url: str = Field(description="the feed's secret address, to subscribe to; the one given before no longer works")


def icalendar_of(participant: Participant, entries: list[CalendarEntry], *, now: datetime) -> bytes:
    """The entries as one VCALENDAR, each a VEVENT with its stable UID."""
    calendar = Calendar()
    calendar.add("prodid", "-//Leda för resultat//Leda//SV")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Leda – {participant.display_name}")
    calendar.add("x-wr-timezone", "Europe/Stockholm")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # the same, for Outlook
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", now)
        event.add("sequence", entry.sequence)
        event.add("summary", entry.summary)
        event.add("description", entry.description)
        event.add("dtstart", entry.starts)
        event.add("dtend", entry.ends)
        if entry.url:
            event.add("url", entry.url)
        calendar.add_component(event)
    return calendar.to_ical()


def calendar_router(api: ApiServices, *, web_base_url: str) -> APIRouter:
    """The feed at its secret address, and the route that gives a new address."""
    Caller = Annotated[Identity, Depends(api.caller)]
    pool, records, inbox = api.pool, api.records, api.inbox
    store = EventStore(pool)
    router = APIRouter(responses=PROBLEM_RESPONSES)

    @router.post(
        f"{API_PREFIX}/me/calendar-feed",
        status_code=201,
        summary="A new secret address of the caller's calendar feed (deadlines, nämnd meetings); the old one stops",
    )
    async def renew(identity: Caller) -> CalendarFeed:
        if await get_participant(pool, identity.participant_id) is None:
            raise Problem(404, "not_found", f"no participant {identity.participant_id} in the directory")
        return CalendarFeed(
            url=calendar_feed_url(web_base_url, await renew_calendar_feed(pool, identity.participant_id))
        )

    @router.get(
        "/calendar/{secret}.ics",
        summary="A calendar feed (iCalendar), at the secret address `POST /api/v1/me/calendar-feed` gave",
        response_class=Response,
        responses={200: {"content": {CALENDAR_MEDIA_TYPE: {}}, "description": "the feed"}},
    )
    async def feed(secret: Annotated[str, Path(max_length=200)]) -> Response:
        holder = await calendar_feed_holder(pool, secret)
        participant = await get_participant(pool, holder) if holder is not None else None
        if participant is None:
            raise Problem(404, "not_found", "no calendar feed at this address (it may have been renewed)")
        entries = await calendar_of(participant, inbox=inbox, records=records, store=store, web_base_url=web_base_url)
        body = icalendar_of(participant, entries, now=datetime.now(UTC))
        headers = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}
        return Response(body, media_type=f"{CALENDAR_MEDIA_TYPE}; charset=utf-8", headers=headers)

    return router
