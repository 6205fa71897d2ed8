"""History: how long a ten-year pilot's workflow runs grow, and how fast the longest stored history replays.

The pilot runs on the dev server on the demo template (a year is 6 s) with a ten-year plan, answered by the demo's
simulated participants; the workflow continues as new at every year boundary, so each run's history should stay
far below Temporal's suggestion to continue as new (4,096 events). Replay is what a worker does whenever a pilot
leaves its cache: the longest history stored in `tests/histories/` is replayed with `temporalio.worker.Replayer`,
against a bare workflow's history of at least as many events, recorded in this run.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from bench.bare import BarePlan, BareWorkflow
from bench.municipalities import participant_id, register_participants, synthetic_municipalities
from bench.progress import Progress
from bench.report import Result, Section
from bench.stack import BenchStack
from bench.workers import WorkerProcess
from devstack import sample_payloads
from devstack.demo import simulate_participants
from pilots import PilotRecords, start_pilot
from programmes import template
from worker import WORKFLOWS, workflow_runner

PLAN_YEARS = 10
TEMPLATE = "demo"
HISTORY_LIMIT = 4096
"""Where Temporal suggests continuing as new (limit.historyCount.suggestContinueAsNew)."""
STORED_HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "histories"
REPLAYS = 9
REPLAY_TARGET = 1.25
"""Replaying a pilot's history, per event, against a bare workflow's."""
_EVENTS_PER_BARE_ACTIVITY = 6
"""A bare activity adds its scheduled, started and completed events and a workflow task's three."""


def plan_of(years: int):  # type: ignore[no-untyped-def]
    """The demo's answers, with a plan (and its revision in year 2) that runs `years` years."""

    def answer_for(task_key: str, *args: object, **kwargs: object) -> dict[str, object]:
        answer = sample_payloads.answer_for(task_key, *args, **kwargs)  # type: ignore[arg-type]
        if task_key == "plan_draft":
            answer["period_years"] = years
        elif task_key == "plan_revision":
            answer["revised_plan"]["period_years"] = years  # type: ignore[index]
        return answer

    return answer_for


async def measure_history(stack: BenchStack, progress: Progress, years: int = PLAN_YEARS) -> Section:
    runs = await _long_pilot(stack, progress, years)
    longest_run = max(runs)
    stored_name, stored = _longest_stored_history()
    progress.step(f"history: replaying {stored_name} ({len(stored.events)} events) and a bare history as long")
    bare = await _bare_history(stack, len(stored.events))
    leda_replay, bare_replay = await _replay_seconds(stored, bare)
    leda_per_event = leda_replay / len(stored.events)
    bare_per_event = bare_replay / len(bare.events)
    return Section(
        title=f"History: a {years}-year pilot, and replay",
        results=[
            Result(
                benchmark="history",
                measure=f"longest run of a {years}-year pilot",
                leda=f"{longest_run:,} events",
                baseline=f"{HISTORY_LIMIT:,} events (Temporal's continue-as-new suggestion)",
                ratio=longest_run / HISTORY_LIMIT,
                target=f"< {HISTORY_LIMIT:,} events",
                met=longest_run < HISTORY_LIMIT,
                note=(
                    f"{len(runs)} runs (one per implementation year, after the first run's analysis and plan); "
                    f"events per run: {', '.join(str(n) for n in runs)}; {sum(runs):,} in all."
                ),
            ),
            Result(
                benchmark="history",
                measure=f"replay of the longest stored history ({len(stored.events)} events)",
                leda=f"{leda_replay * 1000:.0f} ms ({leda_per_event * 1e6:.0f} µs/event)",
                baseline=f"{bare_replay * 1000:.0f} ms for {len(bare.events)} bare events "
                f"({bare_per_event * 1e6:.0f} µs/event)",
                ratio=leda_per_event / bare_per_event,
                target=f"≤ {REPLAY_TARGET}×",
                met=leda_per_event / bare_per_event <= REPLAY_TARGET,
                note=(
                    f"`{stored_name}`; the median of {REPLAYS} replays with `Replayer(workflows=WORKFLOWS, "
                    "data_converter=pydantic_data_converter)` and the worker's runner (`worker.workflow_runner`), "
                    "per event against a `BareWorkflow` history recorded in this run, replayed the same way."
                ),
            ),
        ],
        method=[
            f"One synthetic municipality on the `{TEMPLATE}` template whose plan (and its year-2 revision) runs "
            f"{years} years, driven by `devstack.demo.simulate_participants` on a `leda worker` of its own; every "
            "run's history length from the server's visibility records (`list_workflows`) once it completed.",
            f"Replay: the longest history (by events) of every recording in `tests/histories/`, and a bare "
            "workflow's history of at least as many events, each replayed "
            f"{REPLAYS} times in this process (bytecode cached, as an installed worker has it), the two in turns: "
            "the event store's seeding runs beside this section, and in turns it weighs on both alike (run one "
            "after the other, the last run had this ratio at 1.58× where the same history replays as fast as "
            "before, measured apart).",
        ],
        findings=[
            "What a replay costs beyond the bare workflow's: per event, Leda's replay does what the run did. It "
            "decodes each activity's result and each Update into pydantic models, folds the recorded events into "
            "the pilot's state, asks the domain what follows and sets the followers' timers again; the bare "
            "workflow's replay counts activities. **Changed:** both are replayed with the runner `leda worker` "
            "uses, without the sandbox (the Sweden section); before, both were replayed in the sandbox, and "
            "Leda's history was 1.35× the bare one's per event in the previous run of this benchmark.",
        ],
    )


async def _long_pilot(stack: BenchStack, progress: Progress, years: int) -> list[int]:
    """Run a pilot with a plan of `years` years to its end; the history length of each of its runs, in order."""
    settings = stack.with_task_queue("bench-history")
    client = await stack.client()
    pool = await stack.pool()
    records = PilotRecords(pool)
    try:
        [municipality] = synthetic_municipalities(1)
        await register_participants(pool, [municipality], template(TEMPLATE))
        async with WorkerProcess.leda(settings, client, stack.workdir / "logs" / "history-leda-worker.log"):
            progress.step(f"history: one pilot through a {years}-year plan (about {6 * years + 15} s)")
            workflow_id = await start_pilot(
                client,
                pool,
                programme="bench-history",
                kommunkod=municipality.kommunkod,
                template_key=TEMPLATE,
                task_queue=settings.task_queue,
                municipality_name=municipality.name,
                deciding_organ=municipality.organ,
            )
            await simulate_participants(
                client,
                records,
                workflow_id,
                say=lambda *_: None,
                analyst=participant_id(municipality.kommunkod, "analytiker"),
                answer_for=plan_of(years),
            )
        runs = [execution async for execution in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    finally:
        await pool.close()
    return [run.history_length for run in sorted(runs, key=lambda r: r.start_time)]


def _longest_stored_history() -> tuple[str, WorkflowHistory]:
    longest: tuple[int, str, WorkflowHistory] | None = None
    for manifest_file in sorted(STORED_HISTORIES.glob("*/manifest.json")):
        for entry in json.loads(manifest_file.read_text())["histories"]:
            path = manifest_file.parent / entry["file"]
            history = WorkflowHistory.from_json(entry["workflow_id"], path.read_text())
            if longest is None or len(history.events) > longest[0]:
                longest = (len(history.events), f"{manifest_file.parent.name}/{entry['file']}", history)
    if longest is None:
        raise RuntimeError(f"no stored histories under {STORED_HISTORIES}")
    return longest[1], longest[2]


async def _bare_history(stack: BenchStack, events: int) -> WorkflowHistory:
    settings = stack.with_task_queue("bench-history-bare")
    client = await stack.client()
    async with WorkerProcess.bare(settings, client, stack.workdir / "logs" / "history-bare-worker.log"):
        plan = BarePlan(activities=-(-events // _EVENTS_PER_BARE_ACTIVITY) + 1, updates=1)
        handle = await client.start_workflow(
            BareWorkflow.run, plan, id=f"bench-history-bare-{time.time_ns()}", task_queue=settings.task_queue
        )
        await handle.execute_update(BareWorkflow.touch, 0)
        await handle.result()
        return await handle.fetch_history()


async def _replay_seconds(leda: WorkflowHistory, bare: WorkflowHistory) -> tuple[float, float]:
    """The median replay of each history, replayed in turns: the event store's seeding runs beside this section
    (bench/__main__.py), and in turns it weighs on both alike."""
    # The runner `leda worker` uses, for Leda's history and the bare one alike.
    replays = [
        (Replayer(workflows=workflows, data_converter=pydantic_data_converter, workflow_runner=workflow_runner()), h)
        for workflows, h in ((WORKFLOWS, leda), ([BareWorkflow], bare))
    ]
    for replayer, history in replays:
        await replayer.replay_workflow(history)  # the first replay imports and compiles the workflow's modules
    seconds: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPLAYS):
        for (replayer, history), taken in zip(replays, seconds, strict=True):
            started = time.perf_counter()
            await replayer.replay_workflow(history)
            taken.append(time.perf_counter() - started)
    return statistics.median(seconds[0]), statistics.median(seconds[1])
