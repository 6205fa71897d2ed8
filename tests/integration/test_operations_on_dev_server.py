"""Operations on the real dev server: finding pilots with the stock `temporal workflow list`, pausing and
resuming a pilot whose reminder is about to fire, and reading its merged history."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus

from devstack.temporal import TemporalDevServer
from domain.control import ControlPilot
from domain.status import PilotStatus
from eventstore import EventStore
from pilots import (
    PilotError,
    PilotRecords,
    control_pilot,
    list_pilots,
    pilot_query,
    pilot_status,
    start_pilot,
    terminate_pilot,
)
from pilots.history import pilot_history
from settings import Settings
from worker import running_worker

pytestmark = pytest.mark.devserver

TEMPORAL = str(Path(sys.executable).parent / "temporal")
TASK = "self_assessment@F"  # on the demo template: reminders after 1.4 s and 2.0 s, escalation after 2.4 s


@pytest_asyncio.fixture
async def pilot(dev_client: Client, db_pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    programme = f"ops-{uuid.uuid4().hex[:8]}"
    async with running_worker(dev_client, settings, db_pool):
        workflow_id = await start_pilot(
            dev_client,
            db_pool,
            programme=programme,
            kommunkod="1861",
            template_key="demo",
            task_queue=settings.task_queue,
        )
        yield programme, workflow_id
        if (await dev_client.get_workflow_handle(workflow_id).describe()).status is WorkflowExecutionStatus.RUNNING:
            await dev_client.get_workflow_handle(workflow_id).terminate(reason="test over")


async def until(client: Client, workflow_id: str, condition, seconds: float = 10) -> PilotStatus:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.05)):
        status = await pilot_status(client, workflow_id)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never got there")


def reminders(status: PilotStatus) -> int:
    return next(t.reminders_sent for t in status.tasks if t.key == TASK)


def stock_list(server: TemporalDevServer, query: str) -> list[str]:
    listed = subprocess.run(
        [TEMPORAL, "workflow", "list", "--address", server.address, "--query", query, "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return [w["execution"]["workflowId"] for w in json.loads(listed.stdout or "[]")]


async def test_the_stock_temporal_cli_finds_pilots_by_phase_as_leda_list_does(
    dev_client: Client, dev_server: TemporalDevServer, pilot: tuple[str, str]
) -> None:
    programme, workflow_id = pilot
    query = pilot_query(phase="djupanalys", programme=programme)
    for _ in range(100):  # visibility follows the workflow within moments
        if stock_list(dev_server, query) == [workflow_id]:
            break
        await asyncio.sleep(0.1)
    assert stock_list(dev_server, query) == [workflow_id]
    assert [p.workflow_id for p in await list_pilots(dev_client, query)] == [workflow_id]
    assert stock_list(dev_server, pilot_query(phase="genomforande", programme=programme)) == []


async def test_a_pause_holds_a_reminder_that_would_fire_and_a_resume_releases_it(
    dev_client: Client, db_pool: asyncpg.Pool, pilot: tuple[str, str]
) -> None:
    programme, workflow_id = pilot
    # Paused from the start, so no slowness of this machine lets a reminder slip out before the hold.
    pause = ControlPilot(action="pause", actor_id="p-1861-analytiker", reason="reläet byts")
    await control_pilot(dev_client, db_pool, workflow_id, pause)
    await until(dev_client, workflow_id, lambda s: any(t.key == TASK for t in s.tasks))

    await asyncio.sleep(3.0)  # both reminders and the escalation would have fired by now
    assert reminders(await pilot_status(dev_client, workflow_id)) == 0
    [listed] = await list_pilots(dev_client, pilot_query(state="paused", programme=programme))
    assert listed.workflow_id == workflow_id

    resume = ControlPilot(action="resume", actor_id="p-1861-analytiker", reason="reläet är tillbaka")
    await control_pilot(dev_client, db_pool, workflow_id, resume)
    await until(dev_client, workflow_id, lambda s: reminders(s) == 2, seconds=60)
    overdue = await list_pilots(dev_client, pilot_query(overdue=True, programme=programme))
    assert [p.workflow_id for p in overdue] == [workflow_id] and overdue[0].overdue_count

    entries, note = await pilot_history(EventStore(db_pool), dev_client, workflow_id)
    assert note is None
    kinds = [(e.source, e.kind) for e in entries]
    assert ("domain", "PilotPaused") in kinds and ("temporal", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED") in kinds
    # The reminders went out after the resume, as activities whose summaries say what they are.
    activities = [e.summary for e in entries if e.kind == "ACTIVITY_TASK_SCHEDULED"]
    assert f"send_notification: reminder mail: {TASK}" in activities, activities
    assert all(e.summary for e in entries if e.kind == "TIMER_STARTED")
    assert entries == sorted(entries, key=lambda e: (e.at, e.source, e.sequence))


async def test_terminating_records_who_and_why_first_and_then_ends_the_workflow(
    dev_client: Client, db_pool: asyncpg.Pool, pilot: tuple[str, str]
) -> None:
    _, workflow_id = pilot
    await until(dev_client, workflow_id, lambda s: any(t.key == TASK for t in s.tasks))
    store = EventStore(db_pool)

    await terminate_pilot(dev_client, db_pool, workflow_id, by="p-1861-analytiker", reason="fel programmall")

    described = await dev_client.get_workflow_handle(workflow_id).describe()
    assert described.status is WorkflowExecutionStatus.TERMINATED
    last = (await store.read_stream(workflow_id))[-1]
    assert last.event_type == "PilotTerminated" and last.data == {
        "occurred_at": last.data["occurred_at"],
        "reason": "fel programmall",
        "by": "p-1861-analytiker",
    }
    assert last.metadata["actor"] == "p-1861-analytiker"
    with pytest.raises(PilotError) as again:
        await terminate_pilot(dev_client, db_pool, workflow_id, by="p-1861-analytiker", reason="igen")
    assert again.value.code == "not_running"


async def test_a_status_read_from_the_record_is_what_the_workflow_itself_answers(
    dev_client: Client, db_pool: asyncpg.Pool, pilot: tuple[str, str]
) -> None:
    _, workflow_id = pilot
    records = PilotRecords(db_pool)
    with pytest.raises(PilotError) as unknown:
        await records.status(f"{workflow_id}-no-such-pilot")
    assert unknown.value.code == "not_found"

    await until(dev_client, workflow_id, lambda s: any(t.key == TASK for t in s.tasks))
    first = await records.status(workflow_id)
    # The pilot moves on by itself (reminders, escalations), and the record is written before the workflow's
    # state moves: compare the two at the same version, reading the record again (the cached state, extended).
    for _ in range(200):
        asked = await pilot_status(dev_client, workflow_id)
        read = await records.status(workflow_id)
        if read.stream_version == asked.stream_version:
            break
        await asyncio.sleep(0.05)
    assert read.stream_version >= first.stream_version
    assert read.model_dump(exclude={"failed_steps"}) == asked.model_dump(exclude={"failed_steps"})
    for _ in range(200):  # folded from scratch, the same as the kept state extended (at the same version)
        fresh, kept = await PilotRecords(db_pool).status(workflow_id), await records.status(workflow_id)
        if fresh.stream_version == kept.stream_version:
            break
    assert fresh == kept


async def test_a_status_asked_for_a_workflow_id_no_stream_can_have_is_not_found(db_pool: asyncpg.Pool) -> None:
    for workflow_id in ("leda-x\x00-1861", "leda-\ud800-1861"):
        with pytest.raises(PilotError) as refused:
            await PilotRecords(db_pool).status(workflow_id)
        assert refused.value.code == "not_found"
