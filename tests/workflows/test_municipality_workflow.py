"""MunicipalityWorkflow on the time-skipping server, with the real activities (PostgreSQL, SMTP, Kolada format)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from devstack import sample_payloads
from devstack.mail import MailCapture
from directory import list_participants
from domain.calendar import (
    DateRange,
    SchoolCalendar,
    is_day_off_for,
    reminder_on_a_working_day_for,
    working_days_before,
)
from domain.decision_dates import next_working_day
from domain.events import event_from_record
from domain.phases import Phase
from domain.pilot_ids import PilotId
from domain.remediation import schedule_backwards
from domain.roles import Role
from domain.state import TaskStatus, fold
from domain.status import PilotStatus, TaskView
from domain.steering import SteerTask
from eventstore import EventStore
from pilots import (
    PilotError,
    appeal_step,
    complete_task,
    pilot_status,
    record_appeal,
    register_inspection,
    start_pilot,
    steer_task,
)
from programmes import template as load_template
from programmes.versions import reference_of
from settings import Settings
from worker import running_worker
from workflows.messages import StartPilot
from workflows.municipality import TOOK_EVERY_PATCH, MunicipalityWorkflow

KOMMUNKOD = "1861"


@pytest_asyncio.fixture
async def client(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[Client]:
    async with running_worker(time_skipping_env.client, settings, db_pool, strict_sandbox=True):
        yield time_skipping_env.client


async def start(client: Client, pool: asyncpg.Pool, settings: Settings, template: str = "lfr-skola") -> str:
    return await start_pilot(
        client,
        pool,
        programme=f"test-{uuid.uuid4().hex[:8]}",
        kommunkod=KOMMUNKOD,
        template_key=template,
        task_queue=settings.task_queue,
    )


async def start_carrying_the_whole_template(client: Client, pool: asyncpg.Pool, settings: Settings) -> str:
    """A pilot started as pilots were before the template registry: its input carries the whole template."""
    participants: dict[Role, list[str]] = {}
    for participant in await list_participants(pool, KOMMUNKOD):
        participants.setdefault(Role(participant.role), []).append(participant.participant_id)
    workflow_id = str(PilotId(f"test-{uuid.uuid4().hex[:8]}", KOMMUNKOD))
    this_year = datetime.now(UTC).year
    await client.start_workflow(
        MunicipalityWorkflow.run,
        StartPilot(
            programme=PilotId.parse(workflow_id).programme,
            kommunkod=KOMMUNKOD,
            municipality_name="Hallsberg",
            deciding_organ="Bildningsnämnden",
            template=load_template("lfr-skola"),
            participants=participants,
            kpi_years=[this_year - 4, this_year - 3, this_year - 2],
        ),
        id=workflow_id,
        task_queue=settings.task_queue,
    )
    return workflow_id


async def open_task(client: Client, workflow_id: str, key: str) -> TaskView:
    """Wait (in real time, briefly) until the workflow has opened `key`."""
    for _ in range(200):
        status = await pilot_status(client, workflow_id)
        for task in status.tasks:
            if task.key == key and task.status is TaskStatus.OPEN:
                return task
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


def synthetic_answer(task: TaskView, today: date | None = None) -> dict:
    return sample_payloads.answer_to(task, today or datetime.now(UTC).date())


async def answer(client: Client, workflow_id: str, key: str) -> None:
    task = await open_task(client, workflow_id, key)
    await complete_task(client, workflow_id, key, task.assignee_id, synthetic_answer(task))


SELF_ASSESSMENTS = (
    "self_assessment@P",
    "self_assessment@F",
    "self_assessment@R",
    "self_assessment@S",
    f"self_assessment@S/p-{KOMMUNKOD}-ekonomi",  # HR and ekonomi both answer for the support functions
)


async def analyse(client: Client, workflow_id: str) -> None:
    """The deep analysis up to the synthesis, so the analysis can be reported to the nämnd."""
    for key in ("document_collection", *SELF_ASSESSMENTS, "strengths_weaknesses"):
        await answer(client, workflow_id, key)


async def run_through(
    client: Client, pool: asyncpg.Pool, env: WorkflowEnvironment, workflow_id: str, *, inspection_during: Phase
) -> PilotStatus:
    """Simulated participants: answer every open task; let simulated time pass while the pilot waits."""
    idle_rounds = 0
    while True:
        status = await pilot_status(client, workflow_id)
        if status.completed_at is not None:
            return status
        todo = [t for t in status.tasks if t.status is TaskStatus.OPEN and not t.automated]
        for task in todo:
            if task.key == "inspection_decision":
                if status.current_phase is inspection_during:
                    decision = sample_payloads.inspection_decision(datetime.now(UTC).date())
                    await register_inspection(client, pool, workflow_id, task.assignee_id, decision)
                continue
            await complete_task(client, workflow_id, task.key, task.assignee_id, synthetic_answer(task))
        if any(t.key != "inspection_decision" for t in todo):
            idle_rounds = 0
            continue
        idle_rounds += 1
        assert idle_rounds < 100, f"the pilot stopped moving: {[(t.key, t.status) for t in status.tasks]}"
        if idle_rounds > 3:
            await env.sleep(timedelta(days=30))  # waiting for the next implementation year
        else:
            await asyncio.sleep(0.05)


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of the workflow, oldest first, following the continue-as-new chain backwards."""
    histories = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while previous := histories[0].events[0].workflow_execution_started_event_attributes.continued_execution_run_id:
        histories.insert(0, await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history())
    return histories


async def test_a_pilot_runs_the_whole_skl_programme_over_three_years_with_an_inspection_during_the_plan(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    # Started as before the template registry, so the runs after its year boundaries show the move to a reference.
    workflow_id = await start_carrying_the_whole_template(client, db_pool, settings)

    final = await run_through(client, db_pool, time_skipping_env, workflow_id, inspection_during=Phase.DEVELOPMENT_PLAN)

    # The inspection track stays open beside the main phases until they are done and its remediation is.
    assert final.completed_phases == [
        Phase.DEEP_ANALYSIS,
        Phase.DEVELOPMENT_PLAN,
        Phase.IMPLEMENTATION,
        Phase.INSPECTION_COMPARISON,
        Phase.DECISION_FOLLOW_UP,
    ]
    assert final.implementation_year == final.plan_years == 3
    assert all(t.status is TaskStatus.COMPLETED for t in final.tasks)
    # 4 levels of self-assessment, the support functions twice (HR and ekonomi); each year: follow-up, analysis,
    # planning, 1 measure, 5 change projects,
    # funding, annual report.
    assert sum(t.template_key == "self_assessment" for t in final.tasks) == 5
    assert {t.year for t in final.tasks if t.template_key == "change_project"} == {1, 2, 3}
    assert sum(t.template_key == "change_project" for t in final.tasks) == 15

    events = await EventStore(db_pool).read_stream(workflow_id)
    types = [e.event_type for e in events]
    assert [e.data["year"] for e in events if e.event_type == "ImplementationYearStarted"] == [1, 2, 3]
    assert types.count("SelfAssessmentsConsolidated") == 1 and types[-1] == "PilotCompleted"
    assert [e.stream_version for e in events] == list(range(1, len(events) + 1))

    decisions = {d.task_key: d for d in final.decisions}
    # Year 2's planning asks for a revised plan: a new decision, whose new measure M1.2 is followed from then on.
    assert set(decisions) == {
        "analysis_reported",
        "plan_adoption",
        "annual_report@y1",
        "plan_revision@y2",
        "annual_report@y2",
        "annual_report@y3",
    }
    measures = sorted(t.key for t in final.tasks if t.template_key == "measure_progress")
    assert measures == [
        "measure_progress@y1/M1.1",
        "measure_progress@y2/M1.1",
        "measure_progress@y2/M1.2",
        "measure_progress@y3/M1.1",
        "measure_progress@y3/M1.2",
    ]
    adoption = decisions["plan_adoption"]
    # Two weeks to justering and two days more to anslag, each moved past a weekend or holiday (lag 1930:173): the
    # meeting falls on another weekday as the run's date moves.
    justering = next_working_day(adoption.meeting_date + timedelta(days=14))
    assert adoption.justering_due == justering
    assert adoption.anslag_due == next_working_day(justering + timedelta(days=2))
    [comparison] = final.comparisons.values()
    assert {(c.factor, c.classification) for c in comparison} >= {("SF4", "agreed"), ("SF7", "agreed")}
    assert ("SF3", "inspection_only") in {(c.factor, c.classification) for c in comparison}
    # The föreläggande's remediation: four steps, all done; the development area has no deadline, no steps.
    remediation = [t for t in final.tasks if t.template_key == "remediation"]
    assert len(remediation) == 4 and all(t.status is TaskStatus.COMPLETED for t in remediation)
    register = await db_pool.fetch("SELECT task_key FROM decisions WHERE stream_id = $1", workflow_id)
    assert len(register) == 6
    finals = [e.data["decision_task_key"] for e in events if e.event_type == "DecisionBecameFinal"]
    assert sorted(finals) == sorted(decisions)

    # One run per implementation year boundary, and each run carried exactly the state its events fold to.
    histories = await runs_of(client, workflow_id)
    assert len(histories) == 3
    domain_events = [event_from_record(e.event_type, e.event_id, e.schema_version, e.data) for e in events]
    for history in histories[:-1]:
        attributes = history.events[-1].workflow_execution_continued_as_new_event_attributes
        [carried_input] = await pydantic_data_converter.decode(attributes.input.payloads, [StartPilot])
        carried = carried_input.carried
        assert carried is not None
        assert carried == fold(domain_events[: carried.version])
        # The template it carried whole is named by its registered version from the next run on.
        assert carried_input.template is None
        assert carried_input.template_ref == reference_of(load_template("lfr-skola"))
    assert max(len(h.events) for h in histories) < 4096


async def test_reminders_and_escalation_fire_at_the_template_offsets(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    mail_capture: MailCapture,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment@F")

    # self_assessment: due after 21 days, reminders 7 and 1 day before, escalation 3 days after the deadline.
    await time_skipping_env.sleep(timedelta(days=25))
    status = await pilot_status(client, workflow_id)
    task = next(t for t in status.tasks if t.key == "self_assessment@F")
    assert task.reminders_sent == 2 and task.escalated

    events = await EventStore(db_pool).read_stream(workflow_id)
    opened = next(e for e in events if e.event_type == "TaskOpened" and e.data["task_key"] == "self_assessment@F")
    opened_at = datetime.fromisoformat(opened.data["occurred_at"])
    offsets = [
        (e.event_type, datetime.fromisoformat(e.data["occurred_at"]) - opened_at)
        for e in events
        if e.event_type in ("TaskReminderSent", "TaskEscalated") and e.data["task_key"] == "self_assessment@F"
    ]
    # Each reminder on the working day it falls on, or the last before it (a weekend or a holiday moves it).
    due = opened_at + timedelta(days=21)
    expected = [
        ("TaskReminderSent", reminder_on_a_working_day_for(due - timedelta(days=7), Role.FORVALTNINGSCHEF, None)),
        ("TaskReminderSent", reminder_on_a_working_day_for(due - timedelta(days=1), Role.FORVALTNINGSCHEF, None)),
        ("TaskEscalated", due + timedelta(days=3)),
    ]
    expected = [(kind, at - opened_at) for kind, at in expected]
    assert [kind for kind, _ in offsets] == [kind for kind, _ in expected]
    for (_, actual), (_, wanted) in zip(offsets, expected, strict=True):
        assert abs(actual - wanted) < timedelta(minutes=1), (actual, wanted)

    def escalation(m: object) -> bool:
        return f"escalation; {workflow_id}; self_assessment@F" in str(m["X-Leda-Notification"])  # type: ignore[index]

    await mail_capture.wait_for(lambda m: escalation(m) and "kommundirektor" in str(m["To"]))
    escalations = [m for m in mail_capture.messages() if escalation(m)]
    # To the programme lead, and to the förvaltningschef's line manager: the kommundirektör, never a politician.
    assert {str(m["To"]).split("<")[-1].rstrip(">") for m in escalations} == {
        "programledare.1861@example.invalid",
        "kommundirektor.1861@example.invalid",
    }
    # Each is told what they can do about it: the lead steers, the manager asks.
    [to_manager] = [m for m in escalations if "kommundirektor" in str(m["To"])]
    assert "Du får det här som chef för den som har uppgiften" in to_manager.get_content()
    [to_lead] = [m for m in escalations if "programledare" in str(m["To"])]
    assert "Som programledare kan du förlänga uppgiften eller flytta den" in to_lead.get_content()
    reminders = [
        m
        for m in mail_capture.messages()
        if str(m["X-Leda-Notification"]).startswith(f"reminder; {workflow_id}; self_assessment@F")
    ]
    assert len(reminders) == 2 and "forvaltningschef.1861@example.invalid" in str(reminders[0]["To"])
    assert "(förvaltning)" in str(reminders[0]["Subject"])


async def test_a_task_completed_before_its_deadline_is_neither_reminded_nor_escalated(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment@F")
    await time_skipping_env.sleep(timedelta(days=30))
    events = await EventStore(db_pool).read_stream(workflow_id)
    assert not [
        e
        for e in events
        if e.event_type in ("TaskReminderSent", "TaskEscalated") and e.data["task_key"] == "self_assessment@F"
    ]


@pytest.mark.parametrize(
    ("task_key", "participant", "payload", "code", "says"),
    [
        ("no_such_task", "p-1861-forvaltningschef", {}, "unknown_task", "no_such_task"),
        ("plan_draft", "p-1861-forvaltningschef", {}, "not_open", "not open yet"),
        ("kpi_data_pack", "p-1861-analytiker", {}, "automated", "done by the system"),
        ("self_assessment@F", "p-1861-rektor", None, "not_assignee", "p-1861-rektor"),
        (
            "self_assessment@F",
            "p-1861-forvaltningschef",
            {"level": "F", "scores": {"SF1.a": 5}},
            "invalid_payload",
            "scores.SF1.a",
        ),
        ("self_assessment@F", "p-1861-forvaltningschef", "level R", "invalid_payload", "level F"),
    ],
)
async def test_update_rejections_name_the_reason_and_record_nothing(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    task_key: str,
    participant: str,
    payload: dict | str | None,
    code: str,
    says: str,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    store = EventStore(db_pool)
    version_before = await store.stream_version(workflow_id)
    if payload is None:
        payload = sample_payloads.self_assessment("F")
    elif payload == "level R":
        payload = sample_payloads.self_assessment("R")

    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, task_key, participant, payload)

    assert refused.value.code == code
    assert says in str(refused.value)
    assert await store.stream_version(workflow_id) == version_before


async def test_completing_a_task_twice_is_rejected(client: Client, db_pool: asyncpg.Pool, settings: Settings) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment@F")
    other_answer = {**sample_payloads.self_assessment("F"), "evidence": {"SF1.a": "ett annat svar"}}
    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, "self_assessment@F", "p-1861-forvaltningschef", other_answer)
    assert refused.value.code == "already_completed"


async def test_a_completion_answers_with_the_tasks_it_opened(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    for key in ("document_collection", *(k for k in SELF_ASSESSMENTS if k != "self_assessment@F")):
        await answer(client, workflow_id, key)
    task = await open_task(client, workflow_id, "self_assessment@F")
    completion = await complete_task(client, workflow_id, task.key, task.assignee_id, synthetic_answer(task))
    assert completion.opened_next == ["strengths_weaknesses"]
    # The answer and what it opened were recorded in one append (one recorded_at), each on the record as whose.
    stored = await EventStore(db_pool).read_stream(workflow_id)
    [completed] = [e for e in stored if e.event_type == "TaskCompleted" and e.data["task_key"] == task.key]
    batch = [e for e in stored if e.recorded_at == completed.recorded_at]
    assert completed.metadata["actor"] == task.assignee_id
    opened = [e for e in batch if e.event_type == "TaskOpened"]
    assert [e.data["task_key"] for e in opened] == ["strengths_weaknesses"]
    assert all(e.metadata["actor"] == "system" for e in batch if e is not completed)
    assert completion.stream_version >= batch[-1].stream_version


async def test_concurrent_completions_of_one_task_record_exactly_one(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment@F")
    answers = [{**sample_payloads.self_assessment("F"), "evidence": {"SF1.a": f"svar {n}"}} for n in range(20)]
    outcomes = await asyncio.gather(
        *(complete_task(client, workflow_id, "self_assessment@F", "p-1861-forvaltningschef", a) for a in answers),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, PilotError)]
    assert len(accepted) == 1 and len(refused) == 19
    assert {r.code for r in refused} == {"already_completed"}
    events = await EventStore(db_pool).read_stream(workflow_id)
    completions = [e for e in events if e.event_type == "TaskCompleted" and e.data["task_key"] == "self_assessment@F"]
    assert len(completions) == 1


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
    await answer(client, workflow_id, "self_assessment@F")
    await answer(client, workflow_id, "self_assessment@R")
    await time_skipping_env.sleep(timedelta(days=50))  # reminders and escalations for the other levels
    history = await client.get_workflow_handle(workflow_id).fetch_history()

    replayer = Replayer(workflows=[MunicipalityWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)

    assert result.replay_failure is None


async def test_a_new_run_takes_every_patch_with_one_marker_and_says_start_until_its_first_phase(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await answer(client, workflow_id, "self_assessment@F")
    history = await client.get_workflow_handle(workflow_id).fetch_history()

    markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in history.events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    change_versions = [u["TemporalChangeVersion"].data for u in upserts if "TemporalChangeVersion" in u]
    # Before, a marker and an upsert of TemporalChangeVersion for each of the run's patches.
    [marker] = markers
    details = marker.marker_recorded_event_attributes.details
    assert any(TOOK_EVERY_PATCH.encode() in payload.data for d in details.values() for payload in d.payloads)
    assert len(change_versions) == 1 and TOOK_EVERY_PATCH.encode() in change_versions[0]
    # The phase start_pilot set stays until the deep analysis begins: never 'klar' on the way.
    phases = [u["LedaPhase"].data.decode().strip('"') for u in upserts if "LedaPhase" in u]
    assert phases and phases[0] == Phase.DEEP_ANALYSIS.value and "klar" not in phases


async def test_an_inspection_decision_schedules_remediation_back_from_its_deadline_and_a_follow_up_clears_it(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    today = datetime.now(UTC).date()
    decision = sample_payloads.inspection_decision(today)
    deadline = date.fromisoformat(decision["findings"][0]["deadline"])

    await register_inspection(client, db_pool, workflow_id, "p-1861-analytiker", decision)

    status = await pilot_status(client, workflow_id)
    steps = {t.key.rsplit("/", 1)[1]: t for t in status.tasks if t.template_key == "remediation"}
    assert list(steps) == ["atgardsplan", "atgarder_genomforda", "namndbeslut_redovisning", "redovisning_inskickad"]
    expected = {s.key: s.due for s in schedule_backwards(deadline, today=today)}
    assert {key: task.due_at.date() for key, task in steps.items() if task.due_at} == expected
    assert next(t for t in status.tasks if t.key == "inspection_decision").status is TaskStatus.COMPLETED
    assert status.inspections == [decision["diarienummer"]]

    await answer(client, workflow_id, steps["atgardsplan"].key)
    follow_up = sample_payloads.inspection_follow_up(decision, today, cleared=True)
    await register_inspection(client, db_pool, workflow_id, "p-1861-analytiker", follow_up)

    status = await pilot_status(client, workflow_id)
    states = {t.key.rsplit("/", 1)[1]: t.status for t in status.tasks if t.template_key == "remediation"}
    assert states == {
        "atgardsplan": TaskStatus.COMPLETED,
        "atgarder_genomforda": TaskStatus.CLOSED,
        "namndbeslut_redovisning": TaskStatus.CLOSED,
        "redovisning_inskickad": TaskStatus.CLOSED,
    }


async def test_a_remaining_deficiency_gets_a_new_schedule_from_its_new_deadline(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    today = datetime.now(UTC).date()
    decision = sample_payloads.inspection_decision(today)
    await register_inspection(client, db_pool, workflow_id, "p-1861-analytiker", decision)
    follow_up = sample_payloads.inspection_follow_up(decision, today, cleared=False)

    await register_inspection(client, db_pool, workflow_id, "p-1861-analytiker", follow_up)

    status = await pilot_status(client, workflow_id)
    open_steps = [t for t in status.tasks if t.template_key == "remediation" and t.status is TaskStatus.OPEN]
    assert {t.key.split("#")[0] for t in open_steps} == {f"remediation@{follow_up['diarienummer']}"}
    assert max(t.due_at.date() for t in open_steps if t.due_at) <= date.fromisoformat(
        follow_up["findings"][0]["deadline"]
    )


@pytest.mark.parametrize(
    ("who", "change", "code", "says"),
    [
        ("p-1861-rektor", {}, "not_allowed", "may not register"),
        ("p-1861-analytiker", {"findings": [{"area": "x"}]}, "invalid_payload", "findings.0.area"),
        ("p-1861-analytiker", "follow-up of an unknown decision", "invalid_payload", "no registered decision SI-0"),
    ],
)
async def test_an_inspection_decision_that_cannot_be_registered_is_refused_with_the_reason(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, who: str, change: dict | str, code: str, says: str
) -> None:
    workflow_id = await start(client, db_pool, settings)
    today = datetime.now(UTC).date()
    if isinstance(change, dict):
        decision = {**sample_payloads.inspection_decision(today), **change}
    else:
        decision = {
            **sample_payloads.inspection_follow_up(sample_payloads.inspection_decision(today), today),
            "follow_up_of": "SI-0",
        }
    with pytest.raises(PilotError) as refused:
        await register_inspection(client, db_pool, workflow_id, who, decision)
    assert refused.value.code == code
    assert says in str(refused.value)


async def test_the_same_decision_cannot_be_registered_twice(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    decision = sample_payloads.inspection_decision(datetime.now(UTC).date())
    await register_inspection(client, db_pool, workflow_id, "p-1861-analytiker", decision)
    with pytest.raises(PilotError) as refused:
        await register_inspection(client, db_pool, workflow_id, "p-1861-forvaltningschef", decision)
    assert "already registered" in str(refused.value)


async def test_a_decision_becomes_final_when_its_appeal_period_is_over(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await analyse(client, workflow_id)
    task = await open_task(client, workflow_id, "analysis_reported")
    # The workflow's clock, not the wall clock: the time-skipping server may be ahead.
    today = task.opened_at.date()
    decision = sample_payloads.namnd_decision(today, 41, "analysen anmäls till nämnden")
    await complete_task(client, workflow_id, "analysis_reported", task.assignee_id, decision)
    posting = await open_task(client, workflow_id, "decision_posted@analysis_reported")
    await complete_task(
        client,
        workflow_id,
        posting.key,
        posting.assignee_id,
        {"justering_date": today.isoformat(), "anslag_date": today.isoformat()},
    )
    store = EventStore(db_pool)
    events = await store.read_stream(workflow_id)
    [posted] = [e for e in events if e.event_type == "DecisionPosted"]
    ends = date.fromisoformat(posted.data["appeal_period_ends"])
    assert ends >= today + timedelta(weeks=3) and ends.weekday() < 5
    assert not [e for e in events if e.event_type == "DecisionBecameFinal"]

    await time_skipping_env.sleep(timedelta(days=26))

    events = await store.read_stream(workflow_id)
    [final] = [e for e in events if e.event_type == "DecisionBecameFinal"]
    assert final.data["decision_task_key"] == "analysis_reported"
    assert datetime.fromisoformat(final.data["occurred_at"]).date() == ends + timedelta(days=1)


async def test_a_decision_from_a_future_meeting_is_refused(
    client: Client, db_pool: asyncpg.Pool, settings: Settings
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await analyse(client, workflow_id)
    task = await open_task(client, workflow_id, "analysis_reported")
    decision = sample_payloads.namnd_decision(task.opened_at.date() + timedelta(days=30), 41, "ännu ej fattat")
    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, "analysis_reported", task.assignee_id, decision)
    assert "meeting_date" in str(refused.value) and "future" in str(refused.value)


async def test_a_task_that_opens_already_overdue_sends_no_late_reminders_or_escalation(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await analyse(client, workflow_id)
    task = await open_task(client, workflow_id, "analysis_reported")
    # Minuted 40 days ago and recorded only now: the minutes should have been posted 24 days ago.
    meeting = task.opened_at.date() - timedelta(days=40)
    decision = sample_payloads.namnd_decision(meeting, 41, "analysen anmäls till nämnden")
    await complete_task(client, workflow_id, "analysis_reported", task.assignee_id, decision)
    posting = await open_task(client, workflow_id, "decision_posted@analysis_reported")
    assert posting.due_at is not None and posting.due_at < posting.opened_at

    await time_skipping_env.sleep(timedelta(days=10))

    events = await EventStore(db_pool).read_stream(workflow_id)
    assert not [
        e for e in events if e.event_type in ("TaskReminderSent", "TaskEscalated") and e.data["task_key"] == posting.key
    ]


async def test_a_programme_lead_reassigns_a_task_with_a_reason_and_the_new_holder_is_told(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, mail_capture: MailCapture
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment@F")
    request = SteerTask(
        task_key="self_assessment@F",
        actor_id="p-1861-programledare",
        action="reassign",
        to_participant="p-1861-analytiker",
        reason="förvaltningschefen är föräldraledig",
    )

    await steer_task(client, db_pool, workflow_id, request)

    task = await open_task(client, workflow_id, "self_assessment@F")
    assert task.assignee_id == "p-1861-analytiker"
    with pytest.raises(PilotError) as refused:
        await complete_task(client, workflow_id, task.key, "p-1861-forvaltningschef", synthetic_answer(task))
    assert refused.value.code == "not_assignee"
    await mail_capture.wait_for(
        lambda m: (
            str(m["X-Leda-Notification"]) == f"assignment; {workflow_id}; self_assessment@F"
            and "analytiker.1861@example.invalid" in str(m["To"])
        )
    )
    [moved] = [e for e in await EventStore(db_pool).read_stream(workflow_id) if e.event_type == "TaskReassigned"]
    assert moved.data["reason"] == "förvaltningschefen är föräldraledig"
    assert moved.data["by"] == "p-1861-programledare" and moved.metadata["actor"] == "p-1861-programledare"


async def test_a_delegated_task_returns_to_its_owner(client: Client, db_pool: asyncpg.Pool, settings: Settings) -> None:
    workflow_id = await start(client, db_pool, settings)
    await open_task(client, workflow_id, "self_assessment@R")
    delegate = SteerTask(
        task_key="self_assessment@R",
        actor_id="p-1861-rektor",
        action="delegate",
        to_participant="p-1861-analytiker",
        reason="tillförordnad rektor under sjukskrivning",
    )
    await steer_task(client, db_pool, workflow_id, delegate)
    held = await open_task(client, workflow_id, "self_assessment@R")
    assert held.assignee_id == "p-1861-analytiker"

    back = SteerTask(task_key="self_assessment@R", actor_id="p-1861-rektor", action="return", reason="åter i tjänst")
    await steer_task(client, db_pool, workflow_id, back)

    assert (await open_task(client, workflow_id, "self_assessment@R")).assignee_id == "p-1861-rektor"


async def test_an_extended_deadline_moves_the_reminders_and_the_escalation(
    client: Client, db_pool: asyncpg.Pool, settings: Settings, time_skipping_env: WorkflowEnvironment
) -> None:
    workflow_id = await start(client, db_pool, settings)
    task = await open_task(client, workflow_id, "self_assessment@F")
    assert task.due_at is not None
    new_due = task.due_at + timedelta(days=30)
    await steer_task(
        client,
        db_pool,
        workflow_id,
        SteerTask(
            task_key=task.key,
            actor_id="p-1861-programledare",
            action="extend",
            due_at=new_due,
            reason="nämnden sammanträder först i december",
        ),
    )

    await time_skipping_env.sleep(timedelta(days=25))  # past the old escalation moment (day 24)
    events = await EventStore(db_pool).read_stream(workflow_id)
    assert not [e for e in events if e.event_type == "TaskEscalated" and e.data["task_key"] == task.key]

    await time_skipping_env.sleep(timedelta(days=30))  # past the new deadline + 3 days
    events = await EventStore(db_pool).read_stream(workflow_id)
    [escalated] = [e for e in events if e.event_type == "TaskEscalated" and e.data["task_key"] == task.key]
    assert datetime.fromisoformat(escalated.data["overdue_since"]) == new_due


@pytest.mark.parametrize(
    ("actor", "action", "to", "reason", "code"),
    [
        ("p-1861-rektor", "reassign", "p-1861-analytiker", "vill inte", "not_allowed"),
        ("p-1861-programledare", "reassign", "p-nobody", "okänd", "invalid_payload"),
        ("p-1861-programledare", "reassign", "p-1861-analytiker", "   ", "reason_required"),
        ("p-1861-forvaltningschef", "return", None, "tillbaka", "not_delegated"),
        ("p-1861-forvaltningschef", "extend", None, "mer tid", "not_allowed"),
    ],
)
async def test_steering_that_is_not_allowed_is_refused_with_the_reason_and_records_nothing(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    actor: str,
    action: str,
    to: str | None,
    reason: str,
    code: str,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await data_pack_gathered(client, workflow_id)
    store = EventStore(db_pool)
    before = await store.stream_version(workflow_id)
    request = SteerTask(
        task_key="self_assessment@F",
        actor_id=actor,
        action=action,  # type: ignore[arg-type]
        to_participant=to,
        due_at=datetime.now(UTC) + timedelta(days=60) if action == "extend" else None,
        reason=reason,
    )
    with pytest.raises(PilotError) as refused:
        await steer_task(client, db_pool, workflow_id, request)
    assert refused.value.code == code
    assert await store.stream_version(workflow_id) == before


async def test_deadlines_skip_the_school_holidays_and_board_tasks_fall_due_at_a_meeting(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    mail_capture: MailCapture,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    today = datetime.now(UTC).date()
    # A lov over the whole week the self-assessments would fall due in, and one nämnd meeting 60 days ahead.
    lov = DateRange(name="testlov", first=today + timedelta(days=18), last=today + timedelta(days=26))
    meeting = today + timedelta(days=60)
    calendar = SchoolCalendar(holidays=[lov], meeting_dates=[meeting])
    workflow_id = await start_pilot(
        client,
        db_pool,
        programme=f"test-{uuid.uuid4().hex[:8]}",
        kommunkod=KOMMUNKOD,
        template_key="lfr-skola",
        task_queue=settings.task_queue,
        calendar=calendar,
    )

    # The lov is the school's: it moves the rektor's deadline, not the förvaltningschef's.
    rektor = await open_task(client, workflow_id, "self_assessment@R")
    assert rektor.due_at is not None
    assert rektor.due_at.date() > lov.last and not is_day_off_for(rektor.due_at.date(), Role.REKTOR, calendar)
    chef = await open_task(client, workflow_id, "self_assessment@F")
    assert chef.due_at is not None and chef.due_at.date() in lov
    assert not is_day_off_for(chef.due_at.date(), Role.FORVALTNINGSCHEF, calendar)

    for key in ("document_collection", *SELF_ASSESSMENTS):
        await answer(client, workflow_id, key)
    # What the nämnd decides on is due in time for the meeting's notice, 10 working days before it.
    synthesis = await open_task(client, workflow_id, "strengths_weaknesses")
    assert synthesis.due_at is not None and synthesis.due_at.date() == working_days_before(meeting, 10)
    await answer(client, workflow_id, "strengths_weaknesses")
    reported = await open_task(client, workflow_id, "analysis_reported")
    assert reported.due_at is not None and reported.due_at.date() == meeting

    await time_skipping_env.sleep(timedelta(days=59))
    events = await EventStore(db_pool).read_stream(workflow_id)
    reminders = [e for e in events if e.event_type == "TaskReminderSent"]
    assert reminders and all(
        not is_day_off_for(datetime.fromisoformat(e.data["occurred_at"]).date(), Role.REKTOR, calendar)
        for e in reminders
        if e.data["recipient_id"] == f"p-{KOMMUNKOD}-rektor"
    )
    # The nämnd's decision is reminded of as a decision due at the meeting, not as a task to finish.
    [decision_due] = await mail_capture.wait_for(
        lambda m: str(m["X-Leda-Notification"]) == f"decision_due; {workflow_id}; analysis_reported"
    )
    assert str(decision_due["Subject"]).startswith("Beslut att fatta / Decision due")
    assert f"sammanträdet {meeting:%Y-%m-%d}" in decision_due.get_content()


async def test_an_appealed_decision_waits_for_the_court_and_an_annulment_has_the_nämnd_decide_again(
    client: Client,
    db_pool: asyncpg.Pool,
    settings: Settings,
    mail_capture: MailCapture,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    workflow_id = await start(client, db_pool, settings)
    await analyse(client, workflow_id)
    task = await open_task(client, workflow_id, "analysis_reported")
    today = task.opened_at.date()  # the workflow's clock
    await complete_task(
        client, workflow_id, task.key, task.assignee_id, sample_payloads.namnd_decision(today, 41, "anmäls")
    )
    posting = await open_task(client, workflow_id, "decision_posted@analysis_reported")
    posted = {"justering_date": today.isoformat(), "anslag_date": today.isoformat()}
    await complete_task(client, workflow_id, posting.key, posting.assignee_id, posted)
    lead = f"p-{KOMMUNKOD}-programledare"
    court = {"court": "Förvaltningsrätten i Karlstad", "case_number": "4711-26"}
    appeal = appeal_step(action="lodged", decision_key="analysis_reported", actor_id=lead, lodged_on=today, **court)

    await record_appeal(client, db_pool, workflow_id, appeal)
    await time_skipping_env.sleep(timedelta(days=30))  # long past the appeal period

    store = EventStore(db_pool)
    assert not [e for e in await store.read_stream(workflow_id) if e.event_type == "DecisionBecameFinal"]
    annulled = appeal_step(
        action="decided",
        decision_key="analysis_reported",
        actor_id=lead,
        case_number="4711-26",
        outcome="upphavt",
        decided_on=today + timedelta(days=20),
    )
    answered = await record_appeal(client, db_pool, workflow_id, annulled)

    assert answered.reopened_tasks == ["analysis_reported"]
    again = await open_task(client, workflow_id, "analysis_reported")
    assert again.due_at is not None and again.due_at > again.opened_at

    def assigned(m: EmailMessage) -> bool:
        return str(m["X-Leda-Notification"]).strip() == f"assignment; {workflow_id}; analysis_reported"

    for _ in range(100):  # told when it first opened, and again now that it reopened
        if len(await mail_capture.wait_for(assigned)) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(await mail_capture.wait_for(assigned)) == 2
    # The same answer as before is a new completion of the reopened task, not a retry of the first one.
    first_answer = sample_payloads.namnd_decision(today, 41, "anmäls")
    assert again.reopened == 1
    await complete_task(client, workflow_id, again.key, again.assignee_id, first_answer)
    await open_task(client, workflow_id, "decision_posted@analysis_reported/2")
    recorded = [e for e in await store.read_stream(workflow_id) if e.event_type == "DecisionRecorded"]
    assert [e.data.get("decision_key") for e in recorded] == [None, "analysis_reported/2"]
