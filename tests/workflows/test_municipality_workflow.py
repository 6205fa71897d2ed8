"""MunicipalityWorkflow on the time-skipping server, with the real activities (PostgreSQL, SMTP, Kolada format)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from devstack import sample_payloads
from devstack.mail import MailCapture
from domain.phases import Phase
from domain.state import TaskStatus
from eventstore import EventStore
from pilots import PilotError, complete_task, pilot_status, start_pilot
from settings import Settings
from worker import running_worker
from workflows.messages import PilotStatus
from workflows.municipality import MunicipalityWorkflow

KOMMUNKOD = "1861"


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[Client]:
    async with running_worker(time_skipping_env.client, settings, db_pool):
        yield time_skipping_env.client


async def start(client: Client, pool: asyncpg.Pool, settings: Settings, template: str = "lfr-skola") -> str:
    workflow_id = await start_pilot(
        client,
        pool,
        programme=f"test-{uuid.uuid4().hex[:8]}",
        kommunkod=KOMMUNKOD,
        template_key=template,
        task_queue=settings.task_queue,
    )
    return workflow_id


async def open_task(client: Client, workflow_id: str, key: str) -> PilotStatus:
    """Wait (in real time, briefly) until the workflow has opened `key`."""
    for _ in range(200):
        status = await pilot_status(client, workflow_id)
        if any(t.key == key and t.status is TaskStatus.OPEN for t in status.tasks):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{key} never opened; tasks: {[(t.key, t.status) for t in status.tasks]}")


async def data_pack_gathered(client: Client, workflow_id: str) -> None:
    """Wait until the system's own task is done, so the stream holds still for the test."""
    for _ in range(200):
        status = await pilot_status(client, workflow_id)
        if any(t.key == "kpi_data_pack" and t.status is TaskStatus.COMPLETED for t in status.tasks):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Kolada data pack was never gathered")


async def answer(client: Client, workflow_id: str, key: str, today: datetime | None = None) -> None:
    status = await open_task(client, workflow_id, key)
    task = next(t for t in status.tasks if t.key == key)
    payload = sample_payloads.answer_for(key, (today or datetime.now(UTC)).date())
    await complete_task(client, workflow_id, key, task.assignee_id, payload)


async def test_a_pilot_goes_through_every_phase_with_the_inspection_in_parallel(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment")
    await answer(client, workflow_id, "strengths_weaknesses")
    await answer(client, workflow_id, "analysis_reported")
    await open_task(client, workflow_id, "plan_draft")
    # The inspectorate's decision arrives while the development plan is being written.
    await answer(client, workflow_id, "inspection_decision")
    await answer(client, workflow_id, "plan_draft")
    await answer(client, workflow_id, "inspection_action_plan")
    await answer(client, workflow_id, "plan_adoption")
    await answer(client, workflow_id, "yearly_follow_up")
    await answer(client, workflow_id, "annual_report")

    final: PilotStatus = await client.get_workflow_handle(workflow_id, result_type=PilotStatus).result()

    assert final.completed_at is not None
    assert final.completed_phases == [
        Phase.DEEP_ANALYSIS,
        Phase.INSPECTION_COMPARISON,
        Phase.DEVELOPMENT_PLAN,
        Phase.IMPLEMENTATION,
    ]
    assert all(t.status is TaskStatus.COMPLETED for t in final.tasks) and len(final.tasks) == 10
    assert {(c.factor, c.classification) for c in final.comparison or []} >= {
        ("SF4", "agreed"),
        ("SF7", "agreed"),
    }
    adoption = next(d for d in final.decisions if d.task_key == "plan_adoption")
    assert adoption.justering_due == adoption.meeting_date + timedelta(days=14)
    assert adoption.appeal_period_ends_latest == adoption.meeting_date + timedelta(days=14 + 2 + 21)

    events = await EventStore(db_pool).read_stream(workflow_id)
    assert [e.stream_version for e in events] == list(range(1, len(events) + 1))
    assert events[-1].event_type == "PilotCompleted"
    assert len({e.event_id for e in events}) == len(events)
    kpis = next(e for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == "kpi_data_pack")
    assert {o["municipality"] for o in kpis.data["payload"]["observations"]} == {KOMMUNKOD, "0000"}
    register = await db_pool.fetch("SELECT task_key FROM decisions WHERE stream_id = $1", workflow_id)
    assert sorted(r["task_key"] for r in register) == ["analysis_reported", "annual_report", "plan_adoption"]
    assert all(e.metadata["workflow_id"] == workflow_id and e.metadata["run_id"] for e in events)


async def test_reminders_and_escalation_fire_at_the_template_offsets(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    mail_capture: MailCapture,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment")

    # self_assessment: due after 21 days, reminders 7 and 1 day before, escalation 3 days after the deadline.
    await time_skipping_env.sleep(timedelta(days=25))
    status = await pilot_status(client, workflow_id)
    task = next(t for t in status.tasks if t.key == "self_assessment")
    assert task.reminders_sent == 2 and task.escalated

    events = await EventStore(db_pool).read_stream(workflow_id)
    opened = next(e for e in events if e.event_type == "TaskOpened" and e.data["task_key"] == "self_assessment")
    opened_at = datetime.fromisoformat(opened.data["occurred_at"])
    offsets = [
        (e.event_type, datetime.fromisoformat(e.data["occurred_at"]) - opened_at)
        for e in events
        if e.event_type in ("TaskReminderSent", "TaskEscalated") and e.data["task_key"] == "self_assessment"
    ]
    expected = [
        ("TaskReminderSent", timedelta(days=14)),
        ("TaskReminderSent", timedelta(days=20)),
        ("TaskEscalated", timedelta(days=24)),
    ]
    assert [kind for kind, _ in offsets] == [kind for kind, _ in expected]
    for (_, actual), (_, wanted) in zip(offsets, expected, strict=True):
        assert abs(actual - wanted) < timedelta(minutes=1), (actual, wanted)
    escalations = await mail_capture.wait_for(
        lambda m: f"escalation; {workflow_id}; self_assessment" in str(m["X-Leda-Notification"])
    )
    assert "programledare.1861@example.invalid" in str(escalations[-1]["To"])
    reminders = [
        m
        for m in mail_capture.messages()
        if str(m["X-Leda-Notification"]).startswith(f"reminder; {workflow_id}; self_assessment")
    ]
    assert len(reminders) == 2 and "forvaltningschef.1861@example.invalid" in str(reminders[0]["To"])


async def test_a_task_completed_before_its_deadline_is_neither_reminded_nor_escalated(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment")
    await time_skipping_env.sleep(timedelta(days=30))
    events = await EventStore(db_pool).read_stream(workflow_id)
    assert not [
        e
        for e in events
        if e.event_type in ("TaskReminderSent", "TaskEscalated") and e.data["task_key"] == "self_assessment"
    ]


@pytest.mark.parametrize(
    ("task_key", "participant", "payload", "code", "says"),
    [
        ("no_such_task", "p-1861-forvaltningschef", {}, "unknown_task", "no_such_task"),
        ("plan_draft", "p-1861-forvaltningschef", {}, "not_open", "not open yet"),
        ("kpi_data_pack", "p-1861-analytiker", {}, "automated", "done by the system"),
        ("self_assessment", "p-1861-rektor", None, "not_assignee", "p-1861-rektor"),
        (
            "self_assessment",
            "p-1861-forvaltningschef",
            {"level": "F", "scores": {"SF1.a": 5}},
            "invalid_payload",
            "scores.SF1.a",
        ),
    ],
)
async def test_update_rejections_name_the_reason_and_record_nothing(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    task_key: str,
    participant: str,
    payload: dict | None,
    code: str,
    says: str,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    store = EventStore(db_pool)
    version_before = await store.stream_version(workflow_id)
    body = payload if payload is not None else sample_payloads.self_assessment()

    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, task_key, participant, body)

    assert refused.value.code == code
    assert says in str(refused.value)
    assert await store.stream_version(workflow_id) == version_before


async def test_completing_a_task_twice_is_rejected(client: Client, db_pool: asyncpg.Pool, settings: Settings) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment")
    other_answer = {**sample_payloads.self_assessment(), "level": "R"}
    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, "self_assessment", "p-1861-forvaltningschef", other_answer)
    assert refused.value.code == "already_completed"


async def test_a_completion_answers_with_the_tasks_it_opened(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    await open_task(client, workflow_id, "self_assessment")
    completion = await complete_task(
        client, workflow_id, "self_assessment", "p-1861-forvaltningschef", sample_payloads.self_assessment()
    )
    assert completion.opened_next == ["strengths_weaknesses"]


async def test_concurrent_completions_of_one_task_record_exactly_one(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment")
    answers = [{**sample_payloads.self_assessment(), "evidence": {"SF1.a": f"svar {n}"}} for n in range(5)]
    outcomes = await asyncio.gather(
        *(complete_task(client, workflow_id, "self_assessment", "p-1861-forvaltningschef", a) for a in answers),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, PilotError)]
    assert len(accepted) == 1 and len(refused) == 4
    assert {r.code for r in refused} == {"already_completed"}
    events = await EventStore(db_pool).read_stream(workflow_id)
    assert sum(1 for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == "self_assessment") == 1


async def test_a_second_start_of_the_same_pilot_is_refused(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    programme = f"test-{uuid.uuid4().hex[:8]}"
    kwargs = dict(programme=programme, kommunkod=KOMMUNKOD, template_key="lfr-skola", task_queue=settings.task_queue)
    await start_pilot(client, db_pool, **kwargs)
    with pytest.raises(PilotError) as refused:
        await start_pilot(client, db_pool, **kwargs)
    assert refused.value.code == "already_started"
    assert "already started" in str(refused.value)


async def test_the_workflow_replays_deterministically_from_its_own_history(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment")
    await answer(client, workflow_id, "strengths_weaknesses")
    await time_skipping_env.sleep(timedelta(days=50))  # reminders and an escalation for analysis_reported
    history = await client.get_workflow_handle(workflow_id).fetch_history()

    replayer = Replayer(workflows=[MunicipalityWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None
