"""What operations see of a running worker: the SDK's Prometheus metrics, and JSON log lines that name the pilot.

The worker runs as `leda worker` runs it (`worker.serve`) against the real dev server, with the settings the
compose file gives it: JSON logs and a metrics address.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import structlog
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from devstack.ports import free_port
from devstack.temporal import TemporalDevServer
from observability import configure_logging
from pilots import start_pilot
from settings import Settings
from worker import connect_temporal, serve

pytestmark = pytest.mark.devserver


@dataclass
class ServingWorker:
    settings: Settings
    metrics_url: str
    log: io.StringIO

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.startswith("{")]


def _logging_state() -> tuple[Any, ...]:
    root = logging.getLogger()
    return (
        root.handlers[:],
        root.level,
        structlog.get_config(),
        workflow.logger.workflow_info_on_message,
        activity.logger.activity_info_on_message,
    )


def _restore_logging(state: tuple[Any, ...]) -> None:
    handlers, level, config, workflow_info, activity_info = state
    root = logging.getLogger()
    root.handlers = handlers
    root.setLevel(level)
    structlog.configure(**config)
    workflow.logger.workflow_info_on_message = workflow_info
    activity.logger.activity_info_on_message = activity_info


def _capture_root_handler() -> io.StringIO:
    """Send what the handler `configure_logging` installed writes (to stderr) to a buffer instead."""
    buffer = io.StringIO()
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    return buffer


@pytest_asyncio.fixture(scope="module")
async def serving_worker(base_settings: Settings, dev_server: TemporalDevServer) -> AsyncIterator[ServingWorker]:
    """`leda worker` with JSON logs and metrics on a port of its own, on a task queue of its own."""
    port = free_port()
    settings = base_settings.model_copy(
        update={
            "temporal_address": dev_server.address,
            "task_queue": f"test-observability-{uuid.uuid4().hex[:8]}",
            "log_format": "json",
            "metrics_bind_address": f"127.0.0.1:{port}",
        }
    )
    saved = _logging_state()
    serving = asyncio.create_task(serve(settings))
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(200):
                if serving.done():
                    serving.result()  # raises why the worker stopped
                with suppress(httpx.TransportError):
                    if (await http.get(url)).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                pytest.fail(f"the worker serves no metrics on {url}")
        # serve() configured logging before it opened the metrics port.
        yield ServingWorker(settings=settings, metrics_url=url, log=_capture_root_handler())
    finally:
        serving.cancel()
        with suppress(asyncio.CancelledError):
            await serving
        _restore_logging(saved)


async def test_the_worker_serves_the_sdks_prometheus_metrics(serving_worker: ServingWorker) -> None:
    queue = re.escape(serving_worker.settings.task_queue)
    # Client calls (temporal_request) carry no task queue; the worker's pollers and slots carry ours.
    wanted = {"temporal_long_request", "temporal_num_pollers", "temporal_worker_task_slots_available"}
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(100):  # pollers and slots are reported once the worker has polled
            response = await http.get(serving_worker.metrics_url)
            ours = set(re.findall(rf'^(temporal_\w+)\{{[^}}]*task_queue="{queue}"', response.text, re.MULTILINE))
            if wanted <= ours:
                break
            await asyncio.sleep(0.1)
    assert response.headers["content-type"].startswith("text/plain")
    assert wanted <= ours, response.text[:3000]
    assert re.search(r'^temporal_request\{[^}]*operation="CreateSchedule"', response.text, re.MULTILINE)


async def test_a_cli_command_does_not_take_the_metrics_port(dev_server: TemporalDevServer, settings: Settings) -> None:
    """CLI commands share the worker's environment: only `leda worker` may bind LEDA_METRICS_BIND_ADDRESS."""
    port = free_port()
    configured = settings.model_copy(
        update={"temporal_address": dev_server.address, "metrics_bind_address": f"127.0.0.1:{port}"}
    )
    client = await connect_temporal(configured)
    await client.count_workflows()  # connected and used
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # raises if the client had bound it


async def test_activity_log_lines_carry_workflow_run_and_kommunkod(
    serving_worker: ServingWorker, dev_client: Client, db_pool: asyncpg.Pool
) -> None:
    workflow_id = await start_pilot(
        dev_client,
        db_pool,
        programme=f"obs-{uuid.uuid4().hex[:8]}",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=serving_worker.settings.task_queue,
    )
    try:
        run_id = (await dev_client.get_workflow_handle(workflow_id).describe()).run_id

        def ours() -> list[dict[str, Any]]:
            return [line for line in serving_worker.lines() if line.get("workflow_id") == workflow_id]

        # The start appends events; the automated Kolada data pack is fetched over HTTP (httpx logs each request).
        for _ in range(200):
            loggers = {line.get("logger") for line in ours()}
            if "temporalio.activity" in loggers and "httpx" in loggers:
                break
            await asyncio.sleep(0.05)
        lines = ours()
        assert any(line["event"] == "events appended" and line["activity"] == "append_events" for line in lines)
        assert any(line["logger"] == "httpx" and line["activity"] == "gather_kpis" for line in lines), lines
        for line in lines:
            assert (line["run_id"], line["kommunkod"]) == (run_id, "1861"), line
            assert line["level"] and line["timestamp"]
    finally:
        await dev_client.get_workflow_handle(workflow_id).terminate(reason="test over")


@workflow.defn(name="LoggingProbe", sandboxed=False)
class LoggingProbe:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("probe logged")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    saved = _logging_state()
    configure_logging("INFO", "json")
    try:
        yield _capture_root_handler()
    finally:
        _restore_logging(saved)


@pytest.mark.parametrize("pilot", ["1861", "1083+1272"])
async def test_workflow_log_lines_carry_workflow_run_and_kommunkod(
    dev_client: Client, json_log: io.StringIO, pilot: str
) -> None:
    queue = f"test-probe-{uuid.uuid4().hex[:8]}"
    workflow_id = f"leda-probe-{uuid.uuid4().hex[:8]}-{pilot}"
    async with Worker(dev_client, task_queue=queue, workflows=[LoggingProbe]):
        handle = await dev_client.start_workflow(LoggingProbe.run, id=workflow_id, task_queue=queue)
        await handle.result()
    (line,) = [json.loads(line) for line in json_log.getvalue().splitlines() if "probe logged" in line]
    assert (line["workflow_id"], line["run_id"], line["kommunkod"]) == (workflow_id, handle.result_run_id, pilot)
    assert "temporal_workflow" not in line  # lifted into the flat keys, not repeated
