"""Who leads a pilot is its own roster: after the lead's role moves to someone else, the former lead may do nothing
a lead does (403, nothing recorded), and the new lead may; a programme's lead starts pilots of that programme only.

Over the HTTP API as an integrator uses it, against a worker on the time-skipping server.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from access import issue_token
from directory import Participant, upsert_participants
from eventstore import EventStore
from tests.over_the_api import open_task
from tests.people import bearer, programme_lead

OLD_LEAD = "p-1861-programledare"
TASK = "self_assessment@F"


@pytest.fixture
def api(skipping_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return skipping_api


async def test_the_lead_taken_off_the_roster_may_no_longer_lead_and_the_new_lead_may(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    programme = f"lead-{uuid.uuid4().hex[:8]}"
    old = bearer(await issue_token(db_pool, OLD_LEAD, "programme_lead"))
    new_id, new = await programme_lead(db_pool, programme)
    started = await api.post(
        "/api/v1/pilots", json={"programme": programme, "kommunkod": "1861", "template_key": "lfr-skola"}, headers=old
    )
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    await open_task(api, old, workflow_id, TASK)
    # The programme's lead was in the directory when the pilot started, so the roster already names them first.
    status = await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=old)
    assert status.status_code == 200

    handover = {"role": "programledare", "leaving": OLD_LEAD, "reason": "ledningen går över till SKR"}
    moved = await api.post(f"/api/v1/pilots/{workflow_id}/roster", json=handover, headers=new)
    assert moved.status_code == 200, moved.text

    store = EventStore(db_pool)
    before = await store.stream_version(workflow_id)
    steps = {
        "pause": ("post", f"/api/v1/pilots/{workflow_id}/control", {"action": "pause", "reason": "semester"}),
        "withdraw": ("post", f"/api/v1/pilots/{workflow_id}/control", {"action": "withdraw", "reason": "nej"}),
        "steer": (
            "post",
            f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/steer",
            {"action": "reassign", "reason": "föräldraledig", "to_participant": "p-1861-analytiker"},
        ),
        "roster": (
            "post",
            f"/api/v1/pilots/{workflow_id}/roster",
            {"role": "regional_skolstodsgrupp", "leaving": "p-1861-regional", "reason": "uppdraget är slut"},
        ),
        "history": ("get", f"/api/v1/pilots/{workflow_id}/history?source=domain", None),
        "status": ("get", f"/api/v1/pilots/{workflow_id}/status", None),
    }
    for name, (method, url, body) in steps.items():
        response = await api.request(method, url, json=body, headers=old)
        # A task or status the former lead no longer sees is answered as one that does not exist.
        assert response.status_code == (404 if name in ("steer", "status") else 403), (name, response.text)
    # Nothing recorded by the former lead (the pilot itself may go on opening tasks meanwhile).
    since = [e for e in await store.read_stream(workflow_id) if e.stream_version > before]
    assert [e.event_type for e in since if OLD_LEAD in (e.data.get("by"), e.data.get("registered_by"))] == []
    assert not {"RosterChanged", "PilotPaused", "PilotWithdrawn", "TaskReassigned"} & {e.event_type for e in since}

    for name in ("history", "steer", "roster", "pause"):
        method, url, body = steps[name]
        response = await api.request(method, url, json=body, headers=new)
        assert response.status_code == 200, (name, response.text)
    assert any(
        e["kind"] == "RosterChanged" for e in (await api.get(steps["history"][1], headers=new)).json()["entries"]
    )


async def test_a_programmes_lead_starts_a_pilot_of_any_municipality_in_that_programme_only(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    programme = f"skl-{uuid.uuid4().hex[:8]}"
    lead_id, lead = await programme_lead(db_pool, programme)

    elsewhere = {"programme": f"other-{uuid.uuid4().hex[:6]}", "kommunkod": "1861", "template_key": "lfr-skola"}
    assert (await api.post("/api/v1/pilots", json=elsewhere, headers=lead)).status_code == 403
    started = await api.post(
        "/api/v1/pilots", json={"programme": programme, "kommunkod": "1864", "template_key": "lfr-skola"}, headers=lead
    )
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]
    await open_task(api, lead, workflow_id, TASK)
    status = (await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=lead)).json()
    assert status["kommunkod"] == "1864"
    # Leading it, the programme's lead steers it, though no municipality's directory names them.
    steer = {"action": "extend", "reason": "nätverksträffen flyttas", "due_at": "2099-01-01T16:00:00Z"}
    assert (
        await api.post(f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/steer", json=steer, headers=lead)
    ).status_code == 200
    # A bare date is 16:00 Swedish time that day, as the CLI and the web form read it; what is no day is refused.
    steer["due_at"] = "2099-01-02"
    extended = await api.post(f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/steer", json=steer, headers=lead)
    assert extended.status_code == 200, extended.text
    task = (await api.get(f"/api/v1/pilots/{workflow_id}/tasks/{TASK}", headers=lead)).json()
    assert datetime.fromisoformat(task["due_at"]) == datetime(2099, 1, 2, 15, 0, tzinfo=UTC)
    steer["due_at"] = "soon"
    refused = await api.post(f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/steer", json=steer, headers=lead)
    assert refused.status_code == 422 and "due_at" in refused.json()["detail"], refused.text


async def test_a_pilot_for_a_municipality_outside_the_old_list_starts_and_an_unknown_code_names_its_field(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    programme = f"any-{uuid.uuid4().hex[:8]}"
    _, lead = await programme_lead(db_pool, programme)
    people = [
        Participant(
            participant_id=f"p-1862-{role}",
            kommunkod="1862",
            role=role,
            display_name=f"Exempel {role} Degerfors (syntetisk)",
            email=f"{role}.1862@example.invalid",
        )
        for role in ("politiker", "namndsekreterare", "forvaltningschef", "rektor", "hr", "ekonomi", "analytiker")
    ]
    await upsert_participants(db_pool, people)
    body = {
        "programme": programme,
        "kommunkod": "1862",
        "template_key": "lfr-skola",
        "organ": "Kultur- och utbildningsnämnden",
    }

    started = await api.post("/api/v1/pilots", json=body, headers=lead)

    assert started.status_code == 201, started.text
    await open_task(api, lead, started.json()["workflow_id"], TASK)
    status = (await api.get(f"/api/v1/pilots/{started.json()['workflow_id']}/status", headers=lead)).json()
    assert status["municipality_name"] == "Degerfors"
    unknown = await api.post("/api/v1/pilots", json={**body, "kommunkod": "1899"}, headers=lead)
    assert unknown.status_code == 422
    assert (unknown.json()["code"], unknown.json()["field"]) == ("unknown_municipality", "kommunkod")
    no_organ = await api.post("/api/v1/pilots", json={**body, "kommunkod": "1814", "organ": None}, headers=lead)
    assert (no_organ.status_code, no_organ.json()["code"], no_organ.json()["field"]) == (422, "organ_required", "organ")
    assert "--" not in no_organ.json()["detail"]  # an HTTP answer gives no command-line advice
