"""No secret in any log: the worker and the API as processes, at DEBUG, in both log formats.

The scenario does what put secrets in logs before: a participant signs in by a mailed link (its token in the
address), the API fails with a 500 while a session cookie and an API token are in hand, the mail relay cannot be
reached (so a mail with a sign-in link fails, and so does the activity that sends it), and a token that is no token
is refused. Then every line every process wrote (worker, API, the CLI's errors, the Temporal server) is searched
for every live secret: those the test holds in clear, and any string whose SHA-256 is a stored link, session or
token, which finds the links the worker issued for mails that never went out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import pytest_asyncio

from devstack.kolada import KoladaSampleServer
from devstack.ports import free_port
from devstack.temporal import TemporalDevServer
from tests.databases import DatabaseUrls, database_of_its_own
from tests.sign_in_links import link_page_form
from web.site import SESSION_COOKIE

pytestmark = pytest.mark.devserver

LEDA = str(Path(sys.executable).parent / "leda")
PARTICIPANTS_CSV = Path(__file__).parents[2] / "devstack" / "sample_data" / "synthetic_participants_1861.csv"
LEAD = "p-1861-programledare"
RECTOR = "p-1861-rektor"
RECTOR_MAIL = "rektor.1861@example.invalid"

_URLSAFE_RUN = re.compile(r"[A-Za-z0-9_-]{20,}")


@dataclass
class Scenario:
    """What the test drove, and every secret it saw in clear."""

    logs: list[Path] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)


@pytest_asyncio.fixture
async def own_database(postgres_server: tuple[str, dict[str, str]]) -> AsyncIterator[DatabaseUrls]:
    """A database of this test's own: its tables are broken on purpose."""
    async with database_of_its_own(postgres_server, "leda_logs") as urls:
        yield urls


def appending(log: Path) -> BinaryIO:
    return log.open("ab")


async def run(env: dict[str, str], *args: str, log: Path) -> str:
    """A CLI command; its stderr (where it logs) goes to `log`, its stdout (what it prints for the user) is returned."""
    with appending(log) as errors:
        process = await asyncio.create_subprocess_exec(
            LEDA, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=errors
        )
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, args
    return out.decode().strip()


async def started(env: dict[str, str], *args: str, log: Path) -> asyncio.subprocess.Process:
    with appending(log) as handle:
        return await asyncio.create_subprocess_exec(LEDA, *args, env=env, stdout=handle, stderr=handle)


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    for _ in range(int(within / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never: {what}")


def has(path: Path, *texts: str) -> Callable[[], Awaitable[bool]]:
    """A check that `path` holds every one of `texts` (read off the event loop)."""

    async def check() -> bool:
        text = await asyncio.to_thread(lambda: path.read_text() if path.exists() else "")
        return all(t in text for t in texts)

    return check


STORED_SECRET_HASHES = (
    "SELECT token_hash FROM sign_in_links UNION ALL SELECT session_hash FROM web_sessions "
    "UNION ALL SELECT token_hash FROM api_tokens"
)


def candidates(line: str) -> set[str]:
    """Every string in `line` that could be a token: each run of URL-safe characters, and its tails at `leda_`
    and of a token's length (a run may begin with the `3D` of a URL-encoded `=`)."""
    found: set[str] = set()
    for run in _URLSAFE_RUN.findall(line):
        found.add(run)
        found.update(run[i:] for i in range(len(run)) if run.startswith("leda_", i))
        found.add(run[-43:])
    return found


@pytest.mark.parametrize("log_format", ["console", "json"])
async def test_no_secret_reaches_any_log(
    log_format: str,
    tmp_path: Path,
    own_database: DatabaseUrls,
    dev_server: TemporalDevServer,
    kolada_server: KoladaSampleServer,
) -> None:
    smtp_password = secrets.token_urlsafe(16)
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "DATABASE_URL": own_database.runtime,
        "LEDA_TEMPORAL_ADDRESS": dev_server.address,
        "LEDA_TASK_QUEUE": f"logs-{uuid.uuid4().hex[:8]}",
        "LEDA_SMTP_HOST": "127.0.0.1",
        "LEDA_SMTP_PORT": str(free_port()),  # nothing listens: every mail fails
        "LEDA_SMTP_USERNAME": "leda",
        "LEDA_SMTP_PASSWORD": smtp_password,
        "LEDA_KOLADA_BASE_URL": kolada_server.base_url,
        "LEDA_API_PORT": str(api_port),
        "LEDA_WEB_BASE_URL": base,
        "LEDA_DATA_DIR": str(tmp_path / "data"),
        "LEDA_LOG_FORMAT": log_format,
        "LEDA_LOG_LEVEL": "DEBUG",
    }
    held = {"smtp password": smtp_password, "database password": urlsplit(own_database.runtime).password}
    cli_log, worker_log, api_log = tmp_path / "cli.log", tmp_path / "worker.log", tmp_path / "api.log"

    await run(env, "participants", "import", str(PARTICIPANTS_CSV), log=cli_log)
    held["lead's API token"] = await run(env, "token", "issue", LEAD, "--scope", "programme_lead", log=cli_log)
    link = await run(env, "sign-in-link", RECTOR, "--page", "/inbox", log=cli_log)
    held["sign-in link"] = link.rsplit("=", 1)[1]

    worker = await started(env, "worker", log=worker_log)
    api = await started(env, "api", log=api_log)
    pool = await asyncpg.create_pool(own_database.admin, min_size=1, max_size=2)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:

            async def api_up() -> bool:
                try:
                    return (await http.get("/openapi.json")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(api_up, "the API answers")
            lead = {"Authorization": "Bearer " + held["lead's API token"]}
            body = {"programme": f"logs-{uuid.uuid4().hex[:6]}", "kommunkod": "1861", "template_key": "lfr-skola"}
            assert (await http.post("/api/v1/pilots", json=body, headers=lead)).status_code == 201

            # Sign in by the link: its page, then its button.
            shown = await http.get(link.removeprefix(base))
            assert shown.status_code == 200
            fields = link_page_form(shown.text)
            held["link page's nonce"] = fields["nonce"]
            assert (await http.post("/sign-in/link", data=fields)).status_code == 303
            held["session cookie"] = http.cookies[SESSION_COOKIE]
            inbox = await http.get("/inbox")
            assert inbox.status_code == 200
            held["form token"] = re.search(r'name="_form" value="([0-9a-f]{64})"', inbox.text)[1]  # type: ignore[index]

            # A sign-in link asked for on the page, whose mail cannot go out.
            assert (await http.post("/sign-in", data={"email": RECTOR_MAIL, "next": "/inbox"})).status_code == 200
            # A token that is no token.
            refused = await http.get("/api/v1/me/inbox", headers={"Authorization": "Bearer leda_api_" + "x" * 43})
            assert refused.status_code == 401

            # 500s with a session cookie and an API token in hand: the tables they are looked up in are away.
            await pool.execute("ALTER TABLE web_sessions RENAME TO web_sessions_away")
            await pool.execute("ALTER TABLE api_tokens RENAME TO api_tokens_away")
            try:  # uvicorn closes the connection after an unhandled error: each request on a connection of its own
                cookie = {SESSION_COOKIE: held["session cookie"]}
                async with httpx.AsyncClient(base_url=base, cookies=cookie) as browser:
                    assert (await browser.get("/inbox")).status_code == 500
                async with httpx.AsyncClient(base_url=base) as integration:
                    assert (await integration.get("/api/v1/me/inbox", headers=lead)).status_code == 500
            finally:
                await pool.execute("ALTER TABLE web_sessions_away RENAME TO web_sessions")
                await pool.execute("ALTER TABLE api_tokens_away RENAME TO api_tokens")

        await until(has(worker_log, "send_notification", "Connection refused"), "the worker logs a failed mail")
        await until(has(api_log, "could not be mailed"), "the API logs the sign-in mail it could not send")
        stored = {row[0] for row in await pool.fetch(STORED_SECRET_HASHES)}
    finally:
        await pool.close()
        await stop(api)
        await stop(worker)

    logs = {path.name: path.read_text(errors="replace") for path in (cli_log, worker_log, api_log)}
    logs["temporal.log"] = dev_server.log_file.read_text(errors="replace")
    assert "500" in logs["api.log"] and "Traceback" in logs["api.log"]  # the failures were logged, with tracebacks
    assert "/inbox?token=" in logs["api.log"] or "token=[redacted]" in logs["api.log"]  # the link's request was

    leaks = []
    for name, text in logs.items():
        for number, line in enumerate(text.splitlines(), 1):
            leaks += [f"{name}:{number}: the {what}" for what, value in held.items() if value in line]
            leaks += [
                f"{name}:{number}: a stored link, session or token ({found[:12]}…)"
                for found in candidates(line)
                if hashlib.sha256(found.encode()).hexdigest() in stored
            ]
    assert not leaks, "secrets in the logs:\n" + "\n".join(leaks)
