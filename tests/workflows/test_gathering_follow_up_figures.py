"""Each implementation year's follow-up figures, gathered from the synthetic Kolada (sample data) by the real
activity on the time-skipping server: a Kolada that fails for good is a failed step that waits for a retry, the
follow-up then opens with the gathered figures filled in, and a figure changed stands only with its reason, beside
the gathered one on the record."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from access import issue_sign_in_link, issue_token
from api.app import create_app
from devstack import sample_payloads
from devstack.kolada import Fault, KoladaSampleServer
from domain.payloads import FollowUpFigures
from domain.state import TaskStatus
from domain.status import PilotStatus, TaskView
from eventstore import EventStore
from pilots import PilotError, complete_task, control_pilot, pilot_status, start_pilot
from settings import Settings
from tests.sign_in_links import follow_sign_in_link
from tests.workflows.test_pilot_control import control, task_of, until
from worker import running_worker

FIGURES = "follow_up_figures@y1"
FOLLOW_UP = "ska_follow_up@y1"
STEP = f"Kolada follow-up figures: {FIGURES}"
BASE = "http://leda.test"


async def _to_the_first_implementation_year(client: Client, workflow_id: str, kolada: KoladaSampleServer) -> None:
    """Answer every task of the deep analysis and the plan; once the data pack is in, Kolada starts failing."""
    failing = False
    while True:
        status = await pilot_status(client, workflow_id)
        if any(t.key == FIGURES for t in status.tasks):
            return
        if not failing and any(t.key == "kpi_data_pack" and t.status is TaskStatus.COMPLETED for t in status.tasks):
            kolada.inject(Fault("500", times=100_000, path="/v3/data/"))
            failing = True
        for task in status.tasks:
            if task.status is not TaskStatus.OPEN or task.automated or task.key == "inspection_decision":
                continue
            answer = sample_payloads.answer_to(task, datetime.now(UTC).date(), organ=status.deciding_organ)
            await complete_task(client, workflow_id, task.key, task.assignee_id, answer)
        await asyncio.sleep(0.02)


async def _failed(env: WorkflowEnvironment, client: Client, workflow_id: str) -> PilotStatus:
    for _ in range(60):  # the pauses between the activity's tries pass as the server's clock is moved on
        status = await pilot_status(client, workflow_id)
        if STEP in {f.step for f in status.failed_steps}:
            return status
        await env.sleep(timedelta(minutes=2))
    raise AssertionError(f"the figures never failed: {status.failed_steps}")


async def test_kolada_failing_holds_the_follow_up_and_a_retry_opens_it_with_the_figures_and_corrections_need_reasons(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    with KoladaSampleServer() as kolada:
        configured = settings.model_copy(update={"kolada_base_url": kolada.base_url, "kolada_retries": 0})
        client = time_skipping_env.client
        async with running_worker(client, configured, db_pool, strict_sandbox=True):
            workflow_id = await start_pilot(
                client,
                db_pool,
                programme=f"fig-{uuid.uuid4().hex[:8]}",
                kommunkod="1861",
                template_key="lfr-skola",
                task_queue=configured.task_queue,
            )
            await _to_the_first_implementation_year(client, workflow_id, kolada)

            # Kolada down: a failed step on the record, the follow-up waits for it, the year's other tasks go on.
            failing = await _failed(time_skipping_env, client, workflow_id)
            assert "HTTP 500" in next(f.error for f in failing.failed_steps if f.step == STEP)
            assert FOLLOW_UP not in {t.key for t in failing.tasks}
            assert task_of(failing, "measure_progress@y1/M1.1").status is TaskStatus.OPEN
            described = await client.get_workflow_handle(workflow_id).describe()
            assert described.search_attributes.get("LedaState") == ["failing"]

            kolada.clear_faults()
            await control_pilot(client, db_pool, workflow_id, control("retry", "Kolada svarar igen"))
            opened = await until(client, workflow_id, lambda s: any(t.key == FOLLOW_UP for t in s.tasks))
            follow_up = task_of(opened, FOLLOW_UP)
            assert opened.failed_steps == []

            # The figures are for the year before the implementation year started, as the synthetic Kolada has them.
            started = task_of(opened, FIGURES).opened_at
            events = await EventStore(db_pool).read_stream(workflow_id)
            [gathered] = [e for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == FIGURES]
            figures = FollowUpFigures.model_validate(gathered.data["payload"])
            assert figures.year == started.year - 1 and figures.kpis == ["N15419"]
            kolada_value = figures.published("1861")["N15419"]
            assert any(o.kpi == "N15419" and o.period == figures.year for o in figures.unit_observations)
            assert follow_up.prefill == {"year": figures.year, "kpi_values": {"N15419": kolada_value}}

            # The API gives the same to start from, and the web page shows the figures and opens filled in.
            await _seen_over_the_api_and_the_web(client, configured, db_pool, workflow_id, follow_up, kolada_value)

            # A figure changed without a reason is refused, naming the field, and records nothing.
            answer = sample_payloads.yearly_follow_up(figures.year, follow_up.prefill)
            changed = answer | {"kpi_values": {"N15419": kolada_value + 2.5}}
            with pytest.raises(PilotError) as refused:
                await complete_task(client, workflow_id, FOLLOW_UP, follow_up.assignee_id, changed)
            assert refused.value.code == "invalid_payload" and "corrections.N15419" in str(refused.value)
            assert len(await EventStore(db_pool).read_stream(workflow_id)) == len(events)

            # With its reason it stands, and the record keeps both figures.
            reason = "Koladas värde saknar den nya skolan; egen sammanställning av betygen"
            corrected = changed | {"corrections": {"N15419": reason}}
            await complete_task(client, workflow_id, FOLLOW_UP, follow_up.assignee_id, corrected)
            done = await pilot_status(client, workflow_id)
            assert task_of(done, FOLLOW_UP).status is TaskStatus.COMPLETED
            [completed] = [
                e
                for e in await EventStore(db_pool).read_stream(workflow_id)
                if e.event_type == "TaskCompleted" and e.data["task_key"] == FOLLOW_UP
            ]
            assert completed.data["payload"]["kpi_values"] == {"N15419": kolada_value + 2.5}
            assert completed.data["payload"]["corrections"] == {"N15419": reason}


async def _seen_over_the_api_and_the_web(
    client: Client, settings: Settings, pool: asyncpg.Pool, workflow_id: str, follow_up: TaskView, value: float
) -> None:
    app = create_app(pool=pool, client=client, task_queue=settings.task_queue, web_base_url=BASE)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as visitor:
        token = await issue_token(pool, follow_up.assignee_id, "participant")
        detail = await visitor.get(
            f"/api/v1/pilots/{workflow_id}/tasks/{FOLLOW_UP}", headers={"Authorization": f"Bearer {token}"}
        )
        assert detail.status_code == 200, detail.text
        assert detail.json()["prefill"] == follow_up.prefill

        path = f"/pilots/{workflow_id}/tasks/{FOLLOW_UP}"
        signed_in = await follow_sign_in_link(
            visitor, f"{path}?token={await issue_sign_in_link(pool, follow_up.assignee_id)}"
        )
        assert signed_in.status_code == 303, signed_in.text
        page = await visitor.get(path)
        assert page.status_code == 200
        assert f"Nyckeltal från Kolada för {follow_up.prefill['year']}" in page.text
        shown = repr(value).removesuffix(".0").replace(".", ",")
        assert re.search(rf'name="kpi_values\[0\]\[value\]"[^>]*value="{re.escape(shown)}"', page.text), page.text
        assert 'name="kpi_values[0][key]"' in page.text and 'value="N15419"' in page.text
