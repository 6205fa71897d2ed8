"""Temporal over mutual TLS: the real dev server behind a TLS proxy that requires a client certificate.

The proxy (devstack/tls_proxy.py) stands for a secured cluster: the worker, the API process and the CLI reach it
only with the right CA, client certificate and key, and every wrong or missing one stops them at start with one
line that names the setting to fix. The certificates are made for this module (tests/tls_pki.py).

The proxy runs on the test's event loop, so the CLI is run with asyncio's subprocesses, never a blocking call.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import ScheduleActionStartWorkflow
from temporalio.service import TLSConfig

from access import issue_token
from devstack.ports import free_port
from devstack.temporal import TemporalDevServer
from devstack.tls_proxy import TlsProxy, server_context
from domain.state import TaskStatus
from pilots import pilot_status, start_pilot
from settings import Settings
from temporal_connection import TemporalConnectError, connect_temporal
from tests.tls_pki import Pki, make_pki
from worker import running_worker
from workflows.digest_schedule import DIGEST_SCHEDULE_ID

pytestmark = pytest.mark.devserver

LEDA = str(Path(sys.executable).parent / "leda")
API_KEY = "leda-test-api-key-0f3c9a"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("temporal-pki"))


@pytest_asyncio.fixture(scope="module")
async def mtls_proxy(dev_server: TemporalDevServer, pki: Pki) -> AsyncIterator[TlsProxy]:
    """The dev server behind TLS with the test CA's server certificate, requiring a client certificate of that CA."""
    context = server_context(pki.server_file, pki.server_file, client_ca_file=pki.ca_file)
    async with TlsProxy(context, dev_server.address, free_port()) as proxy:
        yield proxy


def over_mtls(settings: Settings, proxy: TlsProxy, pki: Pki, **changes: Any) -> Settings:
    """`settings` reaching Temporal through the proxy with the test CA and client certificate, then `changes`."""
    return settings.model_copy(
        update={
            "temporal_address": proxy.address,
            "temporal_tls_ca_file": pki.ca_file,
            "temporal_tls_cert_file": pki.client_cert_file,
            "temporal_tls_key_file": pki.client_key_file,
            **changes,
        }
    )


def mtls_env(proxy: TlsProxy, pki: Pki, database_url: str, data_dir: Path, **changes: str | None) -> dict[str, str]:
    """The environment of a `leda` process reaching Temporal through the proxy; a change to None drops a variable."""
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("LEDA_")},
        "DATABASE_URL": database_url,
        "LEDA_DATA_DIR": str(data_dir),
        "LEDA_TEMPORAL_ADDRESS": proxy.address,
        "LEDA_TEMPORAL_TLS_CA_FILE": str(pki.ca_file),
        "LEDA_TEMPORAL_TLS_CERT_FILE": str(pki.client_cert_file),
        "LEDA_TEMPORAL_TLS_KEY_FILE": str(pki.client_key_file),
    }
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


async def leda(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LEDA, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(), err.decode()


def one_line(stderr: str) -> str:
    """The single line a failed command printed, checked to be alone and no traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


# ---- what works over mutual TLS ------------------------------------------------------------------------------------


async def test_a_worker_and_a_client_run_a_pilot_and_set_up_the_digest_schedule_over_mutual_tls(
    settings: Settings, db_pool: asyncpg.Pool, mtls_proxy: TlsProxy, pki: Pki
) -> None:
    secured = over_mtls(settings, mtls_proxy, pki)
    forwarded = mtls_proxy.forwarded

    client = await connect_temporal(secured)

    assert isinstance(client.service_client.config.tls, TLSConfig)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=secured.temporal_namespace)
    )
    assert described.namespace_info.name == secured.temporal_namespace
    async with running_worker(client, secured, db_pool):
        # The worker made sure of the digest schedule through the same TLS client.
        schedule = await client.get_schedule_handle(DIGEST_SCHEDULE_ID).describe()
        assert isinstance(schedule.schedule.action, ScheduleActionStartWorkflow)
        assert schedule.schedule.action.task_queue == secured.task_queue

        workflow_id = await start_pilot(
            client,
            db_pool,
            programme=f"tls-{uuid.uuid4().hex[:8]}",
            kommunkod="1861",
            template_key="demo",
            task_queue=secured.task_queue,
        )
        try:
            for _ in range(200):  # the first tasks open once the worker has run the workflow and its activities
                status = await pilot_status(client, workflow_id)
                if any(task.status is TaskStatus.OPEN for task in status.tasks):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError(f"no task opened in {workflow_id} over TLS")
        finally:
            await client.get_workflow_handle(workflow_id).terminate(reason="test over")
    assert mtls_proxy.forwarded > forwarded  # the traffic really went through the TLS proxy


async def test_the_cli_lists_pilots_over_mutual_tls(
    database_url: str, db_pool: asyncpg.Pool, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    token = await issue_token(db_pool, "p-1861-programledare", "operations")
    env = mtls_env(mtls_proxy, pki, database_url, tmp_path, LEDA_TOKEN=token)
    forwarded = mtls_proxy.forwarded

    code, out, err = await leda(env, "list", "--kommunkod", "1861", "--all", "--json")

    assert code == 0, err
    assert isinstance(json.loads(out), list)
    assert mtls_proxy.forwarded > forwarded


async def test_an_api_key_is_sent_with_the_client_and_never_printed(
    settings: Settings, database_url: str, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    # The SDK sends the client's api_key as `authorization: Bearer …` on every call; the dev server ignores it.
    client = await connect_temporal(over_mtls(settings, mtls_proxy, pki, temporal_api_key=SecretStr(API_KEY)))
    assert client.api_key == API_KEY
    await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=settings.temporal_namespace))

    # A worker failing at start, logging everything it can, prints neither the key nor anything that holds it.
    env = mtls_env(
        mtls_proxy,
        pki,
        database_url,
        tmp_path,
        LEDA_TEMPORAL_API_KEY=API_KEY,
        LEDA_TEMPORAL_TLS_CA_FILE=str(pki.other_ca_file),
        LEDA_LOG_LEVEL="DEBUG",
    )
    code, out, err = await leda(env, "worker")
    assert code == 3, err
    assert API_KEY not in out + err
    assert "LEDA_TEMPORAL_TLS_CA_FILE" in err


# ---- what stops a process at start, with one line -----------------------------------------------------------------


async def test_a_server_certificate_from_another_ca_stops_the_worker_with_one_line_naming_the_ca_setting(
    database_url: str, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    env = mtls_env(mtls_proxy, pki, database_url, tmp_path, LEDA_TEMPORAL_TLS_CA_FILE=str(pki.other_ca_file))

    code, _, err = await leda(env, "worker")

    assert code == 3
    assert one_line(err) == (
        f"leda: cannot connect to Temporal at {mtls_proxy.address} over TLS: "
        f"the server's certificate is not signed by LEDA_TEMPORAL_TLS_CA_FILE ({pki.other_ca_file})"
    )


async def test_a_missing_client_certificate_stops_the_api_with_one_line_naming_the_certificate_setting(
    database_url: str, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    env = mtls_env(
        mtls_proxy, pki, database_url, tmp_path, LEDA_TEMPORAL_TLS_CERT_FILE=None, LEDA_TEMPORAL_TLS_KEY_FILE=None
    )
    refused = mtls_proxy.refused

    code, _, err = await leda(env, "api")

    assert code == 3
    assert one_line(err) == (
        f"leda: cannot connect to Temporal at {mtls_proxy.address} over TLS: "
        "the server asked for a client certificate: set LEDA_TEMPORAL_TLS_CERT_FILE and LEDA_TEMPORAL_TLS_KEY_FILE"
    )
    assert mtls_proxy.refused > refused  # refused in the TLS handshake, as a cluster requiring mTLS refuses it


async def test_a_client_certificate_without_its_key_stops_the_worker_before_it_connects(
    database_url: str, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    env = mtls_env(mtls_proxy, pki, database_url, tmp_path, LEDA_TEMPORAL_TLS_KEY_FILE="")

    code, _, err = await leda(env, "worker")

    assert code == 3
    assert one_line(err).startswith(
        "leda: invalid setting LEDA_TEMPORAL_TLS_KEY_FILE: not set, but LEDA_TEMPORAL_TLS_CERT_FILE is"
    )


async def test_a_ca_file_that_does_not_exist_stops_the_cli_naming_the_setting(
    database_url: str, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    env = mtls_env(mtls_proxy, pki, database_url, tmp_path, LEDA_TEMPORAL_TLS_CA_FILE=str(missing))

    code, _, err = await leda(env, "api")

    assert code == 3
    assert one_line(err) == f"leda: invalid setting LEDA_TEMPORAL_TLS_CA_FILE: no such file: {missing}"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "a client certificate the server does not trust",
            "the server refused the client certificate LEDA_TEMPORAL_TLS_CERT_FILE",
        ),
        ("a server name the certificate does not carry", "set LEDA_TEMPORAL_TLS_SERVER_NAME to a name it carries"),
        ("no CA file for a private CA", "not signed by a CA this system trusts; set LEDA_TEMPORAL_TLS_CA_FILE"),
        ("TLS to a plain-text port", "the server does not speak TLS on this port"),
        ("plain text to a TLS port", "set LEDA_TEMPORAL_TLS=true"),
        ("no server at the address", "cannot reach Temporal at"),
    ],
)
async def test_each_failure_at_connect_is_one_line_naming_what_to_fix(
    case: str, expected: str, settings: Settings, dev_server: TemporalDevServer, mtls_proxy: TlsProxy, pki: Pki
) -> None:
    secured = over_mtls(settings, mtls_proxy, pki)
    configured = {
        "a client certificate the server does not trust": over_mtls(
            settings,
            mtls_proxy,
            pki,
            temporal_tls_cert_file=pki.other_client_cert_file,
            temporal_tls_key_file=pki.other_client_key_file,
        ),
        "a server name the certificate does not carry": over_mtls(
            settings, mtls_proxy, pki, temporal_tls_server_name="temporal.example.invalid"
        ),
        "no CA file for a private CA": over_mtls(settings, mtls_proxy, pki, temporal_tls_ca_file=None),
        "TLS to a plain-text port": over_mtls(settings, mtls_proxy, pki, temporal_address=dev_server.address),
        "plain text to a TLS port": settings.model_copy(update={"temporal_address": mtls_proxy.address}),
        "no server at the address": secured.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"}),
    }[case]

    with pytest.raises(TemporalConnectError) as raised:
        await connect_temporal(configured)

    message = str(raised.value)
    assert expected in message and "\n" not in message, message
    if case == "a server name the certificate does not carry":
        assert "(it names 127.0.0.1, localhost)" in message


async def test_a_tls_file_gone_since_the_settings_were_read_is_one_line_naming_its_setting(
    settings: Settings, mtls_proxy: TlsProxy, pki: Pki, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.ca_file.read_bytes())
    secured = over_mtls(settings, mtls_proxy, pki, temporal_tls_ca_file=ca_file)
    ca_file.unlink()  # a certificate rotated away between reading the settings and connecting

    with pytest.raises(TemporalConnectError, match=f"^cannot read LEDA_TEMPORAL_TLS_CA_FILE {ca_file}: "):
        await connect_temporal(secured)
