"""The API's OpenAPI schema fuzzed with schemathesis: no request the schema allows, or breaks, gets a 5xx.

Schemathesis loads the schema from the ASGI app and generates requests for every operation, valid ones and
invalid ones (positive and negative generation), with a programme lead's bearer token; some use the path of a
running pilot and one of its open tasks, so that the requests reach the workflow and not only the edge. Every
answer must be below 500, and every error problem+json.

Schemathesis runs an ASGI app on an event loop of its own, in a thread; the app's PostgreSQL pool and Temporal
client are bound to the loop that opened them, so `ServedApi` opens them there, at the app's start-up. The
worker runs on the test's own loop meanwhile.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter

from access import issue_token
from api.app import create_app
from api.problems import PROBLEM_MEDIA_TYPE
from database import create_pool
from devstack.temporal import TemporalDevServer
from domain.state import TaskStatus
from pilots import PilotRecords, start_pilot
from settings import Settings
from worker import running_worker

pytestmark = [
    pytest.mark.devserver,
    # The worker, on the test's loop, draws on `random` while Hypothesis generates in its thread; harmless here.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

EXAMPLES = 400
LEAD = "p-1861-programledare"


class ServedApi:
    """The API as `leda api` serves it, opening its pool and Temporal client at start-up, on the serving loop."""

    def __init__(self, database_url: str, temporal_address: str, task_queue: str) -> None:
        self._database_url = database_url
        self._temporal_address = temporal_address
        self._task_queue = task_queue
        self._app: Any = None
        self._pool: asyncpg.Pool | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self._app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._pool = await create_pool(self._database_url)
                client = await Client.connect(self._temporal_address, data_converter=pydantic_data_converter)
                self._app = create_app(pool=self._pool, client=client, task_queue=self._task_queue)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._pool is not None:
                    await self._pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest_asyncio.fixture
async def pilot(dev_client: Client, db_pool: asyncpg.Pool, base_settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """A running pilot with a worker; yields its workflow id and task queue."""
    settings = base_settings.model_copy(update={"task_queue": f"schema-{uuid.uuid4().hex[:8]}"})
    async with running_worker(dev_client, settings, db_pool):
        workflow_id = await start_pilot(
            dev_client,
            db_pool,
            programme=f"schema-{uuid.uuid4().hex[:8]}",
            kommunkod="1861",
            template_key="lfr-skola",
            task_queue=settings.task_queue,
        )
        yield workflow_id, settings.task_queue
        handle = dev_client.get_workflow_handle(workflow_id)
        if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
            await handle.terminate(reason="test over")


async def test_no_request_the_schema_allows_or_breaks_gets_a_server_error(
    pilot: tuple[str, str],
    dev_client: Client,
    dev_server: TemporalDevServer,
    db_pool: asyncpg.Pool,
    database_url: str,
    fault_seed: int,
) -> None:
    workflow_id, task_queue = pilot
    token = await issue_token(db_pool, LEAD, "programme_lead")
    records = PilotRecords(db_pool)  # statuses from the record, as the API reads them, never by a query
    for _ in range(200):  # until its first tasks are open, and the system's own is done
        status = await records.status(workflow_id)
        if any(t.key == "kpi_data_pack" and t.status is TaskStatus.COMPLETED for t in status.tasks):
            break
        await asyncio.sleep(0.05)
    open_tasks = sorted(t.key for t in status.tasks if t.status is TaskStatus.OPEN)
    assert open_tasks
    app = ServedApi(database_url, dev_server.address, task_queue)
    statuses: dict[str, set[int]] = {}

    def fuzz() -> None:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        auth = {"Authorization": f"Bearer {token}"}
        strategies = [
            schema.as_strategy(mode, headers=auth, path_parameters=path)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for path in (
                None,
                {"workflow_id": workflow_id},
                *({"workflow_id": workflow_id, "task_key": k} for k in open_tasks),
            )
        ]

        @seed(fault_seed)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def one(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            case.validate_response(
                response,
                checks=[
                    not_a_server_error,
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )
            statuses.setdefault(case.operation.label, set()).add(response.status_code)
            if response.status_code >= 400:
                assert response.headers["content-type"] == [PROBLEM_MEDIA_TYPE], response.text
                assert response.json()["detail"], response.text

        one()

    await asyncio.to_thread(fuzz)
    print({label: sorted(codes) for label, codes in sorted(statuses.items())})
    assert len(statuses) >= 7, f"operations reached: {sorted(statuses)}"
