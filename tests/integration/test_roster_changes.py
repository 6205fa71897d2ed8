"""Changing a running pilot's roster through the HTTP API, against a real worker, PostgreSQL and SMTP server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from devstack.mail import MailCapture
from directory import Participant, upsert_participants
from eventstore import EventStore
from tests.people import token_headers

pytestmark = pytest.mark.devserver

LEAD = "p-1861-programledare"
CHEF = "p-1861-forvaltningschef"
TASK = "self_assessment@F"


@pytest.fixture
def api(dev_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return dev_api


@pytest_asyncio.fixture
async def newcomer(owner_pool: asyncpg.Pool) -> AsyncIterator[Participant]:
    """A new head of administration of 1861, in the directory only for this test: pilots other tests start from
    1861's directory must not gain a second one."""
    marker = uuid.uuid4().hex[:8]
    person = Participant(
        participant_id=f"p-1861-forvaltningschef-{marker}",
        kommunkod="1861",
        role="forvaltningschef",
        display_name=f"Nyberg Chefsdotter{marker} (syntetisk)",
        email=f"ny.chef.{marker}@example.invalid",
    )
    yield person
    await owner_pool.execute("DELETE FROM participants WHERE participant_id = $1", person.participant_id)


async def started_pilot(api: httpx.AsyncClient, lead: dict[str, str]) -> str:
    body = {"programme": f"roster-{uuid.uuid4().hex[:8]}", "kommunkod": "1861", "template_key": "lfr-skola"}
    response = await api.post("/api/v1/pilots", json=body, headers=lead)
    assert response.status_code == 201, response.text
    workflow_id: str = response.json()["workflow_id"]
    for _ in range(200):
        tasks = (await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=lead)).json()["tasks"]
        if {(t["key"], t["status"]) for t in tasks} >= {(TASK, "open"), ("kpi_data_pack", "completed")}:
            return workflow_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"{TASK} never opened in {workflow_id}")


async def test_a_new_head_of_administration_takes_over_the_open_tasks_and_is_told(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool, mail_capture: MailCapture, newcomer: Participant
) -> None:
    lead = await token_headers(db_pool, LEAD, "programme_lead")
    workflow_id = await started_pilot(api, lead)
    await upsert_participants(db_pool, [newcomer])  # the directory learns of them after the pilot started
    url = f"/api/v1/pilots/{workflow_id}/roster"
    change: dict[str, Any] = {
        "role": "forvaltningschef",
        "joining": newcomer.participant_id,
        "leaving": CHEF,
        "reason": "ny förvaltningschef från 1 januari",
    }

    response = await api.post(url, json=change, headers=lead)

    assert response.status_code == 200, response.text
    assert TASK in response.json()["moved_tasks"]
    status = (await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=lead)).json()
    [task] = [t for t in status["tasks"] if t["key"] == TASK]
    assert task["assignee_id"] == newcomer.participant_id
    await mail_capture.wait_for(lambda m: newcomer.email in str(m["To"]) and TASK in m.get_content())
    [recorded] = [e for e in await EventStore(db_pool).read_stream(workflow_id) if e.event_type == "RosterChanged"]
    assert recorded.data["joining"] == newcomer.participant_id and newcomer.display_name not in str(recorded.data)
    inbox = await api.get(
        "/api/v1/me/inbox", headers=await token_headers(db_pool, newcomer.participant_id, "participant")
    )
    assert TASK in {t["task_key"] for t in inbox.json() if t["workflow_id"] == workflow_id}

    again = await api.post(url, json=change, headers=lead)  # sent again unchanged: applied once
    assert again.status_code == 200 and again.json()["stream_version"] == response.json()["stream_version"]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"joining": "p-1861-ingen-sadan"}, "joining", "is not one of the municipality 1861 or programme"),
        ({"joining": "p-1861-rektor"}, "joining", "is rektor in the directory"),
        # Someone of another municipality, or another programme (SKR's lead of the SKL round): the answer someone
        # unknown gets, naming neither where they work nor their role.
        ({"joining": "p-1864-forvaltningschef"}, "joining", "is not one of the municipality 1861 or programme"),
        ({"role": "programledare", "joining": "p-skr-programledare"}, "joining", "is not one of the municipality"),
        ({"leaving": CHEF}, "leaving", "holds open tasks"),  # and no one takes them
        ({"joining": CHEF, "leaving": CHEF}, "joining", "is the one leaving"),
        ({}, None, "name who joins the role, who leaves it, or both"),
        ({"role": "kung"}, "role", "Input should be"),
        ({"leaving": "p-1861-rektor"}, "leaving", "does not hold the role"),
    ],
)
async def test_a_change_that_cannot_be_made_is_refused_naming_the_field_and_records_nothing(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool, change: dict[str, Any], field: str | None, says: str
) -> None:
    lead = await token_headers(db_pool, LEAD, "programme_lead")
    workflow_id = await started_pilot(api, lead)
    store = EventStore(db_pool)
    before = await store.stream_version(workflow_id)
    body = {"role": "forvaltningschef", "reason": "byte", **change}

    response = await api.post(f"/api/v1/pilots/{workflow_id}/roster", json=body, headers=lead)

    assert response.status_code == 422, response.text
    assert response.json().get("field") == field and says in response.json()["detail"], response.text
    assert "kommun 1864" not in response.text and "lfr-skola-2015" not in response.text  # no one else's whereabouts
    assert await store.stream_version(workflow_id) == before


async def test_only_the_pilots_programme_lead_changes_its_roster(api: httpx.AsyncClient, db_pool: asyncpg.Pool) -> None:
    lead = await token_headers(db_pool, LEAD, "programme_lead")
    workflow_id = await started_pilot(api, lead)
    body = {"role": "rektor", "leaving": "p-1861-rektor", "joining": "p-1861-hr", "reason": "byte"}
    for who, scope in ((CHEF, "participant"), (f"ops-{uuid.uuid4().hex[:6]}", "operations")):
        response = await api.post(
            f"/api/v1/pilots/{workflow_id}/roster", json=body, headers=await token_headers(db_pool, who, scope)
        )
        assert response.status_code == 403, response.text
    named = await api.post(
        f"/api/v1/pilots/{workflow_id}/roster",
        json={**body, "joining": None, "reason": "fråga rektor.1861@example.invalid"},
        headers=lead,
    )
    assert (named.status_code, named.json()["field"]) == (422, "reason"), named.text


async def test_a_kommunalforbunds_newcomer_is_one_of_the_forbunds_people(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool, owner_pool: asyncpg.Pool
) -> None:
    """A kommunalförbund's people are in the directory under its code (1083+1272), not a member's."""
    lead = await token_headers(db_pool, "p-sbkf-programledare", "programme_lead")
    body = {
        "programme": f"roster-{uuid.uuid4().hex[:8]}",
        "kommunkod": "1083+1272",
        "template_key": "lfr-skola",
        "organ": "Direktionen",
    }
    response = await api.post("/api/v1/pilots", json=body, headers=lead)
    assert response.status_code == 201, response.text
    workflow_id = response.json()["workflow_id"]
    marker = uuid.uuid4().hex[:8]
    newcomer = Participant(
        participant_id=f"p-sbkf-hr-{marker}",
        kommunkod="1083+1272",
        role="hr",
        display_name=f"Förbunds Personalsdotter{marker} (syntetisk)",
        email=f"hr.{marker}@example.invalid",
    )
    await upsert_participants(db_pool, [newcomer])
    try:
        change = {"role": "hr", "joining": newcomer.participant_id, "reason": "förstärkning"}
        joined = await api.post(f"/api/v1/pilots/{workflow_id}/roster", json=change, headers=lead)
        assert joined.status_code == 200, joined.text  # an Update waits for the pilot's start to be recorded
    finally:
        await owner_pool.execute("DELETE FROM participants WHERE participant_id = $1", newcomer.participant_id)
