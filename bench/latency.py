"""Task completion latency: a participant's answer until the inbox shows the task done, against a bare Update.

Leda's path is the real one: `pilots.complete_task` sends the Update; the workflow validates the answer, records
the completion in PostgreSQL (an activity), advances the pilot (its next tasks, recorded by another activity) and
answers; then the inbox projection catches up, as the API's inbox does on every read, and shows the task
completed. The same again through the HTTP API (completion POSTed, then the caller's inbox read until the task has
left it). The baseline is one Update round trip on a `BareWorkflow`, whose handler returns at once. Samples are
taken one at a time and interleaved, each round starting with the next path (bare, Leda, bare with an activity, API;
then Leda, bare with an activity, API, bare; ...), so drifts in the machine's speed, and the work a completion leaves
behind it, hit all alike.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from access import issue_token
from api.app import create_app
from bench.bare import BareWorkflow
from bench.memory import FIRST_TASKS, OpenWorkflows
from bench.progress import Progress
from bench.report import Result, Section
from devstack import sample_payloads
from domain.instances import template_key_of
from pilots import complete_task
from projections import InboxProjection

SAMPLES = 200
"""Per path; the p99 of 200 samples is their second slowest."""
CLIENTS = 20
"""Concurrent clients of the throughput measure, each completing the tasks of pilots of its own."""
THROUGHPUT_COMPLETIONS = 400
CHECKOUT = Path(__file__).resolve().parent.parent
HTTP_TARGET = 1.3
PEER_TARGET = 1.0
"""Leda against the DBOS peer: latency at most the peer's, throughput at least the peer's."""
RECORDING_ACTIVITIES = 1
"""Activities a completion waits for: recording it, and recording what the pilot's advance opened."""
P50_TARGET = 1.5
P99_TARGET = 2.0


@dataclass(frozen=True)
class OpenTask:
    workflow_id: str
    task_key: str
    assignee_id: str

    def answer(self) -> dict[str, object]:
        # 'self_assessment@S/p-…-ekonomi': the level, then (for a second holder of the level) whose instance it is
        level = self.task_key.split("@", 1)[1].split("/", 1)[0] if "@" in self.task_key else None
        return sample_payloads.answer_for(template_key_of(self.task_key), datetime.now(UTC).date(), level=level)


async def measure_latency(
    opened: OpenWorkflows, progress: Progress, server_url: str, samples: int = SAMPLES
) -> Section:
    inbox = InboxProjection(opened.pool)
    await inbox.catch_up()
    tasks = await _open_tasks(opened, 2 * samples + THROUGHPUT_COMPLETIONS)
    direct_tasks, api_tasks = tasks[:samples], tasks[samples : 2 * samples]
    throughput_tasks = tasks[2 * samples :]
    app = create_app(pool=opened.pool, client=opened.client, task_queue=opened.leda_settings.task_queue)
    tokens = {t.assignee_id: await issue_token(opened.pool, t.assignee_id, "participant") for t in api_tasks}
    bare_handles = [opened.client.get_workflow_handle(w) for w in opened.bare_workflows]

    async def bare(number: int) -> None:
        await bare_handles[number % len(bare_handles)].execute_update(BareWorkflow.touch, number)

    async def bare_with_activities(number: int) -> None:
        handle = bare_handles[-1 - number % len(bare_handles)]
        await handle.execute_update(BareWorkflow.touch_after_activities, RECORDING_ACTIVITIES)

    update_alone: list[float] = []

    async def direct(number: int) -> None:
        task = direct_tasks[number]
        started = time.perf_counter()
        await complete_task(opened.client, task.workflow_id, task.task_key, task.assignee_id, task.answer())
        update_alone.append(time.perf_counter() - started)
        while True:
            await inbox.catch_up()
            row = await inbox.task(task.workflow_id, task.task_key)
            if row is not None and row.status == "completed":
                return
            await asyncio.sleep(0.001)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://leda.bench") as http:

        async def via_api(number: int) -> None:
            task = api_tasks[number]
            headers = {"Authorization": f"Bearer {tokens[task.assignee_id]}"}
            response = await http.post(
                f"/api/v1/pilots/{task.workflow_id}/tasks/{task.task_key}/complete",
                json=task.answer(),
                headers=headers,
            )
            response.raise_for_status()
            while True:
                response = await http.get("/api/v1/me/inbox", headers=headers)
                response.raise_for_status()
                if not any(
                    i["workflow_id"] == task.workflow_id and i["task_key"] == task.task_key for i in response.json()
                ):
                    return
                await asyncio.sleep(0.001)

        paths: dict[str, Callable[[int], Awaitable[None]]] = {
            "bare": bare,
            "direct": direct,
            "bare_activities": bare_with_activities,
            "api": via_api,
        }
        timings: dict[str, list[float]] = {name: [] for name in paths}
        progress.step(f"latency: {samples} samples of each path, interleaved")
        names = list(paths)
        for number in range(samples):
            # Each sample starts with the next path: what a completion leaves behind (the mails and appends of the
            # tasks it opened) lands on whichever path follows it, and a fixed order would load one path with it.
            turn = number % len(names)
            for name in names[turn:] + names[:turn]:
                started = time.perf_counter()
                await paths[name](number)
                timings[name].append(time.perf_counter() - started)
            progress.count("samples", number + 1, samples)

    progress.step(f"latency: {len(throughput_tasks)} completions by {CLIENTS} clients at once")
    throughput = await _throughput(opened, throughput_tasks)
    progress.step("latency: the DBOS peer, on the same PostgreSQL server")
    peer = await run_dbos_peer(server_url, samples)

    bare_p50, bare_p99 = _percentile(timings["bare"], 50), _percentile(timings["bare"], 99)
    results = []
    for name, label in (("direct", "`pilots.complete_task` → inbox"), ("api", "HTTP API POST → inbox GET")):
        p50, p99 = _percentile(timings[name], 50), _percentile(timings[name], 99)
        results += [
            Result(
                benchmark="latency",
                measure=f"{label}, p50",
                leda=_ms(p50),
                baseline=f"{_ms(bare_p50)} (bare Update)",
                ratio=p50 / bare_p50,
                target=f"≤ {P50_TARGET}×",
                met=p50 / bare_p50 <= P50_TARGET,
            ),
            Result(
                benchmark="latency",
                measure=f"{label}, p99",
                leda=_ms(p99),
                baseline=f"{_ms(bare_p99)} (bare Update)",
                ratio=p99 / bare_p99,
                target=f"≤ {P99_TARGET}×",
                met=p99 / bare_p99 <= P99_TARGET,
            ),
        ]
    floor_p50 = _percentile(timings["bare_activities"], 50)
    floor_p99 = _percentile(timings["bare_activities"], 99)
    direct_p50, direct_p99 = _percentile(timings["direct"], 50), _percentile(timings["direct"], 99)
    results.append(
        Result(
            benchmark="latency",
            measure="`pilots.complete_task` → inbox, vs a bare Update that runs 1 activity first (p50/p99)",
            leda=f"{_ms(direct_p50)} / {_ms(direct_p99)}",
            baseline=f"{_ms(floor_p50)} / {_ms(floor_p99)}",
            ratio=direct_p50 / floor_p50,
            target="(context)",
            met=None,
            note=(
                "A completion answers once it is durable and the pilot has advanced: one activity (record the "
                "completion and what it opened) between two workflow tasks. A bare Update that waits for one "
                f"activity takes {_ms(floor_p50)} at the median, so of Leda's {_ms(direct_p50)} the bare "
                f"Temporal round trips are {floor_p50 / direct_p50:.0%}; the rest is Leda's own work (validation, "
                "the domain's decisions, the appends with their hash chains, the inbox catching up). p99 ratio "
                f"{direct_p99 / floor_p99:.2f}×."
            ),
        )
    )
    results += _peer_results(timings, update_alone, throughput, peer)
    return Section(
        title="Task completion latency",
        results=results,
        method=[
            f"{samples} completions per path, one at a time, on the pilots the memory benchmark left open (a worker "
            f"holding {len(opened.pilots)} pilots); each pilot's {FIRST_TASKS} first tasks (documents, four "
            "self-assessments) in order, so the mix includes completions that consolidate the self-assessments "
            "and open the next task.",
            "Leda, direct: `pilots.complete_task` (the Update: validate, decide the completion and what it opens, "
            "record both, answer), then `InboxProjection.catch_up()` and the task read from the inbox until it "
            "shows `completed`.",
            "Leda, API: the same through the HTTP API in process (`api.app`, httpx ASGI transport): the POST (which "
            "also reads the pilot's status from the record and checks the caller's token), then `GET /me/inbox` "
            "(which catches the projection up) until the task has left the inbox.",
            "Baseline: `execute_update` on a `BareWorkflow` (handler returns at once) on the bare worker, interleaved "
            "with the Leda samples. Both workers are `leda worker`-style processes on the same dev server. For "
            f"context, a fourth path: a bare Update whose handler first runs {RECORDING_ACTIVITIES} activity.",
            f"All samples (ms): bare p50 {_ms(bare_p50)}, p90 {_ms(_percentile(timings['bare'], 90))}, max "
            f"{_ms(max(timings['bare']))}; direct p90 {_ms(_percentile(timings['direct'], 90))}, max "
            f"{_ms(max(timings['direct']))}; API p90 {_ms(_percentile(timings['api'], 90))}, max "
            f"{_ms(max(timings['api']))}.",
        ],
        findings=[
            "Why the targets are missed: a completion is three workflow tasks and two activities long by design "
            "(the Update records the completion, then waits for the advance it caused, which records what opened, "
            "so the answer can name the tasks that opened and nothing is answered before it is durable). Each "
            "activity is a round trip through the server; the bare Update is one round trip. The context row "
            "above shows how much of the time that structure takes on its own.",
            "**Tried and reverted: appends as local activities.** A local activity runs inside the workflow task "
            "that decided it, with no round trip through the server to schedule and complete it: the completion "
            "answered in one workflow task instead of three. But it appends before that workflow task is durable. "
            "The Temporal restart fault test (`tests/faults/test_server_restarts.py`) then failed a pilot with "
            "`WrongExpectedVersion`: the server restarted after an append and before the task's completion was "
            "stored, the retried task decided differently (another moment, another Update first), and its append "
            "met the events the lost task had recorded. An ordinary activity is scheduled only by a completed, "
            "durable workflow task, so nothing is ever recorded for a decision Temporal forgets: Leda keeps that "
            "guarantee and pays the round trips.",
            "**Changed: an answer and what it opens are recorded in one append** (`workflows/municipality.py`, "
            "patch `one-append-per-answer`): the Update decides the completion, asks the domain what follows from "
            "it, and records both with one activity; before, the completion was recorded, and the advance it caused "
            "recorded by a second activity in a third workflow task. Still, a durable answer is at least one "
            "activity round trip more than the bare Update, whose handler records nothing: the 1.5× target is "
            "below what an answer that waits for PostgreSQL through an ordinary activity can reach.",
            "**Changed (how it is measured): each round of samples starts with the next path.** The rounds ran "
            "bare, direct, bare with an activity, API, always in that order, and a completion leaves work behind it "
            "(the mails of what it opened, their appends, the follow-up timers) that lands on the path after it: "
            "the direct path always followed the bare Update, which leaves nothing, and the API path followed a "
            "completion's leftovers. Measured apart, with 300 open pilots, same code before and after: direct "
            "40.4 → 45.0 ms at p50, API 56.0 → 55.7 ms, HTTP against direct 1.39× → 1.24×. Each path now follows "
            "each other path equally often.",
            "The HTTP path does more than the direct one, by design: the POST resolves the caller's token (a "
            "lookup in PostgreSQL), reads the pilot from the record to check that the caller may answer that task "
            "(`api/participant_routes.py`), and the inbox GET resolves the token again and catches the projection "
            "up before it reads. **Changed:** the POST checks the one task (`PilotRecords.task_of`) instead of "
            "building the pilot's whole status, and no pooled connection is reset after use (`database/pool.py`). "
            "Timed in process over 100 POSTs (40 open pilots): the POST's time beyond the Update fell from 5.6 to "
            "2.7 ms at the median (the token 0.9-1.0 ms, the pilot's record 0.6-0.7 ms, building the status 0.8 ms "
            "before); a GET is 5-6 ms, 3 of them catching the projection up, as the direct path does too.",
            f"**Not made: answering before the completion is in PostgreSQL.** The DBOS peer (`bench/dbos_peer.py`: "
            f"the same completion on DBOS Transact {peer.version}, its workflow in the same process as its client, "
            "answering after its transaction commits) answers in "
            f"{_ms(_percentile(peer.sequential, 50))} at the median; Leda's Update in "
            f"{_ms(_percentile(update_alone, 50))}, and a bare Temporal Update that waits for one ordinary activity "
            f"in {_ms(floor_p50)}: on this stack no answer that waits for PostgreSQL through an activity reaches the "
            "peer. The one design that would is to answer once the completion is in Temporal's history (the Update "
            f"returning in the workflow task that schedules the append: about a bare Update's {_ms(bare_p50)} plus "
            "Leda's decision), and to append right after. It is not made because of what an answer means in Leda: "
            "the event log is the record that the inbox, the reports, the decisions' register and the hash chains "
            "are read from, and an answer says the completion is on it, with the tasks it opened. Answered from "
            "Temporal's history, the answering participant's own inbox would still show the task open (their reads "
            "alone could be made to see it only through a second store of answers not yet recorded), every other "
            "reader would see the state before it, and an append that then failed for good (a bug meeting the "
            "expected-version check, as in the local-activity attempt above) would leave someone told 'recorded' "
            "of what is not. On the same guarantee as the peer's, Leda pays Temporal's round trips, and is ahead on "
            f"throughput ({throughput:.0f} against {peer.throughput:.0f} completions a second with {CLIENTS} clients), "
            "where those round trips overlap.",
        ],
    )


async def _open_tasks(opened: OpenWorkflows, count: int) -> list[OpenTask]:
    """`count` open first tasks, pilot by pilot, in the order the pilots opened them."""
    pilots = opened.pilots[: -(-count // FIRST_TASKS)]
    rows = await opened.pool.fetch(
        """
        SELECT stream_id, task_key, participant_id FROM inbox_tasks
         WHERE status = 'open' AND stream_id = ANY($1::text[])
         ORDER BY array_position($1::text[], stream_id), updated_position
        """,
        pilots,
    )
    tasks = [OpenTask(r["stream_id"], r["task_key"], r["participant_id"]) for r in rows]
    if len(tasks) < count:
        raise RuntimeError(f"only {len(tasks)} open tasks for {count} completions")
    return tasks[:count]


async def _throughput(opened: OpenWorkflows, tasks: list[OpenTask]) -> float:
    """Completions a second with CLIENTS clients at once, each answering the tasks of pilots of its own."""
    by_pilot: dict[str, list[OpenTask]] = {}
    for task in tasks:
        by_pilot.setdefault(task.workflow_id, []).append(task)
    pilots = list(by_pilot)

    async def client(mine: list[str]) -> None:
        for pilot in mine:
            for task in by_pilot[pilot]:
                await complete_task(opened.client, task.workflow_id, task.task_key, task.assignee_id, task.answer())

    started = time.perf_counter()
    await asyncio.gather(*(client(pilots[number::CLIENTS]) for number in range(CLIENTS)))
    return len(tasks) / (time.perf_counter() - started)


@dataclass(frozen=True)
class PeerRun:
    version: str
    sequential: list[float]
    """Seconds per completion, one at a time."""
    throughput: float


async def run_dbos_peer(server_url: str, samples: int) -> PeerRun:
    """`bench/dbos_peer.py` in a process of its own, on the benchmark's PostgreSQL server (databases of its own)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.dbos_peer",
        "--samples",
        str(samples),
        "--concurrency",
        str(CLIENTS),
        "--throughput-completions",
        str(THROUGHPUT_COMPLETIONS),
        # The URL holds the server's password: in the environment, not on a command line others can list.
        env={**os.environ, "DBOS_PEER_DATABASE_URL": server_url},
        cwd=CHECKOUT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the DBOS peer failed ({process.returncode}): {err.decode(errors='replace')[-2000:]}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    return PeerRun(
        version=report["dbos_version"],
        sequential=[ms / 1000 for ms in report["sequential_ms"]],
        throughput=report["throughput_per_s"],
    )


def _peer_results(
    timings: dict[str, list[float]], update_alone: list[float], throughput: float, peer: PeerRun
) -> list[Result]:
    peer_p50, peer_p99 = _percentile(peer.sequential, 50), _percentile(peer.sequential, 99)
    results = []
    for label, values in (("the Update alone", update_alone), ("with the inbox caught up", timings["direct"])):
        p50, p99 = _percentile(values, 50), _percentile(values, 99)
        results.append(
            Result(
                benchmark="latency",
                measure=f"completion, {label}, against the DBOS peer (p50 / p99)",
                leda=f"{_ms(p50)} / {_ms(p99)}",
                baseline=f"{_ms(peer_p50)} / {_ms(peer_p99)} (DBOS {peer.version})",
                ratio=max(p50 / peer_p50, p99 / peer_p99),
                target=f"≤ {PEER_TARGET}× at both",
                met=p50 / peer_p50 <= PEER_TARGET and p99 / peer_p99 <= PEER_TARGET,
                note=f"p50 {p50 / peer_p50:.2f}×, p99 {p99 / peer_p99:.2f}× (the ratio column shows the larger).",
            )
        )
    results.append(
        Result(
            benchmark="latency",
            measure=f"completions a second, {CLIENTS} clients at once, against the DBOS peer",
            leda=f"{throughput:.0f} /s",
            baseline=f"{peer.throughput:.0f} /s (DBOS {peer.version})",
            ratio=throughput / peer.throughput,
            target=f"≥ {PEER_TARGET}×",
            met=throughput / peer.throughput >= PEER_TARGET,
        )
    )
    direct_p50, api_p50 = _percentile(timings["direct"], 50), _percentile(timings["api"], 50)
    direct_p99, api_p99 = _percentile(timings["direct"], 99), _percentile(timings["api"], 99)
    results.append(
        Result(
            benchmark="latency",
            measure="HTTP API against `pilots.complete_task`, both to the inbox (p50 / p99)",
            leda=f"{_ms(api_p50)} / {_ms(api_p99)}",
            baseline=f"{_ms(direct_p50)} / {_ms(direct_p99)}",
            ratio=max(api_p50 / direct_p50, api_p99 / direct_p99),
            target=f"≤ {HTTP_TARGET}× at both",
            met=api_p50 / direct_p50 <= HTTP_TARGET and api_p99 / direct_p99 <= HTTP_TARGET,
        )
    )
    return results


def _percentile(values: list[float], percent: int) -> float:
    """The nearest-rank percentile: the smallest value with at least `percent` % of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
