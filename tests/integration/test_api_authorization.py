"""Who may do what through the HTTP API: a matrix of roles and actions, one test id per cell.

From the issue: "a participant sees and completes only their own tasks (and those delegated to them);
programme leads steer their cohort only; operations staff read everything and change nothing".

Cells that are refused share one started pilot (per module) and check that it did not move and that the
refusal names nobody; cells that change a pilot get a pilot of their own, so they cannot disturb the others.

Who leads a pilot is its roster: the municipality's own lead (`lead`) and the lead of its whole programme at SKR or
the region (`programme_lead`, in the directory under the programme, not a municipality) are both on it; the lead of
another programme (`other_programme_lead`) is not, and may not even start a pilot in this one.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from access import Scope, issue_token
from api.app import create_app
from api.problems import FORBIDDEN_DETAIL
from devstack import sample_payloads
from devstack.stack import search_attribute_types
from devstack.temporal import SEARCH_ATTRIBUTE_TYPES, test_server_path
from directory import list_participants, upsert_participants
from domain.pilot_ids import PilotId
from eventstore import EventStore
from settings import Settings
from tests.people import bearer, programme_person
from worker import running_worker

TASK = "self_assessment@F"
ASSIGNEE = "p-1861-forvaltningschef"
PROBLEM = "application/problem+json"
PROGRAMME_PREFIX = "authz-"  # the programme of every pilot this module starts
SHARED_PROGRAMME = f"{PROGRAMME_PREFIX}shared-{uuid.uuid4().hex[:6]}"  # the shared pilot's, which programme_lead leads

# role -> (participant id, token scope)
ROLES: dict[str, tuple[str, Scope]] = {
    "assignee": (ASSIGNEE, "participant"),
    "colleague": ("p-1861-rektor", "participant"),  # same municipality, has a task of their own in the pilot
    "outsider": ("p-1864-forvaltningschef", "participant"),  # another municipality
    "lead": ("p-1861-programledare", "programme_lead"),
    "other_lead": ("p-1864-programledare", "programme_lead"),
    "programme_lead": (f"p-skr-authz-{uuid.uuid4().hex[:6]}", "programme_lead"),  # of SHARED_PROGRAMME
    "other_programme_lead": ("p-skr-programledare", "programme_lead"),  # of lfr-skola-2015
    "operations": ("p-1861-analytiker", "operations"),
}

ACTIONS = (
    "inbox",
    "task_detail",
    "complete",
    "steer",
    "status",
    "start_pilot",
    "register_inspection",
    "roster",
    "appeal",
    "control",
    "history",
    "start_cohort",
    "schedule_meeting",
    "attendance",
)

# The expected status of every cell. The inbox is always the caller's own (200 for everyone; whether the task
# shows up in it is checked separately). The status of a pilot is shown to whoever takes part in it (has or
# completed a task there; they see only their own tasks), to its programme lead and to operations. An
# inspection decision is registered by the pilot's lead or its municipality's förvaltningschef or analyst.
EXPECTED: dict[tuple[str, str], int] = {
    ("assignee", "inbox"): 200,
    ("assignee", "task_detail"): 200,
    ("assignee", "complete"): 200,
    ("assignee", "steer"): 200,  # delegate, as the holder
    ("assignee", "status"): 200,
    ("assignee", "start_pilot"): 403,
    ("assignee", "register_inspection"): 200,
    ("assignee", "roster"): 403,
    ("assignee", "appeal"): 403,
    ("assignee", "control"): 403,
    ("assignee", "history"): 403,
    ("assignee", "start_cohort"): 403,
    ("assignee", "schedule_meeting"): 403,
    ("assignee", "attendance"): 403,
    ("colleague", "inbox"): 200,
    ("colleague", "task_detail"): 404,  # unseen: answered as what does not exist
    ("colleague", "complete"): 404,  # unseen: answered as what does not exist
    ("colleague", "steer"): 404,  # unseen: answered as what does not exist
    ("colleague", "status"): 200,  # takes part: self_assessment@R is theirs
    ("colleague", "start_pilot"): 403,
    ("colleague", "register_inspection"): 403,
    ("colleague", "roster"): 403,
    ("colleague", "appeal"): 403,
    ("colleague", "control"): 403,
    ("colleague", "history"): 403,
    ("colleague", "start_cohort"): 403,
    ("colleague", "schedule_meeting"): 403,
    ("colleague", "attendance"): 403,
    ("outsider", "inbox"): 200,
    ("outsider", "task_detail"): 404,  # unseen: answered as what does not exist
    ("outsider", "complete"): 404,  # unseen: answered as what does not exist
    ("outsider", "steer"): 404,  # unseen: answered as what does not exist
    ("outsider", "status"): 404,  # unseen: answered as what does not exist
    ("outsider", "start_pilot"): 403,
    ("outsider", "register_inspection"): 403,
    ("outsider", "roster"): 403,
    ("outsider", "appeal"): 403,
    ("outsider", "control"): 403,
    ("outsider", "history"): 403,
    ("outsider", "start_cohort"): 403,
    ("outsider", "schedule_meeting"): 403,
    ("outsider", "attendance"): 403,
    ("lead", "inbox"): 200,
    ("lead", "task_detail"): 200,
    ("lead", "complete"): 403,  # leads steer, they do not answer for others
    ("lead", "steer"): 200,  # reassign
    ("lead", "status"): 200,
    ("lead", "start_pilot"): 201,
    ("lead", "register_inspection"): 200,
    ("lead", "roster"): 200,
    # Past the authorization, the workflow itself answers: the shared pilot has no nämnd decision to appeal yet.
    ("lead", "appeal"): 404,
    ("lead", "control"): 200,
    ("lead", "history"): 200,
    ("lead", "start_cohort"): 403,  # the Örebro round holds Ljusnarsberg too, which Hallsberg's lead does not lead
    ("lead", "schedule_meeting"): 201,
    ("lead", "attendance"): 404,  # past the authorization: the pilot has no such meeting
    ("other_lead", "inbox"): 200,
    ("other_lead", "task_detail"): 404,  # unseen: answered as what does not exist
    ("other_lead", "complete"): 404,  # unseen: answered as what does not exist
    ("other_lead", "steer"): 404,  # unseen: answered as what does not exist
    ("other_lead", "status"): 404,  # unseen: answered as what does not exist
    ("other_lead", "start_pilot"): 403,
    ("other_lead", "register_inspection"): 403,
    ("other_lead", "roster"): 403,
    ("other_lead", "appeal"): 403,
    ("other_lead", "control"): 403,
    ("other_lead", "history"): 403,
    ("other_lead", "start_cohort"): 403,
    ("other_lead", "schedule_meeting"): 403,
    ("other_lead", "attendance"): 403,
    ("programme_lead", "inbox"): 200,
    ("programme_lead", "task_detail"): 200,
    ("programme_lead", "complete"): 403,
    ("programme_lead", "steer"): 200,
    ("programme_lead", "status"): 200,
    ("programme_lead", "start_pilot"): 201,  # in their own programme
    ("programme_lead", "register_inspection"): 200,
    ("programme_lead", "roster"): 200,
    ("programme_lead", "appeal"): 404,
    ("programme_lead", "control"): 200,
    ("programme_lead", "history"): 200,
    ("programme_lead", "start_cohort"): 403,  # the Örebro round is another programme's
    ("programme_lead", "schedule_meeting"): 201,
    ("programme_lead", "attendance"): 404,  # past the authorization: the pilot has no such meeting
    ("other_programme_lead", "inbox"): 200,
    ("other_programme_lead", "task_detail"): 404,  # unseen: answered as what does not exist
    ("other_programme_lead", "complete"): 404,  # unseen: answered as what does not exist
    ("other_programme_lead", "steer"): 404,  # unseen: answered as what does not exist
    ("other_programme_lead", "status"): 404,  # unseen: answered as what does not exist
    ("other_programme_lead", "start_pilot"): 403,  # in a programme not theirs
    ("other_programme_lead", "register_inspection"): 403,
    ("other_programme_lead", "roster"): 403,
    ("other_programme_lead", "appeal"): 403,
    ("other_programme_lead", "control"): 403,
    ("other_programme_lead", "history"): 403,
    ("other_programme_lead", "start_cohort"): 403,
    ("other_programme_lead", "schedule_meeting"): 403,
    ("other_programme_lead", "attendance"): 403,
    ("operations", "inbox"): 200,
    ("operations", "task_detail"): 200,
    ("operations", "complete"): 403,
    ("operations", "steer"): 403,
    ("operations", "status"): 200,
    ("operations", "start_pilot"): 403,
    ("operations", "register_inspection"): 403,
    ("operations", "roster"): 403,  # the roster is the lead's; operations change no one's tasks
    ("operations", "appeal"): 403,  # recording an appeal is a lead's step
    ("operations", "control"): 200,  # keeping the workflows running is theirs (pause, resume, withdraw, retry)
    ("operations", "history"): 200,
    ("operations", "start_cohort"): 403,
    ("operations", "schedule_meeting"): 403,
    ("operations", "attendance"): 403,
}
assert set(EXPECTED) == {(r, a) for r in ROLES for a in ACTIONS}

# Cells that, when allowed, change a pilot: they get a pilot of their own.
MUTATING = {"complete", "steer", "start_pilot", "register_inspection", "roster", "control", "schedule_meeting"}


@dataclass
class World:
    http: httpx.AsyncClient
    client: Client
    headers: dict[str, dict[str, str]]
    workflow_id: str  # the shared pilot, in which TASK is open and assigned to ASSIGNEE
    directory: dict[str, list[str]]  # participant id -> its id, e-mail and display name


@pytest_asyncio.fixture(scope="module")
async def module_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=test_server_path(), data_converter=pydantic_data_converter
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={name: SEARCH_ATTRIBUTE_TYPES[kind] for name, kind in search_attribute_types().items()},
        )
    )
    yield env
    await env.shutdown()


async def start(http: httpx.AsyncClient, headers: dict[str, str], programme: str | None = None) -> str:
    body = {
        "programme": programme or f"{PROGRAMME_PREFIX}{uuid.uuid4().hex[:8]}",
        "kommunkod": "1861",
        "template_key": "lfr-skola",
    }
    response = await http.post("/api/v1/pilots", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["workflow_id"]


async def wait_for(http: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, key: str, status: str) -> None:
    for _ in range(300):
        response = await http.get(f"/api/v1/pilots/{workflow_id}/status", headers=headers)
        assert response.status_code == 200, response.text
        if any(t["key"] == key and t["status"] == status for t in response.json()["tasks"]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never became {status} in {workflow_id}")


@pytest_asyncio.fixture(scope="module")
async def world(
    module_env: WorkflowEnvironment, base_settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[World]:
    settings = base_settings.model_copy(update={"task_queue": f"authz-{uuid.uuid4().hex[:10]}"})
    app = create_app(pool=db_pool, client=module_env.client, task_queue=settings.task_queue)
    await upsert_participants(db_pool, [programme_person(ROLES["programme_lead"][0], SHARED_PROGRAMME)])
    headers = {role: bearer(await issue_token(db_pool, pid, scope)) for role, (pid, scope) in ROLES.items()}
    directory = {
        p.participant_id: [p.participant_id, p.email, p.display_name]
        for kommunkod in ("1861", "1864")
        for p in await list_participants(db_pool, kommunkod)
    }
    async with (
        running_worker(module_env.client, settings, db_pool),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http,
    ):
        workflow_id = await start(http, headers["programme_lead"], SHARED_PROGRAMME)
        await wait_for(http, headers["lead"], workflow_id, TASK, "open")
        await wait_for(http, headers["lead"], workflow_id, "self_assessment@R", "open")
        # The system's own task done, the shared pilot's stream holds still.
        await wait_for(http, headers["lead"], workflow_id, "kpi_data_pack", "completed")
        yield World(http=http, client=module_env.client, headers=headers, workflow_id=workflow_id, directory=directory)


async def a_programme_of_its_own(world: World, db_pool: asyncpg.Pool) -> tuple[dict[str, str], str]:
    """For a programme lead's cell that changes a pilot: a programme of its own, led by a lead of its own."""
    programme = f"{PROGRAMME_PREFIX}{uuid.uuid4().hex[:8]}"
    lead = programme_person(f"p-skr-authz-{uuid.uuid4().hex[:6]}", programme)
    await upsert_participants(db_pool, [lead])
    return bearer(await issue_token(db_pool, lead.participant_id, "programme_lead")), programme


async def act(
    world: World,
    role: str,
    action: str,
    workflow_id: str,
    headers: dict[str, str] | None = None,
    programme: str | None = None,
) -> httpx.Response:
    http, headers = world.http, headers or world.headers[role]
    task_url = f"/api/v1/pilots/{workflow_id}/tasks/{TASK}"
    if action == "inbox":
        return await http.get("/api/v1/me/inbox", params={"status": "any"}, headers=headers)
    if action == "task_detail":
        return await http.get(task_url, headers=headers)
    if action == "complete":
        return await http.post(f"{task_url}/complete", json=sample_payloads.self_assessment("F"), headers=headers)
    if action == "steer":
        if ROLES[role][1] == "participant":
            # to a bystander of the matrix, so no role's inbox gains a delegated task naming someone else
            request = {"action": "delegate", "reason": "semester", "to_participant": "p-1861-hr"}
        else:
            request = {"action": "reassign", "reason": "föräldraledig", "to_participant": "p-1861-rektor"}
        return await http.post(f"{task_url}/steer", json=request, headers=headers)
    if action == "status":
        return await http.get(f"/api/v1/pilots/{workflow_id}/status", headers=headers)
    if action == "start_pilot":
        body = {
            "programme": programme or f"{PROGRAMME_PREFIX}{uuid.uuid4().hex[:8]}",
            "kommunkod": "1861",
            "template_key": "lfr-skola",
        }
        return await http.post("/api/v1/pilots", json=body, headers=headers)
    if action == "register_inspection":
        decision = sample_payloads.inspection_decision(date.today())
        return await http.post(f"/api/v1/pilots/{workflow_id}/inspection-decisions", json=decision, headers=headers)
    if action == "roster":
        # The region's support group holds no task of the programme: it may leave without a replacement.
        request = {"role": "regional_skolstodsgrupp", "leaving": "p-1861-regional", "reason": "uppdraget är slut"}
        return await http.post(f"/api/v1/pilots/{workflow_id}/roster", json=request, headers=headers)
    if action == "appeal":
        request = {
            "decision_key": "plan_adoption",
            "court": "Förvaltningsrätten i Karlstad",
            "case_number": "1234-26",
            "lodged_on": date.today().isoformat(),
        }
        return await http.post(f"/api/v1/pilots/{workflow_id}/appeals", json=request, headers=headers)
    if action == "control":
        request = {"action": "pause", "reason": "sommaruppehåll"}
        return await http.post(f"/api/v1/pilots/{workflow_id}/control", json=request, headers=headers)
    if action == "history":
        return await http.get(f"/api/v1/pilots/{workflow_id}/history", params={"source": "domain"}, headers=headers)
    if action == "start_cohort":
        return await http.post("/api/v1/cohorts/orebro-skolkommun-2014/start", headers=headers)
    if action == "schedule_meeting":
        pilot = PilotId.parse(workflow_id)
        assert pilot is not None
        held_at = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        meeting = {"title": "Nätverksträff", "held_at": held_at}
        return await http.post(f"/api/v1/programmes/{pilot.programme}/meetings", json=meeting, headers=headers)
    if action == "attendance":
        url = f"/api/v1/pilots/{workflow_id}/meetings/ingen-sadan-traff/attendance"
        return await http.post(url, json={"attended": False}, headers=headers)
    raise AssertionError(action)


def own_pilots_in(action: str, response: httpx.Response) -> str:
    """The response, narrowed for an inbox to this module's pilots.

    The inbox is the caller's across every pilot in the session's database, and other modules steer tasks of
    the same municipality: a task someone delegated to the caller rightly names whom the caller acts for.
    """
    if action != "inbox":
        return response.text
    return json.dumps([item for item in response.json() if item["programme"].startswith(PROGRAMME_PREFIX)])


def others_named_in(world: World, caller_id: str, text: str) -> list[str]:
    return [
        value
        for participant_id, values in world.directory.items()
        if participant_id != caller_id
        for value in values
        if value and value in text
    ]


@pytest.mark.parametrize(("role", "action"), sorted(EXPECTED), ids=[f"{r}-{a}" for r, a in sorted(EXPECTED)])
async def test_authorization_matrix(world: World, db_pool: asyncpg.Pool, role: str, action: str) -> None:
    expected = EXPECTED[(role, action)]
    allowed = expected < 400
    caller_id = ROLES[role][0]
    headers, programme = world.headers[role], None
    workflow_id = world.workflow_id
    if allowed and action in MUTATING:
        if role == "programme_lead":  # a pilot of its own needs a programme of its own, so a lead of its own
            headers, programme = await a_programme_of_its_own(world, db_pool)
        if action != "start_pilot":
            workflow_id = await start(world.http, headers if programme else world.headers["lead"], programme)
            await wait_for(world.http, world.headers["operations"], workflow_id, TASK, "open")
    store = EventStore(db_pool)
    version_before = await store.stream_version(world.workflow_id)

    response = await act(world, role, action, workflow_id, headers, programme)

    assert response.status_code == expected, response.text
    if allowed:
        if action == "inbox":
            shown = [t["task_key"] for t in response.json() if t["workflow_id"] == world.workflow_id]
            assert (TASK in shown) == (role == "assignee"), shown
        if action in ("inbox", "status") and ROLES[role][1] == "participant":
            assert others_named_in(world, caller_id, own_pilots_in(action, response)) == []
        return
    assert response.headers["content-type"] == PROBLEM
    if expected == 404 and response.json()["code"] != "not_found":
        # Authorized, then refused by the workflow for what the pilot does not have.
        assert response.json()["code"] in ("unknown_decision", "unknown_meeting"), response.text
        assert await store.stream_version(world.workflow_id) == version_before
        return
    if expected == 404:  # a pilot or task the caller may not see: the very answer for one that does not exist
        missing = await act(world, role, action, workflow_id.replace("-1861", "-1862"), headers, programme)
        assert (missing.status_code, missing.json()) == (404, json.loads(response.text.replace("-1861", "-1862")))
        assert others_named_in(world, caller_id, response.text) == []
        assert await store.stream_version(world.workflow_id) == version_before
        return
    assert response.json()["detail"] == FORBIDDEN_DETAIL
    assert others_named_in(world, caller_id, response.text) == []
    await asyncio.sleep(0.2)  # anything a refused call set going would have landed by now
    assert await store.stream_version(world.workflow_id) == version_before
    if action == "start_cohort":  # all or nothing: not one pilot of the round was started
        for code in ("1861", "1864"):
            with pytest.raises(RPCError):
                await world.client.get_workflow_handle(f"leda-orebro-2014-{code}").describe()
    status = await world.http.get(f"/api/v1/pilots/{world.workflow_id}/status", headers=world.headers["operations"])
    [task] = [t for t in status.json()["tasks"] if t["key"] == TASK]
    assert task["status"] == "open" and task["assignee_id"] == ASSIGNEE


async def test_a_task_delegated_to_a_participant_is_theirs_to_see_and_complete(world: World) -> None:
    """'... and those delegated to them': the delegate sees the task in their inbox, reads and completes it."""
    http, headers = world.http, world.headers
    workflow_id = await start(http, headers["lead"])
    await wait_for(http, headers["lead"], workflow_id, TASK, "open")
    task_url = f"/api/v1/pilots/{workflow_id}/tasks/{TASK}"
    delegate = {"action": "delegate", "reason": "semester", "to_participant": "p-1861-rektor"}

    delegated = await http.post(f"{task_url}/steer", json=delegate, headers=headers["assignee"])
    assert delegated.status_code == 200, delegated.text

    for _ in range(100):
        inbox: list[dict[str, Any]] = (await http.get("/api/v1/me/inbox", headers=headers["colleague"])).json()
        mine = [t for t in inbox if t["workflow_id"] == workflow_id and t["task_key"] == TASK]
        if mine:
            break
        await asyncio.sleep(0.05)
    assert mine and mine[0]["delegated_from"] == ASSIGNEE
    assert (await http.get(task_url, headers=headers["colleague"])).status_code == 200
    # The delegator may still look at what they handed on.
    assert (await http.get(task_url, headers=headers["assignee"])).status_code == 200
    completed = await http.post(
        f"{task_url}/complete", json=sample_payloads.self_assessment("F"), headers=headers["colleague"]
    )
    assert completed.status_code == 200, completed.text


async def test_a_reason_that_names_a_person_is_refused_and_records_nothing(world: World, db_pool: asyncpg.Pool) -> None:
    """Reasons stay in the permanent record, which names people by id only."""
    store = EventStore(db_pool)
    before = await store.stream_version(world.workflow_id)
    _, email, name = world.directory["p-1861-rektor"]
    for reason in (f"{name} är föräldraledig", f"fråga {email}"):
        request = {"action": "reassign", "reason": reason, "to_participant": "p-1861-rektor"}
        response = await world.http.post(
            f"/api/v1/pilots/{world.workflow_id}/tasks/{TASK}/steer", json=request, headers=world.headers["lead"]
        )

        assert response.status_code == 422, response.text
        assert response.json()["field"] == "reason" and "participant id" in response.json()["detail"]
    assert await store.stream_version(world.workflow_id) == before
