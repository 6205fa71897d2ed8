"""A storm of generated requests against one long-lived pilot: every one is refused with a clear reason, or
accepted as valid, and none leaves the pilot stuck.

Hypothesis generates the requests: task completions with answers of every payload kind (the synthetic answers,
mutated: a field dropped, emptied, replaced by another JSON value, or an unexpected one added; or any JSON
object at all), inspection decisions, steering and control requests, the same Updates with raw JSON arguments
that bypass the client's models, and HTTP requests to every API route with those bodies. A refusal must
name what is wrong and write no event (the pilot's stream keeps its version); an acceptance must write events.
Afterwards no workflow task of the pilot has failed and it completes a task with a normal answer. The storm reads
the pilot's status from its record, as the API does (`pilots.PilotRecords`), never by a query (README: Known
limitations).

The pilot runs the real SKL template, whose days are real days, on the dev server, so nothing happens in it but
what the storm does. Hypothesis runs in a thread and hands each request to the test's event loop, which runs the
worker; it does not shrink (the pilot's state moves on, so a replay is a different test), it reports the
failing request as generated.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, Phase, assume, given, seed, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from access import issue_token
from api.app import create_app
from api.problems import PROBLEM_MEDIA_TYPE
from devstack import sample_payloads
from domain.control import ControlPilot
from domain.payloads import PAYLOAD_MODELS
from domain.state import TaskStatus
from domain.status import PilotStatus, TaskView
from domain.steering import SteerTask
from eventstore import EventStore
from pilots import (
    PilotError,
    PilotRecords,
    complete_task,
    control_pilot,
    register_inspection,
    start_pilot,
    steer_task,
)
from settings import Settings
from worker import running_worker

pytestmark = [
    pytest.mark.devserver,
    # The worker, on the test's loop, draws on `random` while Hypothesis generates in its thread; harmless here.
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

UPDATES = 700
API_REQUESTS = 400
KOMMUNKOD = "1861"
PARTICIPANTS = [
    f"p-1861-{role}"
    for role in (
        "programledare",
        "politiker",
        "namndsekreterare",
        "forvaltningschef",
        "rektor",
        "hr",
        "ekonomi",
        "analytiker",
        "regional",
    )
]
LEAD, REGISTRAR = "p-1861-programledare", "p-1861-analytiker"
TODAY = datetime.now(UTC).date()
MEETING = TODAY - timedelta(days=40)
T = TypeVar("T")

# A synthetic answer of every payload kind, to mutate; the test fails when a kind has none.
KIND_SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "kpi_data_pack": lambda: {
        "kolada_base_url": "http://kolada.invalid/v3",
        "kpis": ["N15419"],
        "municipalities": [KOMMUNKOD],
        "years": [2024],
        "observations": [],
    },
    "follow_up_figures": lambda: {
        "kolada_base_url": "http://kolada.invalid/v3",
        "year": TODAY.year - 1,
        "kpis": ["N15419"],
        "observations": [],
        "not_published": ["N15419"],
    },
    "self_assessment": lambda: sample_payloads.self_assessment("F"),
    "strengths_weaknesses": sample_payloads.strengths_weaknesses,
    "plan_draft": sample_payloads.plan_draft,
    "namnd_decision": lambda: sample_payloads.namnd_decision(MEETING, 41, "analysen anmäls"),
    "yearly_follow_up": lambda: sample_payloads.yearly_follow_up(TODAY.year),
    "decision_posting": lambda: sample_payloads.decision_posting(MEETING),
    "plan_revision": lambda: sample_payloads.plan_revision(MEETING, "Bildningsnämnden"),
    "document_collection": sample_payloads.document_collection,
    "interview_summary": sample_payloads.interviews,
    "consultation": lambda: sample_payloads.consultation("HR"),
    "ska_analysis": sample_payloads.ska_analysis,
    "ska_planning": lambda: sample_payloads.ska_planning(2),
    "measure_progress": sample_payloads.measure_progress,
    "change_project": sample_payloads.change_project,
    "funding_applications": sample_payloads.funding_applications,
    "inspection_decision": lambda: sample_payloads.inspection_decision(TODAY - timedelta(days=30)),
    "remediation_step": sample_payloads.remediation_step,
    "network_contribution": sample_payloads.network_contribution,
    "network_reflection": sample_payloads.network_reflection,
}

# --- what Hypothesis draws ---------------------------------------------------------------------------------

FIELD_NAMES = sorted({name for model in PAYLOAD_MODELS.values() for name in model.model_fields})
EDGE_STRINGS = [
    "",
    " ",
    "\x00",
    "text with a \x00 inside",
    "\ud800",
    "x" * 5000,
    "SF9",
    "SF1.a",
    "N1541",
    "1861",
    "P",
    "2025-02-30",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59+00:00",
    "forelaggande",
    "avhjalpt",
    "genomford",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(EDGE_STRINGS),
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.sampled_from([None, UTC])).map(datetime.isoformat),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), json_values, max_size=6)

Mutation = tuple[list[int], str, Any]
"""Where (each step picks a key or an item, modulo their number), what (replace, drop, extra, empty), with what."""
steps = st.lists(st.integers(0, 20), max_size=4)
mutations = st.lists(
    st.tuples(steps, st.sampled_from(["replace", "drop", "extra", "empty"]), json_values)
    # Other text where there is text, another date where there is a date: mostly still a valid answer.
    | st.tuples(steps, st.just("retext"), st.text(min_size=1, max_size=30) | st.sampled_from(["\x00", "a\x00b"]))
    | st.tuples(steps, st.just("redate"), st.dates().map(date.isoformat)),
    max_size=3,
)


def mutate(value: Any, mutation: Mutation) -> Any:
    steps, operation, new = mutation
    if steps and isinstance(value, dict) and value:
        key = sorted(value)[steps[0] % len(value)]
        if len(steps) == 1 and operation == "drop":
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: mutate(value[key], (steps[1:], operation, new))}
    if steps and isinstance(value, list) and value:
        index = steps[0] % len(value)
        if len(steps) == 1 and operation == "drop":
            return value[:index] + value[index + 1 :]
        return [*value[:index], mutate(value[index], (steps[1:], operation, new)), *value[index + 1 :]]
    if operation == "retext":
        return new if isinstance(value, str) else value
    if operation == "redate":
        return new if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
    if operation == "extra" and isinstance(value, dict):
        return {**value, "unexpected": new}
    if operation == "empty":
        return type(value)() if isinstance(value, str | list | dict) else None
    return new


@dataclass(frozen=True)
class Answer:
    """A payload: the sample of `kind` ("own": the target task's own kind) with mutations, or `raw` as it is."""

    kind: str | None
    mutations: list[Mutation]
    raw: dict[str, Any] | None = None

    def build(self, own: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if self.raw is not None:
            return self.raw
        value = own() if self.kind == "own" else KIND_SAMPLES[str(self.kind)]()
        for mutation in self.mutations:
            value = mutate(value, mutation)
        return value if isinstance(value, dict) else {"value": value}


answers = st.one_of(
    st.builds(Answer, kind=st.just("own"), mutations=st.just([])),
    st.builds(Answer, kind=st.just("own"), mutations=mutations),
    st.builds(Answer, kind=st.sampled_from(sorted(KIND_SAMPLES)), mutations=mutations),
    st.builds(Answer, kind=st.none(), mutations=st.just([]), raw=json_objects),
)


@dataclass(frozen=True)
class Target:
    """Which task: an open one (by index), any task the pilot has, or a key of its own."""

    how: str
    index: int
    key: str

    def pick(self, status: PilotStatus) -> TaskView | None:
        open_tasks = sorted(
            (t for t in status.tasks if t.status is TaskStatus.OPEN and not t.automated), key=lambda t: t.key
        )
        pool = open_tasks if self.how == "open" else sorted(status.tasks, key=lambda t: t.key)
        return pool[self.index % len(pool)] if pool and self.how != "made_up" else None


targets = st.builds(
    Target,
    how=st.sampled_from(["open", "open", "open", "any", "made_up"]),
    index=st.integers(0, 50),
    key=st.sampled_from(["kpi_data_pack", "self_assessment@X", "plan_adoption", "inspection_decision", "@"])
    | st.text(max_size=20),
)
actors = st.sampled_from(["holder", "holder", "holder", *PARTICIPANTS]) | st.text(max_size=12)


def actor_of(actor: str, task: TaskView | None) -> str:
    return (task.assignee_id if task else LEAD) if actor == "holder" else actor


@dataclass(frozen=True)
class Completion:
    target: Target
    actor: str
    answer: Answer


@dataclass(frozen=True)
class Registration:
    registrar: str
    follow_up: bool
    answer: Answer


@dataclass(frozen=True)
class Steering:
    target: Target
    fields: dict[str, Any]


@dataclass(frozen=True)
class Control:
    fields: dict[str, Any]


@dataclass(frozen=True)
class RawUpdate:
    """An Update with any JSON as its argument, as a client that skips Leda's models could send it."""

    name: str
    argument: Any


moments = st.datetimes(timezones=st.sampled_from([None, UTC])) | st.sampled_from(
    [datetime.now(UTC) + timedelta(days=d) for d in (-1, 1, 30, 365 * 80, 365 * 300)]
)
steering_fields = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["reassign", "delegate", "stand_in", "return", "extend"]) | st.text(max_size=8),
        "reason": st.sampled_from(["semester", "sjukskrivning"]) | st.text(max_size=30) | st.sampled_from(EDGE_STRINGS),
        "actor": actors | st.just(LEAD),
    },
    optional={"to_participant": st.sampled_from(PARTICIPANTS) | st.text(max_size=10), "due_at": moments | scalars},
)
control_fields = st.fixed_dictionaries(
    {
        # Resumed more often than paused, so that most of the storm meets a pilot that takes answers.
        "action": st.sampled_from(["pause", *["resume"] * 5, "retry", "withdraw"]) | st.text(max_size=8),
        "actor_id": st.sampled_from([LEAD, "ops-1"]) | st.text(max_size=8),
        "reason": st.sampled_from(["driftärende"]) | st.text(max_size=30) | st.sampled_from(EDGE_STRINGS),
    }
)
update_requests = st.one_of(
    st.builds(Completion, target=targets, actor=actors, answer=answers),
    st.builds(Completion, target=targets, actor=actors, answer=answers),
    st.builds(
        Registration,
        registrar=st.sampled_from([REGISTRAR, REGISTRAR, LEAD, "p-1861-rektor"]) | st.text(max_size=8),
        follow_up=st.booleans(),
        answer=st.builds(Answer, kind=st.just("own"), mutations=mutations | st.just([])),
    ),
    st.builds(Steering, target=targets, fields=steering_fields),
    st.builds(Control, fields=control_fields),
    st.builds(
        RawUpdate,
        name=st.sampled_from(["complete_task", "register_inspection", "steer_task", "control"]),
        argument=json_values,
    ),
)

# --- HTTP requests ---------------------------------------------------------------------------------------------

CALLERS = ["holder"] * 4 + ["lead"] * 2 + ["forvaltningschef", "rektor", "analytiker", "operations", "unknown", "none"]
BROKEN_BODIES = [b"", b"{not json", b"\xff\xfe", b"null", b"[]", b'"text"', b'{"a": "\\ud800"}', b'{"a": "\\u0000"}']


@dataclass(frozen=True)
class HttpRequest:
    """A request to one of the API's routes, as someone (or no one), with a body built like the Updates' or broken."""

    route: str
    caller: str
    target: Target
    own_pilot: bool
    body: Any
    query: dict[str, Any] = field(default_factory=dict)


start_bodies = st.fixed_dictionaries(
    {
        "programme": st.sampled_from([f"storm-start-{n}" for n in range(3)]) | st.text(max_size=10),
        "kommunkod": st.sampled_from(["1861", "1864", "12"]) | st.text(max_size=6),
        "template_key": st.sampled_from(["lfr-skola", "no-such-template", ""]) | st.text(max_size=8),
    },
    optional={"organ": st.sampled_from(["Bildningsnämnden", "", "\x00"]) | st.text(max_size=8)},
)
ROUTE_BODIES = {
    "complete": answers,
    "steer": steering_fields.map(lambda fields: {k: v for k, v in fields.items() if k != "actor"}),
    "inspection": st.builds(Answer, kind=st.just("inspection_decision"), mutations=mutations | st.just([])),
    "start": start_bodies,
}


@st.composite
def http_requests(draw: st.DrawFn) -> HttpRequest:
    """Mostly a body meant for the route, sometimes any JSON or a broken body."""
    route = draw(st.sampled_from(["complete", "complete", "steer", "inspection", "start", "status", "task", "inbox"]))
    meant = ROUTE_BODIES.get(route, st.none())
    return HttpRequest(
        route=route,
        caller=draw(st.sampled_from(CALLERS)),
        target=draw(targets),
        own_pilot=draw(st.sampled_from([True, True, True, False])),
        body=draw(st.one_of(meant, meant, meant, json_values, st.sampled_from(BROKEN_BODIES))),
        query=draw(st.dictionaries(st.sampled_from(["kommunkod", "phase", "status"]), st.text(max_size=8), max_size=2)),
    )


# --- the pilot and the checks ---------------------------------------------------------------------------------


@dataclass
class Storm:
    client: Client
    pool: asyncpg.Pool
    workflow_id: str
    loop: asyncio.AbstractEventLoop
    task_queue: str = ""
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, str] = field(default_factory=dict)
    """The first reason given for each kind of outcome, for the report."""
    registered: list[dict[str, Any]] = field(default_factory=list)
    answers: set[tuple[Any, ...]] = field(default_factory=set)
    """What accepted requests were answered (`answered`): the same request sent again gets the same answer, and
    no events."""
    http: httpx.AsyncClient | None = None
    tokens: dict[str, str] = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    """Pilots that generated start requests started; terminated with the module's pilot."""
    records: PilotRecords = field(init=False)
    """Where the storm reads statuses: the pilot's record, as the API does."""

    def __post_init__(self) -> None:
        self.records = PilotRecords(self.pool)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """From Hypothesis's thread: run on the test's loop, where the worker runs; a stuck pilot fails here.

        Generously bounded: on a loaded machine an answer can take tens of seconds, and a request given up on here
        still completes in the pilot, which would make Hypothesis's replay of the example look like an answer
        with nothing recorded."""
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(coroutine, 120), self.loop).result()

    async def status(self, workflow_id: str | None = None) -> PilotStatus:
        """The status of the storm's pilot (or of `workflow_id`), from its record."""
        return await self.records.status(workflow_id or self.workflow_id)

    async def version(self) -> int:
        return await EventStore(self.pool).stream_version(self.workflow_id)

    async def _system_done(self) -> None:
        """Wait (a few seconds at most) for what the system does on its own after an accepted request, such as
        starting a year and gathering its follow-up figures, so that its events are not taken for the next request's:
        until no task of the system's is open and the record has stood still for a moment."""
        last, steady = await self.version(), 0
        for _ in range(100):
            await asyncio.sleep(0.03)
            status = await self.status()
            busy = any(t.automated and t.status is TaskStatus.OPEN for t in status.tasks)
            steady = steady + 1 if status.stream_version == last and not busy else 0
            if steady >= 3:
                return
            last = status.stream_version

    def own_answer(self, task: TaskView | None, status: PilotStatus) -> Callable[[], dict[str, Any]]:
        if task is None or task.automated:
            return KIND_SAMPLES["kpi_data_pack" if task else "document_collection"]
        return lambda: sample_payloads.answer_to(task, TODAY, organ=status.deciding_organ)

    async def send(self, request: Any) -> str:
        """Send one request; 'accepted', or the kind of refusal, after checking it is clear and wrote nothing."""
        status = await self.status()
        before = await self.version()
        try:
            answer = await self._send(request, status)
        except PilotError as error:
            assert_clear(str(error), error.code)
            outcome, reason = f"refused: {error.code}", str(error)
        except WorkflowUpdateFailedError as error:  # a raw Update, which no Leda client turns into a PilotError
            cause = error.cause
            assert isinstance(cause, ApplicationError), f"{request}: refused without a reason: {cause!r}"
            undecodable = cause.type == "RuntimeError" and cause.message == "Failed decoding arguments"
            assert undecodable or re.fullmatch(r"[a-z_]+", cause.type or ""), (
                f"{request}: refused by a crash, not a reason: {cause.type}: {cause.message}"
            )
            outcome, reason = f"refused raw: {cause.type}", cause.message
        except ValidationError as error:  # the edge's own model refused it before any Update was sent
            assert all(e["loc"] for e in error.errors()), f"{request}: refused without naming a field: {error}"
            outcome, reason = "refused at the edge", str(error).replace("\n", " | ")
        else:
            fields = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else dict(answer)
            if fields.get("repeat"):
                assert await self.version() == before, f"{request}: answered as a repeat, yet events were written"
                return "answered as a repeat"
            if await self.version() == before:
                assert answered(answer) in self.answers, f"{request}: accepted, but nothing was recorded"
                return "answered again"
            self.answers.add(answered(answer))
            await self._system_done()
            return "accepted"
        assert await self.version() == before, f"{request}: refused ({outcome}), yet events were written"
        self.reasons.setdefault(outcome, reason[:300])
        return outcome

    async def _send(self, request: Any, status: PilotStatus) -> Any:
        match request:
            case Completion(target=target, actor=actor, answer=answer):
                task = target.pick(status)
                key = task.key if task else target.key
                payload = answer.build(self.own_answer(task, status))
                return await complete_task(self.client, self.workflow_id, key, actor_of(actor, task), payload)
            case Registration(registrar=registrar, follow_up=follow_up, answer=answer):
                first = self.registered[0] if self.registered else None

                def own() -> dict[str, Any]:
                    if follow_up and first is not None:
                        return sample_payloads.inspection_follow_up(first, TODAY)
                    return KIND_SAMPLES["inspection_decision"]()

                decision = answer.build(own)
                registered = await register_inspection(self.client, self.pool, self.workflow_id, registrar, decision)
                self.registered.append(decision)
                return registered
            case Steering(target=target, fields=fields):
                task = target.pick(status)
                steering = SteerTask.model_validate(
                    {
                        **{k: v for k, v in fields.items() if k != "actor"},
                        "task_key": task.key if task else target.key,
                        "actor_id": actor_of(fields["actor"], task),
                    }
                )
                return await steer_task(self.client, self.pool, self.workflow_id, steering)
            case Control(fields=fields):
                return await control_pilot(
                    self.client, self.pool, self.workflow_id, ControlPilot.model_validate(fields)
                )
            case RawUpdate(name=name, argument=argument):
                return await self.client.get_workflow_handle(self.workflow_id).execute_update(
                    name, argument, id=f"raw-{uuid.uuid4().hex}", result_type=dict
                )

    async def call(self, request: HttpRequest) -> str:
        """Send one HTTP request: never a 5xx; a refusal is problem+json with a reason and wrote nothing."""
        assert self.http is not None
        status = await self.status()
        before = await self.version()
        task = request.target.pick(status)
        workflow_id = self.workflow_id if request.own_pilot else request.target.key or "x"
        task_key = task.key if task else request.target.key or "x"
        headers = {}
        caller = (task.assignee_id if task else LEAD) if request.caller == "holder" else request.caller
        if caller != "none":
            headers["Authorization"] = f"Bearer {self.tokens.get(caller, 'not-a-token')}"
        prefix = f"/api/v1/pilots/{quote(workflow_id, safe='')}"
        path = {
            "complete": f"{prefix}/tasks/{quote(task_key, safe='')}/complete",
            "steer": f"{prefix}/tasks/{quote(task_key, safe='')}/steer",
            "inspection": f"{prefix}/inspection-decisions",
            "start": "/api/v1/pilots",
            "status": f"{prefix}/status",
            "task": f"{prefix}/tasks/{quote(task_key, safe='')}",
            "inbox": "/api/v1/me/inbox",
        }[request.route]
        body = request.body
        if isinstance(body, Answer):
            body = body.build(self.own_answer(task, status))
        content = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
        method = "GET" if request.route in ("status", "task", "inbox") else "POST"
        response = await self.http.request(
            method,
            path,
            content=content if method == "POST" else None,
            params=request.query if method == "GET" else None,
            headers={**headers, "Content-Type": "application/json"},
        )
        where = f"{method} {path} as {caller} with {content[:200]!r}"
        assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
        if response.status_code >= 400:
            assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, f"{where}: {response.text}"
            problem = response.json()
            assert problem["detail"].strip() and problem["code"], f"{where}: {problem}"
            assert await self.version() == before, f"{where}: refused ({response.status_code}), yet events were written"
            outcome = f"{response.status_code} {problem['code']}"
            self.reasons.setdefault(outcome, f"{problem['detail'][:200]} (field {problem.get('field')})")
            return outcome
        if request.route == "start":
            self.started.append(response.json()["workflow_id"])
        elif method == "POST":
            answer = response.json()
            if answer.get("repeat"):
                assert await self.version() == before, f"{where}: answered as a repeat, yet events were written"
                return f"{response.status_code} repeat"
            if await self.version() == before:
                assert answered(answer) in self.answers, f"{where}: accepted, but nothing was recorded"
                return f"{response.status_code} again"
            self.answers.add(answered(answer))
            await self._system_done()
        return f"{response.status_code} {method.lower()} {request.route}"


def answered(answer: Any) -> tuple[Any, ...]:
    """An accepted request's answer, as the Update and the API give it alike: what it did, at which version."""
    fields = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else dict(answer)
    return (fields.get("task_key") or fields.get("action"), fields.get("stream_version"))


def withdraws(request: Any) -> bool:
    """Would this request withdraw the pilot? It has to outlive the storm, so such requests are not sent."""
    match request:
        case Control(fields=argument) | RawUpdate(name="control", argument=argument):
            try:
                return ControlPilot.model_validate(argument).action == "withdraw"
            except ValidationError:
                return False
    return False


def unsendable(request: Any) -> bool:
    """A raw argument that is not Unicode (an unpaired surrogate) cannot leave the client: nothing to test."""
    if isinstance(request, RawUpdate):
        try:
            json.dumps(request.argument, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return True
    return False


def assert_clear(message: str, code: str) -> None:
    """A refusal a person can act on: a stable code, one line, and for a bad answer the field it is about."""
    assert code not in ("error", "temporal_error"), f"an unexplained refusal ({code}): {message}"
    assert message.strip() and "\n" not in message, f"not one clear line ({code}): {message!r}"
    if code == "invalid_payload":
        reason = message.split("invalid payload: ", 1)[-1]
        assert ": " in reason, f"the refusal names no field: {message}"


@pytest_asyncio.fixture(scope="module")
async def storm(dev_client: Client, db_pool: asyncpg.Pool, base_settings: Settings) -> AsyncIterator[Storm]:
    """One pilot on the SKL template with a worker, and the HTTP API over both, for every request of the module."""
    settings = base_settings.model_copy(update={"task_queue": f"storm-{uuid.uuid4().hex[:8]}"})
    app = create_app(pool=db_pool, client=dev_client, task_queue=settings.task_queue)
    async with (
        running_worker(dev_client, settings, db_pool),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.test") as http,
    ):
        workflow_id = await start_pilot(
            dev_client,
            db_pool,
            programme=f"storm-{uuid.uuid4().hex[:8]}",
            kommunkod=KOMMUNKOD,
            template_key="lfr-skola",
            task_queue=settings.task_queue,
        )
        the_storm = Storm(
            dev_client, db_pool, workflow_id, asyncio.get_running_loop(), task_queue=settings.task_queue, http=http
        )
        for participant in PARTICIPANTS:
            scope = "programme_lead" if participant == LEAD else "participant"
            the_storm.tokens[participant] = await issue_token(db_pool, participant, scope)
        the_storm.tokens["lead"] = the_storm.tokens[LEAD]
        for caller in ("forvaltningschef", "rektor", "analytiker"):
            the_storm.tokens[caller] = the_storm.tokens[f"p-1861-{caller}"]
        the_storm.tokens["operations"] = await issue_token(db_pool, f"ops-{uuid.uuid4().hex[:6]}", "operations")
        await until_quiet(the_storm, workflow_id)  # the system's own steps first, so only the storm moves it
        yield the_storm
        for pilot in (workflow_id, *the_storm.started):
            handle = dev_client.get_workflow_handle(pilot)
            if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
                await handle.terminate(reason="test over")


async def test_every_payload_kind_has_a_sample_to_mutate() -> None:
    assert set(KIND_SAMPLES) == set(PAYLOAD_MODELS)
    for kind, sample in KIND_SAMPLES.items():
        PAYLOAD_MODELS[kind].model_validate(sample())


async def test_a_storm_of_generated_updates_is_refused_clearly_or_accepted_and_leaves_the_pilot_working(
    storm: Storm, fault_seed: int
) -> None:
    @seed(fault_seed)
    @settings(
        max_examples=UPDATES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=update_requests)
    def one(request: Any) -> None:
        assume(not withdraws(request) and not unsendable(request))
        storm.outcomes[storm.run(storm.send(request))] += 1

    await asyncio.to_thread(one)
    print(dict(storm.outcomes))
    for outcome, reason in storm.reasons.items():
        print(f"  {outcome}: {reason}")
    assert storm.outcomes["accepted"] > 0
    assert sum(storm.outcomes.values()) >= UPDATES * 0.9
    await still_working(storm)


async def test_a_storm_of_generated_api_requests_gets_no_server_error_and_clear_refusals(
    storm: Storm, fault_seed: int
) -> None:
    storm.outcomes.clear()

    @seed(fault_seed)
    @settings(
        max_examples=API_REQUESTS,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(request=http_requests())
    def one(request: HttpRequest) -> None:
        storm.outcomes[storm.run(storm.call(request))] += 1

    await asyncio.to_thread(one)
    print(dict(storm.outcomes))
    for outcome, reason in storm.reasons.items():
        print(f"  {outcome}: {reason}")
    assert sum(storm.outcomes.values()) >= API_REQUESTS * 0.9
    await still_working(storm)


async def until_quiet(storm: Storm, workflow_id: str) -> None:
    """Until a new pilot has taken its own first steps (recorded its start, gathered its KPI data pack, sent its
    mails) and waits for people or time: nothing records on its stream until somebody acts."""
    handle = storm.client.get_workflow_handle(workflow_id)
    for _ in range(400):
        kpi = (await storm.status(workflow_id)).task("kpi_data_pack")
        raw = (await handle.describe()).raw_description
        busy = raw.pending_activities or raw.HasField("pending_workflow_task")
        if kpi is not None and kpi.status is TaskStatus.COMPLETED and not busy:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} still busy with its own first steps after 20 s")


def answerable(task: TaskView) -> bool:
    """An open task a participant answers (not the system's own, nor the wait for Skolinspektionen)."""
    return task.status is TaskStatus.OPEN and not task.automated and task.key != "inspection_decision"


async def still_working(storm: Storm) -> None:
    """The pilot takes operations' resume and completes an open task with a normal answer; no workflow task of it
    ever failed (which is how a pilot gets stuck)."""
    handle = storm.client.get_workflow_handle(storm.workflow_id)
    history = await handle.fetch_history()
    failures = [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]
    assert not failures, f"workflow tasks failed: {failures[0].workflow_task_failed_event_attributes}"
    # Nor does a step keep failing (a mail that can never be sent, say): Temporal would retry it for ever.
    pending = (await handle.describe()).raw_description.pending_activities
    retried = [
        f"{p.activity_type.name} attempt {p.attempt}: {p.last_failure.message}" for p in pending if p.attempt > 2
    ]
    assert not retried, retried
    status = await storm.status()
    if status.paused is not None:
        await control_pilot(
            storm.client, storm.pool, storm.workflow_id, ControlPilot(action="resume", actor_id=LEAD, reason="x")
        )
        status = await storm.status()
    refusals = []
    if not any(answerable(task) for task in status.tasks):
        # The storm took the pilot to where it waits for time (a decision's appeal period, say): it still takes
        # operations' pause and resume, each recorded.
        before = await storm.version()
        for action in ("pause", "resume"):
            await control_pilot(
                storm.client, storm.pool, storm.workflow_id, ControlPilot(action=action, actor_id=LEAD, reason="x")
            )
        assert await storm.version() >= before + 2
        return
    for task in status.tasks:
        if not answerable(task):
            continue
        try:
            answer = await complete_task(
                storm.client, storm.workflow_id, task.key, task.assignee_id, storm.own_answer(task, status)()
            )
            # The next storm can send this very completion again: it is answered as a repeat and records nothing.
            storm.answers.add(answered(answer))
            return
        except PilotError as error:  # an answer can contradict what the storm recorded (its decision's date, say)
            refusals.append(f"{task.key}: {error}")
    raise AssertionError(f"no open task could be completed after the storm: {refusals}")


# --- the defects the storms found, kept as plain examples ----------------------------------------------------


async def test_an_update_whose_argument_is_null_is_refused_not_crashed(storm: Storm) -> None:
    handle = storm.client.get_workflow_handle(storm.workflow_id)
    for update in ("complete_task", "register_inspection", "steer_task", "control"):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(update, None, id=f"null-{uuid.uuid4().hex}", result_type=dict)
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == "invalid_input"
    await still_working(storm)


def first_text(value: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """The keys leading to the first free text in a synthetic answer (each says it is synthetic)."""
    if isinstance(value, str):
        return path if sample_payloads.SYNTHETIC_NOTE in value else None
    items = sorted(value.items()) if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        found = first_text(item, (*path, key))
        if found is not None:
            return found
    return None


def with_text(value: Any, path: tuple[Any, ...], text: str) -> Any:
    if not path:
        return text
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = with_text(value[path[0]], path[1:], text)
    return copy


async def a_pilot_with_text_to_answer(storm: Storm) -> tuple[str, TaskView, dict[str, Any], tuple[Any, ...]]:
    """The storm's pilot, or a new one if the storm left it with no open task whose answer has text."""
    for workflow_id in (storm.workflow_id, None):
        if workflow_id is None:
            workflow_id = await start_pilot(
                storm.client,
                storm.pool,
                programme=f"storm-text-{uuid.uuid4().hex[:8]}",
                kommunkod=KOMMUNKOD,
                template_key="lfr-skola",
                task_queue=storm.task_queue,
            )
            storm.started.append(workflow_id)
            await until_quiet(storm, workflow_id)
        status = await storm.status(workflow_id)
        for task in sorted(status.tasks, key=lambda t: t.key):
            answer = storm.own_answer(task, status)() if answerable(task) else None
            keys = first_text(answer) if answer is not None else None
            if answer is not None and keys is not None:
                return workflow_id, task, answer, keys
    raise AssertionError("a new pilot has no open task whose answer has text")


async def test_text_the_record_cannot_hold_is_refused_naming_its_field(storm: Storm) -> None:
    workflow_id, task, answer, keys = await a_pilot_with_text_to_answer(storm)
    store = EventStore(storm.pool)
    field_path = ".".join(map(str, keys))
    before = await store.stream_version(workflow_id)
    # Sent as an Update straight to the workflow, as any Temporal client could: its validator refuses it.
    request = {
        "task_key": task.key,
        "participant_id": task.assignee_id,
        "payload": with_text(answer, keys, "text with a \x00 in it"),
    }
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await storm.client.get_workflow_handle(workflow_id).execute_update(
            "complete_task", request, id=f"nul-{uuid.uuid4().hex}", result_type=dict
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert f"{field_path}: text may not hold the NUL character" in refused.value.cause.message
    # Through the API: NUL, and an unpaired surrogate, which could not even be sent on to Temporal.
    assert storm.http is not None
    headers = {"Authorization": f"Bearer {storm.tokens[task.assignee_id]}", "Content-Type": "application/json"}
    for escape in ("\\u0000", "\\ud800"):
        body = json.dumps(with_text(answer, keys, "MARK")).replace("MARK", escape)
        response = await storm.http.post(
            f"/api/v1/pilots/{workflow_id}/tasks/{quote(task.key, safe='')}/complete",
            content=body.encode(),
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field_path
    # Nothing of the refused answers is on record: the pilot's own timers (a reminder) may have added events meanwhile.
    since = await store.read_stream(workflow_id, from_version=before + 1)
    assert [e.event_type for e in since if e.data.get("task_key") == task.key and "Completed" in e.event_type] == []
    assert (await storm.records.status(workflow_id)).task(task.key).status == "open"
    await still_working(storm)


async def test_a_kommunalforbund_naming_a_member_twice_is_refused_not_a_server_error(storm: Storm) -> None:
    assert storm.http is not None
    headers = {"Authorization": f"Bearer {storm.tokens[LEAD]}"}
    body = {"programme": "twice", "kommunkod": "1861+1861", "template_key": "lfr-skola"}
    response = await storm.http.post("/api/v1/pilots", json=body, headers=headers)
    assert (response.status_code, response.json()["field"]) == (422, "kommunkod"), response.text
    decision = sample_payloads.inspection_decision(date.today())
    response = await storm.http.post(
        "/api/v1/pilots/leda-x-1861+1861/inspection-decisions", json=decision, headers=headers
    )
    assert response.status_code == 403, response.text
