"""The composition root: settings, pools and clients in, a Temporal worker out. Nothing else lives here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import structlog
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.digests import Digests
from activities.event_recording import EventRecording
from activities.kpi_gathering import KpiGathering
from activities.notifications import Notifications
from adapters.kolada import RETRY_DELAYS, KoladaClient, KoladaError, check_gathered_kpis
from adapters.mail import SmtpMailer, SmtpSettings
from database import create_pool
from eventstore import EventStore
from observability import configure_logging
from projections import InboxProjection
from settings import Settings
from temporal_connection import TemporalConnectError, connect_temporal
from workflows.daily_digest import DailyDigestWorkflow
from workflows.digest_schedule import ensure_digest_schedule
from workflows.municipality import MunicipalityWorkflow

WORKFLOWS = [MunicipalityWorkflow, DailyDigestWorkflow]


def workflow_runner(*, strict: bool = False) -> WorkflowRunner:
    """What the workflows run in: no sandbox in the worker, the SDK's default sandbox in the workflow tests.

    The sandbox re-imports a workflow's module for every run and checks the calls made from it. The worker used to
    pass `workflows.municipality` through it instead (a copy of the module per cached pilot was over a quarter of a
    worker's memory, BENCHMARKS.md), and the module imports the domain passed through as well: the sandbox then
    checked nothing of Leda's own code, yet still cost a fifth of the worker's CPU (each activation swaps the
    sandbox's modules in and out, and each payload asks it for a serialisation context; BENCHMARKS.md, Sweden). So
    the worker runs the workflows unsandboxed. What keeps them deterministic is checked where it can be: the
    workflow tests run `strict`, in the default sandbox, which loads the workflow module for every run and refuses
    a non-deterministic call made from it; the module keeps no state of its own (tests/unit/test_workflow_module.py);
    and the replay tests replay stored histories (tests/workflows/test_replay.py).
    """
    if strict:
        return SandboxedWorkflowRunner()
    return UnsandboxedWorkflowRunner()


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A runtime serving the SDK's Prometheus metrics on `settings.metrics_bind_address`; None when it is unset.

    Only the worker process creates one: a CLI command sharing the environment must not take the port.
    """
    if settings.metrics_bind_address is None:
        return None
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.metrics_bind_address)))
    except ValueError as error:  # the SDK reports a taken port this way
        raise SystemExit(f"cannot serve metrics on {settings.metrics_bind_address}: {error}") from None


@asynccontextmanager
async def running_worker(
    client: Client, settings: Settings, pool: asyncpg.Pool, *, strict_sandbox: bool = False
) -> AsyncIterator[Worker]:
    """A worker polling `settings.task_queue`, and the inbox projection kept current, while the block runs.

    Also makes sure the daily digest's schedule exists and starts its workflow on this task queue.
    """
    async with httpx.AsyncClient(timeout=30) as http:
        recording = EventRecording(pool, EventStore(pool))
        mailer = mailer_for(settings)
        mail = Notifications(pool, mailer, sender=settings.mail_from, web_base_url=settings.web_base_url)
        digests = Digests(
            pool,
            mailer,
            InboxProjection(pool),
            sender=settings.mail_from,
            web_base_url=settings.web_base_url,
        )
        kolada = KoladaClient(settings.kolada_base_url, http, retry_delays=RETRY_DELAYS[: settings.kolada_retries])
        kpis = KpiGathering(kolada, settings.kolada_base_url)
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=WORKFLOWS,
            workflow_runner=workflow_runner(strict=strict_sandbox),
            activities=[
                recording.append_events,
                recording.record_decision,
                mail.send_notification,
                digests.send_digests,
                kpis.gather_kpis,
                kpis.gather_follow_up_figures,
            ],
        )
        await ensure_digest_schedule(
            client, task_queue=settings.task_queue, at=settings.digest_time, time_zone=settings.digest_timezone
        )
        stop_projecting = asyncio.Event()
        projector = asyncio.create_task(InboxProjection(pool).run(stop=stop_projecting))
        try:
            async with worker:
                yield worker
        finally:
            stop_projecting.set()
            await projector
            await asyncio.to_thread(mailer.close)


def mailer_for(settings: Settings) -> SmtpMailer:
    """The SMTP client the settings describe."""
    return SmtpMailer(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            security=settings.smtp_security,
            ca_file=settings.smtp_ca_file,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
    )


@asynccontextmanager
async def serving_api(client: Client, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The HTTP API and the web pages on `settings.api_host:api_port` while the block runs; yields its base URL."""
    import uvicorn

    from api.app import create_app

    app = create_app(
        pool=pool,
        client=client,
        task_queue=settings.task_queue,
        web_base_url=settings.web_base_url,
        mailer=mailer_for(settings),
        mail_sender=settings.mail_from,
        max_body_bytes=settings.max_request_bytes,
        accessibility_contact=settings.accessibility_contact,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_config=None, lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    # uvicorn reports start-up only through this flag; there is no event to wait on.
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if serving.done():
        serving.result()  # raises why it could not start (the port is taken, say)
        raise RuntimeError(f"the API stopped at once on {settings.api_host}:{settings.api_port}")
    try:
        yield f"http://{settings.api_host}:{settings.api_port}"
    finally:
        server.should_exit = True
        await serving


async def serve(settings: Settings) -> None:
    """Run a worker until cancelled: `python worker.py` or `leda worker`, one per process, as many as needed."""
    configure_logging(settings.log_level, settings.log_format)
    if settings.database_url is None:
        raise SystemExit("DATABASE_URL (or LEDA_DATABASE_URL) must be set for a standalone worker")
    client = await connect_temporal(settings, runtime=metrics_runtime(settings))
    pool = await create_pool(settings.database_url)
    try:
        async with running_worker(client, settings, pool):
            await warn_of_kpi_problems(settings)
            await asyncio.Event().wait()
    finally:
        await pool.close()


async def warn_of_kpi_problems(settings: Settings) -> None:
    """Look the data pack's KPIs up in Kolada once, at start, and warn of ids it does not know or unit KPIs it
    does not publish per unit (as `leda kolada check` reports them). A warning only: a worker runs on without."""
    log = structlog.get_logger("worker")
    async with httpx.AsyncClient() as http:
        try:
            _, problems = await check_gathered_kpis(KoladaClient(settings.kolada_base_url, http, retry_delays=()))
        except KoladaError as error:
            log.warning("could not check the data pack's KPIs at Kolada", error=str(error))
            return
    for problem in problems:
        log.warning("a KPI the data pack gathers is not as Kolada publishes it", problem=problem)


if __name__ == "__main__":
    try:
        asyncio.run(serve(Settings()))
    except TemporalConnectError as error:
        raise SystemExit(str(error)) from None
