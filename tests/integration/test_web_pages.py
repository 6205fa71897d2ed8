"""The web pages over HTTP, against a real worker, PostgreSQL and SMTP server (the browser tests are in tests/e2e).

Each test signs in the way a participant does, by a mailed link and its page's button, and then uses the session
cookie.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.client import Client

from access import issue_sign_in_link, issue_token
from access.sign_in import SIGN_IN_REQUESTS, task_page
from api.app import create_app
from devstack import sample_payloads
from devstack.mail import MailCapture
from devstack.ports import free_port
from directory import Participant, upsert_participants
from domain.events import PilotStarted, TaskOpened, event_record
from domain.moments import SWEDISH_TIME as LOCAL_TIME
from domain.phases import Phase
from domain.roles import Role
from eventstore import EventStore, NewEvent
from pilots import PilotRecords, complete_task
from settings import Settings
from tests.people import programme_person
from tests.sign_in_links import follow_sign_in_link, link_page_form
from web.site import LINK_COOKIE, SESSION_COOKIE
from worker import mailer_for, running_worker

pytestmark = pytest.mark.devserver

LEAD = "p-1861-programledare"
HEAD = "p-1861-forvaltningschef"
RECTOR = "p-1861-rektor"
TASK = "self_assessment@F"
BASE = "http://leda.test"


class Site:
    """The app, and a browser-like client per visitor (each with a cookie jar of its own)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.visitors: list[httpx.AsyncClient] = []

    def visitor(self) -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE)
        self.visitors.append(client)
        return client


def site_app(client: Client, settings: Settings, db_pool: asyncpg.Pool) -> FastAPI:
    """The API and its web pages at BASE, mailing through the settings' SMTP server."""
    return create_app(
        pool=db_pool,
        client=client,
        task_queue=settings.task_queue,
        web_base_url=BASE,
        mailer=mailer_for(settings),
        mail_sender=settings.mail_from,
    )


@pytest_asyncio.fixture
async def web(dev_client: Client, settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[Site]:
    site = Site(site_app(dev_client, settings, db_pool))
    async with running_worker(dev_client, settings, db_pool):
        yield site
    for visitor in site.visitors:
        await visitor.aclose()


async def start_pilot(site: Site, db_pool: asyncpg.Pool) -> str:
    web = site.visitor()
    lead = {"Authorization": f"Bearer {await issue_token(db_pool, LEAD, 'programme_lead')}"}
    body = {"programme": f"web-{uuid.uuid4().hex[:8]}", "kommunkod": "1861", "template_key": "lfr-skola"}
    response = await web.post("/api/v1/pilots", json=body, headers=lead)
    assert response.status_code == 201, response.text
    workflow_id: str = response.json()["workflow_id"]
    for _ in range(200):
        status = await web.get(f"/api/v1/pilots/{workflow_id}/status", headers=lead)
        if any(t["key"] == TASK and t["status"] == "open" for t in status.json()["tasks"]):
            return workflow_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"{TASK} never opened in {workflow_id}")


async def signed_in(site: Site, db_pool: asyncpg.Pool, participant_id: str, path: str) -> httpx.AsyncClient:
    """A visitor who followed a mailed link to `path` as `participant_id`, and so holds a session."""
    visitor = site.visitor()
    token = await issue_sign_in_link(db_pool, participant_id)
    response = await follow_sign_in_link(visitor, f"{path}?token={token}")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == path  # the token is gone from the address
    assert visitor.cookies.get(SESSION_COOKIE)
    return visitor


async def completions(db_pool: asyncpg.Pool, workflow_id: str) -> list[dict[str, Any]]:
    """The answers recorded for TASK in the pilot."""
    events = await EventStore(db_pool).read_stream(workflow_id)
    return [e.data["payload"] for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == TASK]


def form_token(html: str) -> str:
    match = re.search(r'name="_form" value="([0-9a-f]{64})"', html)
    assert match, "the page has no form token"
    return match[1]


def answer_fields(answer: dict[str, object]) -> dict[str, str]:
    scores = answer["scores"]
    assert isinstance(scores, dict)
    return {f"scores[{indicator}]": str(score) for indicator, score in scores.items()}


async def test_a_mailed_link_signs_in_and_a_dead_one_asks_for_a_new_one(web: Site, db_pool: asyncpg.Pool) -> None:
    head = await signed_in(web, db_pool, HEAD, "/inbox")
    inbox = await head.get("/inbox")
    assert inbox.status_code == 200
    assert "Mina uppgifter" in inbox.text

    dead = await web.visitor().get("/inbox", params={"token": "not-a-token"})
    assert dead.status_code == 303
    assert dead.headers["location"].startswith("/sign-in?expired=1")
    anonymous = await web.visitor().get("/inbox")
    assert (anonymous.status_code, urlsplit(anonymous.headers["location"]).path) == (303, "/sign-in")
    # A sign-in link is no API token.
    token = await issue_sign_in_link(db_pool, HEAD)
    api = await web.visitor().get("/api/v1/me/inbox", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


async def test_an_expired_link_signs_no_one_in(web: Site, db_pool: asyncpg.Pool, owner_pool: asyncpg.Pool) -> None:
    token = await issue_sign_in_link(db_pool, HEAD, lifetime=timedelta(seconds=1))
    await owner_pool.execute(  # back-dated as the owner: the application's role cannot move a link's times
        "UPDATE sign_in_links SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' "
        "WHERE participant_id = $1 AND expires_at < now() + interval '1 minute'",
        HEAD,
    )
    response = await web.visitor().get("/inbox", params={"token": token})
    assert response.headers["location"].startswith("/sign-in?expired=1")


async def test_a_link_signs_in_once_and_only_by_its_button(web: Site, db_pool: asyncpg.Pool) -> None:
    token = await issue_sign_in_link(db_pool, HEAD)
    link = f"/inbox?token={token}"
    # A mail scanner fetches the link, twice: it sees the page with the button, and uses nothing up.
    for _ in range(2):
        scanner = web.visitor()
        shown = await scanner.get(link)
        assert shown.status_code == 200 and "Logga in" in shown.text
        assert not scanner.cookies.get(SESSION_COOKIE)
    assert shown.headers["cache-control"] == "no-store" and shown.headers["referrer-policy"] == "no-referrer"

    head = web.visitor()
    pressed = await follow_sign_in_link(head, link)
    assert (pressed.status_code, pressed.headers["location"]) == (303, "/inbox")
    assert (await head.get("/inbox")).status_code == 200
    assert not head.cookies.get(LINK_COOKIE)

    # Used: the same link, followed again anywhere, signs no one in.
    again = await web.visitor().get(link)
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in?expired=1")
    replayed = web.visitor()
    shown_before = await web.visitor().get(f"/inbox?token={await issue_sign_in_link(db_pool, HEAD)}")
    fields = link_page_form(shown_before.text) | {"token": token}
    replayed.cookies.set(LINK_COOKIE, fields["nonce"], domain="leda.test", path="/sign-in/link")
    refused = await replayed.post("/sign-in/link", data=fields)
    assert refused.headers["location"].startswith("/sign-in?expired=1")
    assert not replayed.cookies.get(SESSION_COOKIE)


async def test_a_link_from_another_site_cannot_swap_a_session(web: Site, db_pool: asyncpg.Pool) -> None:
    """Login CSRF: an attacker's own link, posted by a form on their site, or opened as a link, signs no one in."""
    victim = await signed_in(web, db_pool, HEAD, "/inbox")
    victims_session = victim.cookies.get(SESSION_COOKIE)
    attackers_token = await issue_sign_in_link(db_pool, RECTOR)

    # A cross-site form post carries no cookie of the link's page (SameSite=Strict), so it is refused.
    posted = await victim.post("/sign-in/link", data={"token": attackers_token, "next": "/inbox", "nonce": "x" * 43})
    assert posted.status_code == 403
    # Opening the attacker's link shows the button, and changes nothing until the victim presses it.
    opened = await victim.get(f"/inbox?token={attackers_token}")
    assert opened.status_code == 200
    assert victim.cookies.get(SESSION_COOKIE) == victims_session
    assert "Mina uppgifter" in (await victim.get("/inbox")).text
    # Neither used the attacker's link up.
    assert await db_pool.fetchval(
        "SELECT used_at IS NULL FROM sign_in_links WHERE participant_id = $1 ORDER BY created_at DESC LIMIT 1", RECTOR
    )


async def test_signing_out_ends_the_session_and_everywhere_ends_them_all(web: Site, db_pool: asyncpg.Pool) -> None:
    laptop = await signed_in(web, db_pool, HEAD, "/inbox")
    phone = await signed_in(web, db_pool, HEAD, "/inbox")
    kiosk = await signed_in(web, db_pool, HEAD, "/inbox")
    laptop_session = laptop.cookies.get(SESSION_COOKIE)

    out = await laptop.post("/sign-out", data={"_form": form_token((await laptop.get("/inbox")).text)})
    assert out.status_code == 303
    stale = web.visitor()
    stale.cookies.set(SESSION_COOKIE, laptop_session, domain="leda.test")
    assert (await stale.get("/inbox")).status_code == 303  # the old cookie leads to the sign-in page

    unused = await issue_sign_in_link(db_pool, HEAD)
    page = await phone.get("/inbox")
    assert "Logga ut överallt" in page.text
    everywhere = await phone.post("/sign-out", data={"_form": form_token(page.text), "everywhere": "1"})
    assert everywhere.status_code == 303
    for device in (phone, kiosk):
        assert (await device.get("/inbox")).status_code == 303
    gone = await web.visitor().get(f"/inbox?token={unused}")
    assert gone.headers["location"].startswith("/sign-in?expired=1")


async def test_a_form_with_errors_says_which_field_and_records_nothing_then_completes(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    path = task_page(workflow_id, TASK)
    head = await signed_in(web, db_pool, HEAD, path)
    page = await head.get(path)
    assert page.status_code == 200
    assert 'name="scores[SF1.a]"' in page.text and 'name="evidence[SF1.a]"' in page.text
    assert "Har bra ledare" in page.text  # the success factor heading

    fields = answer_fields(sample_payloads.self_assessment("F"))
    fields["scores[SF2.a]"] = ""  # left out
    fields["scores[SF3.b]"] = "7"  # out of range
    response = await head.post(path, data={**fields, "_form": form_token(page.text)})

    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert re.search(r'id="f-scores-SF2-a-error"[^>]*>.*Fyll i det här fältet', response.text)
    assert re.search(r'id="f-scores-SF3-b-error"[^>]*>.*Välj ett av alternativen|högst 4', response.text)
    assert 'value="3" checked' in response.text  # what was filled in stays filled in
    assert await completions(db_pool, workflow_id) == []

    fields["scores[SF2.a]"] = "3"
    fields["scores[SF3.b]"] = "2"
    fields["evidence[SF4.e]"] = "Nämnden följer upp resultat per skolenhet två gånger om året."
    done = await head.post(path, data={**fields, "_form": form_token(page.text)})
    assert done.status_code == 303, done.text
    confirmation = await head.get(done.headers["location"])
    assert "Tack! Uppgiften är klar" in confirmation.text
    inbox = await head.get("/inbox")
    open_part = inbox.text.split('id="open-tasks"')[1].split("</table>")[0]
    assert path not in open_part
    [completed] = await completions(db_pool, workflow_id)
    assert completed["scores"]["SF3.b"] == 2 and completed["evidence"]["SF4.e"].startswith("Nämnden följer")


async def test_pages_refuse_others_and_forms_without_the_sessions_token(web: Site, db_pool: asyncpg.Pool) -> None:
    workflow_id = await start_pilot(web, db_pool)
    path = task_page(workflow_id, TASK)
    rector = await signed_in(web, db_pool, RECTOR, "/inbox")
    # Another's task is shown as one that does not exist, in the same words.
    others, missing = await rector.get(path), await rector.get(task_page(workflow_id, "self_assessment@Q"))
    assert others.status_code == missing.status_code == 404
    assert others.text == missing.text.replace("%40Q", "%40F")  # the language link names the page itself
    assert (await rector.get("/board")).status_code == 403
    assert (await rector.get(f"/pilots/{workflow_id}")).status_code == 403

    head = await signed_in(web, db_pool, HEAD, path)
    fields = answer_fields(sample_payloads.self_assessment("F"))
    forged = await head.post(path, data={**fields, "_form": "0" * 64})
    assert forged.status_code == 403
    assert await completions(db_pool, workflow_id) == []


async def test_a_lead_sees_the_board_and_extends_a_deadline_with_a_reason(web: Site, db_pool: asyncpg.Pool) -> None:
    workflow_id = await start_pilot(web, db_pool)
    lead = await signed_in(web, db_pool, LEAD, "/board")
    board = await lead.get("/board")
    assert board.status_code == 200
    assert f'href="/pilots/{workflow_id}"' in board.text

    page = await lead.get(f"/pilots/{workflow_id}")
    assert page.status_code == 200
    token = form_token(page.text)
    new_due = (datetime.now(LOCAL_TIME) + timedelta(days=60)).replace(second=0, microsecond=0, tzinfo=None)
    steer = {"_form": token, "action": "extend", "task_key": TASK, "due_at": new_due.isoformat(timespec="minutes")}

    refused = await lead.post(f"/pilots/{workflow_id}/steer", data={**steer, "reason": " "})
    assert refused.status_code == 422
    assert "Skäl" in refused.text

    extended = await lead.post(f"/pilots/{workflow_id}/steer", data={**steer, "reason": "nämndens sammanträde flyttat"})
    assert extended.status_code == 303, extended.text
    after = await lead.get(extended.headers["location"])
    timeline = after.text.split('id="timeline"')[1]
    assert f"ny tidsfrist: {TASK}" in timeline and "nämndens sammanträde flyttat" in timeline
    await lead.get("/language", params={"to": "en", "next": f"/pilots/{workflow_id}"})
    in_english = (await lead.get(f"/pilots/{workflow_id}")).text.split('id="timeline"')[1]
    assert f"new deadline: {TASK}" in in_english and "ny tidsfrist" not in in_english
    status = await web.visitor().get(
        f"/api/v1/pilots/{workflow_id}/status",
        headers={"Authorization": f"Bearer {await issue_token(db_pool, LEAD, 'programme_lead')}"},
    )
    [task] = [t for t in status.json()["tasks"] if t["key"] == TASK]
    assert datetime.fromisoformat(task["due_at"]) == new_due.replace(tzinfo=LOCAL_TIME).astimezone(UTC)


async def test_asking_for_a_link_by_mail_answers_alike_for_known_and_unknown_addresses(
    web: Site, db_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    known = await web.visitor().post("/sign-in", data={"email": "rektor.1861@example.invalid", "next": "/inbox"})
    unknown = await web.visitor().post("/sign-in", data={"email": "nobody@example.invalid", "next": "/inbox"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text

    [mail] = await mail_capture.wait_for(
        lambda m: "rektor.1861@example.invalid" in str(m["To"]) and "inloggningslänk" in str(m["Subject"])
    )
    [link] = re.findall(rf"{re.escape(BASE)}(/inbox\?token=[\w-]+)", mail.get_content())
    followed = await follow_sign_in_link(web.visitor(), link)
    assert (followed.status_code, followed.headers["location"]) == (303, "/inbox")
    expires_in = await db_pool.fetchval(
        "SELECT max(expires_at - created_at) FROM sign_in_links WHERE participant_id = $1 AND asked_for", RECTOR
    )
    assert expires_in == timedelta(hours=1)  # a link asked for on the page is for now, not for a fortnight

    invalid = await web.visitor().post("/sign-in", data={"email": "inte en adress", "next": "/inbox"})
    assert invalid.status_code == 422 and 'aria-invalid="true"' in invalid.text


async def test_the_sign_in_page_answers_alike_when_the_mail_relay_is_down(
    dev_client: Client, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """A mail that cannot go out is logged; the page still gives a known address the answer an unknown one gets."""
    app = site_app(dev_client, settings.model_copy(update={"smtp_port": free_port()}), db_pool)  # nothing listens
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as visitor:
        known = await visitor.post("/sign-in", data={"email": "analytiker.1861@example.invalid", "next": "/"})
        unknown = await visitor.post("/sign-in", data={"email": "ingen.alls@example.invalid", "next": "/"})
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text) == (200, known.text)


async def test_the_sign_in_page_mails_one_participant_a_few_links_a_quarter_not_a_mailbox_full(
    web: Site, db_pool: asyncpg.Pool, owner_pool: asyncpg.Pool, mail_capture: MailCapture
) -> None:
    marker = uuid.uuid4().hex[:8]
    person = Participant(
        participant_id=f"signintest-{marker}",
        kommunkod="9992",  # not a pilot's
        role="rektor",
        display_name=f"Signe Länkqvist{marker} (synthetic)",
        email=f"signe.lankqvist{marker}@example.invalid",
    )
    await upsert_participants(db_pool, [person])

    def links_to_person() -> int:
        return sum(
            person.email in str(m["To"]) and "inloggningslänk" in str(m["Subject"]) for m in mail_capture.messages()
        )

    for _ in range(2):  # links in Leda's own mails do not count against the page's limit
        await issue_sign_in_link(db_pool, person.participant_id)
    most, within = SIGN_IN_REQUESTS
    answers = [
        await web.visitor().post("/sign-in", data={"email": person.email.upper(), "next": "/inbox"})
        for _ in range(most + 2)
    ]
    assert {(a.status_code, a.text) for a in answers} == {(200, answers[0].text)}  # alike, mailed or not
    assert links_to_person() == most

    await owner_pool.execute(
        "UPDATE sign_in_links SET created_at = created_at - $2::interval WHERE participant_id = $1",
        person.participant_id,
        within,
    )
    await web.visitor().post("/sign-in", data={"email": person.email, "next": "/inbox"})
    assert links_to_person() == most + 1


async def test_a_pilot_whose_record_does_not_fold_is_named_on_the_board_and_the_others_still_show(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    broken = f"leda-broken-{uuid.uuid4().hex[:6]}-1861"
    now = datetime.now(UTC)
    events = [
        PilotStarted(
            event_id=uuid.uuid4(),
            occurred_at=now,
            programme="broken",
            kommunkod="1861",
            municipality_name="Hallsberg",
            template_key="lfr-skola",
            deciding_organ="Bildningsnämnden",
            participants={Role.PROGRAMLEDARE: [LEAD]},
        ),
        TaskOpened(  # a task the template does not have
            event_id=uuid.uuid4(),
            occurred_at=now,
            task_key="no_such_task",
            template_key="no_such_task",
            phase=Phase.DEEP_ANALYSIS,
            assignee_id=HEAD,
            due_at=now + timedelta(days=14),
        ),
    ]
    records = []
    for event in events:
        event_type, schema_version, data = event_record(event)
        records.append(
            NewEvent(event_id=event.event_id, event_type=event_type, schema_version=schema_version, data=data)
        )
    await EventStore(db_pool).append(broken, 0, records)

    lead = await signed_in(web, db_pool, LEAD, "/board")
    board = await lead.get("/board")
    assert board.status_code == 200
    assert broken in board.text.split('class="notice"')[1].split("</p>")[0]
    assert f'href="/pilots/{workflow_id}"' in board.text


async def test_a_lead_reassigns_a_task_and_pauses_and_resumes_the_pilot_each_with_a_reason(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    lead = await signed_in(web, db_pool, LEAD, f"/pilots/{workflow_id}")
    page = await lead.get(f"/pilots/{workflow_id}")
    token = form_token(page.text)

    reassign = {"_form": token, "action": "reassign", "task_key": TASK, "to_participant": RECTOR}
    named = await lead.post(
        f"/pilots/{workflow_id}/steer", data={**reassign, "reason": "Exempel Förvaltningschef (syntetisk) är sjuk"}
    )
    assert named.status_code == 422 and "names a person" in named.text  # it would stay in the record
    moved = await lead.post(f"/pilots/{workflow_id}/steer", data={**reassign, "reason": "föräldraledig"})
    assert moved.status_code == 303, moved.text
    assert "Uppgiften har fått en ny ansvarig" in (await lead.get(moved.headers["location"])).text

    paused = await lead.post(f"/pilots/{workflow_id}/control", data={"_form": token, "action": "pause", "reason": ""})
    assert paused.status_code == 422
    paused = await lead.post(
        f"/pilots/{workflow_id}/control", data={"_form": token, "action": "pause", "reason": "valår, nämnden byts"}
    )
    assert paused.status_code == 303, paused.text
    after = await lead.get(paused.headers["location"])
    assert "Piloten är pausad: valår, nämnden byts" in after.text and 'value="resume"' in after.text
    resumed = await lead.post(
        f"/pilots/{workflow_id}/control", data={"_form": token, "action": "resume", "reason": "ny nämnd på plats"}
    )
    assert resumed.status_code == 303, resumed.text

    api = {"Authorization": f"Bearer {await issue_token(db_pool, LEAD, 'programme_lead')}"}
    status = (await web.visitor().get(f"/api/v1/pilots/{workflow_id}/status", headers=api)).json()
    [task] = [t for t in status["tasks"] if t["key"] == TASK]
    assert task["assignee_id"] == RECTOR and status["paused"] is None
    # A participant may not steer on the web either.
    rector = await signed_in(web, db_pool, RECTOR, "/inbox")
    own_token = form_token((await rector.get("/inbox")).text)  # a valid form token of the rektor's own session
    refused = await rector.post(
        f"/pilots/{workflow_id}/control", data={"_form": own_token, "action": "pause", "reason": "x"}
    )
    assert refused.status_code == 403 and "du får inte göra detta" in refused.text


async def test_a_lead_sees_the_roster_and_changes_it_with_a_reason(web: Site, db_pool: asyncpg.Pool) -> None:
    workflow_id = await start_pilot(web, db_pool)
    lead = await signed_in(web, db_pool, LEAD, f"/pilots/{workflow_id}")
    page = await lead.get(f"/pilots/{workflow_id}")
    roster = page.text.split('id="roster-h"')[1].split("</table>")[0]
    assert "Ekonomi" in roster and "Exempel Controller (syntetisk)" in roster
    # The region's support group holds no task of this programme, so it may leave without a replacement.
    change = {
        "_form": form_token(page.text),
        "role": "regional_skolstodsgrupp",
        "leaving": "p-1861-regional",
        "joining": "",
    }

    unreasoned = await lead.post(f"/pilots/{workflow_id}/roster", data={**change, "reason": ""})
    assert unreasoned.status_code == 422 and "Skäl" in unreasoned.text
    rector = await signed_in(web, db_pool, RECTOR, "/inbox")
    assert (await rector.post(f"/pilots/{workflow_id}/roster", data={**change, "reason": "x"})).status_code == 403

    changed = await lead.post(f"/pilots/{workflow_id}/roster", data={**change, "reason": "tjänsten dras in"})
    assert changed.status_code == 303, changed.text
    after = await lead.get(changed.headers["location"])
    assert "Rollistan är ändrad." in after.text
    assert "Regional skolstödsgrupp" not in after.text.split('id="roster-h"')[1].split("</table>")[0]
    assert "p-1861-regional är inte längre regional_skolstodsgrupp" in after.text.split('id="timeline"')[1]


async def test_the_municipality_page_says_what_the_pilot_waits_for_in_the_pages_language(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    lead = await signed_in(web, db_pool, LEAD, f"/pilots/{workflow_id}")

    swedish = (await lead.get(f"/pilots/{workflow_id}")).text.split('id="waiting-for"')[1].split("</ul>")[0]
    assert "Självskattning mot de åtta framgångsfaktorerna (förvaltning): p-1861-forvaltningschef, senast" in swedish
    await lead.get("/language", params={"to": "en", "next": f"/pilots/{workflow_id}"})
    english = (await lead.get(f"/pilots/{workflow_id}")).text.split('id="waiting-for"')[1].split("</ul>")[0]
    assert "(administration): p-1861-forvaltningschef, due" in english


async def test_a_lead_records_an_appeal_and_its_outcome_on_the_municipality_page(
    web: Site, db_pool: asyncpg.Pool, dev_client: Client
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    today = datetime.now(UTC).date()
    for key in (
        "document_collection",
        "self_assessment@P",
        "self_assessment@F",
        "self_assessment@R",
        "self_assessment@S",
        "self_assessment@S/p-1861-ekonomi",
        "strengths_weaknesses",
    ):
        await answered(dev_client, db_pool, workflow_id, key, today)
    await answered(dev_client, db_pool, workflow_id, "analysis_reported", today)
    lead = await signed_in(web, db_pool, LEAD, f"/pilots/{workflow_id}")
    page = await lead.get(f"/pilots/{workflow_id}")
    decisions = page.text.split('id="decisions"')[1].split("</table>")[0]
    assert "BN/" in decisions and "beslutad, protokollet ännu inte anslaget" in decisions
    appeal = {
        "_form": form_token(page.text),
        "action": "lodged",
        "decision_key": "analysis_reported",
        "court": "Förvaltningsrätten i Karlstad",
        "case_number": "7777-26",
        "lodged_on": (today - timedelta(days=30)).isoformat(),
    }

    head = await signed_in(web, db_pool, HEAD, "/inbox")
    assert (await head.post(f"/pilots/{workflow_id}/appeals", data=appeal)).status_code == 403
    refused = await lead.post(f"/pilots/{workflow_id}/appeals", data={**appeal, "case_number": "x"})
    assert refused.status_code == 422 and "case_number" in refused.text
    lodged = await lead.post(f"/pilots/{workflow_id}/appeals", data={**appeal, "lodged_on": today.isoformat()})
    assert lodged.status_code == 303, lodged.text
    after = await lead.get(lodged.headers["location"])
    assert "Överklagandet är registrerat." in after.text
    decisions = after.text.split('id="decisions"')[1].split("</table>")[0]
    assert "överklagad, i väntan på domstolen" in decisions and "7777-26" in decisions

    outcome = {
        "_form": form_token(after.text),
        "action": "decided",
        "decision_key": "analysis_reported",
        "case_number": "7777-26",
        "outcome": "upphavt",
        "decided_on": today.isoformat(),
    }
    decided = await lead.post(f"/pilots/{workflow_id}/appeals", data=outcome)
    assert decided.status_code == 303, decided.text
    final = (await lead.get(decided.headers["location"])).text
    assert "upphävd av domstolen" in final.split('id="decisions"')[1].split("</table>")[0]
    assert "Analysen anmäld till nämnden" in final.split('id="pilot-tasks"')[1]  # reopened for a new decision


async def answered(client: Client, db_pool: asyncpg.Pool, workflow_id: str, key: str, today: date) -> None:
    """Complete `key` as its holder, with a decision dated `today` where it is one."""
    records = PilotRecords(db_pool)
    for _ in range(200):
        task = (await records.status(workflow_id)).task(key)
        if task is not None and task.status == "open":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"{key} never opened")
    payload = sample_payloads.answer_to(task, today, decided_days_ago=0)
    await complete_task(client, workflow_id, key, task.assignee_id, payload)


async def test_the_start_form_is_a_leads_and_refuses_naming_the_field_a_code_not_in_the_register(
    web: Site, db_pool: asyncpg.Pool, dev_client: Client
) -> None:
    head = await signed_in(web, db_pool, HEAD, "/start")
    assert (await head.get("/start")).status_code == 403  # a participant starts nothing

    other = await signed_in(web, db_pool, "p-1864-programledare", "/start")
    page = await other.get("/start")
    assert page.status_code == 200
    assert 'value="1861"' not in page.text  # a municipality's lead is offered their own municipality only
    programme = f"web-{uuid.uuid4().hex[:8]}"
    body = {"action": "pilot", "programme": programme, "kommunkod": "1861", "template_key": "lfr-skola"}
    refused = await other.post("/start", data={**body, "_form": form_token(page.text)})
    assert refused.status_code == 403  # Ljusnarsberg's lead does not start Hallsberg's pilot

    # The programme's lead at the region: one of all 290 municipalities (in the register) is theirs to start.
    region = programme_person(f"p-region-{uuid.uuid4().hex[:8]}", programme)
    await upsert_participants(db_pool, [region])
    lead = await signed_in(web, db_pool, region.participant_id, "/start")
    page = await lead.get("/start")
    assert f'value="{programme}"' in page.text and "readonly" in page.text  # their programme, fixed
    assert page.text.count("<option value=") > 290
    unknown = await lead.post("/start", data={**body, "kommunkod": "9999", "_form": form_token(page.text)})
    assert unknown.status_code == 422
    assert 'id="start-kommunkod-error"' in unknown.text and "SCB" in unknown.text
    past = await lead.post("/start", data={**body, "starts_on": "2020-01-01", "_form": form_token(page.text)})
    assert past.status_code == 422 and 'id="start-starts_on-error"' in past.text
    for code in ("1861", "9999"):
        assert await EventStore(db_pool).stream_version(f"leda-{programme}-{code}") == 0

    started = await lead.post("/start", data={**body, "_form": form_token(page.text)})
    assert started.status_code == 303 and started.headers["location"] == f"/pilots/leda-{programme}-1861"
    assert await EventStore(db_pool).stream_version(f"leda-{programme}-1861") > 0


async def test_a_lead_schedules_a_network_meeting_from_the_board_and_records_the_attendance_on_the_pilots_page(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    # The demo's clock: a meeting 20 days ahead on the calendar is held two seconds on in the pilot.
    programme = f"web-{uuid.uuid4().hex[:8]}"
    token = await issue_token(db_pool, LEAD, "programme_lead")
    body = {"programme": programme, "kommunkod": "1861", "template_key": "demo"}
    response = await web.visitor().post("/api/v1/pilots", json=body, headers={"Authorization": f"Bearer {token}"})
    workflow_id = response.json()["workflow_id"]
    lead = await signed_in(web, db_pool, LEAD, "/board")
    board = await lead.get("/board")
    assert f'action="/programmes/{programme}/meetings"' in board.text
    url = f"/programmes/{programme}/meetings"

    held_at = (datetime.now(LOCAL_TIME) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M")
    yesterday = (datetime.now(LOCAL_TIME) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    past = await lead.post(url, data={"title": "Träff 1", "held_at": yesterday, "_form": form_token(board.text)})
    assert past.status_code == 422 and "held_at" in past.text
    named = await lead.post(
        url, data={"title": "Träff med Exempel Rektor (syntetisk)", "held_at": held_at, "_form": form_token(board.text)}
    )
    assert named.status_code == 422 and "title: names a person" in named.text
    assert "NetworkMeetingScheduled" not in [e.event_type for e in await EventStore(db_pool).read_stream(workflow_id)]

    done = await lead.post(
        url, data={"title": "Träff 1: styrkor", "held_at": held_at, "place": "Örebro", "_form": form_token(board.text)}
    )
    assert done.status_code == 200 and "är planerad för 1 piloter" in done.text, done.text
    page = await lead.get(f"/pilots/{workflow_id}")
    assert "Träff 1: styrkor" in page.text and "Registrera deltagandet" not in page.text  # not held yet

    await asyncio.sleep(2.5)
    page = await lead.get(f"/pilots/{workflow_id}")
    [action] = re.findall(rf'action="(/pilots/{workflow_id}/meetings/[^"]+/attendance)"', page.text)
    recorded = await lead.post(
        action, data={"attended": "yes", "attendee_ids": [HEAD, RECTOR], "_form": form_token(page.text)}
    )
    assert recorded.status_code == 303, recorded.text
    status = await PilotRecords(db_pool).status(workflow_id)
    [meeting] = status.meetings
    assert meeting.attended and meeting.attendee_ids == [HEAD, RECTOR]
    assert any(t.template_key == "network_reflection" and t.status == "open" for t in status.tasks)

    report = await lead.get(f"/programmes/{programme}/report", params={"anonymous": "1"})
    assert report.status_code == 200 and "Kommun A" in report.text
    assert "Hallsberg" not in report.text and "1861" not in report.text
    other = await signed_in(web, db_pool, "p-1864-programledare", "/board")
    assert (await other.get(f"/programmes/{programme}/report")).status_code == 403


async def test_the_inbox_gives_a_calendar_address_once_and_a_new_one_shuts_the_old(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(web, db_pool)
    chef = await signed_in(web, db_pool, HEAD, "/inbox")
    inbox = await chef.get("/inbox")
    assert "Din kalender" in inbox.text and "/calendar/leda_cal_" not in inbox.text  # no address until asked for

    def address(html: str) -> str:
        [url] = re.findall(r'id="calendar-url" readonly value="([^"]+)"', html)
        assert url.startswith(f"{BASE}/calendar/leda_cal_") and url.endswith(".ics")
        return url.removeprefix(BASE)

    first = await chef.post("/calendar-feed", data={"_form": form_token(inbox.text)})
    assert first.status_code == 200, first.text
    feed = await web.visitor().get(address(first.text))  # a calendar client: no session, no token
    assert feed.status_code == 200 and f"{workflow_id}/tasks/{TASK}" in feed.text.replace("\r\n ", "")

    second = await chef.post("/calendar-feed", data={"_form": form_token(inbox.text)})
    assert (await web.visitor().get(address(first.text))).status_code == 404
    assert (await web.visitor().get(address(second.text))).status_code == 200
    # Without the session's form token nothing is issued.
    assert (await chef.post("/calendar-feed", data={})).status_code == 403


async def test_the_accessibility_statement_is_linked_from_every_page_and_names_the_contact_in_both_languages(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    visitor = web.visitor()
    for path in ("/sign-in", "/tillganglighet"):
        assert 'href="/tillganglighet"' in (await visitor.get(path)).text
    statement = await visitor.get("/tillganglighet")
    assert statement.status_code == 200
    assert "Tillgänglighetsredogörelse för Leda för resultat" in statement.text
    assert 'href="mailto:tillganglighet@example.invalid"' in statement.text and "DIGG" in statement.text
    visitor.cookies.set("leda_language", "en")
    english = await visitor.get("/tillganglighet")
    assert "Accessibility statement for Lead for Results" in english.text and '<html lang="en">' in english.text


async def test_an_overdue_task_is_said_to_be_overdue_in_words_not_only_in_colour(
    web: Site, db_pool: asyncpg.Pool
) -> None:
    """On the demo's clock (a day is 0.1 s) the first tasks are overdue a few seconds after the start."""
    token = await issue_token(db_pool, LEAD, "programme_lead")
    body = {"programme": f"web-{uuid.uuid4().hex[:8]}", "kommunkod": "1861", "template_key": "demo"}
    response = await web.visitor().post("/api/v1/pilots", json=body, headers={"Authorization": f"Bearer {token}"})
    workflow_id = response.json()["workflow_id"]
    head = await signed_in(web, db_pool, HEAD, "/inbox")
    lead = await signed_in(web, db_pool, LEAD, f"/pilots/{workflow_id}")
    overdue = '<strong class="overdue">försenad</strong>'
    # Read together, as the demo's quick clock moves on (an overdue task escalates, the phase ends)
    pages = {"/inbox": head, f"/pilots/{workflow_id}": lead, "/board": lead}
    without: list[str] = list(pages)
    for _ in range(100):
        without = [path for path, client in pages.items() if overdue not in (await client.get(path)).text]
        if not without:
            break
        await asyncio.sleep(0.2)
    assert without == []
    english = await head.get("/language", params={"to": "en", "next": "/inbox"}, follow_redirects=True)
    assert '<strong class="overdue">overdue</strong>' in english.text
