"""The fleet: many municipalities through the whole programme at once, against bare workflows doing the same calls.

Each pilot runs on the demo template (a day lasts 0.1 s, a year 6 s: the real SKL programme, compressed) with a
three-year plan, on one dev server and one `leda worker`, answered by the demo's simulated participants
(`devstack.demo.simulate_participants`), all at once. The baseline then runs as many `BareWorkflow`s on the bare
worker, which together run as many activities and take as many Updates and queries as the pilots did (counted by a
client interceptor and from what the pilots recorded), driven as hard as they will go.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import asyncpg
import psutil
from temporalio.client import Client, Interceptor, OutboundInterceptor, QueryWorkflowInput, StartWorkflowUpdateInput
from temporalio.service import RPCError, RPCStatusCode

from bench.bare import BarePlan, BareWorkflow
from bench.municipalities import (
    SWEDISH_MUNICIPALITIES,
    SyntheticMunicipality,
    participant_id,
    register_participants,
    synthetic_municipalities,
)
from bench.progress import Progress
from bench.report import Result, Section
from bench.stack import BenchStack
from bench.workers import WorkerProcess
from devstack.demo import simulate_participants
from domain.pilot_ids import PilotId
from domain.status import PilotStatus
from pilots import PilotRecords, start_pilot
from programmes import template

FLEET_PILOTS = 20
"""What fits the 15-minute budget of `make bench` on a 2-core machine (BENCHMARKS.md: Fleet), of Sweden's 290."""
TEMPLATE = "demo"
POLL_INTERVAL = 0.5
"""How often each simulated participant looks at the pilot's status: five demo days."""
TARGET = 1.25
CPU_AT_ISSUE = 64 / 20
"""Worker CPU seconds per whole pilot when issue 19 was filed (c25d13b's BENCHMARKS.md: 64 s for 20 pilots)."""
ACTIVITIES_AT_ISSUE, REMINDERS_AT_ISSUE, ESCALATIONS_AT_ISSUE = 3789, 306, 215
"""What those 20 pilots did: the activities they ran, the reminders and escalations among their mails."""
CPU_TARGET = 0.5


class CountingInterceptor(Interceptor):
    """Counts the Updates and queries a client sends."""

    def __init__(self) -> None:
        self.updates = 0
        self.queries = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Counting(next, self)


class _Counting(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, counts: CountingInterceptor) -> None:
        super().__init__(next)
        self._counts = counts

    async def start_workflow_update(self, input: StartWorkflowUpdateInput):  # type: ignore[no-untyped-def]
        self._counts.updates += 1
        return await super().start_workflow_update(input)

    async def query_workflow(self, input: QueryWorkflowInput):  # type: ignore[no-untyped-def]
        self._counts.queries += 1
        return await super().query_workflow(input)


@dataclass(frozen=True)
class FleetRun:
    pilots: int
    seconds: float
    worker_cpu: float
    """CPU seconds of the worker processes together."""
    workers: int
    driver_cpu: float
    """CPU seconds of the benchmark's own process: the simulated participants and their reads of the record."""
    machine_busy: float
    """Share of all the machine's CPUs busy during the run (1.0: every core all the time)."""
    temporal_cpu: float
    """CPU seconds of the Temporal dev server."""
    postgres_cpu: float
    """CPU seconds of PostgreSQL (the server and its backends)."""
    activities: int
    updates: int
    queries: int
    events: int
    fastest_pilot: float
    slowest_pilot: float
    reminders: int
    escalations: int


async def measure_fleet(stack: BenchStack, progress: Progress, pilots: int = FLEET_PILOTS) -> Section:
    everyone = synthetic_municipalities(SWEDISH_MUNICIPALITIES)
    municipalities = everyone[:pilots]
    reference: FleetRun | None = None
    if pilots != FLEET_PILOTS:
        # The CPU a pilot costs grows with the load (late participants get more reminders and escalations): compare
        # with c25d13b's figure at the size it was measured at, as well as at this run's.
        progress.step(f"fleet: {FLEET_PILOTS} pilots at once first, the size c25d13b's worker CPU was measured at")
        reference = await run_leda_fleet(stack, progress, everyone[:FLEET_PILOTS])
    progress.step(f"fleet: {pilots} pilots through the whole {TEMPLATE} programme on one `leda worker`")
    leda = await run_leda_fleet(stack, progress, municipalities)
    bare_seconds, bare_cpu, plan = await run_bare_fleet(stack, progress, leda)
    ratio = leda.seconds / bare_seconds
    return Section(
        title=f"Fleet: {pilots} municipalities through the whole programme at once",
        results=[
            Result(
                benchmark="fleet",
                measure=f"wall time, {pilots} whole programmes at once",
                leda=f"{leda.seconds:.0f} s",
                baseline=f"{bare_seconds:.0f} s (bare, same calls)",
                ratio=ratio,
                target=f"≤ {TARGET}×",
                met=ratio <= TARGET,
                note=(
                    f"{pilots} pilots, each from PilotStarted to PilotCompleted (three plan years, four runs each), "
                    f"recorded {leda.events:,} events; the worker ran {leda.activities:,} activities and took "
                    f"{leda.updates:,} Updates and {leda.queries:,} queries (the participants read their pilot's "
                    "status from PostgreSQL). "
                    f"Under this load the participants answered later than alone, so {leda.reminders} reminders "
                    f"and {leda.escalations} escalations went out (the demo's one late task gives 2 and 1 per pilot "
                    f"alone). The fastest pilot took {leda.fastest_pilot:.0f} s, the slowest "
                    f"{leda.slowest_pilot:.0f} s "
                    "(one pilot alone, measured while building this benchmark: about 25 s, mostly its three "
                    f"6-second years). CPU of the worker process: Leda {leda.worker_cpu:.0f} s, bare {bare_cpu:.0f} s "
                    f"({leda.worker_cpu / max(bare_cpu, 0.1):.1f}×)."
                ),
            ),
            *([_cpu_result(reference, None)] if reference is not None else []),
            _cpu_result(leda, bare_cpu),
        ],
        method=[
            f"{pilots} of Sweden's 290 municipalities (`bench/municipalities.py`: the register's kommunkoder, "
            f"invented participants), each started with `pilots.start_pilot` on the `{TEMPLATE}` template and driven "
            "by "
            f"`devstack.demo.simulate_participants` (the demo's participants, including its late förvaltningschef), "
            f"all concurrently, looking at their pilot's status every {POLL_INTERVAL} s. One `leda worker` process.",
            "Wall time from the first start until the last pilot completed.",
            f"Baseline: {pilots} `BareWorkflow`s on the bare worker, each running {plan.activities} activities and "
            f"taking {plan.updates} Updates and {math.ceil(leda.queries / pilots)} queries, so that together they "
            f"make at least the calls the pilots made ({leda.activities:,} activities: every append, mail and "
            "Kolada fetch; the Updates and queries as counted by a client interceptor). Their timers and "
            "continue-as-new are not reproduced: the baseline is the floor for that many calls. With many pilots "
            "it stops being one: each bare workflow runs its activities one after another, where a pilot runs "
            "several tasks' at once, and the bare workflows' chains grow with the calls per pilot, so a ratio "
            "below 1 says no more than that.",
            "All 290 municipalities at once are measured through the deep analysis by `make bench-sweden` (the "
            "Sweden section, when it ran): 290 whole programmes with their bare baseline do not fit the 15 minutes "
            "`make bench` may take on 2 cores, and `make bench-sweden` takes the fleet to 50 whole programmes.",
        ],
        findings=[
            *FINDINGS,
            "Where the run's time goes: every server of the run shares this machine's two cores, "
            f"{leda.machine_busy:.0%} busy during Leda's run, so the wall time follows the CPU the whole run "
            f"needs as long as they are busy. Leda's: the worker {leda.worker_cpu:.0f} s (the bare worker "
            f"{bare_cpu:.0f} s for the same calls), the Temporal dev server {leda.temporal_cpu:.0f} s (Leda's "
            "pilots also set reminder timers, upsert search attributes after every change and continue as new "
            f"each year, which the bare workflows do not), PostgreSQL {leda.postgres_cpu:.0f} s (the appends with "
            "their hash chains, the inbox projection, the participants' reads), the simulated participants "
            f"{leda.driver_cpu:.0f} s.",
        ],
    )


def _cpu_result(run: FleetRun, bare_cpu: float | None) -> Result:
    """The worker's CPU per whole pilot against c25d13b's, with the work per pilot that explains it."""
    per_pilot = run.worker_cpu / run.pilots
    ratio = per_pilot / CPU_AT_ISSUE
    per_activity = run.worker_cpu / run.activities
    at_issue_per_activity = CPU_AT_ISSUE * FLEET_PILOTS / ACTIVITIES_AT_ISSUE
    bare = (
        f"; the bare worker took {bare_cpu / run.pilots:.2f} s per bare workflow making the same calls"
        if bare_cpu is not None
        else ""
    )
    return Result(
        benchmark="fleet",
        measure=f"worker CPU per whole programme, {run.pilots} at once",
        leda=f"{per_pilot:.2f} s",
        baseline=f"{CPU_AT_ISSUE:.2f} s (Leda at c25d13b, {FLEET_PILOTS} at once, in that commit's run)",
        ratio=ratio,
        target=f"≤ {CPU_TARGET}×",
        met=ratio <= CPU_TARGET,
        note=(
            f"`leda worker`'s CPU time over the run of {run.pilots} pilots divided by their number{bare}. The "
            f"work a pilot makes grows with the load: here {run.activities / run.pilots:.0f} activities a pilot, "
            f"with {run.reminders / run.pilots:.1f} reminders and {run.escalations / run.pilots:.1f} escalations "
            f"(c25d13b's {FLEET_PILOTS}: {ACTIVITIES_AT_ISSUE / FLEET_PILOTS:.0f}, with "
            f"{REMINDERS_AT_ISSUE / FLEET_PILOTS:.1f} and {ESCALATIONS_AT_ISSUE / FLEET_PILOTS:.1f}). Per "
            f"activity: {per_activity * 1000:.1f} ms of worker CPU, against c25d13b's "
            f"{at_issue_per_activity * 1000:.1f} ms ({per_activity / at_issue_per_activity:.2f}×). The benchmark's "
            f"own process (the simulated participants, reading their pilots' status from PostgreSQL) took "
            f"{run.driver_cpu:.0f} s, the Temporal dev server {run.temporal_cpu:.0f} s, PostgreSQL "
            f"{run.postgres_cpu:.0f} s; the machine's two cores were {run.machine_busy:.0%} busy."
        ),
    )


FINDINGS = [
    "**The bare baseline at 50 pilots is not what it was, and the wall-time target is missed against it.** In the "
    "earlier runs of `make bench-sweden` (the last at 1fda034) the 50 bare workflows took 177-239 s, and Leda's 50 "
    "pilots 171-206 s (0.77-0.98×). Since then the same baseline takes 71-87 s for as many calls or fewer (230-274 "
    "activities a workflow against 283-286): in the full runs at a93c94b and at b7081e1 (this report) and in "
    "`python -m bench --only fleet --fleet 50` run apart (Leda 124 s against 81 s there, 1.52×). The bare worker's "
    "CPU was about the same in all of them (40-55 s), so "
    "the earlier bare workflows spent the difference waiting, most likely on a dev server kept busy by something "
    "else on the machine; the cause was not found. Against the faster baseline Leda misses the target: the dev "
    "server is the limit (its CPU time is about the run's wall time), and a pilot asks more of it than the bare "
    "workflow's same calls do: a timer per open task's reminders, a search-attribute upsert after each change, a "
    "continue-as-new each year, more workflow tasks. Fewer of those per pilot is the way to the target (see the "
    "memory section for what they cost while a pilot waits).",
    "**Changed (how it is measured): the worker's CPU per whole pilot is also taken at the size c25d13b took it "
    "at.** That figure (3.20 s) came from 20 pilots at once. At 50 the run is slower, the participants answer later "
    "against the demo's short days, and each pilot sends more reminders and escalations (38 and 28 a pilot in the "
    "last run at 50, against 15.3 and 10.8 in c25d13b's 20): more work, not dearer work. `make bench-sweden` "
    "therefore runs the 20 first, Leda alone, and reports both; each line gives the activities, reminders and "
    "escalations per pilot and the CPU per activity against c25d13b's, so the two can be told apart.",
    "**Fixed: a TLS context per mail.** `SmtpMailer` built `ssl.create_default_context()` (loading every CA "
    "certificate) for each mail, even without TLS. Profiling the worker (py-spy, 3 pilots) put 63 % of its samples "
    "there; 10 pilots took 311 s and 202 s of worker CPU. The context is now made once, and only for TLS or "
    "STARTTLS (`activities/notifications.py`): the worker's CPU for 3 pilots fell from 33 s to 18.5 s. "
    "(Measured while building this benchmark, before and after the fix; not part of this run.)",
    "**Fixed: a deep copy of the pilot's state per recorded batch.** `domain.state.fold` copied the whole state "
    "(every task, every answer) with `model_copy(deep=True)` before each batch; with the TLS fix in, that was "
    "17 % of the worker's CPU (py-spy, GIL samples, 10 pilots). It now copies the containers and copies a task "
    "only when it changes it: folding the demo walk's 155 events one by one went from 4.4 ms to 0.05 ms per "
    "event, and every earlier state stays untouched (checked over the whole walk; unit tests pass).",
    "**Changed: the workflow's module is loaded once per worker, not once per workflow run.** This machine sets "
    "`PYTHONDONTWRITEBYTECODE=1`, and the sandbox loaded `workflows/municipality.py` afresh for every workflow it "
    "ran: without a `.pyc` a compile each time, 28 % of the worker's CPU while starting 100 pilots (measured while "
    "building this benchmark). The worker now passes the module through the sandbox (see the memory section), "
    "which removes the reload whether or not bytecode is written.",
    "**Changed: an answer and what it opens are recorded in one append** (see the latency section): one activity "
    "and one workflow task fewer per completion.",
    "**Changed: the participants read their pilot's status from PostgreSQL** (`pilots/records.py`), as the API "
    "does, instead of querying the workflow every half second: those reads no longer cost the worker anything.",
    "What the worker's CPU went to before it ran without the sandbox (py-spy, GIL samples; the Sweden section "
    "says what changed since): mostly the SDK itself (the sandbox's activations "
    "and its per-payload serialisation context, about half), then composing mails with the `email` package "
    "(about 10 %), pydantic (de)serialisation of the workflow's input and the status query.",
]


async def run_leda_fleet(
    stack: BenchStack,
    progress: Progress,
    municipalities: list[SyntheticMunicipality],
    *,
    workers: int = 1,
    until: Callable[[PilotStatus], bool] | None = None,
) -> FleetRun:
    """Start a pilot for each municipality at once, on `workers` `leda worker` processes polling one task queue,
    and drive each with the demo's participants through the whole programme, or until its status meets `until`
    (the pilots still open then are terminated, so they cost nothing after)."""
    settings = stack.with_task_queue("bench-fleet")
    counts = CountingInterceptor()
    client = await stack.client(counts)
    pool = await stack.pool()
    records = PilotRecords(pool)
    pilots = len(municipalities)
    try:
        await register_participants(pool, municipalities, template(TEMPLATE))
        programme = f"bench-fleet-{uuid.uuid4().hex[:6]}"
        async with AsyncExitStack() as exits:
            processes = [
                await exits.enter_async_context(
                    WorkerProcess.leda(settings, client, stack.workdir / "logs" / f"fleet-leda-worker-{number}.log")
                )
                for number in range(workers)
            ]
            cpu_before = sum(process.cpu_seconds() for process in processes)
            servers_before = _servers_cpu_seconds(stack)
            driver_before = _own_cpu_seconds()
            machine_before = psutil.cpu_times()
            started = time.monotonic()
            durations: list[float] = []
            workflow_ids: list[str] = []

            async def one(municipality: SyntheticMunicipality) -> None:
                began = time.monotonic()
                workflow_id = await start_pilot(
                    client,
                    pool,
                    programme=programme,
                    kommunkod=municipality.kommunkod,
                    template_key=TEMPLATE,
                    task_queue=settings.task_queue,
                    municipality_name=municipality.name,
                    deciding_organ=municipality.organ,
                )
                workflow_ids.append(workflow_id)
                await simulate_participants(
                    client,
                    records,
                    workflow_id,
                    say=_quiet,
                    poll_interval=POLL_INTERVAL,
                    analyst=participant_id(municipality.kommunkod, "analytiker"),
                    until=until,
                )
                durations.append(time.monotonic() - began)
                progress.count("pilots done", len(durations), pilots)

            await asyncio.gather(*(one(m) for m in municipalities))
            seconds = time.monotonic() - started
            worker_cpu = sum(process.cpu_seconds() for process in processes) - cpu_before
            driver_cpu = _own_cpu_seconds() - driver_before
            temporal_cpu, postgres_cpu = (
                after - before for after, before in zip(_servers_cpu_seconds(stack), servers_before, strict=True)
            )
            machine_busy = _busy_share(machine_before, psutil.cpu_times())
            if until is not None:
                await asyncio.gather(*(_terminate(client, workflow_id) for workflow_id in workflow_ids))
        recorded = await _recorded(pool, PilotId.prefix_of(programme))
    finally:
        await pool.close()
    return FleetRun(
        pilots=pilots,
        seconds=seconds,
        worker_cpu=worker_cpu,
        workers=workers,
        driver_cpu=driver_cpu,
        machine_busy=machine_busy,
        temporal_cpu=temporal_cpu,
        postgres_cpu=postgres_cpu,
        activities=recorded["appends"] + recorded["mails"] + pilots,  # one Kolada fetch per pilot
        updates=counts.updates,
        queries=counts.queries,
        events=recorded["events"],
        fastest_pilot=min(durations),
        slowest_pilot=max(durations),
        reminders=recorded["reminders"],
        escalations=recorded["escalations"],
    )


def _servers_cpu_seconds(stack: BenchStack) -> tuple[float, float]:
    """CPU seconds so far of the dev server's processes and of PostgreSQL's (found by the run's directory on their
    command lines; a PostgreSQL backend that has exited counts in its server's time for waited-for children)."""
    temporal = postgres = 0.0
    workdir = str(stack.workdir)
    for process in psutil.process_iter(["cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or [])
            if workdir not in command:
                continue
            family = [process, *process.children(recursive=True)]
            times = [member.cpu_times() for member in family]
            seconds = sum(t.user + t.system for t in times) + times[0].children_user + times[0].children_system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "temporal" in command and "server" in command:
            temporal += seconds
        elif "postgres" in command and " -D " in f" {command} ":
            postgres += seconds
    return temporal, postgres


def _own_cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def _busy_share(before: Any, after: Any) -> float:
    """The share of the machine's CPU time between two `psutil.cpu_times()` that was not idle."""
    idle = (after.idle + getattr(after, "iowait", 0.0)) - (before.idle + getattr(before, "iowait", 0.0))
    total = sum(after) - sum(before)
    return 1.0 - idle / total if total > 0 else 0.0


async def _terminate(client: Client, workflow_id: str) -> None:
    try:
        await client.get_workflow_handle(workflow_id).terminate(reason="benchmark measured what it measures")
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise


async def _recorded(pool: asyncpg.Pool, prefix: str) -> dict[str, int]:
    """What the fleet's pilots recorded: events, appends (one transaction, one `now()` each) and mails."""
    row = await pool.fetchrow(
        """
        SELECT count(*) AS events,
               count(DISTINCT (stream_id, recorded_at)) AS appends,
               count(*) FILTER (WHERE event_type = 'TaskReminderSent') AS reminders,
               count(*) FILTER (WHERE event_type = 'TaskEscalated') AS escalations,
               (SELECT count(*) FROM notifications_sent WHERE starts_with(workflow_id, $1)) AS mails
          FROM events
         WHERE starts_with(stream_id, $1)
        """,
        prefix,
    )
    return dict(row)


async def run_bare_fleet(stack: BenchStack, progress: Progress, leda: FleetRun) -> tuple[float, float, BarePlan]:
    """As many bare workflows as `leda` ran pilots, together making at least the calls the pilots made."""
    settings = stack.with_task_queue("bench-fleet-bare")
    client = await stack.client()
    plan = BarePlan(
        activities=math.ceil(leda.activities / leda.pilots),
        updates=math.ceil(leda.updates / leda.pilots),
    )
    queries = math.ceil(leda.queries / leda.pilots)
    async with WorkerProcess.bare(settings, client, stack.workdir / "logs" / "fleet-bare-worker.log") as worker:
        progress.step(
            f"fleet baseline: {leda.pilots} bare workflows, each {plan.activities} activities, "
            f"{plan.updates} Updates, {queries} queries"
        )
        cpu_before = worker.cpu_seconds()
        started = time.monotonic()
        done = 0

        async def one(number: int) -> None:
            nonlocal done
            handle = await client.start_workflow(
                BareWorkflow.run,
                plan,
                id=f"bench-fleet-bare-{number}-{uuid.uuid4().hex[:6]}",
                task_queue=settings.task_queue,
            )
            # The Updates and queries spread over the workflow's life, as the participants' are over a pilot's.
            for call in range(max(plan.updates, queries)):
                if call < queries:
                    await handle.query(BareWorkflow.activities_run)
                if call < plan.updates:
                    await handle.execute_update(BareWorkflow.touch, call)
            await handle.result()
            done += 1
            progress.count("bare workflows completed", done, leda.pilots)

        await asyncio.gather(*(one(n) for n in range(leda.pilots)))
        seconds = time.monotonic() - started
        cpu = worker.cpu_seconds() - cpu_before
    return seconds, cpu, plan


def _quiet(*_: object) -> None:
    pass
