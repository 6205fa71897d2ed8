"""`leda verify` and `leda participants erase` as an administrator runs them: database access, no token."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from database import migrate
from eventstore import EventStore, NewEvent

LEDA = str(Path(sys.executable).parent / "leda")


async def leda(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LEDA, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


def admin_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("LEDA_TOKEN", "LEDA_DATABASE_URL")}
    return {**env, "DATABASE_URL": database_url, "LEDA_DATA_DIR": str(data_dir)}


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return admin_env(database_url, tmp_path)


@pytest_asyncio.fixture
async def tampered_database(postgres_server_url: str) -> AsyncIterator[tuple[str, uuid.UUID]]:
    """A database of its own with one event changed behind the append-only trigger; yields its url and the event."""
    name = f"leda_cli_verify_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(postgres_server_url)._replace(path=f"/{name}"))
    try:
        await migrate(url)
        pool = await asyncpg.create_pool(url)
        try:
            events = [
                NewEvent(event_id=uuid.uuid4(), event_type="TaskCompleted", schema_version=1, data={"n": n})
                for n in range(3)
            ]
            await EventStore(pool).append("leda-clitest-1861", 0, events)
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute("ALTER TABLE events DISABLE TRIGGER USER")
                await connection.execute(
                    "UPDATE events SET data = '{\"n\": 7}' WHERE event_id = $1", events[1].event_id
                )
                await connection.execute("ALTER TABLE events ENABLE TRIGGER USER")
        finally:
            await pool.close()
        yield url, events[1].event_id
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_verify_reports_intact_chains_or_names_the_altered_event(
    env: dict[str, str], db_pool: asyncpg.Pool, tampered_database: tuple[str, uuid.UUID], tmp_path: Path
) -> None:
    event = NewEvent(event_id=uuid.uuid4(), event_type="TaskCompleted", schema_version=1, data={})
    await EventStore(db_pool).append(f"clitest-{uuid.uuid4().hex[:8]}", 0, [event])
    url, altered = tampered_database
    tampered = admin_env(url, tmp_path)

    # Independent commands side by side: each CLI start costs seconds.
    (code, out, err), (bad_code, _, bad_err), (one_code, _, one_err) = await asyncio.gather(
        leda(env, "verify"),
        leda(tampered, "verify"),
        leda(tampered, "verify", "--stream", "leda-clitest-1861"),
    )

    assert code == 0, err
    assert "chains intact" in out and "head: global position" in out
    assert bad_code == 1 and one_code == 1
    assert f"stream chain broken at event {altered}" in bad_err and "version 2" in bad_err
    assert str(altered) in one_err
    assert bad_err.count("\n") == 1  # one line, no traceback


async def test_participants_erase_erases_once_and_says_so_after(env: dict[str, str], tmp_path: Path) -> None:
    participant_id = f"erasetest-cli-{uuid.uuid4().hex[:8]}"
    csv = tmp_path / "one.csv"
    csv.write_text(
        "participant_id,kommunkod,role,display_name,email\n"
        f"{participant_id},1861,hr,Synte Tisk,synte.tisk.{participant_id}@example.invalid\n"
    )
    assert (await leda(env, "participants", "import", str(csv)))[0] == 0

    code, out, err = await leda(env, "participants", "erase", participant_id, "--reason", "ärende 2026-30")
    again, unknown, reimport, verified = await asyncio.gather(
        leda(env, "participants", "erase", participant_id, "--reason", "ärende 2026-30"),
        leda(env, "participants", "erase", "erasetest-nobody", "--reason", "ärende 2026-30"),
        leda(env, "participants", "import", str(csv)),
        leda(env, "verify"),
    )

    assert code == 0, err
    assert f"{participant_id} raderad / erased" in out and "ParticipantErased" in out
    assert again[0] == 1 and "already erased" in again[2]
    assert unknown[0] == 1 and "no participant 'erasetest-nobody'" in unknown[2]
    assert reimport[0] == 1 and "cannot be imported again" in reimport[2]
    assert verified[0] == 0, verified[2]
