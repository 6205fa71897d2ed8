"""`leda`: the command line for programme leads, participants and operations.

Every user mistake ends in one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import asyncpg
from pydantic import SecretStr, ValidationError
from temporalio.client import Client

from access import REFUSAL, AccessPolicy, Identity, identify, issue_sign_in_link, issue_token, sign_in_url
from access.sign_in import NotInDirectory
from access.tokens import SCOPES, TOKEN_LIFETIME, UnknownToken, list_tokens, revoke_token_by_id
from database import MigrationError, create_pool, migrate, redacted
from directory import (
    ErasedParticipantsError,
    ErasureRefused,
    UnknownParticipant,
    erase_participant,
    get_participant,
    list_participants,
    read_participants_csv,
    upsert_participants,
)
from domain.appeals import DECISION_STATUS_TITLES, OUTCOME_TITLES
from domain.calendar import SchoolCalendar
from domain.control import ControlPilot
from domain.moments import in_swedish_time, moment_of
from domain.municipalities import check_pilot_code
from domain.network import RecordAttendance, ScheduleMeeting, meeting_id_for
from domain.pilot_ids import PilotId
from domain.roles import Role
from domain.state import TaskStatus
from domain.status import PilotStatus, TaskView
from domain.steering import SteerTask
from eventstore import EventStore, verify_chains
from observability import configure_logging
from pilots import (
    DEFAULT_TEMPLATE,
    PilotError,
    PilotRecords,
    appeal_step,
    change_roster,
    complete_task,
    control_pilot,
    find_pilot,
    list_pilots,
    pilot_query,
    pilots_of_municipality,
    programme_round,
    record_appeal,
    register_inspection,
    roster_change,
    start_cohort,
    start_pilot,
    steer_task,
    terminate_pilot,
)
from pilots.client import record_attendance, schedule_meeting
from pilots.history import HistoryEntry, history_csv, pilot_history
from pilots.refusals import refusal_of
from programmes import TEMPLATES
from programmes.calendars import load_calendar
from programmes.cohorts import load_cohort
from projections import InboxProjection
from reports import load_pilot_state, render_cohort_overview, render_pilot_report, write_report
from settings import Settings

if TYPE_CHECKING:  # the embedded PostgreSQL is the devstack extra's, imported only where it is started
    from devstack.postgres import EmbeddedPostgres

EXIT_REFUSED = 1
"""The request was refused, whichever side refused it: the command line, the input (an option, a field, a payload),
the access policy, the service layer or the pilot's workflow (not allowed, not open, already started, ended)."""
EXIT_FAILED = 3
"""It could not be done: a server cannot be reached, a setting is wrong, Temporal fails, or something unexpected
(2 is not used: a script written when 3 meant an unreachable server still reads it so)."""

_FAILURE_CODES = frozenset({"temporal_error"})
"""Service-layer errors that are failures to carry a request out, not refusals of it."""

_HINTS = {
    "name_required": "give it with --name",
    "organ_required": "give it with --organ",
    "missing_participants": "import them with 'leda participants import FILE.csv'",
    "programme_required": "with --programme",
}
"""What to type, after a refusal whose remedy is an option of the command line (the API's answers name fields)."""


class CliError(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Context:
    settings: Settings
    args: argparse.Namespace
    _pool: asyncpg.Pool | None = None
    _client: Client | None = None
    _postgres: EmbeddedPostgres | None = None
    _identity: Identity | None = None
    _records: PilotRecords | None = None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            url = self.settings.database_url or SecretStr(await self._start_embedded_postgres())
            try:
                self._pool = await create_pool(url)
            except (OSError, asyncpg.PostgresError) as error:
                raise CliError(f"cannot reach PostgreSQL at {redacted(url)}: {error}", EXIT_FAILED) from None
        return self._pool

    async def client(self) -> Client:
        if self._client is None:
            from temporal_connection import TemporalConnectError, connect_temporal

            try:
                self._client = await connect_temporal(self.settings)
            except TemporalConnectError as error:
                local = error.unreachable and not self.settings.temporal_tls_enabled
                hint = "; start the embedded stack with 'make run'" if local else ""
                raise CliError(f"{error}{hint}", EXIT_FAILED) from None
        return self._client

    async def _start_embedded_postgres(self) -> str:
        """The embedded database of an earlier `make demo`/`make run`, started for this one command."""
        data_dir = self.settings.data_dir / "postgres"
        if not (data_dir / "PG_VERSION").exists():
            raise CliError("no database: set DATABASE_URL, or start the embedded stack with 'make run'", EXIT_FAILED)
        try:
            from devstack.postgres import EmbeddedPostgres
        except ImportError:
            raise CliError(
                "no database: set DATABASE_URL (the embedded PostgreSQL is the 'devstack' extra's)", EXIT_FAILED
            ) from None
        self._postgres = EmbeddedPostgres(data_dir, self.settings.postgres_port)
        await asyncio.to_thread(self._postgres.start)
        return self._postgres.runtime_dsn

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        if self._postgres is not None:
            await asyncio.to_thread(self._postgres.stop)

    async def workflow_id(self) -> str:
        return await find_pilot(EventStore(await self.pool()), self.args.kommunkod, self.args.programme)

    async def identity(self) -> Identity:
        """Whom this command acts as: the owner of the configured token, exactly as the HTTP API would see them."""
        if self._identity is None:
            if self.settings.token is None:
                raise CliError(
                    "this command acts as you: set LEDA_TOKEN to your API token "
                    "(an administrator issues one with 'leda token issue PARTICIPANT_ID')",
                    EXIT_REFUSED,
                )
            self._identity = await identify(await self.pool(), self.settings.token.get_secret_value())
            if self._identity is None:
                raise CliError(
                    "LEDA_TOKEN is unknown, expired or revoked; ask for a new one ('leda token issue')", EXIT_REFUSED
                )
        return self._identity

    async def access(self) -> AccessPolicy:
        return AccessPolicy(await self.pool(), await self.records())

    async def records(self) -> PilotRecords:
        """The pilots' records, folded once per command."""
        if self._records is None:
            self._records = PilotRecords(await self.pool())
        return self._records

    def allowed(self, permitted: bool) -> None:
        if not permitted:
            raise CliError(REFUSAL)

    async def task(self, workflow_id: str) -> TaskView:
        """The task the command names, as the pilot's status has it."""
        task = (await (await self.records()).status(workflow_id)).task(self.args.task)
        if task is None:
            raise PilotError(f"no task {self.args.task!r} has opened in pilot {workflow_id}", "not_found")
        return task


# ---- commands ---------------------------------------------------------------------------------------------


async def cmd_start(ctx: Context) -> None:
    a = ctx.args
    programme = programme_round(a.programme, a.template)
    ctx.allowed(await (await ctx.access()).may_start(await ctx.identity(), a.kommunkod, programme))
    workflow_id = await start_pilot(
        await ctx.client(),
        await ctx.pool(),
        programme=programme,
        kommunkod=a.kommunkod,
        template_key=a.template,
        task_queue=ctx.settings.task_queue,
        municipality_name=a.name,
        deciding_organ=a.organ,
        calendar=_calendar(a.calendar),
        starts_on=a.starts_on,
    )
    starts = f", startar / starts {a.starts_on}" if a.starts_on else ""
    print(f"Pilot startad / pilot started: {workflow_id}{starts}")


async def cmd_cohort_start(ctx: Context) -> None:
    try:
        cohort = load_cohort(ctx.args.cohort)
    except ValueError as error:
        raise CliError(str(error)) from None
    not_led = await (await ctx.access()).not_led_in(await ctx.identity(), cohort)
    if not_led:
        raise CliError(f"{REFUSAL} (a cohort is started by the lead of every pilot in it; not: {', '.join(not_led)})")
    outcomes = await start_cohort(await ctx.client(), await ctx.pool(), cohort, task_queue=ctx.settings.task_queue)
    for outcome in outcomes:
        if outcome.refused:
            hint = _HINTS.get(outcome.refused_code or "")
            print(f"  ✗ {outcome.kommunkod}: {outcome.refused}" + (f" ({hint}, or in the cohort file)" if hint else ""))
        else:
            print(f"  ✓ {outcome.kommunkod}: {outcome.workflow_id}, startar om / starts after {outcome.starts_after}")
    if any(o.refused for o in outcomes):
        raise CliError(f"{sum(1 for o in outcomes if o.refused)} of {len(outcomes)} pilots were not started")


def _calendar(name: str | None) -> SchoolCalendar | None:
    if name is None:
        return None
    try:
        return load_calendar(name)
    except ValueError as error:
        raise CliError(str(error)) from None


async def _visible_status(ctx: Context) -> PilotStatus:
    status = await (await ctx.access()).status_for(
        await ctx.identity(), await (await ctx.records()).status(await ctx.workflow_id())
    )
    if status is None:
        raise CliError(REFUSAL)
    return status


async def cmd_status(ctx: Context) -> None:
    # Read from the record, like every status: steps that failed for good are on it too (StepFailed).
    status = await _visible_status(ctx)
    if ctx.args.json:
        print(status.model_dump_json(indent=2))
        return
    phase = status.current_phase_title_sv or "klar / completed"
    print(f"{status.municipality_name} ({status.kommunkod})  {status.programme}  fas / phase: {phase}")
    done = [p.value for p in status.completed_phases]
    print(f"klara faser / completed phases: {', '.join(done) or '–'}")
    print("väntar på / waiting for:")
    for wait in status.waiting_for:
        print(f"  - {wait.text_sv}\n    {wait.text_en}")
    if status.decisions:
        print("nämndens beslut / decisions:")
        for decision in status.decisions:
            sv, en = DECISION_STATUS_TITLES[decision.status]
            print(
                f"  {decision.key:<28} {decision.organ} § {decision.paragraph} ({decision.diarienummer}), "
                f"{decision.meeting_date}: {sv} / {en}"
            )
            for appeal in decision.appeals:
                outcome = (
                    " / ".join(OUTCOME_TITLES[appeal.outcome]) + f" ({appeal.decided_on})"
                    if appeal.outcome
                    else "väntar på domstolen / pending"
                )
                case = f"{appeal.court}, mål {appeal.case_number}, {appeal.lodged_on}"
                print(f"    överklagat / appealed: {case}: {outcome}")
    if status.inspection_closed_without_decision is not None:
        print(
            "Skolinspektionen: inget beslut registrerades under programmet / no decision was registered during the "
            f"programme (stängt / closed {status.inspection_closed_without_decision:%Y-%m-%d})"
        )
    _print_tasks(status.tasks)


async def cmd_tasks(ctx: Context) -> None:
    status = await _visible_status(ctx)
    tasks = [t for t in status.tasks if ctx.args.all or t.status is TaskStatus.OPEN]
    if ctx.args.participant:
        tasks = [t for t in tasks if t.assignee_id == ctx.args.participant]
    tasks.sort(key=lambda t: (t.due_at is None, t.due_at or t.opened_at))
    if ctx.args.json:
        print(json.dumps([t.model_dump(mode="json") for t in tasks], indent=2, ensure_ascii=False))
    else:
        _print_tasks(tasks)


def _print_tasks(tasks: list[Any]) -> None:
    if not tasks:
        print("inga uppgifter / no tasks")
        return
    for t in tasks:
        due = in_swedish_time(t.due_at) if t.due_at else "–"
        flags = " ESKALERAD" if t.escalated and t.status is TaskStatus.OPEN else ""
        print(f"  {t.status.value:<9} {t.key:<24} {t.assignee_id:<26} senast/due {due}{flags}  {t.title_sv}")


async def cmd_inbox(ctx: Context) -> None:
    identity = await ctx.identity()
    participant = ctx.args.participant or identity.participant_id
    # Someone else's inbox is for operations, who read everything.
    ctx.allowed(participant == identity.participant_id or identity.scope == "operations")
    projection = InboxProjection(await ctx.pool())
    await projection.catch_up()  # fresh even when no worker is running the projection
    status = None if ctx.args.all else "open"
    tasks = await projection.inbox(participant, kommunkod=ctx.args.kommunkod, phase=ctx.args.phase, status=status)
    if ctx.args.json:
        print(json.dumps([t.model_dump(mode="json") for t in tasks], indent=2, ensure_ascii=False))
        return
    if not tasks:
        print("inga uppgifter / no tasks")
    for t in tasks:
        due = in_swedish_time(t.due_at) if t.due_at else "–"
        acting = f" (för / for {t.delegated_from})" if t.delegated_from else ""
        print(f"  {due:<20} {t.status:<9} {t.kommunkod:<9} {t.task_key:<28} {t.title_sv}{acting}")


async def cmd_complete(ctx: Context) -> None:
    payload = _read_payload(ctx.args.payload, ctx.args.payload_file)
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    task = await ctx.task(workflow_id)
    ctx.allowed((await ctx.access()).may_complete(identity, task))
    result = await complete_task(await ctx.client(), workflow_id, ctx.args.task, identity.participant_id, payload)
    if result.repeat:
        print(
            f"Redan klar med samma svar / already completed with this very answer: {result.task_key} "
            f"({in_swedish_time(result.completed_at)}); inget nytt registrerat / nothing new recorded"
        )
        return
    nxt = f"; nästa / next: {', '.join(result.opened_next)}" if result.opened_next else ""
    print(f"Klar / completed: {result.task_key} (händelse / event #{result.stream_version}){nxt}")


async def cmd_steer(ctx: Context) -> None:
    a = ctx.args
    due_at = None
    if a.action == "extend":
        try:
            due_at = moment_of(a.until)
        except ValueError as error:
            raise CliError(f"--until: {error}") from None
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    try:
        request = SteerTask(
            task_key=a.task,
            actor_id=identity.participant_id,
            action=a.action,
            reason=a.reason,
            to_participant=a.to,
            due_at=due_at,
        )
    except ValidationError as error:
        raise CliError(refusal_of(error)) from None
    task = await ctx.task(workflow_id)
    ctx.allowed(await (await ctx.access()).may_steer(identity, workflow_id, task, a.action))
    result = await steer_task(await ctx.client(), await ctx.pool(), workflow_id, request)
    print(f"{a.action}: {a.task} (händelse / event #{result.stream_version})")


async def cmd_roster(ctx: Context) -> None:
    a = ctx.args
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    change = roster_change(
        role=a.role, joining=a.joining, leaving=a.leaving, reason=a.reason, actor_id=identity.participant_id
    )
    ctx.allowed(await (await ctx.access()).may_change_roster(identity, workflow_id))
    result = await change_roster(await ctx.client(), await ctx.pool(), workflow_id, change)
    moved = f"; flyttade / moved: {', '.join(result.moved_tasks)}" if result.moved_tasks else ""
    print(f"Rollistan ändrad / roster changed: {a.role} (händelse / event #{result.stream_version}){moved}")


async def cmd_register_inspection(ctx: Context) -> None:
    payload = _read_payload(None, ctx.args.file)
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    ctx.allowed(await (await ctx.access()).may_register_inspection(identity, workflow_id))
    result = await register_inspection(
        await ctx.client(), await ctx.pool(), workflow_id, identity.participant_id, payload
    )
    print(f"Skolinspektionens beslut registrerat / inspection decision registered (event #{result.stream_version})")


async def cmd_appeal(ctx: Context) -> None:
    a = ctx.args
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    lodged = a.command == "appeal"
    fields = (
        {"court": a.court, "lodged_on": _date_arg("--lodged", a.lodged)}
        if lodged
        else {"outcome": a.outcome, "decided_on": _date_arg("--decided", a.decided)}
    )
    step = appeal_step(
        action="lodged" if lodged else "decided",
        decision_key=a.decision,
        actor_id=identity.participant_id,
        case_number=a.case,
        **fields,
    )
    ctx.allowed(await (await ctx.access()).may_record_appeal(identity, workflow_id))
    result = await record_appeal(await ctx.client(), await ctx.pool(), workflow_id, step)
    reopened = f"; öppnad igen / reopened: {', '.join(result.reopened_tasks)}" if result.reopened_tasks else ""
    done = "överklagande registrerat / appeal recorded" if lodged else "utfall registrerat / outcome recorded"
    print(f"{done}: {a.decision}, mål {a.case} (händelse / event #{result.stream_version}){reopened}")


async def cmd_meeting_schedule(ctx: Context) -> None:
    a = ctx.args
    identity, access = await ctx.identity(), await ctx.access()
    try:
        held_at = moment_of(a.at)
    except ValueError as error:
        raise CliError(f"--at: {error}") from None
    led = await access.pilots_led_in(identity, a.programme, running=True)
    ctx.allowed(bool(led))  # a lead acting outside their programmes is refused like any other step
    try:
        meeting = ScheduleMeeting(
            meeting_id=a.id or meeting_id_for(a.programme, held_at, a.title),
            title=a.title,
            held_at=held_at,
            place=a.place,
            actor_id=identity.participant_id,
        )
    except ValidationError as error:
        raise CliError(refusal_of(error)) from None
    outcomes = await schedule_meeting(await ctx.client(), await ctx.pool(), led, meeting)
    print(f"Nätverksträff / network meeting {meeting.meeting_id}, {in_swedish_time(held_at)}:")
    for outcome in outcomes:
        said = outcome.refused or ", ".join(outcome.opened_tasks) or "redan planerad / already scheduled"
        print(f"  {'✗' if outcome.refused else '✓'} {outcome.kommunkod}: {said}")
    if any(o.refused for o in outcomes):
        raise CliError(f"{sum(1 for o in outcomes if o.refused)} of {len(outcomes)} pilots refused the meeting")


async def cmd_meeting_attendance(ctx: Context) -> None:
    a = ctx.args
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    ctx.allowed(await (await ctx.access()).leads_pilot(identity, workflow_id))
    try:
        step = RecordAttendance(
            meeting_id=a.meeting, attended=not a.absent, attendee_ids=a.attendee or [], actor_id=identity.participant_id
        )
    except ValidationError as error:
        raise CliError(refusal_of(error)) from None
    result = await record_attendance(await ctx.client(), workflow_id, step)
    opened = f"; öppnad / opened: {', '.join(result.opened_tasks)}" if result.opened_tasks else ""
    print(
        f"deltagande registrerat / attendance recorded: {a.meeting} (händelse / event #{result.stream_version}){opened}"
    )


def _date_arg(flag: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{flag}: {value!r} is not a date like 2026-12-21") from None


async def cmd_history(ctx: Context) -> None:
    a = ctx.args
    store = EventStore(await ctx.pool())
    if a.programme:
        streams = [await ctx.workflow_id()]
    else:
        check_pilot_code_or_refuse(a.kommunkod)
        streams = await pilots_of_municipality(store, a.kommunkod)
        if not streams:
            raise PilotError(f"no pilot has been started for kommunkod {a.kommunkod}", "not_found")
    identity, access = await ctx.identity(), await ctx.access()
    for stream in streams:
        ctx.allowed(await access.may_read_history(identity, stream))
    since = _since(a.since)
    client = None
    if a.source != "domain":
        try:
            client = await ctx.client()
        except CliError:
            client = None  # the domain record alone, with a note
    entries: list[HistoryEntry] = []
    for stream in streams:
        found, note = await pilot_history(store, client, stream, since=since)
        entries += [e for e in found if a.source == "all" or e.source == a.source]
        if note and a.source != "domain":
            print(f"leda: {note}", file=sys.stderr)
    entries.sort(key=lambda e: (e.at, e.source, e.sequence))
    fmt = "json" if a.json else a.format
    if fmt == "json":
        print(json.dumps([e.model_dump(mode="json") for e in entries], indent=2, ensure_ascii=False))
    elif fmt == "csv":
        sys.stdout.write(history_csv(entries))
    else:
        for e in entries:
            where = f"{e.workflow_id} " if len(streams) > 1 else ""
            source = "D" if e.source == "domain" else "T"
            at = in_swedish_time(e.at, seconds=True)
            print(f"{at} {source} {where}#{e.sequence:<4} {e.kind:<24} {e.actor:<22} {e.summary}")


def check_pilot_code_or_refuse(kommunkod: str) -> None:
    try:
        check_pilot_code(kommunkod)
    except ValueError as error:
        raise CliError(str(error)) from None


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"--since: {value!r} is not a date or time like 2026-09-01 or 2026-09-01T08:00", EXIT_REFUSED
        ) from None
    return since if since.tzinfo is not None else since.replace(tzinfo=UTC)


async def cmd_list(ctx: Context) -> None:
    a = ctx.args
    identity, access = await ctx.identity(), await ctx.access()
    ctx.allowed(access.may_list_pilots(identity))
    query = pilot_query(
        phase=a.phase,
        overdue=a.overdue,
        state=a.state,
        programme=a.programme,
        kommunkod=a.kommunkod,
        include_closed=a.all,
    )
    pilots = [p for p in await list_pilots(await ctx.client(), query) if await access.may_list(identity, p.workflow_id)]
    if a.json:
        print(json.dumps([p.model_dump(mode="json") for p in pilots], indent=2, ensure_ascii=False))
        return
    if not pilots:
        print("inga piloter / no pilots")
    for p in pilots:
        due = in_swedish_time(p.next_due_at) if p.next_due_at else "–"
        print(
            f"  {p.workflow_id:<40} {p.phase or '–':<20} {p.state or p.status:<9} "
            f"försenade/overdue {p.overdue_count or 0:<3} nästa/next {due}"
        )
    print(f'\nsamma fråga / same query: temporal workflow list --query "{query}"')


async def cmd_control(ctx: Context) -> None:
    a = ctx.args
    identity, workflow_id = await ctx.identity(), await ctx.workflow_id()
    ctx.allowed(await (await ctx.access()).may_control(identity, workflow_id, a.action))
    if a.action == "terminate":
        await terminate_pilot(
            await ctx.client(), await ctx.pool(), workflow_id, by=identity.participant_id, reason=a.reason
        )
        print(f"avbruten / terminated: {workflow_id}")
        return
    try:
        request = ControlPilot(action=a.action, actor_id=identity.participant_id, reason=a.reason)
    except ValidationError as error:
        raise CliError(refusal_of(error)) from None
    result = await control_pilot(await ctx.client(), await ctx.pool(), workflow_id, request)
    done = {"pause": "pausad / paused", "resume": "återupptagen / resumed", "withdraw": "avslutad / withdrawn"}
    print(f"{done.get(a.action, 'nytt försök / retried')}: {workflow_id} (händelse / event #{result.stream_version})")


async def cmd_report(ctx: Context) -> None:
    a = ctx.args
    if (a.kommunkod is None) == (a.cohort is None):
        raise CliError("give either a KOMMUNKOD or --cohort PROGRAMME_PREFIX")
    store = EventStore(await ctx.pool())
    now = datetime.now(UTC)
    reports_dir = ctx.settings.data_dir / "reports"
    if a.cohort is not None:
        if a.programme is not None:
            raise CliError("--programme is for one pilot; a cohort is chosen by --cohort")
        streams = [s for s in await store.list_streams(PilotId.prefix_of(a.cohort, whole=False)) if PilotId.parse(s)]
        if not streams:
            raise PilotError(f"no pilot's programme starts with {a.cohort!r}", "not_found")
        identity, access = await ctx.identity(), await ctx.access()
        for stream in streams:
            ctx.allowed(await access.may_read_history(identity, stream))
        states = [await load_pilot_state(store, stream) for stream in streams]
        html = render_cohort_overview(states, generated_at=now, anonymous=a.anonymous)
        hidden = "-anonym" if a.anonymous else ""
        default = reports_dir / f"cohort-{_file_safe(a.cohort)}{hidden}.html"
    else:
        workflow_id = await ctx.workflow_id()
        ctx.allowed(await (await ctx.access()).may_read_history(await ctx.identity(), workflow_id))
        state = await load_pilot_state(store, workflow_id)
        if state.version == 0:
            raise PilotError(f"no pilot {workflow_id} has been started", "not_found")
        html = render_pilot_report(state, generated_at=now)
        default = reports_dir / f"{state.kommunkod}-{_file_safe(state.programme)}.html"
    out = Path(a.out) if a.out else default
    try:
        await asyncio.to_thread(write_report, out, html)
    except OSError as error:
        raise CliError(f"cannot write the report to {out}: {error.strerror}") from None
    print(out)


def _file_safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


async def cmd_participants_import(ctx: Context) -> None:
    try:
        participants = read_participants_csv(Path(ctx.args.file))
    except FileNotFoundError:
        raise CliError(f"no such file: {ctx.args.file}") from None
    try:
        await upsert_participants(await ctx.pool(), participants)
    except ErasedParticipantsError as error:
        raise CliError(str(error)) from None
    print(f"{len(participants)} deltagare importerade / participants imported")


async def cmd_participants_list(ctx: Context) -> None:
    for p in await list_participants(await ctx.pool(), ctx.args.kommunkod):
        print(f"  {p.participant_id:<26} {p.role:<17} {p.language}  {p.display_name} <{p.email}>")


async def cmd_participants_erase(ctx: Context) -> None:
    a = ctx.args
    try:
        erasure = await erase_participant(await ctx.pool(), a.participant, by=a.by, reason=a.reason)
    except UnknownParticipant as error:
        raise CliError(str(error)) from None
    except ValueError as error:
        raise CliError(str(error)) from None
    except ErasureRefused as error:
        raise CliError(str(error)) from None
    print(
        f"{erasure.participant_id} raderad / erased: name and e-mail removed from the directory, "
        f"{erasure.tokens_revoked} token(s) revoked, {erasure.digest_items_settled} queued digest item(s) settled; "
        f"recorded as ParticipantErased #{erasure.stream_version} in stream 'directory' "
        f"(global position {erasure.global_position})"
    )
    for place in erasure.roster_places:
        print(
            f"  obs / note: the running pilot {place.stream_id} still names {erasure.participant_id} as {place.role}; "
            "tasks of that role that open later would go to the erased id (no mail is sent): "
            f"leda roster KOMMUNKOD --role {place.role} --leaving {erasure.participant_id} [--joining ID] --reason …"
        )


async def cmd_verify(ctx: Context) -> None:
    try:
        report = await verify_chains(await ctx.pool(), stream_id=ctx.args.stream)
    except (asyncpg.UndefinedTableError, asyncpg.UndefinedFunctionError):
        raise CliError("the database has no event store with hash chains yet: run 'leda migrate'") from None
    if ctx.args.stream is not None and report.events == 0:
        raise CliError(f"no events in stream {ctx.args.stream!r}")
    first = report.first_break
    if first is not None:
        more = f" ({report.breaks_total} broken links in all)" if report.breaks_total > 1 else ""
        raise CliError(f"the audit record was altered: {first}{more}")
    if ctx.args.stream is not None:
        print(f"{report.events} events in stream {ctx.args.stream}, chain intact")
    else:
        print(f"{report.events} events in {report.streams} streams, chains intact")
        if report.head_hash is not None:
            print(f"head: global position {report.head_position}, global_hash {report.head_hash}")


async def cmd_migrate(ctx: Context) -> None:
    # As the schema's owner; a single-role database (the owner is the application's role too) needs DATABASE_URL only.
    url = ctx.settings.migration_database_url or ctx.settings.database_url
    if url is None:
        raise CliError("no database: set LEDA_MIGRATION_DATABASE_URL (the schema owner's)", EXIT_FAILED)
    try:
        applied = await migrate(url)
    except MigrationError as error:
        raise CliError(str(error)) from None
    except (OSError, asyncpg.PostgresError) as error:
        raise CliError(f"cannot migrate at {redacted(url)}: {error}", EXIT_FAILED) from None
    print(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")


async def cmd_worker(ctx: Context) -> None:
    from temporal_connection import TemporalConnectError
    from worker import serve

    try:
        await serve(ctx.settings)
    except TemporalConnectError as error:
        raise CliError(str(error), EXIT_FAILED) from None


async def cmd_stack_run(ctx: Context) -> None:
    from devstack.stack import StackAlreadyRunning

    try:
        await _serve_embedded_stack(ctx)
    except StackAlreadyRunning as error:  # or servers it did not start on its ports: the message names them
        raise CliError(str(error)) from None


async def _serve_embedded_stack(ctx: Context) -> None:
    from devstack.stack import embedded_stack
    from worker import connect_temporal, running_worker, serving_api

    async with embedded_stack(ctx.settings, api_port=ctx.settings.api_port) as stack:
        cfg = stack.settings
        assert cfg.database_url is not None
        pool = await create_pool(cfg.database_url)
        client = await connect_temporal(cfg)
        async with running_worker(client, cfg, pool), serving_api(client, cfg, pool) as api_url:
            print("Leda kör / Leda is running (Ctrl-C stoppar / stops)")
            print(f"  Webbsidor:    {cfg.web_base_url}  (inloggning med länken i ett mejl / sign in by a mailed link)")
            print(f"  API:          {api_url}/docs  (OpenAPI: {api_url}/openapi.json)")
            print(f"  Temporal UI:  {stack.temporal_ui_url}")
            print(f"  Temporal:     {cfg.temporal_address}")
            print(f"  PostgreSQL:   {redacted(stack.database_url)}")
            print(f"  Mail:         {stack.mail_dir}")
            await _print_sign_in_links(pool, cfg.web_base_url)
            try:
                await asyncio.Event().wait()
            finally:
                await pool.close()


async def _print_sign_in_links(pool: asyncpg.Pool, web_base_url: str) -> None:
    """Links for the demo's synthetic people, when the directory holds them (after `make demo`): Hallsberg's lead and
    förvaltningschef, and SKR's lead of the SKL round, who can start all ten of its pilots from "Starta pilot"."""
    for participant_id, page, role in (
        ("p-1861-programledare", "/board", "programledare / programme lead"),
        ("p-1861-forvaltningschef", "/inbox", "förvaltningschef / head of administration"),
        ("p-skr-programledare", "/start", "SKR:s programledare för SKL-omgången / SKR's lead of the SKL round"),
    ):
        try:
            token = await issue_sign_in_link(pool, participant_id)
        except NotInDirectory:
            continue
        print(f"  Logga in som / sign in as {role} (syntetisk):\n    {sign_in_url(web_base_url, token, page)}")


async def cmd_api(ctx: Context) -> None:
    from worker import serving_api

    async with serving_api(await ctx.client(), ctx.settings, await ctx.pool()) as url:
        print(f"API: {url}/docs (Ctrl-C stoppar / stops)")
        await asyncio.Event().wait()


async def cmd_kolada_check(ctx: Context) -> None:
    """Every KPI the data pack gathers, as Kolada describes it; unknown ids, and unit KPIs without unit data."""
    import httpx

    from adapters.kolada import KoladaClient, KoladaError, check_gathered_kpis
    from domain.kpis import DATA_PACK_KPIS, KPI_CATALOGUE, UNIT_KPIS

    async with httpx.AsyncClient() as http:
        try:
            known, problems = await check_gathered_kpis(KoladaClient(ctx.settings.kolada_base_url, http))
        except KoladaError as error:
            raise CliError(f"cannot ask Kolada at {ctx.settings.kolada_base_url}: {error}", EXIT_FAILED) from None
    wanted = list(dict.fromkeys((*DATA_PACK_KPIS, *UNIT_KPIS)))

    def population(kpi: str) -> str | None:
        """Whom the KPI counts, as Leda's catalogue has it (Kolada's metadata says it in the title only)."""
        definition = KPI_CATALOGUE.get(kpi)
        return definition.population if definition else None

    if ctx.args.json:
        described = [known[k].model_dump() | {"population": population(k)} for k in wanted if k in known]
        print(json.dumps({"kpis": described, "problems": problems}, indent=2))
    else:
        print(f"{'KPI':<8}{'GATHERED FOR':<31}{'UNIT DATA':<11}{'BY GENDER':<11}{'POPULATION':<18}TITLE")
        for kpi in wanted:
            use = " and ".join(
                u for u, kpis in (("municipality", DATA_PACK_KPIS), ("school units", UNIT_KPIS)) if kpi in kpis
            )
            whom = (population(kpi) or "?").replace("_", " ")
            meta = known.get(kpi)
            if meta is None:
                print(f"{kpi:<8}{use:<31}{'?':<11}{'?':<11}{whom:<18}(unknown to Kolada)")
                continue
            unit, gender = ("yes" if meta.has_ou_data else "no"), ("yes" if meta.is_divided_by_gender else "no")
            print(f"{kpi:<8}{use:<31}{unit:<11}{gender:<11}{whom:<18}{meta.title}")
    for problem in problems:
        print(f"leda: {problem}", file=sys.stderr)
    if problems:
        raise CliError(f"{len(problems)} problem(s) with the KPIs Leda gathers (above)")


async def cmd_token_issue(ctx: Context) -> None:
    participant = await get_participant(await ctx.pool(), ctx.args.participant)
    if participant is None:
        raise CliError(f"no participant {ctx.args.participant!r} in the directory")
    try:
        token = await issue_token(
            await ctx.pool(), participant.participant_id, ctx.args.scope, lifetime=timedelta(days=ctx.args.days)
        )
    except ValueError as error:
        raise CliError(f"--days: {error}") from None
    print(token)


async def cmd_token_list(ctx: Context) -> None:
    now = datetime.now(UTC)
    tokens = await list_tokens(await ctx.pool(), ctx.args.participant)
    if ctx.args.json:
        print(json.dumps([t.model_dump(mode="json") | {"state": t.state(now)} for t in tokens], indent=2))
        return
    print(f"{'ID':<13}{'PARTICIPANT':<32}{'SCOPE':<16}{'STATE':<9}{'EXPIRES':<22}LAST USED")
    for t in tokens:
        used = in_swedish_time(t.last_used_at) if t.last_used_at else "never"
        print(
            f"{t.token_id:<13}{t.participant_id:<32}{t.scope:<16}{t.state(now):<9}{in_swedish_time(t.expires_at):<22}{used}"
        )


async def cmd_token_revoke(ctx: Context) -> None:
    try:
        revoked = await revoke_token_by_id(await ctx.pool(), ctx.args.token_id)
    except UnknownToken as error:
        raise CliError(str(error)) from None
    print(f"revoked {revoked.token_id} ({revoked.participant_id}, {revoked.scope}); it is refused from now on")


async def cmd_sign_in_link(ctx: Context) -> None:
    try:
        token = await issue_sign_in_link(await ctx.pool(), ctx.args.participant)
        print(sign_in_url(ctx.settings.web_base_url, token, ctx.args.page))
    except NotInDirectory:
        raise CliError(f"no participant {ctx.args.participant!r} in the directory") from None
    except ValueError as error:
        raise CliError(str(error)) from None


async def cmd_whoami(ctx: Context) -> None:
    identity = await ctx.identity()
    print(f"{identity.participant_id} ({identity.scope})")


async def cmd_demo(ctx: Context) -> None:
    from devstack.demo import run_demo
    from devstack.stack import StackAlreadyRunning

    try:
        await run_demo(ctx.settings)
    except StackAlreadyRunning as error:
        raise CliError(str(error)) from None


# ---- parsing and running ----------------------------------------------------------------------------------


def _read_payload(inline: str | None, file: str | None) -> dict[str, Any]:
    if inline is not None and file is not None:
        raise CliError("give the payload either inline (--payload) or as a file (--payload-file), not both")
    try:
        text = Path(file).read_text() if file is not None else (inline or "{}")
    except OSError as error:
        raise CliError(f"cannot read payload file {file}: {error.strerror}") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise CliError(
            f"payload is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})", EXIT_REFUSED
        ) from None
    if not isinstance(payload, dict):
        raise CliError("payload must be a JSON object")
    return payload


class _Parser(argparse.ArgumentParser):
    """A malformed command line is refused like any other request: exit code 1 (argparse's own is 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_REFUSED, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="leda", description="Leda för resultat: pilots, tasks and their history / piloter, uppgifter, historik"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, handler: Callable[[Context], Coroutine[Any, Any, None]], help: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    def pilot(p: argparse.ArgumentParser) -> None:
        p.add_argument("kommunkod", help="the municipality's code, e.g. 1861 (Hallsberg), or 1083+1272 for a förbund")
        p.add_argument("--programme", help="the programme round, when the municipality is in several")

    p = command("start", cmd_start, "start a municipality's pilot workflow")
    p.add_argument("kommunkod")
    p.add_argument("--template", default=DEFAULT_TEMPLATE, choices=sorted(TEMPLATES))
    p.add_argument("--programme", help="programme round id (default: the template's key)")
    p.add_argument("--name", help="municipality name, for one that is not a known pilot")
    p.add_argument("--organ", help="the organ that decides school matters, e.g. 'Barn- och utbildningsnämnden'")
    p.add_argument(
        "--calendar", help="school-year calendar (lov, nämnd meetings): a name in programmes/calendars or a file"
    )
    p.add_argument(
        "--starts-on", type=date.fromisoformat, metavar="YYYY-MM-DD", help="start on this day, at 08:00 Swedish time"
    )

    cohort = sub.add_parser("cohort", help="programme rounds of several pilots")
    csub = cohort.add_subparsers(dest="cohort_command", required=True, metavar="ACTION")
    p = csub.add_parser("start", help="start every pilot of a cohort, staggered as the cohort file says")
    p.add_argument("cohort", help="a shipped cohort (e.g. orebro-skolkommun-2014) or a cohort TOML file")
    p.set_defaults(handler=cmd_cohort_start)

    p = command("status", cmd_status, "where a pilot stands")
    pilot(p)
    p.add_argument("--json", action="store_true")

    p = command("tasks", cmd_tasks, "a pilot's tasks, earliest deadline first")
    pilot(p)
    p.add_argument("--participant", help="only this participant's tasks")
    p.add_argument("--all", action="store_true", help="completed tasks too")
    p.add_argument("--json", action="store_true")

    p = command("inbox", cmd_inbox, "your tasks across every pilot, earliest deadline first")
    p.add_argument("--participant", help="someone else's inbox (operations only), e.g. p-1861-rektor")
    p.add_argument("--kommunkod", help="only this pilot's tasks")
    p.add_argument("--phase", help="only this phase, e.g. djupanalys")
    p.add_argument("--all", action="store_true", help="completed and closed tasks too")
    p.add_argument("--json", action="store_true")

    p = command("complete", cmd_complete, "complete your task with its answer")
    pilot(p)
    p.add_argument("task", help="task key, e.g. self_assessment")
    p.add_argument("--payload", help="the answer as a JSON object")
    p.add_argument("--payload-file", help="the answer as a JSON file")

    steering = {
        "reassign": "give a task to another participant (programme lead)",
        "delegate": "hand your task to someone acting for you; take it back with return",
        "stand_in": "let a stand-in hold the task while its holder is away",
        "return": "give a delegated task back to its owner",
        "extend": "give a task a later deadline (programme lead)",
    }
    for action, help_text in steering.items():
        p = command(action.replace("_", "-"), cmd_steer, help_text)
        pilot(p)
        p.add_argument("task", help="task key, e.g. self_assessment@F")
        p.add_argument("--reason", required=True, help="why: recorded with the change")
        if action == "extend":
            p.add_argument("--until", required=True, help="the new deadline, e.g. 2026-12-01")
        elif action != "return":
            p.add_argument("--to", required=True, metavar="PARTICIPANT_ID")
        p.set_defaults(action=action, to=None, until=None)

    p = command(
        "roster",
        cmd_roster,
        "someone joins a role of a running pilot, leaves it, or takes a leaver's place and open tasks (lead)",
    )
    pilot(p)
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--joining", metavar="PARTICIPANT_ID", help="who joins: in the directory, with the role")
    p.add_argument("--leaving", metavar="PARTICIPANT_ID", help="who leaves the role")
    p.add_argument("--reason", required=True, help="why: recorded with the change")

    p = command("register-inspection", cmd_register_inspection, "register a Skolinspektionen decision")
    pilot(p)
    p.add_argument("--file", required=True, help="the decision as a JSON file")

    p = command(
        "appeal", cmd_appeal, "record an appeal (laglighetsprövning) lodged against a nämnd decision (programme lead)"
    )
    pilot(p)
    p.add_argument("decision", help="the decision's key, as 'leda status' lists it, e.g. plan_adoption")
    p.add_argument("--court", required=True, help="e.g. 'Förvaltningsrätten i Karlstad'")
    p.add_argument("--case", required=True, help="the court's case number (målnummer), e.g. 1234-26")
    p.add_argument("--lodged", required=True, help="the day the appeal reached the court, e.g. 2026-12-21")

    p = command(
        "appeal-outcome",
        cmd_appeal,
        "record the court's outcome of an appeal; 'upphavt' reopens the decision's task (programme lead)",
    )
    pilot(p)
    p.add_argument("decision", help="the decision's key, as 'leda status' lists it")
    p.add_argument("--case", required=True, help="the court's case number of the appeal")
    p.add_argument("--outcome", required=True, choices=["avslaget", "avvisat", "delvis_upphavt", "upphavt"])
    p.add_argument("--decided", required=True, help="the day of the court's judgment, e.g. 2027-02-15")

    p = command(
        "history", cmd_history, "a pilot's history: the domain record merged with every Temporal run, oldest first"
    )
    pilot(p)
    p.add_argument("--format", choices=["text", "json", "csv"], default="text", help="json or csv to export")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--since", help="only from this date or time on, e.g. 2026-09-01")
    p.add_argument(
        "--source", choices=["all", "domain", "temporal"], default="all", help="domain: PostgreSQL's record alone"
    )

    p = command("list", cmd_list, "pilots by phase, state or overdue tasks, from Temporal's visibility store")
    p.add_argument("--phase", help="e.g. djupanalys, skolutvecklingsplan, genomforande, klar")
    p.add_argument("--overdue", action="store_true", help="only pilots with a task past its deadline")
    p.add_argument("--state", choices=["running", "paused", "failing", "withdrawn", "completed"])
    p.add_argument("--programme")
    p.add_argument("--kommunkod")
    p.add_argument("--all", action="store_true", help="closed workflows too")
    p.add_argument("--json", action="store_true")

    controls = {
        "pause": "hold a pilot: no reminders, escalations or timers act, and no answers are taken, until resumed",
        "resume": "lift the hold; what fell due meanwhile happens now",
        "withdraw": "the municipality leaves the programme: open tasks are closed and their holders told",
        "retry": "try again the steps that failed for good (see status), once their cause is fixed",
        "terminate": "the last resort: end the workflow now (recorded first); operations only",
    }
    for action, help_text in controls.items():
        p = command(action, cmd_control, help_text)
        pilot(p)
        p.add_argument("--reason", required=True, help="why: recorded with the operator's id")
        p.set_defaults(action=action)

    meeting = sub.add_parser("meeting", help="network meetings of a programme's pilots (programme lead)")
    msub = meeting.add_subparsers(dest="meeting_command", required=True, metavar="ACTION")
    p = msub.add_parser(
        "schedule",
        help="schedule a network meeting for every pilot of a programme you lead; each pilot's förvaltningschef "
        "prepares its contribution",
    )
    p.add_argument("programme", help="the programme round, e.g. lfr-skola-2015")
    p.add_argument("--title", required=True, help="e.g. 'Nätverksträff 2: styrkor och svagheter' (no names)")
    p.add_argument("--at", required=True, help="when it begins, e.g. 2027-03-15T13:00 (Swedish time) or with +01:00")
    p.add_argument("--place", help="where, e.g. 'SKR, Hornsgatan 20'")
    p.add_argument("--id", help="the meeting's id (default: derived from programme, time and title)")
    p.set_defaults(handler=cmd_meeting_schedule)
    p = msub.add_parser("attendance", help="record whether a pilot attended a meeting, and who of it did")
    pilot(p)
    p.add_argument("meeting", help="the meeting's id, as 'leda meeting schedule' printed it")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--attendee", action="append", metavar="PARTICIPANT_ID", help="one who took part (repeat)")
    who.add_argument("--absent", action="store_true", help="the pilot did not attend")
    p.set_defaults(handler=cmd_meeting_attendance)

    p = command("report", cmd_report, "write a pilot's report, or a cohort's overview, as one HTML page")
    p.add_argument("kommunkod", nargs="?", help="the municipality's four-digit code, e.g. 1861 (Hallsberg)")
    p.add_argument("--programme", help="the programme round, when the municipality is in several")
    p.add_argument("--cohort", metavar="PROGRAMME_PREFIX", help="every pilot whose programme starts with this")
    p.add_argument("--out", metavar="FILE", help="where to write (default: <data_dir>/reports/…html)")
    p.add_argument(
        "--anonymous", action="store_true", help="a cohort's overview without the municipalities' names (Kommun A, …)"
    )

    participants = sub.add_parser("participants", help="the participant directory")
    psub = participants.add_subparsers(dest="participants_command", required=True, metavar="ACTION")
    p = psub.add_parser("import", help="import participants from a CSV file")
    p.add_argument("file")
    p.set_defaults(handler=cmd_participants_import)
    p = psub.add_parser("list", help="a municipality's participants")
    p.add_argument("kommunkod")
    p.set_defaults(handler=cmd_participants_list)
    p = psub.add_parser(
        "erase", help="erase a person's name and e-mail address (GDPR); the erasure is recorded as an event"
    )
    p.add_argument("participant", metavar="PARTICIPANT_ID")
    p.add_argument("--reason", required=True, help="why, e.g. the request's case number; kept for good, so no names")
    p.add_argument("--by", default="operations", help="who erases, kept with the event (default: operations)")
    p.set_defaults(handler=cmd_participants_erase)

    command("migrate", cmd_migrate, "apply database migrations")
    p = command("verify", cmd_verify, "check the event store's hash chains; name the first altered event")
    p.add_argument("--stream", metavar="STREAM_ID", help="only this stream's chain, e.g. leda-lfr-skola-1861")
    command("api", cmd_api, "serve the HTTP API (OpenAPI at /openapi.json)")
    kolada = sub.add_parser("kolada", help="Kolada, where the data pack comes from")
    ksub = kolada.add_subparsers(dest="kolada_command", required=True, metavar="ACTION")
    p = ksub.add_parser(
        "check", help="look up every KPI the data pack gathers in Kolada (LEDA_KOLADA_BASE_URL): title, unit data"
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_kolada_check)

    tokens = sub.add_parser("token", help="API tokens: issue, list, revoke")
    tsub = tokens.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    p = tsub.add_parser(
        "issue",
        help=f"issue an API token for a participant (printed once; only its hash is kept; "
        f"valid {TOKEN_LIFETIME.days} days unless --days says less)",
    )
    p.add_argument("participant")
    p.add_argument("--scope", default="participant", choices=list(SCOPES))
    p.add_argument(
        "--days", type=int, default=TOKEN_LIFETIME.days, help=f"how long it works (default {TOKEN_LIFETIME.days})"
    )
    p.set_defaults(handler=cmd_token_issue)
    p = tsub.add_parser("list", help="tokens issued, with their id, state, expiry and last use (never the token)")
    p.add_argument("--participant", help="only this participant's")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(handler=cmd_token_list)
    p = tsub.add_parser("revoke", help="revoke a token by the id `leda token list` shows; refused at once")
    p.add_argument("token_id", metavar="TOKEN_ID")
    p.set_defaults(handler=cmd_token_revoke)
    p = command(
        "sign-in-link",
        cmd_sign_in_link,
        "a link that signs a participant in on the web pages, once (valid 14 days; what the mails carry)",
    )
    p.add_argument("participant")
    p.add_argument("--page", default="/", help="the page it opens, e.g. /board or /inbox (default: the start page)")
    command("worker", cmd_worker, "run a Temporal worker (scale out by running more)")
    stack = sub.add_parser("stack", help="the embedded stack")
    ssub = stack.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    ssub.add_parser("run", help="start the embedded stack and a worker; serve until Ctrl-C").set_defaults(
        handler=cmd_stack_run
    )
    command("whoami", cmd_whoami, "whom LEDA_TOKEN makes you: participant id and scope")
    command("demo", cmd_demo, "the guided demo: Hallsberg through every phase in seconds")
    return parser


async def _run(args: argparse.Namespace) -> None:
    from devstack.stack_file import settings_with_running_stack

    # SIGTERM and SIGHUP unwind like Ctrl-C, so the servers a command started are stopped, not orphaned.
    main_task = asyncio.current_task()
    assert main_task is not None
    for signum in (signal.SIGTERM, signal.SIGHUP):
        asyncio.get_running_loop().add_signal_handler(signum, main_task.cancel)

    try:
        settings = Settings()
        if args.command not in ("stack", "demo"):
            settings = settings_with_running_stack(settings)
    except ValidationError as error:
        first = error.errors()[0]
        # Named as the operator sets it (LEDA_TEMPORAL_TLS_CA_FILE), without pydantic's "Value error, " prefix.
        variable = f"LEDA_{first['loc'][0]}".upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        raise CliError(f"invalid setting {variable}: {message}", EXIT_FAILED) from None
    ctx = Context(settings=settings, args=args)
    try:
        await args.handler(ctx)
    finally:
        await ctx.close()


_TOKEN_ACTIONS = {"issue", "list", "revoke", "-h", "--help"}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"] and len(argv) > 1 and argv[1] not in _TOKEN_ACTIONS:
        argv = ["token", "issue", *argv[1:]]  # `leda token PARTICIPANT` as before: scripts written for it still work
    args = build_parser().parse_args(argv)
    settings_level = os.environ.get("LEDA_LOG_LEVEL", "WARNING" if args.command not in ("worker",) else "INFO")
    configure_logging(settings_level, os.environ.get("LEDA_LOG_FORMAT", "console"))
    code = 0
    try:
        asyncio.run(_run(args))
    except CliError as error:
        print(f"leda: {error}", file=sys.stderr)
        code = error.exit_code
    except PilotError as error:
        hint = _HINTS.get(error.code)
        print(f"leda: {error}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        code = EXIT_FAILED if error.code in _FAILURE_CODES else EXIT_REFUSED
    except KeyboardInterrupt:
        code = 130
    except asyncio.CancelledError:
        code = 143
    except BrokenPipeError:
        pass  # the reader (e.g. `| head`) has what it wanted
    except Exception:
        traceback.print_exc()  # a fault of Leda's own: what operations need to report it
        code = EXIT_FAILED
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass
    # Skip interpreter teardown: the Temporal SDK can crash there (sdk-python#300) and turn success into 134.
    os._exit(code)
