"""The composition root: settings, pools and clients in, a Temporal worker out. Nothing else lives here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.digests import Digests
from activities.event_recording import EventRecording
from activities.kolada import KoladaClient
from activities.kpi_gathering import KpiGathering
from activities.notifications import Notifications, SmtpMailer, SmtpSettings
from database import create_pool
from eventstore import EventStore
from observability import configure_logging
from projections import InboxProjection
from settings import Settings
from workflows.daily_digest import DailyDigestWorkflow
from workflows.digest_schedule import ensure_digest_schedule
from workflows.municipality import MunicipalityWorkflow

WORKFLOWS = [MunicipalityWorkflow, DailyDigestWorkflow]


def workflow_runner(*, strict: bool = False) -> WorkflowRunner:
    """The sandbox the workflows run in.

    By default it shares `workflows.municipality` between runs instead of loading the module anew for each: a copy
    per cached pilot was over a quarter of a worker's memory (BENCHMARKS.md). The module keeps no state of its own
    (tests/unit/test_workflow_module.py), so sharing it changes nothing a pilot does. What sharing gives up is the
    sandbox's check of the module's own calls (a `datetime.now()` written in it would not be refused), so the
    workflow tests run `strict`, with the default sandbox, which loads and checks the module for every run.
    """
    if strict:
        return SandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows.municipality")
    )


CONNECT_TIMEOUT = timedelta(seconds=10)
"""How long a process waits for Temporal at start before it gives up with one line; a supervisor restarts it."""


class TemporalConnectError(RuntimeError):
    """Leda could not connect to Temporal. The message is one line that names the setting to fix.

    `unreachable` is True when nothing answered at the address (refused, unknown host, no answer in time), as
    opposed to a server that answered and refused this client.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


async def connect_temporal(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client that speaks pydantic, as every Leda process must, so workflows see the same models.

    Over TLS when the settings ask for it (a CA, a client certificate for mutual TLS, an API key). A failure is a
    `TemporalConnectError` whose one line names the setting to fix, never the SDK's nested transport error.

    `runtime` None is the SDK's default runtime, which serves no metrics: only `serve` passes one that does.
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key is not None else None
    tls = temporal_tls_config(settings)
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            runtime=runtime,
            tls=tls,
            api_key=api_key,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except RuntimeError as error:  # the SDK's core reports every connection failure this way
        raise _connect_failure(settings, str(error)) from error


def temporal_tls_config(settings: Settings) -> TLSConfig | bool:
    """The SDK's TLS configuration from the settings; False for plain text.

    Without a CA file the server's certificate is checked against the system's roots (Temporal Cloud). The files
    are read here, at connect time, so a certificate renewed on disk is picked up when the process restarts.
    """
    if not settings.temporal_tls_enabled:
        return False
    return TLSConfig(
        server_root_ca_cert=_read_tls_file(settings.temporal_tls_ca_file, "LEDA_TEMPORAL_TLS_CA_FILE"),
        domain=settings.temporal_tls_server_name,
        client_cert=_read_tls_file(settings.temporal_tls_cert_file, "LEDA_TEMPORAL_TLS_CERT_FILE"),
        client_private_key=_read_tls_file(settings.temporal_tls_key_file, "LEDA_TEMPORAL_TLS_KEY_FILE"),
    )


def _read_tls_file(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:  # checked when the settings were read, but a file can go away since
        raise TemporalConnectError(f"cannot read {setting} {path}: {error.strerror}") from None


_CLIENT_CERT_REFUSALS = ("CertificateRequired", "HandshakeFailure", "BadCertificate", "UnknownCA", "CertificateUnknown")
"""TLS alerts a server sends when it does not accept the client's certificate, or the lack of one."""
_CLOSED_AT_START = ("connection closed", "UnexpectedEof", "close_notify", "BrokenPipe", "ConnectionReset")
"""How the core reports a server that hung up at once; over TLS without a client certificate, mTLS refusing it."""
_UNREACHABLE = ("ConnectionRefused", "Connection refused", "dns error", "timed out", "Timeout", "Elapsed")


def _connect_failure(settings: Settings, reason: str) -> TemporalConnectError:
    """The one line for a failed `Client.connect`, from the SDK's nested error text (Rust debug output).

    The SDK raises a bare RuntimeError whose text is the only clue; what each case looks like was observed with
    the SDK against a TLS proxy (tests/integration/test_temporal_tls.py).
    """
    address = settings.temporal_address
    if any(marker in reason for marker in _UNREACHABLE):
        return TemporalConnectError(f"cannot reach Temporal at {address} ({_detail(reason)})", unreachable=True)
    if not settings.temporal_tls_enabled:
        if any(marker in reason for marker in _CLOSED_AT_START):
            return TemporalConnectError(
                f"cannot connect to Temporal at {address}: the server hung up at once, as a server that requires TLS "
                "does; set LEDA_TEMPORAL_TLS=true (and LEDA_TEMPORAL_TLS_CA_FILE for a private CA)"
            )
        return TemporalConnectError(f"cannot connect to Temporal at {address}: {_detail(reason)}")
    where = f"cannot connect to Temporal at {address} over TLS"
    ca_file, cert_file = settings.temporal_tls_ca_file, settings.temporal_tls_cert_file
    if "UnknownIssuer" in reason:
        if ca_file is not None:
            return TemporalConnectError(
                f"{where}: the server's certificate is not signed by LEDA_TEMPORAL_TLS_CA_FILE ({ca_file})"
            )
        return TemporalConnectError(
            f"{where}: the server's certificate is not signed by a CA this system trusts; "
            "set LEDA_TEMPORAL_TLS_CA_FILE to the CA that signed it"
        )
    if "NotValidForName" in reason:
        presented = re.findall(r'(?:DnsName|IpAddress)\(\\?"?([^")\\]+)', reason.split("presented", 1)[-1])
        carries = f" (it names {', '.join(presented)})" if presented else ""
        name = settings.temporal_tls_server_name or address.rpartition(":")[0]
        return TemporalConnectError(
            f"{where}: the server's certificate is not for {name}{carries}; "
            "set LEDA_TEMPORAL_TLS_SERVER_NAME to a name it carries"
        )
    if "Expired" in reason or "NotValidYet" in reason:
        return TemporalConnectError(
            f"{where}: the server's certificate is outside its validity period (or this machine's clock is wrong)"
        )
    if "InvalidContentType" in reason or "CorruptMessage" in reason:
        return TemporalConnectError(
            f"{where}: the server does not speak TLS on this port; check LEDA_TEMPORAL_ADDRESS, or unset the "
            "LEDA_TEMPORAL_TLS settings for a plain-text server"
        )
    if "InconsistentKeys" in reason:
        return TemporalConnectError(
            f"{where}: LEDA_TEMPORAL_TLS_KEY_FILE is not the key of LEDA_TEMPORAL_TLS_CERT_FILE"
        )
    refused_certificate = any(alert in reason for alert in _CLIENT_CERT_REFUSALS)
    if refused_certificate or any(marker in reason for marker in _CLOSED_AT_START):
        if cert_file is None:
            return TemporalConnectError(
                f"{where}: the server asked for a client certificate: "
                "set LEDA_TEMPORAL_TLS_CERT_FILE and LEDA_TEMPORAL_TLS_KEY_FILE"
            )
        return TemporalConnectError(
            f"{where}: the server refused the client certificate LEDA_TEMPORAL_TLS_CERT_FILE ({cert_file}); "
            f"is it signed by a CA the server trusts, and current? ({_detail(reason)})"
        )
    if "Unauthenticated" in reason or "PermissionDenied" in reason:
        if settings.temporal_api_key is not None:
            return TemporalConnectError(f"{where}: the server refused LEDA_TEMPORAL_API_KEY ({_detail(reason)})")
        return TemporalConnectError(
            f"{where}: the server wants credentials: set LEDA_TEMPORAL_API_KEY, or LEDA_TEMPORAL_TLS_CERT_FILE and "
            f"LEDA_TEMPORAL_TLS_KEY_FILE ({_detail(reason)})"
        )
    return TemporalConnectError(f"{where}: {_detail(reason)}")


def _detail(reason: str) -> str:
    """The innermost readable part of the core's error, on one line: `received fatal alert: UnknownCA`."""
    for pattern in (r'error: "([^"]+)"', r'message: "([^"]+)"', r"error: (\w+(?:\(\w+\))?)"):
        found = re.findall(pattern, reason)
        if found:
            return str(found[-1])
    return " ".join(reason.removeprefix("Failed client connect: ").split())[:200]


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
        kpis = KpiGathering(KoladaClient(settings.kolada_base_url, http), settings.kolada_base_url)
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
            await asyncio.Event().wait()
    finally:
        await pool.close()


if __name__ == "__main__":
    try:
        asyncio.run(serve(Settings()))
    except TemporalConnectError as error:
        raise SystemExit(str(error)) from None
