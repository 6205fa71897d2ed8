"""`leda list` and `GET /api/v1/pilots` on the real dev server, against pilots that have ended and one under way.

Four pilots on the demo template, each of a municipality no other test uses (2505, 2506, 2510, 2513, with synthetic
people) and a programme of its own, started once for the module: one its participants take to the end (completed),
one withdrawn, one left running (no one answers, so its first tasks fall overdue), and one terminated, which keeps the
state and phase it had. The `leda`
command runs as a user runs it, a subprocess with LEDA_TOKEN; the API runs in-process over the same dev server.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from access import issue_token
from api.app import create_app
from api.problems import FORBIDDEN_DETAIL
from devstack.demo import simulate_participants
from devstack.temporal import TemporalDevServer
from directory import Participant, upsert_participants
from domain.control import ControlPilot
from pilots import PilotListing, PilotRecords, control_pilot, list_pilots, pilot_query, start_pilot, terminate_pilot
from programmes import template
from settings import Settings
from tests.people import bearer
from worker import running_worker

pytestmark = pytest.mark.devserver

LEDA = str(Path(sys.executable).parent / "leda")
TEMPORAL = str(Path(sys.executable).parent / "temporal")
PROBLEM = "application/problem+json"

CODES = {"completed": "2505", "withdrawn": "2506", "running": "2510", "terminated": "2513"}
"""Each pilot's kommunkod: no other test's, so a filter by it finds that pilot alone."""
NAMES = tuple(CODES)


@dataclass(frozen=True)
class Pilot:
    name: str
    kommunkod: str
    programme: str
    workflow_id: str

    @property
    def lead(self) -> str:
        return f"p-{self.kommunkod}-programledare"


def person(kommunkod: str, role: str) -> Participant:
    return Participant(
        participant_id=f"p-{kommunkod}-{role}",
        kommunkod=kommunkod,
        role=role,
        display_name=f"Syntetisk {role} {kommunkod}",
        email=f"{role}.{kommunkod}@example.invalid",
    )


async def listed(client: Client, pilot: Pilot) -> PilotListing | None:
    """The pilot as the visibility store has it now (closed or not)."""
    found = await list_pilots(client, pilot_query(programme=pilot.programme, include_closed=True))
    return found[0] if found else None


async def until_listed(client: Client, pilot: Pilot, condition: Any, seconds: float = 30) -> PilotListing:
    """Until visibility shows the pilot as `condition` wants it (it follows the workflow within moments)."""
    for _ in range(int(seconds / 0.1)):
        listing = await listed(client, pilot)
        if listing is not None and condition(listing):
            return listing
        await asyncio.sleep(0.1)
    raise AssertionError(f"{pilot.workflow_id} never got there: {await listed(client, pilot)}")


def under_way(listing: PilotListing) -> bool:
    """Its first tasks are open and the search attributes say so: phase djupanalys, a next deadline."""
    return listing.phase == "djupanalys" and listing.next_due_at is not None


@pytest_asyncio.fixture(scope="module")
async def pilots(dev_client: Client, db_pool: asyncpg.Pool, base_settings: Settings) -> AsyncIterator[dict[str, Pilot]]:
    settings = base_settings.model_copy(update={"task_queue": f"listing-{uuid.uuid4().hex[:8]}"})
    roles = sorted(role.value for role in template("demo").roles_needed())
    await upsert_participants(db_pool, [person(code, role) for code in CODES.values() for role in roles])
    run = uuid.uuid4().hex[:6]
    async with running_worker(dev_client, settings, db_pool):
        started = {}
        for name, code in CODES.items():
            workflow_id = await start_pilot(
                dev_client,
                db_pool,
                programme=f"list-{name}-{run}",
                kommunkod=code,
                template_key="demo",
                task_queue=settings.task_queue,
                municipality_name=f"Syntetisk kommun {code}",
                deciding_organ="Barn- och utbildningsnämnden (syntetisk)",
            )
            started[name] = Pilot(name, code, f"list-{name}-{run}", workflow_id)
        completed, withdrawn, running, terminated = (started[name] for name in NAMES)
        # Both leave in djupanalys with open tasks, so what they keep in visibility does not depend on timing.
        await until_listed(dev_client, withdrawn, under_way)
        withdraw = ControlPilot(action="withdraw", actor_id=withdrawn.lead, reason="kommunen lämnar programmet")
        await control_pilot(dev_client, db_pool, withdrawn.workflow_id, withdraw)
        await until_listed(dev_client, terminated, under_way)
        await terminate_pilot(dev_client, db_pool, terminated.workflow_id, by="ops-listing", reason="fel programmall")
        await simulate_participants(
            dev_client,
            PilotRecords(db_pool),
            completed.workflow_id,
            say=lambda *_: None,
            analyst=f"p-{completed.kommunkod}-analytiker",
        )

        await until_listed(dev_client, completed, lambda p: (p.status, p.state) == ("completed", "completed"))
        await until_listed(dev_client, withdrawn, lambda p: (p.status, p.state) == ("completed", "withdrawn"))
        await until_listed(dev_client, terminated, lambda p: (p.status, p.state) == ("terminated", "running"))
        await until_listed(
            dev_client,
            running,
            lambda p: p.status == "running" and p.next_due_at is not None and p.next_due_at < datetime.now(UTC),
        )
        yield started
        await dev_client.get_workflow_handle(running.workflow_id).terminate(reason="test over")


# Each filter, and which of the four pilots it lists; `all` is `leda list --all` and `?all=true`.
FILTERS: list[tuple[dict[str, Any], set[str]]] = [
    ({}, {"running"}),
    ({"all": True}, {"completed", "withdrawn", "running", "terminated"}),
    ({"state": "completed"}, {"completed"}),
    ({"state": "withdrawn"}, {"withdrawn"}),
    # Not the terminated one, though its LedaState is still 'running': its workflow is not.
    ({"state": "running"}, {"running"}),
    ({"state": "running", "all": True}, {"running", "terminated"}),
    ({"state": "paused"}, set()),
    ({"state": "failing"}, set()),
    ({"phase": "klar"}, {"completed"}),
    ({"phase": "klar", "state": "running"}, set()),  # a running pilot whose last decisions are not final yet
    ({"phase": "djupanalys"}, {"running"}),
    ({"phase": "djupanalys", "all": True}, {"running", "withdrawn", "terminated"}),  # where they left
    ({"phase": "genomforande", "all": True}, set()),  # the completed pilot's earlier runs are not listed
    # An ended pilot has no open task, so no deadline: never overdue. The terminated one's deadlines stay as they
    # were, past by now, so --all lists it as overdue (as the search attributes it was left with say).
    ({"overdue": True}, {"running"}),
    ({"overdue": True, "all": True}, {"running", "terminated"}),
    ({"overdue": True, "state": "completed"}, set()),
    ({"overdue": True, "state": "withdrawn"}, set()),
]
# Each pilot by its programme and by its kommunkod (named here by the pilot's name): without --all only the running
# one, with it each; an ended pilot also with its state, and the completed one with phase klar.
FILTERS += [
    ({key: name}, {name} if name == "running" else set()) for name in NAMES for key in ("programme", "kommunkod")
]
FILTERS += [({key: name, "all": True}, {name}) for name in NAMES for key in ("programme", "kommunkod")]
FILTERS += [
    ({key: name, "state": name}, {name}) for name in ("completed", "withdrawn") for key in ("programme", "kommunkod")
]
FILTERS += [
    ({"kommunkod": name, "phase": "klar"}, {name} if name == "completed" else set())
    for name in ("completed", "withdrawn")
]


def case_id(case: tuple[dict[str, Any], set[str]]) -> str:
    filters, _ = case
    return ",".join(f"{k}={v}" if v is not True else k for k, v in filters.items()) or "no-filter"


def concrete(filters: dict[str, Any], pilots: dict[str, Pilot]) -> dict[str, Any]:
    """`programme` and `kommunkod` name a pilot of this module: its programme or kommunkod instead."""
    out = dict(filters)
    if "programme" in out:
        out["programme"] = pilots[out["programme"]].programme
    if "kommunkod" in out:
        out["kommunkod"] = pilots[out["kommunkod"]].kommunkod
    return out


def ours(workflow_ids: list[str], pilots: dict[str, Pilot]) -> list[str]:
    """Which of this module's pilots are among those listed (the dev server has other tests' pilots too), in order,
    once for every time listed."""
    names = {p.workflow_id: name for name, p in pilots.items()}
    return [names[w] for w in workflow_ids if w in names]


# ---- leda list, as a user runs it ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_env(
    tmp_path_factory: pytest.TempPathFactory, database_url: str, dev_server: TemporalDevServer
) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "DATABASE_URL": database_url,
        "LEDA_DATABASE_URL": database_url,
        "LEDA_TEMPORAL_ADDRESS": dev_server.address,
        "LEDA_DATA_DIR": str(tmp_path_factory.mktemp("leda-data")),
    }


async def leda(env: dict[str, str], token: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LEDA, *args, env={**env, "LEDA_TOKEN": token}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


def cli_args(filters: dict[str, Any]) -> list[str]:
    args = []
    for key, value in filters.items():
        args += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    return args


@pytest_asyncio.fixture(scope="module")
async def operations(db_pool: asyncpg.Pool) -> str:
    return await issue_token(db_pool, f"ops-{uuid.uuid4().hex[:6]}", "operations")


@pytest.mark.parametrize("case", FILTERS, ids=case_id)
async def test_leda_list_filters_the_pilots(
    case: tuple[dict[str, Any], set[str]], pilots: dict[str, Pilot], cli_env: dict[str, str], operations: str
) -> None:
    filters, expected = case
    code, out, err = await leda(cli_env, operations, "list", "--json", *cli_args(concrete(filters, pilots)))
    assert code == 0, err
    shown = ours([p["workflow_id"] for p in json.loads(out)], pilots)
    assert sorted(shown) == sorted(expected)  # each once


async def test_leda_list_state_completed_shows_the_finished_pilot_and_the_query_it_used(
    pilots: dict[str, Pilot], cli_env: dict[str, str], db_pool: asyncpg.Pool, dev_server: TemporalDevServer
) -> None:
    completed = pilots["completed"]
    lead = await issue_token(db_pool, completed.lead, "programme_lead")

    code, out, err = await leda(cli_env, lead, "list", "--state", "completed")

    assert code == 0, err
    [line] = [line for line in out.splitlines() if completed.workflow_id in line]
    assert line.split()[1:3] == ["klar", "completed"], line
    assert not any(p.workflow_id in out for p in pilots.values() if p is not completed)
    # A lead sees the pilots they lead only: a completed pilot of another kommun (if any) is not theirs.
    assert [line for line in out.splitlines() if line.startswith("  leda-")] == [line]
    query = out.splitlines()[-1].split('temporal workflow list --query "', 1)[1].removesuffix('"')
    assert query == pilot_query(state="completed")
    # The line's query is the one used: the stock CLI finds the same pilot with it.
    stock = await asyncio.create_subprocess_exec(
        *(TEMPORAL, "workflow", "list", "--address", dev_server.address, "--query", query, "--output", "json"),
        stdout=asyncio.subprocess.PIPE,
    )
    found, _ = await asyncio.wait_for(stock.communicate(), 30)
    assert stock.returncode == 0
    assert completed.workflow_id in {w["execution"]["workflowId"] for w in json.loads(found or b"[]")}


async def test_leda_list_is_refused_to_a_participant(
    pilots: dict[str, Pilot], cli_env: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    rektor = await issue_token(db_pool, f"p-{pilots['running'].kommunkod}-rektor", "participant")
    code, out, err = await leda(cli_env, rektor, "list", "--state", "completed")
    assert code == 1 and "you may not do this" in err and out == ""


# ---- GET /api/v1/pilots ----------------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def api(dev_client: Client, db_pool: asyncpg.Pool) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(pool=db_pool, client=dev_client, task_queue="unused")  # lists only: no worker needed
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http:
        yield http


def api_params(filters: dict[str, Any]) -> dict[str, str]:
    return {k: ("true" if v is True else str(v)) for k, v in filters.items()}


@pytest.mark.parametrize("case", FILTERS, ids=case_id)
async def test_the_api_lists_pilots_by_the_same_filters(
    case: tuple[dict[str, Any], set[str]], pilots: dict[str, Pilot], api: httpx.AsyncClient, operations: str
) -> None:
    filters, expected = case
    concrete_filters = concrete(filters, pilots)

    response = await api.get("/api/v1/pilots", params=api_params(concrete_filters), headers=bearer(operations))

    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(ours([p["workflow_id"] for p in body["pilots"]], pilots)) == sorted(expected)
    if "overdue" not in filters:  # an overdue query names the moment it was asked
        keywords = {("include_closed" if k == "all" else k): v for k, v in concrete_filters.items()}
        assert body["query"] == pilot_query(**keywords)


async def test_the_api_shows_each_pilot_as_the_visibility_store_has_it(
    pilots: dict[str, Pilot], api: httpx.AsyncClient, operations: str
) -> None:
    response = await api.get("/api/v1/pilots", params={"all": "true"}, headers=bearer(operations))
    assert response.status_code == 200, response.text
    shown = {p["workflow_id"]: p for p in response.json()["pilots"]}
    expected = {
        "completed": ("completed", "klar", "completed", None),
        "withdrawn": ("completed", "djupanalys", "withdrawn", None),
        "running": ("running", "djupanalys", "running", "due"),
        "terminated": ("terminated", "djupanalys", "running", "due"),
    }
    for name, pilot in pilots.items():
        listing = PilotListing.model_validate(shown[pilot.workflow_id])
        assert (listing.programme, listing.kommunkod) == (pilot.programme, pilot.kommunkod)
        status, phase, state, due = expected[name]
        assert (listing.status, listing.phase, listing.state) == (status, phase, state), name
        assert (listing.next_due_at is not None) == (due is not None), name
        if due is None:
            assert not listing.overdue_count, name


async def test_a_programme_lead_lists_the_pilots_they_lead_and_a_participant_is_refused(
    pilots: dict[str, Pilot], api: httpx.AsyncClient, db_pool: asyncpg.Pool
) -> None:
    for pilot in pilots.values():
        lead = bearer(await issue_token(db_pool, pilot.lead, "programme_lead"))
        response = await api.get("/api/v1/pilots", params={"all": "true"}, headers=lead)
        assert response.status_code == 200, response.text
        assert [p["workflow_id"] for p in response.json()["pilots"]] == [pilot.workflow_id]

    rektor = f"p-{pilots['completed'].kommunkod}-rektor"
    refused = await api.get(
        "/api/v1/pilots",
        params={"state": "completed"},
        headers=bearer(await issue_token(db_pool, rektor, "participant")),
    )
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["detail"] == FORBIDDEN_DETAIL
    # A lead's token for someone who leads no pilot in the directory: allowed to ask, shown none.
    not_a_lead = bearer(await issue_token(db_pool, rektor, "programme_lead"))
    response = await api.get("/api/v1/pilots", params={"all": "true"}, headers=not_a_lead)
    assert response.status_code == 200 and response.json()["pilots"] == []
    assert (await api.get("/api/v1/pilots")).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "done"}, "state"),
        ({"phase": "finished"}, "phase"),
        ({"phase": "Klar"}, "phase"),
        ({"overdue": "maybe"}, "overdue"),
        ({"all": "everything"}, "all"),
        ({"kommunkod": "186"}, "kommunkod"),
        ({"kommunkod": "1861'"}, "kommunkod"),
        ({"programme": "x' OR '1'='1"}, "programme"),
        ({"programme": "Lfr"}, "programme"),
    ],
)
async def test_a_bad_filter_is_refused_naming_the_field(
    params: dict[str, str], field: str, api: httpx.AsyncClient, operations: str
) -> None:
    response = await api.get("/api/v1/pilots", params=params, headers=bearer(operations))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == field and response.json()["code"] == "invalid_input"
