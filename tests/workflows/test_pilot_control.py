"""Operations' control of a running pilot, on the time-skipping server with the real activities: a pause holds
the timers, a resume releases them, a withdrawal closes and tells, a step that failed for good waits for a retry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from devstack import sample_payloads
from devstack.kolada import Fault, KoladaSampleServer
from devstack.mail import MailCapture
from directory import Participant, list_participants, upsert_participants
from domain.control import ControlPilot
from domain.pilot_ids import PilotId
from domain.roles import Role
from domain.state import TaskStatus
from domain.status import PilotStatus
from eventstore import EventStore
from pilots import PilotError, PilotRecords, complete_task, control_pilot, pilot_status, start_pilot
from programmes import template as load_template
from settings import Settings
from worker import running_worker
from workflows.messages import StartPilot
from workflows.municipality import MunicipalityWorkflow

OPERATOR = "p-1861-analytiker"
TASK = "self_assessment@F"


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[Client]:
    async with running_worker(time_skipping_env.client, settings, db_pool, strict_sandbox=True):
        yield time_skipping_env.client


async def started(client: Client, pool: asyncpg.Pool, settings: Settings) -> str:
    workflow_id = await start_pilot(
        client,
        pool,
        programme=f"ctl-{uuid.uuid4().hex[:8]}",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=settings.task_queue,
    )
    await until(client, workflow_id, lambda s: any(t.key == TASK for t in s.tasks))
    return workflow_id


async def until_recorded(records: PilotRecords, workflow_id: str, condition) -> PilotStatus:  # type: ignore[no-untyped-def]
    """The pilot's status as its record has it, once `condition` holds (within a few seconds)."""
    for _ in range(400):
        status = await records.status(workflow_id)
        if condition(status):
            return status
        await asyncio.sleep(0.02)
    raise AssertionError(f"the record never showed the condition; it shows {status.failed_steps}")


async def until(client: Client, workflow_id: str, condition, rounds: int = 1200) -> PilotStatus:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        status = await pilot_status(client, workflow_id)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} never got there: {status}")


def control(action: str, reason: str = "driftärende") -> ControlPilot:
    return ControlPilot(action=action, actor_id=OPERATOR, reason=reason)


def task_of(status: PilotStatus, key: str = TASK):  # type: ignore[no-untyped-def]
    return next(t for t in status.tasks if t.key == key)


async def test_a_pause_holds_the_reminders_and_escalation_and_a_resume_releases_them(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await started(client, db_pool, settings)
    await control_pilot(client, db_pool, workflow_id, control("pause", "SMTP-reläet byts"))

    # Past both reminders (14 and 20 days) and the escalation (24 days) of the self-assessment.
    await time_skipping_env.sleep(timedelta(days=26))
    held = task_of(await pilot_status(client, workflow_id))
    assert (held.reminders_sent, held.escalated) == (0, False)
    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, TASK, held.assignee_id, sample_payloads.self_assessment("F"))
    assert refused.value.code == "pilot_paused"

    await control_pilot(client, db_pool, workflow_id, control("resume", "reläet är tillbaka"))
    released = await until(client, workflow_id, lambda s: task_of(s).escalated)
    assert task_of(released).reminders_sent == 2 and released.paused is None

    events = [e.event_type for e in await EventStore(db_pool).read_stream(workflow_id)]
    assert events.index("PilotResumed") < events.index("TaskReminderSent")
    [paused] = [e for e in await EventStore(db_pool).read_stream(workflow_id) if e.event_type == "PilotPaused"]
    assert paused.data["by"] == OPERATOR and paused.data["reason"] == "SMTP-reläet byts"


async def test_a_withdrawal_closes_the_open_tasks_tells_their_holders_and_ends_the_pilot(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, mail_capture: MailCapture
) -> None:
    workflow_id = await started(client, db_pool, settings)
    before = await pilot_status(client, workflow_id)
    holders = {t.key: t.assignee_id for t in before.tasks if t.status is TaskStatus.OPEN and not t.automated}

    await control_pilot(client, db_pool, workflow_id, control("withdraw", "nämnden beslutade att avsluta"))

    result = await client.get_workflow_handle(workflow_id).result()
    status = PilotStatus.model_validate(result) if isinstance(result, dict) else result
    assert status.withdrawn is not None and status.withdrawn.by == OPERATOR
    assert all(t.status is not TaskStatus.OPEN for t in status.tasks)
    # A long header is folded onto a line of its own: its value then starts with a space.
    told = await mail_capture.wait_for(
        lambda m: str(m["X-Leda-Notification"]).strip().startswith(f"withdrawn; {workflow_id};")
    )
    assert {str(m["X-Leda-Notification"]).rsplit("; ", 1)[1] for m in told} == set(holders)
    assert "nämnden beslutade att avsluta" in told[0].get_content()


async def test_a_step_that_failed_for_good_waits_for_a_retry_and_then_goes_through(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, mail_capture: MailCapture
) -> None:
    # The förvaltningschef's id is not (yet) in the directory: the assignment mail cannot be sent.
    ghost = f"p-1861-ghost-{uuid.uuid4().hex[:6]}"
    participants: dict[Role, list[str]] = {}
    for p in await list_participants(db_pool, "1861"):
        participants.setdefault(Role(p.role), []).append(p.participant_id)
    participants[Role.FORVALTNINGSCHEF] = [ghost]
    programme = f"ctl-{uuid.uuid4().hex[:8]}"
    workflow_id = str(PilotId(programme, "1861"))
    this_year = datetime.now(UTC).year
    await client.start_workflow(
        MunicipalityWorkflow.run,
        StartPilot(
            programme=programme,
            kommunkod="1861",
            municipality_name="Hallsberg",
            deciding_organ="Bildningsnämnden",
            template=load_template("lfr-skola"),
            participants=participants,
            kpi_years=[this_year - 3],
        ),
        id=workflow_id,
        task_queue=settings.task_queue,
    )

    step_name = f"assignment mail: {TASK} → {ghost}"
    failing = await until(client, workflow_id, lambda s: step_name in {f.step for f in s.failed_steps})
    # Every mail to the missing participant waits (they hold more than one task); nothing else does.
    assert all(f.step.endswith(f"→ {ghost}") and "not in the directory" in f.error for f in failing.failed_steps)
    # The rest of the pilot goes on meanwhile: the other levels' tasks are open.
    assert task_of(failing, "self_assessment@R").status is TaskStatus.OPEN
    # On the record, as statuses are read: with the error, no e-mail address, and what the pilot now waits for.
    records = PilotRecords(db_pool)
    on_record = await until_recorded(records, workflow_id, lambda s: step_name in {f.step for f in s.failed_steps})
    [recorded] = [f for f in on_record.failed_steps if f.step == step_name]
    assert "not in the directory" in recorded.error and "@" not in recorded.error.replace(f"→ {ghost}", "")
    assert any(w.kind == "failed_step" and step_name in w.text_en for w in on_record.waiting_for)

    await upsert_participants(
        db_pool,
        [
            Participant(
                participant_id=ghost,
                kommunkod="9992",  # only the id matters to the mail; pilots of 1861 must not gain a chef
                role="forvaltningschef",
                display_name="Exempel Tillförordnad (syntetisk)",
                email=f"{ghost}@example.invalid",
            )
        ],
    )
    await control_pilot(client, db_pool, workflow_id, control("retry", "deltagaren finns nu i katalogen"))

    await mail_capture.wait_for(
        lambda m: str(m["X-Leda-Notification"]) == f"assignment; {workflow_id}; {TASK}", timeout=60
    )
    recovered = await until(client, workflow_id, lambda s: not s.failed_steps)
    assert recovered.failed_steps == []
    assert (await until_recorded(records, workflow_id, lambda s: not s.failed_steps)).failed_steps == []
    events = await EventStore(db_pool).read_stream(workflow_id)
    retried = [e for e in events if e.event_type == "FailedStepRetried"]
    assert len(retried) == 1 and step_name in retried[0].data["steps"]
    with pytest.raises(PilotError) as refused:
        await control_pilot(client, db_pool, workflow_id, control("retry"))
    assert refused.value.code == "nothing_failed"


async def test_kolada_failing_for_good_is_a_failed_step_the_pilot_goes_on_and_a_retry_gathers_the_pack(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> None:
    """Against a Kolada that answers 500 to every data request: the activity gives up after its tries (the time
    between them skipped), the pack is a failed step on the record, the self-assessments open meanwhile, and once
    Kolada answers again, operations' retry gathers the pack."""
    with KoladaSampleServer() as kolada:
        kolada.inject(Fault("500", times=100_000, path="/v3/data/"))
        configured = settings.model_copy(update={"kolada_base_url": kolada.base_url, "kolada_retries": 0})
        client = time_skipping_env.client
        async with running_worker(client, configured, db_pool, strict_sandbox=True):
            workflow_id = await started(client, db_pool, configured)
            step = "Kolada data pack"
            for _ in range(60):  # the pauses between the activity's tries pass as the server's clock is moved on
                failing = await pilot_status(client, workflow_id)
                if step in {f.step for f in failing.failed_steps}:
                    break
                await time_skipping_env.sleep(timedelta(minutes=2))
            [failed] = [f for f in failing.failed_steps if f.step == step]
            assert "HTTP 500" in failed.error
            assert task_of(failing, TASK).status is TaskStatus.OPEN  # the rest of the pilot goes on
            described = await client.get_workflow_handle(workflow_id).describe()
            assert described.search_attributes.get("LedaState") == ["failing"]

            kolada.clear_faults()
            await control_pilot(client, db_pool, workflow_id, control("retry", "Kolada svarar igen"))
            gathered = await until(
                client, workflow_id, lambda s: task_of(s, "kpi_data_pack").status is TaskStatus.COMPLETED
            )
            assert gathered.failed_steps == []
