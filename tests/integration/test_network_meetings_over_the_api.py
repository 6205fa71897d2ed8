"""Network meetings across a cohort, over the HTTP API as an integrator drives it, against a worker on the
time-skipping server: the programme's lead schedules a meeting for the pilots they lead, each pilot's contact is
asked to prepare its contribution, the attendance is recorded after the meeting, and only a pilot that attended is
asked to reflect. Bad input is refused naming the field, and records nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from access import issue_token
from devstack import sample_payloads
from eventstore import EventStore
from tests.over_the_api import open_task
from tests.people import bearer, programme_lead


@pytest.fixture
def api(skipping_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return skipping_api


async def status_of(api: httpx.AsyncClient, headers: dict[str, str], workflow_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/pilots/{workflow_id}/status", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def until_completed(api: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, key: str) -> None:
    for _ in range(200):
        if any(
            t["key"] == key and t["status"] == "completed"
            for t in (await status_of(api, headers, workflow_id))["tasks"]
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never completed in {workflow_id}")


async def test_a_lead_schedules_a_cohort_meeting_records_who_attended_and_only_attending_pilots_reflect(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool, time_skipping_env: WorkflowEnvironment
) -> None:
    programme = f"natverk-{uuid.uuid4().hex[:6]}"
    _, headers = await programme_lead(db_pool, programme)
    pilots = {}
    for code in ("1861", "1864"):
        body = {"programme": programme, "kommunkod": code, "template_key": "lfr-skola"}
        started = await api.post("/api/v1/pilots", json=body, headers=headers)
        assert started.status_code == 201, started.text
        pilots[code] = started.json()["workflow_id"]
    store = EventStore(db_pool)
    url = f"/api/v1/programmes/{programme}/meetings"
    now = datetime.now(UTC)  # the time-skipping server's clock starts at the real time
    meeting = {"title": "Nätverksträff 1: styrkor och svagheter", "held_at": (now + timedelta(days=20)).isoformat()}

    for workflow_id in pilots.values():  # each pilot's first steps taken: its stream holds still
        await open_task(api, headers, workflow_id, "self_assessment@F")
        await until_completed(api, headers, workflow_id, "kpi_data_pack")

    # Refused before any pilot gets it: a meeting in the past, a time without a zone, a lead of other pilots.
    before = {code: await store.stream_version(w) for code, w in pilots.items()}
    past = await api.post(url, json={**meeting, "held_at": (now - timedelta(days=1)).isoformat()}, headers=headers)
    assert past.status_code == 422 and past.json()["field"] == "held_at", past.text
    naive = await api.post(url, json={**meeting, "held_at": "2027-03-15T13:00:00"}, headers=headers)
    assert naive.status_code == 422 and naive.json()["field"] == "held_at"
    other = bearer(await issue_token(db_pool, "p-skr-programledare", "programme_lead"))  # the SKL round's lead
    assert (await api.post(url, json=meeting, headers=other)).status_code == 403
    assert {code: await store.stream_version(w) for code, w in pilots.items()} == before

    scheduled = await api.post(url, json=meeting, headers=headers)
    assert scheduled.status_code == 201, scheduled.text
    meeting_id = scheduled.json()["meeting_id"]
    contribution = f"network_contribution@{meeting_id}"
    assert {p["kommunkod"]: p["opened_tasks"] for p in scheduled.json()["pilots"]} == {
        "1861": [contribution],
        "1864": [contribution],
    }
    versions = {code: await store.stream_version(w) for code, w in pilots.items()}
    again = await api.post(url, json=meeting, headers=headers)  # sent again: the same meeting, scheduled once
    assert again.json()["meeting_id"] == meeting_id
    assert {code: await store.stream_version(w) for code, w in pilots.items()} == versions

    chef = {code: bearer(await issue_token(db_pool, f"p-{code}-forvaltningschef", "participant")) for code in pilots}
    task = await open_task(api, chef["1861"], pilots["1861"], contribution)
    assert task["assignee_id"] == "p-1861-forvaltningschef"
    answered = await api.post(
        f"/api/v1/pilots/{pilots['1861']}/tasks/{contribution}/complete",
        json=sample_payloads.network_contribution(),
        headers=chef["1861"],
    )
    assert answered.status_code == 200, answered.text

    attendance = f"/api/v1/pilots/{pilots['1861']}/meetings/{meeting_id}/attendance"
    early = await api.post(
        attendance, json={"attended": True, "attendee_ids": ["p-1861-forvaltningschef"]}, headers=headers
    )
    assert early.status_code == 409 and early.json()["code"] == "meeting_not_held", early.text

    await time_skipping_env.sleep(timedelta(days=21))

    stranger = await api.post(attendance, json={"attended": True, "attendee_ids": ["p-1864-rektor"]}, headers=headers)
    assert stranger.status_code == 422 and stranger.json()["field"] == "attendee_ids", stranger.text
    mismatch = await api.post(attendance, json={"attended": False, "attendee_ids": ["p-1861-rektor"]}, headers=headers)
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "attendee_ids", mismatch.text
    went = await api.post(
        attendance,
        json={"attended": True, "attendee_ids": ["p-1861-forvaltningschef", "p-1861-rektor"]},
        headers=headers,
    )
    assert went.status_code == 200, went.text
    reflection = f"network_reflection@{meeting_id}"
    assert went.json()["opened_tasks"] == [reflection]
    absent = await api.post(
        f"/api/v1/pilots/{pilots['1864']}/meetings/{meeting_id}/attendance", json={"attended": False}, headers=headers
    )
    assert absent.status_code == 200 and absent.json()["closed_tasks"] == [contribution], absent.text

    # Ljusnarsberg did not attend: its reflection is refused naming the field, and nothing is recorded.
    version = await store.stream_version(pilots["1864"])
    refused = await api.post(
        f"/api/v1/pilots/{pilots['1864']}/tasks/{reflection}/complete",
        json=sample_payloads.network_reflection(),
        headers=chef["1864"],
    )
    assert refused.status_code == 422, refused.text
    assert (refused.json()["code"], refused.json()["field"]) == ("not_attended", "task_key")
    assert await store.stream_version(pilots["1864"]) == version

    await open_task(api, chef["1861"], pilots["1861"], reflection)
    reflected = await api.post(
        f"/api/v1/pilots/{pilots['1861']}/tasks/{reflection}/complete",
        json=sample_payloads.network_reflection(),
        headers=chef["1861"],
    )
    assert reflected.status_code == 200, reflected.text

    status = await status_of(api, headers, pilots["1861"])
    [shown] = status["meetings"]
    assert (shown["meeting_id"], shown["attended"]) == (meeting_id, True)
    events = [e.event_type for e in await store.read_stream(pilots["1861"])]
    assert "NetworkMeetingScheduled" in events and "NetworkMeetingAttendance" in events
    for event in await store.read_stream(pilots["1861"]):  # ids only, never names
        assert "Exempel" not in str(event.data)
