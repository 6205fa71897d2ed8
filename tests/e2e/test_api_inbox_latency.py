"""On the real Temporal dev server: a task completed through the API leaves the caller's inbox within a second."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import httpx
import pytest

from access import issue_token
from devstack import sample_payloads
from tests.people import bearer

pytestmark = pytest.mark.devserver

TASK = "self_assessment@F"
ASSIGNEE = "p-1861-forvaltningschef"
LEAD = "p-1861-programledare"
POLL = 0.05
WITHIN = 1.0


@pytest.fixture
def api(dev_api: httpx.AsyncClient) -> httpx.AsyncClient:
    return dev_api


async def test_a_completed_task_leaves_the_inbox_within_a_second_of_the_answer(
    api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    lead = bearer(await issue_token(db_pool, LEAD, "programme_lead"))
    assignee = bearer(await issue_token(db_pool, ASSIGNEE, "participant"))
    body = {"programme": f"latency-{uuid.uuid4().hex[:8]}", "kommunkod": "1861", "template_key": "lfr-skola"}
    started = await api.post("/api/v1/pilots", json=body, headers=lead)
    assert started.status_code == 201, started.text
    workflow_id = started.json()["workflow_id"]

    async def in_inbox() -> bool:
        response = await api.get("/api/v1/me/inbox", headers=assignee)
        assert response.status_code == 200, response.text
        return any(t["workflow_id"] == workflow_id and t["task_key"] == TASK for t in response.json())

    deadline = time.monotonic() + 30
    while not await in_inbox():
        assert time.monotonic() < deadline, f"{TASK} never reached the inbox"
        await asyncio.sleep(POLL)

    completed = await api.post(
        f"/api/v1/pilots/{workflow_id}/tasks/{TASK}/complete",
        json=sample_payloads.self_assessment("F"),
        headers=assignee,
    )
    answered = time.monotonic()
    assert completed.status_code == 200, completed.text

    while await in_inbox():
        assert time.monotonic() - answered < WITHIN, f"{TASK} still in the inbox {WITHIN}s after the API answered"
        await asyncio.sleep(POLL)
    elapsed = time.monotonic() - answered
    assert elapsed < WITHIN, f"{TASK} left the inbox only {elapsed:.3f}s after the API answered"
