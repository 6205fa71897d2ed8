"""Record the workflow histories that tests/workflows/test_replay.py replays: `make histories`.

Starts the real servers, as the tests do (the time-skipping Temporal test server, an embedded PostgreSQL with
the migrations applied, the SMTP capture and the Kolada-format server over synthetic files), runs a worker
and drives representative pilots with simulated participants. They answer with the SYNTHETIC payloads of
`devstack/sample_payloads.py`, as the synthetic participants of `devstack/sample_data/`: no real pilot's data.
Every run of every workflow is written with `WorkflowHistory.to_json()` to
`tests/histories/<recording>/<scenario>.<run>.json`, and `manifest.json` says what each covers.

A recording is named for the commit it was made from and is never overwritten: histories recorded from older
code stay, so the replay test keeps proving that today's code can carry on the workflows those versions
started. Record only from committed workflow code (the script refuses otherwise); see the README, "Changing a
running workflow".

    .venv/bin/python -m tests.histories.record             # into tests/histories/<date>-<commit>/
    .venv/bin/python -m tests.histories.record --out DIR   # elsewhere
    .venv/bin/python -m tests.histories.record --scenario lfr_skola_every_phase --scenario ...   # only these

A recording need not repeat every scenario: one whose shape an older recording already holds, and which the new
code does not change, can be left out with --scenario to keep the stored histories small (the manifest lists the
scenarios recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

import workflows.municipality
from database import create_pool, migrate
from devstack import sample_payloads
from devstack.kolada import KoladaSampleServer
from devstack.mail import MailCapture
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from devstack.stack import search_attribute_types
from devstack.temporal import start_time_skipping_server
from directory import Participant, list_participants, read_participants_csv, upsert_participants
from domain.control import ControlAction, ControlPilot
from domain.municipalities import DECIDING_ORGANS, pilot_name
from domain.network import RecordAttendance, ScheduleMeeting, meeting_id_for
from domain.phases import Phase
from domain.pilot_ids import PilotId
from domain.roles import Role
from domain.roster import ChangeRoster
from domain.rulebook import RULE_PATCHES
from domain.state import TaskStatus
from domain.status import PilotStatus, TaskView
from domain.steering import SteerTask
from eventstore import EventStore, StoredEvent
from observability import configure_logging
from pilots import (
    appeal_step,
    change_roster,
    complete_task,
    control_pilot,
    pilot_status,
    record_appeal,
    record_attendance,
    register_inspection,
    schedule_meeting,
    start_pilot,
    steer_task,
)
from programmes import template as load_template
from programmes.calendars import load_calendar
from programmes.versions import current as current_template
from settings import Settings
from worker import running_worker
from workflows.daily_digest import DailyDigestWorkflow
from workflows.messages import StartPilot
from workflows.municipality import (
    APPENDS_BEFORE_NEW_RUN,
    DECISION_DUE_MAIL,
    FAILED_STEPS_ON_RECORD,
    ONE_APPEND_PER_ANSWER,
    PATCHES_TAKEN_AT_ONCE,
    RICHER_SEARCH_ATTRIBUTES,
    TOOK_EVERY_PATCH,
    MunicipalityWorkflow,
)

HISTORIES = Path(__file__).resolve().parent
REPOSITORY = HISTORIES.parent.parent
SAMPLE_DATA = REPOSITORY / "devstack" / "sample_data"
WORKFLOW_CODE = ["workflows", "domain", "activities", "programmes"]
"""What a recorded history depends on: a change here that is not committed would make the recording unrepeatable."""
PROGRAMME = "histories"
INSPECTION = "inspection_decision"


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Recorded:
    """One run's history, and what it shows."""

    scenario: str
    run: int
    of_runs: int
    history: WorkflowHistory
    workflow_type: str
    status: str
    covers: list[str]

    @property
    def file_name(self) -> str:
        return f"{self.scenario}.{self.run}.json" if self.of_runs > 1 else f"{self.scenario}.json"


@dataclass
class Pilot:
    """A pilot on the time-skipping server, driven as its (simulated) participants would."""

    client: Client
    env: WorkflowEnvironment
    workflow_id: str
    pool: asyncpg.Pool

    async def status(self) -> PilotStatus:
        return await pilot_status(self.client, self.workflow_id)

    async def today(self) -> date:
        """The workflow's date: the test server's clock runs ahead of the wall clock once time has skipped."""
        return (await self.env.get_current_time()).astimezone(UTC).date()

    async def open_task(self, key: str) -> TaskView:
        """Wait (in real time, briefly) until the workflow has opened `key`."""
        for _ in range(400):
            task = (await self.status()).task(key)
            if task is not None and task.status is TaskStatus.OPEN:
                return task
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.workflow_id}: {key} never opened")

    async def until(self, done: Callable[[PilotStatus], bool], what: str) -> PilotStatus:
        for _ in range(400):
            status = await self.status()
            if done(status):
                return status
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.workflow_id}: never {what}")

    async def answer(self, key: str, payload: dict[str, Any] | None = None) -> None:
        task = await self.open_task(key)
        await self._complete(task, payload)

    async def _complete(self, task: TaskView, payload: dict[str, Any] | None = None) -> None:
        if payload is None:
            status = await self.status()
            payload = sample_payloads.answer_to(task, await self.today(), organ=status.deciding_organ)
        await complete_task(self.client, self.workflow_id, task.key, task.assignee_id, payload)

    async def steer(self, key: str, actor: str, action: str, reason: str, **change: Any) -> None:
        await self.open_task(key)
        request = SteerTask(task_key=key, actor_id=actor, action=action, reason=reason, **change)  # type: ignore[arg-type]
        await steer_task(self.client, self.pool, self.workflow_id, request)

    async def register(self, actor: str, decision: dict[str, Any]) -> None:
        await register_inspection(self.client, self.pool, self.workflow_id, actor, decision)

    async def control(self, action: ControlAction, actor: str, reason: str) -> None:
        await control_pilot(
            self.client, self.pool, self.workflow_id, ControlPilot(action=action, actor_id=actor, reason=reason)
        )

    async def let_days_pass(self, days: int) -> None:
        await self.env.sleep(timedelta(days=days))

    async def let_days_pass_until(self, done: Callable[[PilotStatus], bool], what: str, *, at_least: int = 1) -> None:
        """Let days pass, `at_least` first and then one at a time, until `done`: a deadline that falls on a weekend
        or holiday moves, and its reminders and escalation with it, so how many days depends on the calendar."""
        await self.let_days_pass(at_least)
        for _ in range(60):
            if done(await self.until(lambda _: True, what)):
                return
            await self.let_days_pass(1)
        raise RuntimeError(f"{self.workflow_id}: never {what}")

    async def drive(
        self,
        until: Callable[[PilotStatus], bool],
        *,
        hold: Callable[[TaskView, PilotStatus], bool] = lambda task, status: False,
        between: Callable[[PilotStatus], Awaitable[bool]] | None = None,
    ) -> PilotStatus:
        """Answer every open task except those held, until `until`; when nothing is left to do, let 30 days pass.

        `between` runs each round before the answers (an inspection's decision arriving, say); True if it acted.
        """
        idle_rounds = 0
        while True:
            status = await self.status()
            if until(status):
                return status
            if between is not None and await between(status):
                idle_rounds = 0
                continue
            todo = [
                t
                for t in status.tasks
                if t.status is TaskStatus.OPEN and not t.automated and t.key != INSPECTION and not hold(t, status)
            ]
            for task in todo:
                await self._complete(task)
            if todo:
                idle_rounds = 0
                continue
            idle_rounds += 1
            if idle_rounds >= 100:
                raise RuntimeError(f"{self.workflow_id} stopped moving: {[(t.key, t.status) for t in status.tasks]}")
            if idle_rounds > 3:
                await self.let_days_pass(30)  # the next implementation year, a remediation step's time
            else:
                await asyncio.sleep(0.05)


async def runs_of(client: Client, workflow_id: str) -> list[WorkflowHistory]:
    """Every run of the workflow, oldest first, following the continue-as-new chain backwards."""
    histories = [await client.get_workflow_handle(workflow_id).fetch_history()]
    while previous := histories[0].events[0].workflow_execution_started_event_attributes.continued_execution_run_id:
        histories.insert(0, await client.get_workflow_handle(workflow_id, run_id=previous).fetch_history())
    return histories


async def shows(pool: asyncpg.Pool, workflow_id: str, expected: dict[str, Callable[[list[StoredEvent]], bool]]) -> None:
    """Check in the event store that the scenario did what its manifest entry will say it covers."""
    events = await EventStore(pool).read_stream(workflow_id)
    missing = [what for what, holds in expected.items() if not holds(events)]
    if missing:
        raise RuntimeError(f"{workflow_id} did not show: {', '.join(missing)}")


def of(events: list[StoredEvent], event_type: str, **data: Any) -> list[StoredEvent]:
    return [e for e in events if e.event_type == event_type and all(e.data.get(k) == v for k, v in data.items())]


def run_status(history: WorkflowHistory) -> str:
    last = history.events[-1]
    if last.HasField("workflow_execution_continued_as_new_event_attributes"):
        return "continued_as_new"
    if last.HasField("workflow_execution_completed_event_attributes"):
        return "completed"
    return "running"


def mails_in(histories: list[WorkflowHistory]) -> list[tuple[str, str, str, bool]]:
    """The mails the runs asked for, in order: (kind, task key, recipient, whether the send_notification succeeded)."""
    mails = []
    for history in histories:
        completed = {
            e.activity_task_completed_event_attributes.scheduled_event_id
            for e in history.events
            if e.HasField("activity_task_completed_event_attributes")
        }
        for event in history.events:
            if not event.HasField("activity_task_scheduled_event_attributes"):
                continue
            scheduled = event.activity_task_scheduled_event_attributes
            if scheduled.activity_type.name == "send_notification":
                request = json.loads(scheduled.input.payloads[0].data)
                mails.append(
                    (request["kind"], request["task_key"], request["recipient_id"], event.event_id in completed)
                )
    return mails


def patches_in(history: WorkflowHistory) -> set[str]:
    """The workflow.patched ids the run took the new branch of (a marker each)."""
    found = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            for payloads in event.marker_recorded_event_attributes.details.values():
                for payload in payloads.payloads:
                    data = json.loads(payload.data)
                    if isinstance(data, dict) and "id" in data:
                        found.add(data["id"])
    return found | PATCHES_TAKEN_AT_ONCE if TOOK_EVERY_PATCH in found else found


async def recorded_runs(pilot: Pilot, scenario: str, covers: list[list[str]]) -> list[Recorded]:
    """Every run of the pilot; `covers[n]` says what run n+1 shows (the last entry stands for any later runs)."""
    histories = await runs_of(pilot.client, pilot.workflow_id)
    return [
        Recorded(
            scenario=scenario,
            run=number,
            of_runs=len(histories),
            history=history,
            workflow_type="MunicipalityWorkflow",
            status=run_status(history),
            covers=covers[min(number, len(covers)) - 1],
        )
        for number, history in enumerate(histories, start=1)
    ]


# --- The scenarios ----------------------------------------------------------------------------------------


async def lfr_skola_every_phase(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Hallsberg (1861) on lfr-skola through every phase and three implementation years (three runs)."""
    workflow_id = await start_pilot(
        client, pool, programme=PROGRAMME, kommunkod="1861", template_key="lfr-skola", task_queue=queue
    )
    pilot = Pilot(client, env, workflow_id, pool)
    lead, analyst = "p-1861-programledare", "p-1861-analytiker"
    await pilot.until(
        lambda s: any(t.key == "kpi_data_pack" and t.status is TaskStatus.COMPLETED for t in s.tasks),
        "gathered the Kolada data pack",
    )

    # Steering in the deep analysis: reassign, delegate and take back, a stand-in, a later deadline.
    await pilot.steer(
        "self_assessment@F", lead, "reassign", "förvaltningschefen är föräldraledig", to_participant=analyst
    )
    await pilot.steer("self_assessment@R", "p-1861-rektor", "delegate", "tjänsteresa", to_participant=analyst)
    await pilot.steer("self_assessment@R", "p-1861-rektor", "return", "åter i tjänst")
    await pilot.steer("document_collection", lead, "stand_in", "semester", to_participant=analyst)
    s_task = await pilot.open_task("self_assessment@S")
    assert s_task.due_at is not None
    await pilot.steer(
        "self_assessment@S",
        lead,
        "extend",
        "stödfunktionerna behöver mer tid",
        due_at=s_task.due_at + timedelta(days=14),
    )
    for key in ("document_collection", "self_assessment@P", "self_assessment@R"):
        await pilot.answer(key)
    # self_assessment@F is late: two reminders (days 14 and 20) and the escalation (day 24) fire.
    await pilot.let_days_pass_until(
        lambda s: s.task("self_assessment@F").escalated,  # type: ignore[union-attr]
        "escalated the förvaltning's self-assessment",
        at_least=25,
    )
    await pilot.answer("self_assessment@F")
    # self_assessment@S, extended to day 35, gets its first reminder at day 28.
    await pilot.let_days_pass(5)
    await pilot.answer("self_assessment@S")
    await pilot.answer("self_assessment@S/p-1861-ekonomi")  # both support functions assess
    await pilot.answer("strengths_weaknesses")
    # The nämnd meets weeks later: the analysis waits past its reminder, which goes out as a decision_due mail.
    await pilot.open_task("analysis_reported")
    await pilot.let_days_pass_until(
        lambda s: s.task("analysis_reported").reminders_sent > 0,  # type: ignore[union-attr]
        "reminded of the analysis's decision",
        at_least=40,
    )

    # The analysis is reported at today's meeting: its appeal period runs out on a durable timer.
    today = await pilot.today()
    organ = (await pilot.status()).deciding_organ
    await pilot.answer("analysis_reported", sample_payloads.namnd_decision(today, 41, "analysen anmäls", organ))
    await pilot.answer(
        "decision_posted@analysis_reported", {"justering_date": today.isoformat(), "anslag_date": today.isoformat()}
    )

    # Skolinspektionen's decision (a föreläggande and a development area) arrives during the plan.
    await pilot.open_task("plan_draft")
    decision = sample_payloads.inspection_decision(today - timedelta(days=30))
    await pilot.register(analyst, decision)
    # The plan draft waits 50 days: its first reminder, the analysis's laga kraft, the remediation's timers.
    await pilot.let_days_pass(50)
    followed_up = False

    async def follow_up_in_year_one(status: PilotStatus) -> bool:
        nonlocal followed_up
        if followed_up or status.implementation_year < 1:
            return False
        # The first remediation step is done; the decision after follow-up clears the deficiency, closing the rest.
        follow_up = sample_payloads.inspection_follow_up(decision, await pilot.today(), cleared=True)
        await pilot.register(analyst, follow_up)
        followed_up = True
        return True

    def measures_under_way(task: TaskView, status: PilotStatus) -> bool:
        return task.template_key == "remediation" and not task.key.endswith("/atgardsplan") and not followed_up

    final = await pilot.drive(
        lambda s: s.completed_at is not None, hold=measures_under_way, between=follow_up_in_year_one
    )
    assert final.implementation_year == final.plan_years == 3, final.implementation_year
    await shows(
        pool,
        workflow_id,
        {
            "two reminders and an escalation": lambda e: (
                len(of(e, "TaskReminderSent", task_key="self_assessment@F")) == 2
                and len(of(e, "TaskEscalated", task_key="self_assessment@F")) == 1
            ),
            "a reminder after an extension": lambda e: bool(of(e, "TaskReminderSent", task_key="self_assessment@S")),
            "a reminder of a nämnd decision": lambda e: bool(of(e, "TaskReminderSent", task_key="analysis_reported")),
            "every kind of steering": lambda e: (
                {r.data["kind"] for r in of(e, "TaskReassigned")} == {"reassign", "delegate", "return", "stand_in"}
                and bool(of(e, "TaskDeadlineExtended"))
            ),
            "laga kraft by timer": lambda e: bool(of(e, "DecisionBecameFinal", decision_task_key="analysis_reported")),
            "three years": lambda e: [y.data["year"] for y in of(e, "ImplementationYearStarted")] == [1, 2, 3],
            "a plan revision": lambda e: bool(of(e, "DecisionRecorded", task_key="plan_revision@y2")),
            "remediation closed by the follow-up": lambda e: bool(of(e, "TaskClosed")),
            "the pilot completed": lambda e: bool(of(e, "PilotCompleted")),
        },
    )
    runs = await recorded_runs(
        pilot,
        "lfr-skola-every-phase",
        [
            [
                "start, Kolada data pack (activity)",
                f"each answer and what it opened recorded in one append (patch {ONE_APPEND_PER_ANSWER})",
                f"year boundaries that wait for appends in flight (patch {APPENDS_BEFORE_NEW_RUN})",
                "steering: reassign, delegate, return, stand_in, extend",
                "reminders and an escalation fired by timers",
                f"a nämnd decision's reminder sent as a decision_due mail (patch {DECISION_DUE_MAIL})",
                "nämnd decision with a laga-kraft timer, decision follow-up",
                "inspection decision (föreläggande) during the plan phase, remediation scheduled backwards",
                "plan adopted, implementation year 1, follow-up decision clears the remediation",
                "continue-as-new at the year boundary",
            ],
            ["implementation year 2 with a plan revision (a new nämnd decision)", "continue-as-new"],
            ["implementation year 3, every phase completed, the workflow completes"],
        ],
    )
    for run in runs:
        # Search attributes after every change, in every run (the marker is per run).
        run.covers = [*run.covers, f"search attributes upserted after every change (patch {RICHER_SEARCH_ATTRIBUTES})"]
    taken = [patches_in(run.history) for run in runs]
    if not all(RICHER_SEARCH_ATTRIBUTES in patches for patches in taken) or DECISION_DUE_MAIL not in taken[0]:
        raise RuntimeError(f"{workflow_id}: the patched paths were not taken: {taken}")
    if ("decision_due", "analysis_reported") not in {(kind, key) for kind, key, _, _ in mails_in([runs[0].history])}:
        raise RuntimeError(f"{workflow_id}: the analysis's reminder was not a decision_due mail")
    return runs


async def start_carrying_the_whole_template(
    client: Client, pool: asyncpg.Pool, kommunkod: str, template_key: str, queue: str
) -> str:
    """A pilot started as pilots were before the template registry: its input carries the whole template."""
    participants: dict[Role, list[str]] = {}
    for participant in await list_participants(pool, kommunkod):
        participants.setdefault(Role(participant.role), []).append(participant.participant_id)
    this_year = datetime.now(UTC).year
    workflow_id = str(PilotId(PROGRAMME, kommunkod))
    await client.start_workflow(
        MunicipalityWorkflow.run,
        StartPilot(
            programme=PROGRAMME,
            kommunkod=kommunkod,
            municipality_name=pilot_name(kommunkod) or kommunkod,
            deciding_organ=DECIDING_ORGANS[kommunkod],
            template=load_template(template_key),
            participants=participants,
            kpi_years=[this_year - 4, this_year - 3, this_year - 2],
        ),
        id=workflow_id,
        task_queue=queue,
    )
    return workflow_id


async def orebro_year_two_waiting(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Ljusnarsberg (1864, Kommunstyrelsen) on orebro-skolkommun, waiting in implementation year 2 (two runs).

    Started as before the template registry, carrying its template whole: its second run names the version."""
    workflow_id = await start_carrying_the_whole_template(client, pool, "1864", "orebro-skolkommun", queue)
    pilot = Pilot(client, env, workflow_id, pool)
    analyst = "p-1864-analytiker"
    await pilot.open_task("document_collection")
    decision = {
        **sample_payloads.inspection_decision(await pilot.today()),
        "diarienummer": f"SI-{(await pilot.today()).year}:1864-SYNTETISK",
    }
    # The inspection's decision comes at the very start, during the deep analysis.
    await pilot.register(analyst, decision)
    remaining_registered = False

    async def remaining_in_plan_phase(status: PilotStatus) -> bool:
        nonlocal remaining_registered
        if remaining_registered or status.current_phase is not Phase.DEVELOPMENT_PLAN:
            return False
        # After follow-up the deficiency remains (kvarstår): a new schedule back from the new deadline.
        follow_up = sample_payloads.inspection_follow_up(decision, await pilot.today(), cleared=False)
        await pilot.register(analyst, follow_up)
        remaining_registered = True
        return True

    def remediation_before_follow_up(task: TaskView, status: PilotStatus) -> bool:
        return task.template_key == "remediation" and not remaining_registered

    await pilot.drive(
        lambda s: s.implementation_year >= 2, hold=remediation_before_follow_up, between=remaining_in_plan_phase
    )
    # Year 2 under way: the follow-up done, the rest open with their reminders ahead.
    await pilot.answer("ska_follow_up@y2")
    await pilot.let_days_pass(10)
    status = await pilot.status()
    assert status.completed_at is None and status.implementation_year == 2
    await shows(
        pool,
        workflow_id,
        {
            "two inspection decisions": lambda e: len(of(e, "InspectionDecisionRegistered")) == 2,
            "a remediation rescheduled": lambda e: len(of(e, "RemediationScheduled")) == 2,
            "year 2 started": lambda e: len(of(e, "ImplementationYearStarted")) == 2,
        },
    )
    return await recorded_runs(
        pilot,
        "orebro-skolkommun-year-2-waiting",
        [
            [
                "orebro-skolkommun template (interviews, regional school support group)",
                "a kommun whose organ is Kommunstyrelsen",
                "inspection decision in the deep analysis; after follow-up the deficiency remains (kvarstår)",
                "remediation rescheduled back from the new deadline",
                "implementation year 1, continue-as-new",
                "the template carried whole in the input (as before the registry); the next run's input names its "
                "registered version (patch template-by-reference)",
            ],
            [
                "implementation year 2 under way: open tasks and pending timers (a running workflow)",
                "the template named by its registered version (programmes/versions.py)",
            ],
        ],
    )


async def kommunalforbund_deep_analysis_waiting(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Sölvesborg-Bromölla (1083+1272) on lfr-skola with a school calendar, waiting in its deep analysis."""
    workflow_id = await start_pilot(
        client,
        pool,
        programme=PROGRAMME,
        kommunkod="1083+1272",
        template_key="lfr-skola",
        deciding_organ="Direktionen",
        task_queue=queue,
        calendar=load_calendar("synthetic-1861-2026-2027"),
    )
    pilot = Pilot(client, env, workflow_id, pool)
    lead = "p-sbkf-programledare"
    await pilot.answer("self_assessment@P")
    await pilot.answer("self_assessment@S")
    await pilot.steer("self_assessment@R", "p-sbkf-rektor", "delegate", "tf rektor", to_participant="p-sbkf-analytiker")
    f_task = await pilot.open_task("self_assessment@F")
    assert f_task.due_at is not None
    await pilot.steer(
        "self_assessment@F",
        lead,
        "extend",
        "direktionen sammanträder senare",
        due_at=f_task.due_at + timedelta(days=21),
    )
    # A new rektor takes the leaver's place: the task the leaver had delegated stays with its delegate, who now
    # acts for the newcomer.
    newcomer = Participant(
        participant_id="p-sbkf-rektor-2",
        kommunkod="1083+1272",
        role="rektor",
        display_name="Exempel Ny Rektor (syntetisk)",
        email="ny.rektor.sbkf@example.invalid",
    )
    await upsert_participants(pool, [newcomer])
    change = ChangeRoster(
        role=Role.REKTOR, joining=newcomer.participant_id, leaving="p-sbkf-rektor", reason="ny rektor", actor_id=lead
    )
    await change_roster(client, pool, workflow_id, change)
    # Two weeks pass: the first reminders go out, on working days of the calendar; the rest wait.
    await pilot.let_days_pass(15)
    status = await pilot.status()
    assert status.current_phase is Phase.DEEP_ANALYSIS and status.completed_at is None
    await shows(
        pool,
        workflow_id,
        {
            "a reminder sent": lambda e: bool(of(e, "TaskReminderSent")),
            "a delegation": lambda e: bool(of(e, "TaskReassigned", kind="delegate")),
            "an extension": lambda e: bool(of(e, "TaskDeadlineExtended")),
            "a roster change": lambda e: bool(of(e, "RosterChanged", joining="p-sbkf-rektor-2")),
        },
    )
    return await recorded_runs(
        pilot,
        "kommunalforbund-deep-analysis-waiting",
        [
            [
                "a kommunalförbund (1083+1272) as one pilot, its Direktionen deciding",
                "a school-year calendar (synthetic): deadlines and reminders off lov and weekends",
                "a delegated task and an extended deadline, still open",
                "a roster change: a new rektor takes the leaver's place, the delegated task acts for them",
                "waiting in the deep analysis: open tasks, reminders sent and pending (a running workflow)",
            ]
        ],
    )


async def paused_resumed_withdrawn(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Hallsberg (1861) on lfr-skola, a programme of its own: paused while reminders fall due, resumed, withdrawn."""
    workflow_id = await start_pilot(
        client,
        pool,
        programme=f"{PROGRAMME}-paused",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=queue,
        kpi_years=[datetime.now(UTC).year - 2],  # one year's data pack: a smaller history
    )
    pilot = Pilot(client, env, workflow_id, pool)
    operator = "p-1861-analytiker"
    await pilot.until(
        lambda s: any(t.key == "kpi_data_pack" and t.status is TaskStatus.COMPLETED for t in s.tasks),
        "gathered the Kolada data pack",
    )
    # Only the förvaltning's self-assessment is left open (a short history): the rest are answered.
    for key in (
        "document_collection",
        "self_assessment@P",
        "self_assessment@R",
        "self_assessment@S",
        "self_assessment@S/p-1861-ekonomi",
    ):
        await pilot.answer(key)
    await pilot.open_task("self_assessment@F")

    # Paused past the self-assessment's two reminders (days 14 and 20) and its escalation (day 24): all held.
    await pilot.control("pause", operator, "SMTP-reläet byts (syntetiskt driftärende)")
    await pilot.let_days_pass(26)
    held = await pilot.status()
    assessments = [t.key for t in held.tasks if t.template_key == "self_assessment" and t.status is TaskStatus.OPEN]
    assert assessments == ["self_assessment@F"], assessments
    assert held.paused is not None and held.task("self_assessment@F").reminders_sent == 0, held  # type: ignore[union-attr]

    # Resumed: what fell due meanwhile goes out now, in order (reminders, then the escalation).
    await pilot.control("resume", operator, "reläet är tillbaka")
    await pilot.until(
        lambda s: all(t.escalated and t.reminders_sent == 2 for t in s.tasks if t.key in assessments),
        "released the held reminders and escalation",
    )

    # Withdrawn: the open tasks close, their holders are told, and the workflow completes.
    before = await pilot.status()
    holders = {t.key for t in before.tasks if t.status is TaskStatus.OPEN and not t.automated}
    await pilot.control("withdraw", operator, "nämnden beslutade att lämna programmet")
    await client.get_workflow_handle(workflow_id).result()

    def held_while_paused(events: list[StoredEvent]) -> bool:
        kinds = [e.event_type for e in events]
        paused, resumed = kinds.index("PilotPaused"), kinds.index("PilotResumed")
        return "TaskReminderSent" not in kinds[paused:resumed] and "TaskEscalated" not in kinds[paused:resumed]

    await shows(
        pool,
        workflow_id,
        {
            "paused, resumed, withdrawn": lambda e: all(
                len(of(e, kind)) == 1 for kind in ("PilotPaused", "PilotResumed", "PilotWithdrawn")
            ),
            "nothing sent while paused": held_while_paused,
            "reminders and the escalation released on resume": lambda e: (
                len(of(e, "TaskReminderSent")) == 2 * len(assessments)
                and len(of(e, "TaskEscalated")) == len(assessments)
            ),
            "the open tasks closed": lambda e: {c.data["task_key"] for c in of(e, "TaskClosed")} >= holders,
        },
    )
    runs = await recorded_runs(
        pilot,
        "paused-resumed-withdrawn",
        [
            [
                "the control Update: pause, resume, withdraw (each on the record with who and why)",
                "a pause held the reminders and the escalation that fell due; the resume released them",
                "the withdrawal closed the open tasks and mailed their holders (withdrawn mails)",
                "the workflow completes withdrawn",
            ]
        ],
    )
    told = {key for kind, key, _, sent in mails_in([r.history for r in runs]) if kind == "withdrawn" and sent}
    if told != holders or runs[-1].status != "completed":
        raise RuntimeError(f"{workflow_id}: withdrawal mails for {sorted(told)}, expected {sorted(holders)}")
    return runs


async def failed_mail_retried(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Hallsberg (1861) on lfr-skola, its förvaltningschef missing from the directory: the mails to them fail for
    good and wait; once the participant is added, operations retry them; left running in the deep analysis."""
    ghost = "p-9993-tf-forvaltningschef"
    programme, kommunkod = f"{PROGRAMME}-retry", "1861"
    participants: dict[Role, list[str]] = {}
    for participant in await list_participants(pool, kommunkod):
        participants.setdefault(Role(participant.role), []).append(participant.participant_id)
    participants[Role.FORVALTNINGSCHEF] = [ghost]
    this_year = datetime.now(UTC).year
    workflow_id = str(PilotId(programme, kommunkod))
    await client.start_workflow(
        MunicipalityWorkflow.run,
        StartPilot(
            programme=programme,
            kommunkod=kommunkod,
            municipality_name=pilot_name(kommunkod) or kommunkod,
            deciding_organ=DECIDING_ORGANS[kommunkod],
            template_ref=current_template("lfr-skola")[0],
            participants=participants,
            kpi_years=[this_year - 2],  # one year's data pack: a smaller history
        ),
        id=workflow_id,
        task_queue=queue,
    )
    pilot = Pilot(client, env, workflow_id, pool)
    operator = "p-1861-analytiker"
    await pilot.open_task("self_assessment@F")
    opened = await pilot.status()
    ghost_tasks = sorted(t.key for t in opened.tasks if t.assignee_id == ghost and t.status is TaskStatus.OPEN)
    expected = {f"assignment mail: {key} → {ghost}" for key in ghost_tasks}
    failing = await pilot.until(lambda s: {f.step for f in s.failed_steps} == expected, "failed the ghost's mails")
    assert ghost_tasks and all("not in the directory" in f.error for f in failing.failed_steps), failing.failed_steps
    # The rest of the pilot goes on meanwhile.
    await pilot.answer("self_assessment@R")

    # Added to the directory (under a kommunkod of its own, so 1861's pilots gain no chef), then retried.
    await upsert_participants(
        pool,
        [
            Participant(
                participant_id=ghost,
                kommunkod="9993",
                role="forvaltningschef",
                display_name="Exempel Tillförordnad förvaltningschef (syntetisk)",
                email=f"{ghost}@example.invalid",
            )
        ],
    )
    await pilot.control("retry", operator, "deltagaren finns nu i katalogen")
    await pilot.until(lambda s: not s.failed_steps, "sent the retried mails")

    # Left running mid-phase: one more answer, and the first reminders (day 14) go out, to the added chef too.
    await pilot.answer("self_assessment@P")
    await pilot.let_days_pass(15)
    status = await pilot.status()
    assert status.current_phase is Phase.DEEP_ANALYSIS and status.completed_at is None and not status.failed_steps
    await shows(
        pool,
        workflow_id,
        {
            "a retry of the failed steps": lambda e: (
                [sorted(r.data["steps"]) for r in of(e, "FailedStepRetried")] == [sorted(expected)]
            ),
            "a reminder to the added participant": lambda e: bool(of(e, "TaskReminderSent", recipient_id=ghost)),
        },
    )
    runs = await recorded_runs(
        pilot,
        "failed-mail-retried-running",
        [
            [
                "a participant missing from the directory: their assignment mails fail for good (UnknownRecipient)",
                "the failed steps wait (state 'failing') while the rest of the pilot goes on",
                "the control Update: retry, after the participant was added; the mails go through",
                f"each step that failed for good recorded as StepFailed (patch {FAILED_STEPS_ON_RECORD})",
                "waiting in the deep analysis: open tasks, reminders sent and pending (a running workflow)",
            ]
        ],
    )
    if not any(FAILED_STEPS_ON_RECORD in patches_in(run.history) for run in runs):
        raise RuntimeError(f"{workflow_id}: the failed steps were not recorded (patch {FAILED_STEPS_ON_RECORD})")
    to_ghost = [(key, sent) for kind, key, recipient, sent in mails_in([r.history for r in runs]) if recipient == ghost]
    assignments = [(key, sent) for key, sent in to_ghost if key in ghost_tasks]
    if not {(key, False) for key in ghost_tasks} | {(key, True) for key in ghost_tasks} <= set(assignments):
        raise RuntimeError(f"{workflow_id}: the mails to {ghost} did not fail and then go through: {to_ghost}")
    return runs


async def daily_digest(client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str) -> list[Recorded]:
    """One morning's DailyDigestWorkflow, as the schedule starts it (the test server has no schedules)."""
    handle = await client.start_workflow(DailyDigestWorkflow.run, id=f"leda-daily-digest-{PROGRAMME}", task_queue=queue)
    await handle.result()
    history = await handle.fetch_history()
    return [
        Recorded(
            scenario="daily-digest",
            run=1,
            of_runs=1,
            history=history,
            workflow_type="DailyDigestWorkflow",
            status=run_status(history),
            covers=["the send_digests activity, the workflow completes"],
        )
    ]


async def appealed_without_inspection(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Hallsberg (1861) on lfr-skola with a one-year plan and no Skolinspektionen decision during it: the analysis
    is appealed and the court lets it stand; the plan's adoption is appealed and annulled, so the nämnd adopts it
    again; the inspection track closes without a decision and the pilot completes."""
    workflow_id = await start_pilot(
        client,
        pool,
        programme=f"{PROGRAMME}-appeal",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=queue,
        kpi_years=[datetime.now(UTC).year - 2],  # one year's data pack: a smaller history
    )
    pilot = Pilot(client, env, workflow_id, pool)
    lead = "p-1861-programledare"
    court = "Förvaltningsrätten i Karlstad (syntetiskt mål)"

    async def appeal(key: str, case: str, outcome: str) -> None:
        decision = next(d for d in (await pilot.status()).decisions if d.key == key)
        lodged = decision.meeting_date + timedelta(days=10)  # in time: the appeal period runs from the anslag
        await record_appeal(
            client,
            pool,
            workflow_id,
            appeal_step(
                action="lodged", decision_key=key, actor_id=lead, case_number=case, court=court, lodged_on=lodged
            ),
        )
        step = appeal_step(
            action="decided",
            decision_key=key,
            actor_id=lead,
            case_number=case,
            outcome=outcome,
            decided_on=await pilot.today(),
        )
        await record_appeal(client, pool, workflow_id, step)

    def has_decision(key: str) -> Callable[[PilotStatus], bool]:
        return lambda s: any(d.key == key for d in s.decisions)

    await pilot.drive(until=has_decision("analysis_reported"))
    await appeal("analysis_reported", "1111-26", "avslaget")
    await pilot.drive(until=lambda s: s.task("plan_draft") is not None)
    await pilot.answer("plan_draft", sample_payloads.plan_draft() | {"period_years": 1})
    await pilot.drive(until=has_decision("plan_adoption"))
    await appeal("plan_adoption", "2222-26", "upphavt")
    await pilot.open_task("plan_adoption")  # reopened: the nämnd adopts the plan again
    await pilot.drive(until=lambda s: s.completed_at is not None)

    await shows(
        pool,
        workflow_id,
        {
            "two appeals, one upheld and one annulled": lambda e: (
                len(of(e, "DecisionAppealed")) == 2
                and {d.data["outcome"] for d in of(e, "AppealDecided")} == {"avslaget", "upphavt"}
            ),
            "the annulled decision's task reopened and decided again": lambda e: (
                bool(of(e, "TaskReopened", task_key="plan_adoption"))
                and bool(of(e, "DecisionRecorded", decision_key="plan_adoption/2"))
            ),
            "no inspection: the track closed saying so": lambda e: bool(of(e, "InspectionTrackClosedWithoutDecision")),
            "completed": lambda e: bool(of(e, "PilotCompleted")),
        },
    )
    runs = await recorded_runs(
        pilot,
        "appealed-without-inspection",
        [
            [
                "the record_appeal Update: an appeal lodged and decided (avslaget), a decision held from laga kraft",
                "an annulled decision (upphavt) reopens its task (TaskReopened, a follower and its mail) and the "
                "nämnd decides again (decision key plan_adoption/2)",
                "the rules of 2026-12 (patch rules-2026-12): no inspection decision, so the inspection track closes "
                "(InspectionTrackClosedWithoutDecision) and the pilot completes",
            ],
            ["the one implementation year's tasks, the decisions final, the pilot completes without an inspection"],
        ],
    )
    rules = set(RULE_PATCHES.values())
    if not all(rules <= patches_in(run.history) for run in runs):
        raise RuntimeError(f"{workflow_id}: a run did not take every rule's patch {sorted(rules)}")
    return runs


async def programme_lead_network_meeting(
    client: Client, env: WorkflowEnvironment, pool: asyncpg.Pool, queue: str
) -> list[Recorded]:
    """Habo (0643) in SKL's round (lfr-skola-2015), led by SKR's programme lead, a person of the whole programme:
    the förvaltningschef's self-assessment falls overdue and escalates to the lead and to the kommundirektör the
    directory names as the förvaltningschef's line manager; the lead schedules a network meeting of the round,
    Habo prepares its contribution, attends, and reflects. Left running in the deep analysis."""
    programme, lead, chef = "lfr-skola-2015", "p-skr-programledare", "p-0643-forvaltningschef"
    workflow_id = await start_pilot(
        client,
        pool,
        programme=programme,
        kommunkod="0643",
        template_key="lfr-skola",
        task_queue=queue,
        deciding_organ="Barn- och utbildningsnämnden",
        kpi_years=[datetime.now(UTC).year - 2],
    )
    pilot = Pilot(client, env, workflow_id, pool)
    await pilot.open_task("self_assessment@F")

    def escalated(status: PilotStatus) -> bool:
        task = status.task("self_assessment@F")
        return task is not None and task.escalated

    await pilot.let_days_pass_until(escalated, "escalated the head's self-assessment", at_least=24)
    held_at = (await env.get_current_time()).astimezone(UTC) + timedelta(days=20)
    title = "Nätverksträff 1: styrkor och svagheter (syntetisk)"
    meeting = ScheduleMeeting(
        meeting_id=meeting_id_for(programme, held_at, title), title=title, held_at=held_at, actor_id=lead
    )
    [scheduled] = await schedule_meeting(client, pool, [workflow_id], meeting)
    if scheduled.refused:
        raise RuntimeError(f"{workflow_id}: the meeting was refused: {scheduled.refused}")
    await pilot.answer(f"network_contribution@{meeting.meeting_id}")
    await pilot.let_days_pass(21)
    attendance = RecordAttendance(meeting_id=meeting.meeting_id, attended=True, attendee_ids=[chef], actor_id=lead)
    await record_attendance(client, workflow_id, attendance)
    await pilot.answer(f"network_reflection@{meeting.meeting_id}")

    await shows(
        pool,
        workflow_id,
        {
            "the programme's lead first on the roster": lambda e: (
                of(e, "PilotStarted")[0].data["participants"]["programledare"][0] == lead
            ),
            "escalated to the lead and the kommundirektör": lambda e: any(
                {(r["participant_id"], r["escalated_as"]) for r in d.data["recipients"]}
                == {(lead, "lead"), ("p-0643-kommundirektor", "manager")}
                for d in of(e, "TaskEscalated", task_key="self_assessment@F")
            ),
            "a network meeting scheduled and attended": lambda e: (
                bool(of(e, "NetworkMeetingScheduled")) and bool(of(e, "NetworkMeetingAttendance", attended=True))
            ),
            "its contribution and reflection answered": lambda e: (
                len([c for c in of(e, "TaskCompleted") if c.data["task_key"].startswith("network_")]) == 2
            ),
        },
    )
    return await recorded_runs(
        pilot,
        "programme-lead-network-meeting",
        [
            [
                "a pilot led by a person of the whole programme (p-skr-programledare), first on its roster",
                "an escalation by line manager (patch escalation-by-line-manager): to the lead and the kommundirektör "
                "the directory names, never the nämnd's chair",
                "the schedule_meeting Update (NetworkMeetingScheduled, the contribution task and its follower)",
                "the record_attendance Update (NetworkMeetingAttendance, the reflection task), both answered",
            ]
        ],
    )


Scenario = Callable[[Client, WorkflowEnvironment, asyncpg.Pool, str], Awaitable[list[Recorded]]]
SCENARIOS: list[Scenario] = [
    lfr_skola_every_phase,
    orebro_year_two_waiting,
    kommunalforbund_deep_analysis_waiting,
    paused_resumed_withdrawn,
    failed_mail_retried,
    appealed_without_inspection,
    programme_lead_network_meeting,
    daily_digest,
]


# --- The servers and the recording ------------------------------------------------------------------------


@asynccontextmanager
async def shared_servers(scratch: Path) -> AsyncIterator[tuple[Settings, asyncpg.Pool]]:
    """PostgreSQL (migrated, with the synthetic directory), the SMTP capture and the Kolada sample server."""
    async with AsyncExitStack() as stack:
        postgres = EmbeddedPostgres(scratch / "postgres", free_port(), database="leda")
        await asyncio.to_thread(postgres.start)
        stack.callback(postgres.stop)
        await migrate(postgres.owner_dsn)
        pool = await create_pool(postgres.runtime_dsn)
        stack.push_async_callback(pool.close)
        for csv in sorted(SAMPLE_DATA.glob("synthetic_participants_*.csv")):
            await upsert_participants(pool, read_participants_csv(csv))
        mail = MailCapture(scratch / "mail", port=free_port())
        mail.start()
        stack.callback(mail.stop)
        kolada = KoladaSampleServer()
        kolada.start()
        stack.callback(kolada.stop)
        settings = Settings(
            database_url=postgres.runtime_dsn,
            smtp_host=mail.host,
            smtp_port=mail.port,
            kolada_base_url=kolada.base_url,
            task_queue="leda-histories",
        )
        yield settings, pool


async def record(scenarios: list[Scenario]) -> list[Recorded]:
    # Not under the output directory, and a directory PostgreSQL's unprivileged account can enter.
    scratch = Path(tempfile.mkdtemp(prefix="leda-histories-"))
    recorded: list[Recorded] = []
    try:
        async with shared_servers(scratch) as (settings, pool):
            for scenario in scenarios:
                started = time.monotonic()
                # A server per scenario: its clock is shared, and each scenario lets time pass on its own terms.
                env = await start_time_skipping_server(search_attribute_types())
                try:
                    async with running_worker(env.client, settings, pool):
                        runs = await scenario(env.client, env, pool, settings.task_queue)
                finally:
                    await env.shutdown()
                recorded += runs
                say(f"  {scenario.__name__}: {len(runs)} run(s) in {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return recorded


def write(out: Path, recorded: list[Recorded], source: dict[str, Any], scenarios: list[Scenario]) -> None:
    out.mkdir(parents=True)
    entries = []
    for run in recorded:
        (out / run.file_name).write_text(run.history.to_json() + "\n")
        entries.append(
            {
                "file": run.file_name,
                "workflow_type": run.workflow_type,
                "workflow_id": run.history.workflow_id,
                "run_id": run.history.run_id,
                "run": run.run,
                "of_runs": run.of_runs,
                "status": run.status,
                "events": len(run.history.events),
                "covers": run.covers,
            }
        )
    manifest = {
        "recorded_from": source,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": "synthetic: devstack/sample_data participants, devstack/sample_payloads answers, Kolada sample files",
        "scenarios": [scenario.__name__ for scenario in scenarios],
        "histories": entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def source_commit(allow_uncommitted: bool) -> dict[str, Any]:
    """The commit the workflow code comes from; refuses uncommitted workflow code unless allowed."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPOSITORY, check=True, capture_output=True, text=True).stdout

    commit = git("rev-parse", "HEAD").strip()
    changed = git("status", "--porcelain", "--", *WORKFLOW_CODE).rstrip()
    if changed and not allow_uncommitted:
        raise SystemExit(
            "the workflow code has uncommitted changes; record from a commit (a `git worktree` of it, say), "
            f"or pass --allow-uncommitted for a trial:\n{changed}"
        )
    return {"commit": commit, "uncommitted_changes": changed.splitlines()}


def main() -> None:
    configure_logging("WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory to write (default tests/histories/<date>-<commit>)")
    parser.add_argument("--allow-uncommitted", action="store_true", help="record from uncommitted workflow code")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[scenario.__name__ for scenario in SCENARIOS],
        help="record only this scenario (repeatable; default every one), to keep a recording small",
    )
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if args.scenario is None or s.__name__ in args.scenario]
    code = Path(workflows.municipality.__file__).resolve()
    if not code.is_relative_to(REPOSITORY):
        # An editable install of another checkout can win the import: the histories would be that code's.
        raise SystemExit(f"the workflow code imported is {code}, not {REPOSITORY}'s: put {REPOSITORY} on PYTHONPATH")
    source = source_commit(args.allow_uncommitted)
    out: Path = args.out or HISTORIES / f"{datetime.now(UTC):%Y-%m-%d}-{source['commit'][:7]}"
    if out.exists():
        raise SystemExit(f"{out} exists: a recording is never overwritten; remove it first or choose --out")
    say(f"Recording from {source['commit']} ({code.relative_to(REPOSITORY.parent)}) into {out}")
    recorded = asyncio.run(record(scenarios))
    write(out, recorded, source, scenarios)
    size = sum(p.stat().st_size for p in out.iterdir())
    say(f"{len(recorded)} histories, {size / 1e6:.1f} MB, in {out}")


if __name__ == "__main__":
    exit_status: int | str | None = 0
    try:
        main()
    except SystemExit as refusal:
        exit_status = refusal.code
    except BaseException:
        traceback.print_exc()
        exit_status = 1
    if isinstance(exit_status, str):
        print(exit_status, file=sys.stderr)
        exit_status = 1
    # The SDK's native runtime can abort the interpreter at exit (sdk-python#300): leave before it can.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_status or 0)
