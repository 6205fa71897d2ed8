"""MunicipalityWorkflow: one pilot municipality through every phase of its programme.

The workflow orchestrates only: the domain decides what happens next, activities make it happen, and every
change is recorded as events in PostgreSQL before the workflow's own state moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import (
        AppendEventsRequest,
        AppendEventsResult,
        EscalatedAs,
        EventEnvelope,
        GatherFollowUpFiguresRequest,
        GatherKpisRequest,
        NotificationKind,
        NotificationRequest,
        NotificationResult,
        RecordDecisionRequest,
    )
    from domain import rulebook
    from domain.appeals import AppealStep, appeal_events, check_appeal
    from domain.calendar import reminder_on_a_working_day, reminder_on_a_working_day_for
    from domain.control import ControlPilot, check_control, control_events
    from domain.events import (
        DecisionRecorded,
        EscalationRecipient,
        Event,
        StepFailed,
        TaskClosed,
        TaskEscalated,
        TaskOpened,
        TaskReminderSent,
        TaskReopened,
        event_record,
    )
    from domain.follow_up import figures_year, plan_kpis
    from domain.inspection import check_registration
    from domain.instances import instance_title
    from domain.kpis import DATA_PACK_KPIS
    from domain.network import (
        RecordAttendance,
        ScheduleMeeting,
        attendance_events,
        check_attendance,
        check_schedule,
        schedule_events,
    )
    from domain.payloads import FollowUpFigures, InspectionDecision, KpiDataPack, TaskPayload
    from domain.refusals import TaskRejected, recordable_error
    from domain.roles import Role
    from domain.roster import ChangeRoster, check_roster_change, moved_tasks, roster_events
    from domain.rules import (
        advance,
        check_completion,
        completion_events,
        finality_events,
        next_finality_at,
        next_year_starts_at,
        registration_events,
        repeat_of,
        start_events,
        start_next_year,
    )
    from domain.state import MunicipalityState, TaskState, fold
    from domain.status import FailedStep, PilotStatus
    from domain.steering import SteerTask, check_steering, steering_events
    from domain.task_keys import INSPECTION_DECISION
    from domain.template import TaskTemplate
    from programmes import versions as template_versions
    from workflows import search_attributes as sa
    from workflows.messages import (
        AppealRecorded,
        CompleteTask,
        MeetingRecorded,
        PilotControlled,
        RegisterInspection,
        RosterChangeRecorded,
        StartPilot,
        TaskCompletion,
    )

EVENT_STORE_RETRY = RetryPolicy(
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["WrongExpectedVersion", "EventIdConflict"],
)
MAIL_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=5), non_retryable_error_types=["UnknownRecipient"])
T = TypeVar("T")


# Patches: each guards a change of logic that running pilots' histories predate (see tests/workflows/test_replay.py).
DECISION_DUE_MAIL = "decision-due-mail"  # reminders of a nämnd decision are sent as decision_due mails
RICHER_SEARCH_ATTRIBUTES = "richer-search-attributes"  # overdue count, next deadline and state, after every change
ONE_APPEND_PER_ANSWER = "one-append-per-answer"  # an Update records its events and what they open in one append
APPENDS_BEFORE_NEW_RUN = "appends-before-new-run"  # a new run waits until no append is in flight
# The programme's rules have patch ids of their own (domain.rulebook.RULE_PATCHES), asked once as a run begins.
FAILED_STEPS_ON_RECORD = "failed-steps-on-record"  # a step that fails for good is recorded (StepFailed)
KOLADA_GIVES_UP = "kolada-gives-up"  # Kolada failing for half an hour is a failed step for operations to retry
COMPARISON_GROUP = "kolada-comparison-group"  # the data pack also holds the template's comparison group
REPEATED_ANSWERS = "repeated-answers"  # an answer sent again by its giver is a repeat, answered from the record
TEMPLATE_BY_REFERENCE = "template-by-reference"  # a new run names its template's registered version, not carries it
TOOK_EVERY_PATCH = "every-patch-of-2026-12"
"""A run that begins with this marker took every patch above, and every rule's (domain.rulebook.RULE_PATCHES), at
once. The SDK records a marker for each patch a run takes and upserts the TemporalChangeVersion search attribute
with it, and every run of every pilot took them all again: nine markers and nine upserts of the visibility store per
run, an upsert costing the Temporal server about what an activity does (BENCHMARKS.md, the Sweden section). Asked
first, as a run begins; a run without it (one that began before) asks each patch as it did. Runs that take it
also leave the search attributes start_pilot set (phase 'start') until the pilot's first phase begins: before, the
first change published phase 'klar', as if the pilot had been through every phase. A patch added later is asked on
its own, as before."""
PATCHES_TAKEN_AT_ONCE = frozenset(
    {
        DECISION_DUE_MAIL,
        RICHER_SEARCH_ATTRIBUTES,
        ONE_APPEND_PER_ANSWER,
        APPENDS_BEFORE_NEW_RUN,
        FAILED_STEPS_ON_RECORD,
        KOLADA_GIVES_UP,
        COMPARISON_GROUP,
        REPEATED_ANSWERS,
        TEMPLATE_BY_REFERENCE,
        *rulebook.RULE_PATCHES.values(),
    }
)
"""What a run that took TOOK_EVERY_PATCH took (the replay tests' recorder reads a history's patches with it)."""
# Not patched, because histories from before cannot contain them: the control Update (pause, resume, withdraw,
# retry), the record_appeal Update, the network meetings' Updates (schedule_meeting, record_attendance), and what
# only a paused, withdrawn, failed or appealed pilot, or one with network meetings, does.

KOLADA_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1), non_retryable_error_types=["KoladaRequestInvalid"])
KOLADA_RETRY_FOR_A_WHILE = RetryPolicy(
    maximum_interval=timedelta(minutes=1), maximum_attempts=30, non_retryable_error_types=["KoladaRequestInvalid"]
)
"""Some half an hour of tries (the client also tries each request a few times); after that Kolada being down, or
sending what cannot be read, is a failed step: the pilot shows it (LedaState failing) and waits for `leda retry`,
while the rest of it goes on. Before, the activity was tried for ever, and nobody saw why the pack never came."""


@workflow.defn
class MunicipalityWorkflow:
    @workflow.init
    def __init__(self, start: StartPilot) -> None:
        self._start = start
        # A pilot names its template's version; the registry holds one copy of it for every pilot that follows it.
        # Pilots started before there was a registry carry theirs whole.
        if start.template_ref is not None:
            self._template = template_versions.registered(start.template_ref)
        else:
            assert start.template is not None  # StartPilot holds one or the other
            self._template = start.template
        self._state = start.carried or MunicipalityState()
        # Before any other patch is asked: whether this run took them all at once.
        self._took_every_patch = workflow.patched(TOOK_EVERY_PATCH)
        # The rules a run follows are those of when it began: a replay of an older run recomputes what it recorded.
        self._rules = rulebook.rules_of_run(self._patched)
        self._record_lock = asyncio.Lock()
        self._notifying = 0
        # Completions bump `_changes`; the main loop advances and then marks them settled, so an Update can
        # wait for exactly the advance its own completion caused.
        self._changes = 0
        self._settled = 0
        self._followers: dict[str, asyncio.Task[None]] = {}
        # A follower is a background task, whose exception nobody awaits; the main loop re-raises it so a bug
        # fails the workflow task (and is retried after a fix) instead of silently dropping a reminder.
        self._follower_crash: BaseException | None = None
        # A follower carries on only while its generation is the task's current one (steering starts a new one).
        self._generations: dict[str, int] = {}
        # Steps that failed for good, by name; each waits until operations ask for a retry (a new round).
        self._failed: dict[str, FailedStep] = {}
        self._retry_round = 0
        # What the pilot's search attributes say: as start_pilot set them, on a first run that took every patch.
        self._published: tuple[object, ...] | None = (
            (sa.PHASE_AT_START, sa.STATE_AT_START, 0, None)
            if self._took_every_patch and start.carried is None
            else None
        )
        self._withdrawal_notices: list[tuple[str, str]] = []

    @property
    def _stream_id(self) -> str:
        return workflow.info().workflow_id

    @workflow.run
    async def run(self, start: StartPilot) -> PilotStatus:
        if start.carried is None:
            await self._record(
                start_events(
                    programme=start.programme,
                    kommunkod=start.kommunkod,
                    municipality_name=start.municipality_name,
                    deciding_organ=start.deciding_organ,
                    template=self._template,
                    participants=start.participants,
                    calendar=start.calendar,
                    managers=start.managers,
                    now=workflow.now(),
                    new_id=workflow.uuid4,
                ),
                actor=start.participants[Role.PROGRAMLEDARE][0],
            )
        else:
            # A new run after a year boundary: pick up the open tasks' reminders where the last run left them.
            for task in self._state.open_tasks():
                self._start_follower(task.key, resumed=True)
        await self._advance()
        while not self._state.ended:
            await self._wait_for_change_or_due_time()
            await self._record_finality()
            reached = self._changes
            await self._advance()
            self._settled = reached
            if self._year_boundary_passed() and not self._state.ended:
                await self._begin_next_year()
                return await self._continue_as_new()
        await asyncio.gather(*self._followers.values())
        if self._state.withdrawn is not None:
            await self._tell_withdrawal()
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.logger.info(
            "pilot withdrawn" if self._state.withdrawn else "pilot completed", extra={"kommunkod": start.kommunkod}
        )
        return self.status()

    async def _wait_for_change_or_due_time(self) -> None:
        """Until something changed, or the next year begins, or a decision's appeal period is over.

        While the pilot is paused, only a change (an Update, such as resume) wakes it: its timers are held."""
        boundary = next_year_starts_at(self._template, self._state)
        finality = next_finality_at(self._template, self._state, rules=self._rules)
        due = [
            (at, why) for at, why in ((boundary, "nytt genomförandeår"), (finality, "beslut vinner laga kraft")) if at
        ]
        if self._state.paused is not None:
            due = []
        wake_at, summary = min(due) if due else (None, None)
        remaining = None if wake_at is None else wake_at - workflow.now()
        if remaining is not None and remaining <= timedelta(0):
            return
        try:
            await workflow.wait_condition(
                lambda: self._changes > self._settled or self._follower_crash is not None,
                timeout=remaining,
                timeout_summary=summary,
            )
        except TimeoutError:
            pass
        if self._follower_crash is not None:
            raise self._follower_crash

    def _year_boundary_passed(self) -> bool:
        boundary = next_year_starts_at(self._template, self._state)
        return boundary is not None and boundary <= workflow.now()

    async def _record_finality(self) -> None:
        if self._state.ended or self._state.paused is not None:
            return
        async with self._record_lock:
            events = finality_events(
                self._template, self._state, now=workflow.now(), new_id=workflow.uuid4, rules=self._rules
            )
            if events:
                await self._record(events, actor="system")

    async def _begin_next_year(self) -> None:
        async with self._record_lock:
            await self._record(start_next_year(self._state, now=workflow.now(), new_id=workflow.uuid4), actor="system")

    async def _continue_as_new(self) -> PilotStatus:
        """Start the year in a fresh run carrying the whole state, so no run's history grows with the years."""
        # An append in flight (a reminder's, say) would be stored after the state the new run carries was taken,
        # and the new run's first append would then meet a version it does not know.
        appends_settle = self._patched(APPENDS_BEFORE_NEW_RUN)
        while True:
            # An Update still in flight waits for the advance its completion causes: keep advancing until
            # every handler has answered, or it would wait for a run that no longer moves.
            await workflow.wait_condition(
                lambda: (
                    self._notifying == 0
                    and not (appends_settle and self._record_lock.locked())
                    and (workflow.all_handlers_finished() or self._changes > self._settled)
                )
            )
            if self._changes > self._settled:
                reached = self._changes
                await self._advance()
                self._settled = reached
            elif workflow.all_handlers_finished():
                break
        carried = self._start.model_copy(update={"carried": self._state})
        if carried.template is not None and self._patched(TEMPLATE_BY_REFERENCE):
            # A pilot that carried its template whole names it from its next run on, if the version is registered.
            ref = template_versions.registered_reference(carried.template)
            if ref is not None:
                carried = carried.model_copy(update={"template": None, "template_ref": ref})
        workflow.continue_as_new(carried)

    @workflow.query
    def status(self) -> PilotStatus:
        status = PilotStatus.of(self._stream_id, self._template, self._state)
        status.failed_steps = list(self._failed.values())
        return status

    @workflow.update
    async def control(self, request: ControlPilot) -> PilotControlled:
        """Pause, resume, withdraw, or retry what failed: on the record with who and why."""
        await self._started()
        async with self._record_lock:
            events = self._rejecting(
                lambda: control_events(
                    self._state,
                    request,
                    failed_steps=sorted(self._failed),
                    now=workflow.now(),
                    new_id=workflow.uuid4,
                )
            )
            if request.action == "withdraw":
                self._withdrawal_notices = [
                    (t.key, t.assignee_id)
                    for t in self._state.open_tasks()
                    if self._template.task(t.template_key).automation is None
                ]
            await self._record(events, actor=request.actor_id)
            if request.action == "retry":
                self._retry_round += 1
            self._changes += 1
            mine = self._changes
        await workflow.wait_condition(lambda: self._settled >= mine or self._state.ended)
        return PilotControlled(action=request.action, at=events[0].occurred_at, stream_version=self._state.version)

    @control.validator
    def _validate_control(self, request: ControlPilot) -> None:
        _well_formed(request, ControlPilot)
        if self._state.version:
            self._rejecting(lambda: check_control(self._state, request, failed_steps=sorted(self._failed)))

    async def _tell_withdrawal(self) -> None:
        """Everyone whose task the withdrawal closed is told, once."""
        for task_key, holder in self._withdrawal_notices:
            await self._notify("withdrawn", task_key, holder)

    @workflow.update
    async def complete_task(self, request: CompleteTask) -> TaskCompletion:
        """Complete a task as its assignee; answers once the completion is durable in the event store."""
        await self._started()

        def decide() -> list[Event]:
            # Checked again under the lock: a concurrent Update may have completed it since validation.
            return completion_events(
                self._template,
                request.task_key,
                request.participant_id,
                self._check(request),
                now=workflow.now(),
                new_id=workflow.uuid4,
                state=self._state,
                rules=self._rules,
            )

        repeat = (lambda: self._repeat(request)) if self._patched(REPEATED_ANSWERS) else None
        return await self._settle(decide, request.task_key, actor=request.participant_id, repeat=repeat)

    def _repeat(self, request: CompleteTask) -> TaskCompletion | None:
        """The answer to an answer sent again by whoever gave it, decided from the state the record folds to (so
        also once Temporal no longer knows the first request): nothing is recorded a second time."""
        task = repeat_of(self._template, self._state, request.task_key, request.participant_id, request.payload)
        if task is None or task.completed_at is None:
            return None
        return TaskCompletion(
            task_key=task.key,
            completed_at=task.completed_at,
            stream_version=self._state.version,
            opened_next=[],
            repeat=True,
        )

    @workflow.update
    async def register_inspection(self, request: RegisterInspection) -> TaskCompletion:
        """Register a Skolinspektionen decision, in any phase: it is compared, and its remediation scheduled."""
        await self._started()

        def decide() -> list[Event]:
            return registration_events(
                self._template,
                self._state,
                self._check_registration(request),
                request.participant_id,
                now=workflow.now(),
                new_id=workflow.uuid4,
                rules=self._rules,
            )

        return await self._settle(decide, INSPECTION_DECISION, actor=request.participant_id)

    @register_inspection.validator
    def _validate_register_inspection(self, request: RegisterInspection) -> None:
        _well_formed(request, RegisterInspection)
        if self._state.version:  # before the first events are recorded, the handler checks once they are
            self._check_registration(request)

    async def _started(self) -> None:
        """An Update that arrives in the first moments of a pilot waits until its start is recorded."""
        await workflow.wait_condition(lambda: self._state.version > 0)

    def _check_registration(self, request: RegisterInspection) -> InspectionDecision:
        return self._rejecting(
            lambda: check_registration(
                self._state, request.participant_id, request.decision, today=workflow.now().date(), rules=self._rules
            )
        )

    @workflow.update
    async def change_roster(self, request: ChangeRoster) -> RosterChangeRecorded:
        """Someone joins a role, leaves it, or takes a leaver's place with their open tasks; on the record."""
        await self._started()
        async with self._record_lock:
            events = self._rejecting(
                lambda: roster_events(self._state, request, now=workflow.now(), new_id=workflow.uuid4)
            )
            await self._record(events, actor=request.actor_id)
            self._changes += 1  # a role that had no one may now open tasks of its own: the main loop advances
            mine = self._changes
        moved = moved_tasks(events)
        for task_key in moved:  # each new holder is told, and reminded from now on
            if self._template.task(self._state.tasks[task_key].template_key).automation is None:
                self._start_follower(task_key)
        await workflow.wait_condition(lambda: self._settled >= mine or self._state.ended)
        return RosterChangeRecorded(at=events[0].occurred_at, stream_version=self._state.version, moved_tasks=moved)

    @change_roster.validator
    def _validate_change_roster(self, request: ChangeRoster) -> None:
        _well_formed(request, ChangeRoster)
        if self._state.version:
            self._rejecting(lambda: check_roster_change(self._state, request))

    @workflow.update
    async def record_appeal(self, request: AppealStep) -> AppealRecorded:
        """An appeal of a nämnd decision lodged with the court, or the court's outcome; an annulment reopens the
        decision's task for the nämnd to decide again."""
        await self._started()
        async with self._record_lock:
            events = self._rejecting(
                lambda: appeal_events(
                    self._template, self._state, request, now=workflow.now(), new_id=workflow.uuid4, rules=self._rules
                )
            )
            await self._record(events, actor=request.actor_id)
            self._changes += 1  # the decision may now become final, or the pilot complete
            mine = self._changes
        self._follow_opened(events)
        await workflow.wait_condition(lambda: self._settled >= mine or self._state.ended)
        reopened = [e.task_key for e in events if isinstance(e, TaskReopened)]
        return AppealRecorded(at=events[0].occurred_at, stream_version=self._state.version, reopened_tasks=reopened)

    @record_appeal.validator
    def _validate_record_appeal(self, request: AppealStep) -> None:
        _well_formed(request, AppealStep)
        if self._state.version:
            self._rejecting(lambda: check_appeal(self._state, request, today=workflow.now().date()))

    @workflow.update
    async def schedule_meeting(self, request: ScheduleMeeting) -> MeetingRecorded:
        """A network meeting of the cohort: on the pilot's record, with its contact's task to prepare for it."""
        return await self._meeting_step(
            request.meeting_id,
            request.actor_id,
            lambda: check_schedule(self._state, request, now=workflow.now()),
            lambda: schedule_events(self._template, self._state, request, now=workflow.now(), new_id=workflow.uuid4),
        )

    @schedule_meeting.validator
    def _validate_schedule_meeting(self, request: ScheduleMeeting) -> None:
        _well_formed(request, ScheduleMeeting)
        if self._state.version:
            self._rejecting(lambda: check_schedule(self._state, request, now=workflow.now()))

    @workflow.update
    async def record_attendance(self, request: RecordAttendance) -> MeetingRecorded:
        """Whether the pilot attended a network meeting, and who of it; one that attended is asked to reflect."""
        return await self._meeting_step(
            request.meeting_id,
            request.actor_id,
            lambda: check_attendance(self._template, self._state, request, now=workflow.now()),
            lambda: attendance_events(self._template, self._state, request, now=workflow.now(), new_id=workflow.uuid4),
        )

    @record_attendance.validator
    def _validate_record_attendance(self, request: RecordAttendance) -> None:
        _well_formed(request, RecordAttendance)
        if self._state.version:
            self._rejecting(lambda: check_attendance(self._template, self._state, request, now=workflow.now()))

    async def _meeting_step(
        self, meeting_id: str, actor: str, on_record: Callable[[], bool], decide: Callable[[], list[Event]]
    ) -> MeetingRecorded:
        """A network meeting's step, checked and recorded under one hold of the lock; nothing new when the same step
        is on record already (`on_record`), so sending it again records it once."""
        await self._started()
        async with self._record_lock:
            events = [] if self._rejecting(on_record) else decide()
            if events:
                await self._record(events, actor=actor)
        self._follow_opened(events)
        return MeetingRecorded(
            meeting_id=meeting_id,
            stream_version=self._state.version,
            opened_tasks=[e.task_key for e in events if isinstance(e, TaskOpened)],
            closed_tasks=[e.task_key for e in events if isinstance(e, TaskClosed)],
        )

    @workflow.update
    async def steer_task(self, request: SteerTask) -> TaskCompletion:
        """Reassign, delegate, stand in, take back or extend an open task; each with a reason, on the record."""
        await self._started()
        result = await self._settle(lambda: self._steering(request), request.task_key, actor=request.actor_id)
        # The task's timers follow its new holder and deadline; a new holder is told by mail.
        # The old follower is not cancelled (that would cancel a mail in flight); it stands down at its next wait.
        self._start_follower(request.task_key, resumed=request.action == "extend")
        return result

    @steer_task.validator
    def _validate_steer_task(self, request: SteerTask) -> None:
        # Only checks: a validator must not draw ids (workflow.uuid4), which would shift them on replay.
        _well_formed(request, SteerTask)
        if self._state.version and not self._may_be_opening(request.task_key):
            self._rejecting(lambda: check_steering(self._state, request, now=workflow.now()))

    def _steering(self, request: SteerTask) -> list[Event]:
        return self._rejecting(lambda: steering_events(self._state, request, now=workflow.now(), new_id=workflow.uuid4))

    @staticmethod
    def _rejecting(check: Callable[[], T]) -> T:
        """Run a domain check; its refusal fails only the Update, with the reason for the caller."""
        try:
            return check()
        except TaskRejected as rejection:
            raise ApplicationError(rejection.message, type=rejection.code, non_retryable=True) from None

    async def _settle(
        self,
        decide: Callable[[], list[Event]],
        task_key: str,
        *,
        actor: str,
        repeat: Callable[[], TaskCompletion | None] | None = None,
    ) -> TaskCompletion:
        """Decide and record an Update's events under one hold of the lock, so two Updates can never both pass
        the check for the same task; then wait for the advance they cause, to tell what it opened. What `repeat`
        answers (an answer sent again) is the answer, and nothing is recorded."""
        async with self._record_lock:
            repeated = repeat() if repeat is not None else None
            if repeated is not None:
                return repeated
            events = decide()
            if self._patched(ONE_APPEND_PER_ANSWER):
                # What the answer opens is decided now and recorded with it: one activity, not one for the answer
                # and another for the advance, so the answer comes a round trip through the server sooner.
                answered = fold(events, self._state)
                opened_before = set(answered.tasks)
                follows = advance(
                    self._template, answered, now=workflow.now(), new_id=workflow.uuid4, rules=self._rules
                )
                await self._record(events, actor=actor, by_the_system=follows)
                self._follow_opened(follows)
            else:
                await self._record(events, actor=actor)
                opened_before = set(self._state.tasks)
            self._changes += 1
            mine = self._changes
        await workflow.wait_condition(lambda: self._settled >= mine)
        return TaskCompletion(
            task_key=task_key,
            completed_at=events[0].occurred_at,
            stream_version=self._state.version,
            opened_next=sorted(set(self._state.tasks) - opened_before),
        )

    @complete_task.validator
    def _validate_complete_task(self, request: CompleteTask) -> None:
        _well_formed(request, CompleteTask)
        if self._state.version and self._repeat(request) is not None:
            return  # a repeat, which the handler answers as such (on runs that took REPEATED_ANSWERS)
        if self._state.version and not self._may_be_opening(request.task_key):
            self._check(request)

    def _may_be_opening(self, task_key: str) -> bool:
        """Whether an append in flight may be what opens this task, which the state does not know yet.

        Statuses are read from the record (pilots/records.py), which shows a task open as soon as its append is
        stored: a moment before the workflow folds the append's result in, and an Update can arrive in between (the
        SDK validates it before it applies the activity's result). Such an Update is left to its handler, which
        checks again once it holds the lock, after the append; everything else is refused here, as before."""
        return task_key not in self._state.tasks and self._record_lock.locked()

    def _check(self, request: CompleteTask) -> TaskPayload:
        return self._rejecting(
            lambda: check_completion(
                self._template,
                self._state,
                request.task_key,
                request.participant_id,
                request.payload,
                today=workflow.now().date(),
                rules=self._rules,
            )
        )

    async def _advance(self) -> None:
        async with self._record_lock:
            phase_before = self._state.current_main_phase
            events = advance(self._template, self._state, now=workflow.now(), new_id=workflow.uuid4, rules=self._rules)
            if events:
                await self._record(events, actor="system")
        self._follow_opened(events)
        phase_changed = self._state.current_main_phase != phase_before or self._state.completed_at is not None
        if phase_changed and not self._patched(RICHER_SEARCH_ATTRIBUTES):
            self._publish_phase()

    def _follow_opened(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, TaskOpened | TaskReopened):
                self._start_follower(event.task_key)

    def _patched(self, patch_id: str) -> bool:
        """Whether this run takes the change `patch_id` guards: each change TOOK_EVERY_PATCH stands for, on a run that
        took it; any other (a patch added later) as the SDK answers it."""
        return (self._took_every_patch and patch_id in PATCHES_TAKEN_AT_ONCE) or workflow.patched(patch_id)

    def _publish_phase(self) -> None:
        """What pilots from before RICHER_SEARCH_ATTRIBUTES publish, on each change of phase."""
        phase = self._state.current_main_phase
        workflow.upsert_search_attributes(
            [
                sa.PROGRAMME.value_set(self._start.programme),
                sa.MUNICIPALITY.value_set(self._start.kommunkod),
                sa.PHASE.value_set(phase.value if phase else "klar"),
            ]
        )

    def _publish_search_attributes(self) -> None:
        """Keep the pilot findable by phase, state, overdue tasks and next deadline; only what changed is sent."""
        state, now = self._state, workflow.now()
        phase = state.current_main_phase
        open_due = [t.due_at for t in state.open_tasks() if t.due_at is not None]
        condition = (
            "withdrawn"
            if state.withdrawn
            else "completed"
            if state.completed_at
            else "paused"
            if state.paused
            else "failing"
            if self._failed
            else "running"
        )
        if phase is not None:
            phase_name = phase.value
        elif self._took_every_patch and not state.active_phases and not state.completed_phases:
            phase_name = sa.PHASE_AT_START  # not begun yet, as start_pilot said
        else:
            phase_name = "klar"  # every phase done (the last decisions may still be appealed)
        values = (
            phase_name,
            condition,
            sum(1 for due in open_due if due < now),
            min(open_due, default=None),
        )
        if values == self._published:
            return
        self._published = values
        next_due = values[3]
        workflow.upsert_search_attributes(
            [
                sa.PROGRAMME.value_set(self._start.programme),
                sa.MUNICIPALITY.value_set(self._start.kommunkod),
                sa.PHASE.value_set(values[0]),
                sa.STATE.value_set(condition),
                sa.OVERDUE_COUNT.value_set(values[2]),
                sa.NEXT_DUE_AT.value_set(next_due) if next_due is not None else sa.NEXT_DUE_AT.value_unset(),
            ]
        )

    async def _record(self, events: list[Event], *, actor: str, by_the_system: list[Event] | None = None) -> None:
        """Append events durably (idempotent by event id), then fold them into the workflow's state.

        `by_the_system` follow `events` in the same append, on the record as the system's (what an answer opened)."""
        request = AppendEventsRequest(
            stream_id=self._stream_id,
            expected_version=self._state.version,
            events=[
                EventEnvelope(event_id=e.event_id, event_type=t, schema_version=v, data=d, actor=who)
                for batch, who in ((events, None), (by_the_system or [], "system"))
                for e in batch
                for t, v, d in [event_record(e)]
            ],
            metadata={
                "workflow_id": self._stream_id,
                "run_id": workflow.info().run_id,
                "actor": actor,
                "kommunkod": self._start.kommunkod,
            },
        )
        decision = next((e for e in events if isinstance(e, DecisionRecorded)), None)
        argument: AppendEventsRequest | RecordDecisionRequest
        if decision is None:
            activity, argument, summary = "append_events", request, "append events"
        else:
            # A nämnd decision also enters the decision register, in the same transaction as its events.
            activity, summary = "record_decision", f"record decision {decision.diarienummer}"
            argument = RecordDecisionRequest(
                append=request, kommunkod=self._start.kommunkod, decision_event_id=decision.event_id
            )
        await workflow.execute_activity(
            activity,
            argument,
            result_type=AppendEventsResult,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=EVENT_STORE_RETRY,
            summary=summary,
        )
        self._state = fold([*events, *(by_the_system or [])], self._state)
        if self._patched(RICHER_SEARCH_ATTRIBUTES):
            self._publish_search_attributes()

    def _start_follower(self, task_key: str, *, resumed: bool = False) -> None:
        generation = self._generations[task_key] = self._generations.get(task_key, 0) + 1
        follower = asyncio.create_task(self._follow(task_key, generation, resumed=resumed))
        follower.add_done_callback(self._note_crash)
        self._followers[task_key] = follower

    def _note_crash(self, follower: asyncio.Task[None]) -> None:
        if not follower.cancelled() and follower.exception() is not None and self._follower_crash is None:
            self._follower_crash = follower.exception()

    async def _follow(self, task_key: str, generation: int, *, resumed: bool = False) -> None:
        """Carry one open task: do it if the system owns it, else notify, remind and escalate until done."""
        task = self._state.tasks[task_key]
        task_template = self._template.task(task.template_key)
        if task_template.automation == "gather_kpis":
            await self._gather_kpis(task_key)
            return
        if task_template.automation == "gather_follow_up_figures":
            # Reached only by pilots whose template has the task (their input names or carries it), so no
            # pilot started before it existed takes this branch: nothing to guard with workflow.patched.
            await self._gather_follow_up_figures(task_key)
            return
        if not resumed:
            await self._notify("assignment", task_key, task.assignee_id)
        if task.due_at is None:
            return
        for number, before in enumerate(sorted(task_template.reminders_before_due, reverse=True), start=1):
            if number <= task.reminders_sent:
                continue  # sent by an earlier run
            moment = self._reminder_moment(task, task_template, task.due_at - before)
            if moment < task.opened_at:
                continue  # its moment had passed when the task opened; the assignment mail gives the deadline
            if not await self._still_open_at(task_key, generation, moment, f"påminnelse {number}: {task_key}"):
                return
            reminded_at = workflow.now()
            kind: NotificationKind = "reminder"
            if task_template.is_namnd_decision and self._patched(DECISION_DUE_MAIL):
                kind = "decision_due"
            await self._notify(kind, task_key, task.assignee_id, reminder_number=number)
            await self._record_locked(
                TaskReminderSent(
                    event_id=workflow.uuid4(),
                    occurred_at=reminded_at,
                    task_key=task_key,
                    recipient_id=task.assignee_id,
                    reminder_number=number,
                ),
                actor="system",
            )
        if task_template.escalate_after_due is None or task.escalated:
            return
        escalate_at = task.due_at + task_template.escalate_after_due
        if escalate_at < task.opened_at:
            return  # opened already overdue (a decision recorded late, say): the lead sees it in the status
        if not await self._still_open_at(task_key, generation, escalate_at, f"eskalering: {task_key}"):
            return
        lead, *managers = self._state.escalation_recipients(
            task.assignee_id, by_line_manager=self._rules.escalation_by_line_manager
        )
        escalated_at = workflow.now()
        await self._notify("escalation", task_key, lead, escalated_as="lead")
        for manager in managers:
            await self._notify("escalation", task_key, manager, escalated_as="manager")
        await self._record_locked(
            TaskEscalated(
                event_id=workflow.uuid4(),
                occurred_at=escalated_at,
                task_key=task_key,
                overdue_since=task.due_at,
                recipients=[
                    EscalationRecipient(participant_id=lead, escalated_as="lead"),
                    *(EscalationRecipient(participant_id=manager, escalated_as="manager") for manager in managers),
                ],
            ),
            actor="system",
        )

    def _reminder_moment(self, task: TaskState, task_template: TaskTemplate, moment: datetime) -> datetime:
        """A reminder's moment, moved off its holder's days off (a demo's shortened days have none)."""
        if not self._rules.deadlines_by_role:
            return reminder_on_a_working_day(moment, self._state.calendar)
        if not self._template.in_real_time:
            return moment
        return reminder_on_a_working_day_for(moment, task.owner_role or task_template.owner_role, self._state.calendar)

    async def _record_locked(self, event: Event, *, actor: str) -> None:
        async with self._record_lock:
            if not self._state.ended:
                await self._record([event], actor=actor)

    async def _still_open_at(self, task_key: str, generation: int, moment: datetime, summary: str) -> bool:
        """Wait until `moment` unless the task is settled (completed or closed) or steered first; True if it is
        still open then and this follower still carries it."""

        def over() -> bool:
            return self._state.is_settled(task_key) or self._generations.get(task_key) != generation

        delay = moment - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(over, timeout=delay, timeout_summary=summary)
            except TimeoutError:
                pass
        if self._state.paused is not None and not over():
            # Held while operations have the pilot paused; what fell due meanwhile happens on resume.
            await workflow.wait_condition(lambda: over() or self._state.paused is None)
        return not over()

    async def _notify(
        self,
        kind: NotificationKind,
        task_key: str,
        recipient_id: str,
        *,
        reminder_number: int | None = None,
        escalated_as: EscalatedAs | None = None,
    ) -> None:
        task = self._state.tasks[task_key]
        task_template = self._template.task(task.template_key)
        self._notifying += 1
        try:
            await self._send_notification(
                kind, task_key, recipient_id, task, task_template, reminder_number, escalated_as
            )
        finally:
            self._notifying -= 1

    async def _send_notification(
        self,
        kind: NotificationKind,
        task_key: str,
        recipient_id: str,
        task: TaskState,
        task_template: TaskTemplate,
        reminder_number: int | None,
        escalated_as: EscalatedAs | None,
    ) -> None:
        request = NotificationRequest(
            notification_id=workflow.uuid4(),
            kind=kind,
            recipient_id=recipient_id,
            workflow_id=self._stream_id,
            kommunkod=self._start.kommunkod,
            municipality_name=self._start.municipality_name,
            task_key=task_key,
            task_title_sv=instance_title(
                task_template.title_sv, level=task.level, year=task.year, subject=task.subject
            ),
            task_title_en=instance_title(
                task_template.title_en, level=task.level, year=task.year, subject=task.subject, english=True
            ),
            due_at=task.due_at,
            assignee_id=task.assignee_id,
            reminder_number=reminder_number,
            note=self._state.withdrawn.reason if kind == "withdrawn" and self._state.withdrawn else None,
            escalated_as=escalated_as,
        )
        await self._until_done(
            f"{kind} mail: {task_key} → {recipient_id}",
            lambda: workflow.execute_activity(
                "send_notification",
                request,
                result_type=NotificationResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=MAIL_RETRY,
                summary=f"{kind} mail: {task_key}",
            ),
        )

    async def _until_done(self, step: str, attempt: Callable[[], Awaitable[T]]) -> T | None:
        """Run a step; if it fails for good (its retry policy gave up), it waits for operations to retry it,
        while the rest of the pilot goes on. None if the pilot ended while it waited."""
        while True:
            try:
                return await attempt()
            except ActivityError as failure:
                cause = failure.cause or failure
                failed_at = workflow.now()
                self._failed[step] = FailedStep(step=step, error=str(cause), failed_at=failed_at)
                workflow.logger.warning("step failed; waiting for operations to retry", extra={"step": step})
                if self._patched(FAILED_STEPS_ON_RECORD):
                    # On the record, so that statuses read from it (never from the workflow) show what is stuck.
                    failed = StepFailed(
                        event_id=workflow.uuid4(), occurred_at=failed_at, step=step, error=recordable_error(str(cause))
                    )
                    await self._record_locked(failed, actor="system")
                self._publish_search_attributes()
                waited_for = self._retry_round
                await workflow.wait_condition(
                    lambda waited_for=waited_for: self._retry_round > waited_for or self._state.ended  # type: ignore[misc]
                )
                del self._failed[step]
                self._publish_search_attributes()
                if self._state.ended:
                    return None

    async def _gather_kpis(self, task_key: str) -> None:
        pack = await self._until_done(
            "Kolada data pack",
            lambda: workflow.execute_activity(
                "gather_kpis",
                GatherKpisRequest(
                    kommunkod=self._start.kommunkod,
                    kpis=list(DATA_PACK_KPIS),
                    years=self._start.kpi_years,
                    comparison_group=self._template.comparison_group if self._patched(COMPARISON_GROUP) else None,
                ),
                result_type=KpiDataPack,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=KOLADA_RETRY_FOR_A_WHILE if self._patched(KOLADA_GIVES_UP) else KOLADA_RETRY,
                summary="gather Kolada data pack",
            ),
        )
        await self._complete_by_system(task_key, pack)

    async def _gather_follow_up_figures(self, task_key: str) -> None:
        """The plan's KPIs for the year the implementation year's follow-up looks back on, gathered from Kolada.

        Kolada unreachable or answering out of its format for long becomes a failed step that waits for `leda retry`;
        a KPI it has no value of for the year is recorded as not published."""
        year = self._state.tasks[task_key].year
        assert year is not None  # a yearly task
        request = GatherFollowUpFiguresRequest(
            kommunkod=self._start.kommunkod,
            kpis=plan_kpis(self._state, year),
            year=figures_year(self._state, year),
        )
        figures = await self._until_done(
            f"Kolada follow-up figures: {task_key}",
            lambda: workflow.execute_activity(
                "gather_follow_up_figures",
                request,
                result_type=FollowUpFigures,
                start_to_close_timeout=timedelta(minutes=2),
                retry_policy=KOLADA_RETRY_FOR_A_WHILE,
                summary=f"gather Kolada figures for {request.year}",
            ),
        )
        await self._complete_by_system(task_key, figures)

    async def _complete_by_system(self, task_key: str, answer: TaskPayload | None) -> None:
        """Record what the system gathered as the answer of its task; nothing if the pilot ended meanwhile."""
        async with self._record_lock:
            if answer is None or self._state.is_settled(task_key):
                return  # the pilot was withdrawn meanwhile, and the task closed with it
            payload = check_completion(
                self._template, self._state, task_key, "system", answer.model_dump(mode="json"), by_system=True
            )
            events = completion_events(
                self._template, task_key, "system", payload, now=workflow.now(), new_id=workflow.uuid4
            )
            await self._record(events, actor="system")
            self._changes += 1


def _well_formed(request: object, model: type) -> None:
    """Refuse, in the validator, an Update argument that is not its model: a client sending JSON null gets None
    here, whatever the type. Past the validator, the handler's first look at it would fail the workflow task, and
    with it the pilot, on every retry."""
    if not isinstance(request, model):
        raise ApplicationError(
            f"the request must be a {model.__name__} object, not {type(request).__name__}",
            type="invalid_input",
            non_retryable=True,
        )
