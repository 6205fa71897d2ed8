"""Standalone reproduction: stale workflow.now() after a worker kill + legacy queries (temporalio 1.35.0).

Usage (orchestrator):
    .venv/bin/python repro.py run --runs 5 [--queries/--no-queries] [--worker-opts JSON]

Worker subprocess (started by the orchestrator):
    .venv/bin/python repro.py worker ADDRESS TASK_QUEUE OPTS_JSON

Scenario per run:
  1. start a worker, start workflow StaleNowWorkflow: records workflow.now() (stamp "start"), runs
     activity `slow` (sleeps SLOW s, start_to_close ACT_TIMEOUT s), records workflow.now() (stamp
     "after_activity"), runs activity `quick`, records "after_quick", returns all stamps.
  2. once the first activity attempt has started, SIGKILL the worker and start a new worker.
  3. (with --queries) a poller queries the workflow every 0.5 s throughout.
  4. attempt 1 times out, attempt 2 runs on the new worker; at the end compare each stamp with the
     WorkflowTaskStarted time of the workflow task that produced it (from the history). A stamp older
     than that task's start is stale. Also replays the history with Replayer to check determinism.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from stale_wf import StaleNowWorkflow, quick, slow  # noqa: E402

# ---------------------------------------------------------------------------------------------- worker


async def worker_main(address: str, task_queue: str, opts_json: str) -> None:
    from temporalio.client import Client
    from temporalio.worker import Worker

    opts = json.loads(opts_json)
    role = opts.pop("_role", "both")
    for key in list(opts):
        if key.endswith("_timeout"):
            opts[key] = timedelta(seconds=opts[key])
    client = await Client.connect(address)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[StaleNowWorkflow] if role != "activities" else [],
        activities=[slow, quick] if role != "workflows" else [],
        **opts,
    ):
        print("READY", flush=True)
        await asyncio.Event().wait()


# ---------------------------------------------------------------------------------------- orchestrator


def temporal_cli() -> str:
    import sysconfig

    for c in (Path(sysconfig.get_path("scripts")) / "temporal", Path(sys.executable).parent / "temporal"):
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    import shutil

    found = shutil.which("temporal")
    if not found:
        raise SystemExit("temporal CLI not found")
    return found


def free_port() -> int:
    low, _ = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(200):
        port = random.randint(15000, low - 1)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError("no free port")


class Procs:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def add(self, p: subprocess.Popen) -> subprocess.Popen:
        self.procs.append(p)
        return p

    def kill_all(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()


def start_worker(procs: Procs, address: str, tq: str, opts: dict, log: Path) -> subprocess.Popen:
    f = log.open("ab")
    p = procs.add(
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "worker", address, tq, json.dumps(opts)],
            stdout=subprocess.PIPE,
            stderr=f,
            start_new_session=True,
        )
    )
    line = p.stdout.readline()
    assert line.strip() == b"READY", line
    return p


def ts(event) -> datetime:
    return event.event_time.ToDatetime().replace(tzinfo=UTC)


async def one_run(client, address: str, procs: Procs, idx: int, args, log: Path) -> dict:
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    tq = f"stale-{uuid.uuid4().hex[:8]}"
    opts = json.loads(args.worker_opts)
    act_queue = None
    if args.split:
        act_queue = tq + "-act"
        start_worker(procs, address, act_queue, {"_role": "activities"}, log)
        opts["_role"] = "workflows"
    w1 = start_worker(procs, address, tq, opts, log)
    wf_id = f"stale-now-{idx}-{uuid.uuid4().hex[:6]}"
    handle = await client.start_workflow(StaleNowWorkflow.run, act_queue, id=wf_id, task_queue=tq)

    stop = asyncio.Event()
    qcount = {"ok": 0, "err": 0}
    calls: list[tuple[datetime, datetime, str]] = []
    marks: dict[str, datetime] = {}

    act_done = asyncio.Event()

    async def watch_history() -> None:
        from temporalio.api.enums.v1 import EventType as ET

        while not act_done.is_set():
            async for e in handle.fetch_history_events():
                if e.event_type == ET.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                    marks["act_completed_seen"] = datetime.now(UTC)
                    act_done.set()
                    break
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch_history())
    attempt2 = asyncio.Event()

    async def watch_attempt2() -> None:
        while not attempt2.is_set() and not act_done.is_set():
            raw = (await handle.describe()).raw_description
            for pa in raw.pending_activities:
                if pa.attempt >= 2 and pa.state == 2:
                    marks["attempt2_started_seen"] = datetime.now(UTC)
                    attempt2.set()
            await asyncio.sleep(0.05)
        attempt2.set()

    watcher2 = asyncio.create_task(watch_attempt2())

    async def poll_status() -> None:
        if args.phase == "after-completion":
            await act_done.wait()
        while not stop.is_set():
            if args.phase == "before-completion" and act_done.is_set():
                return
            if args.phase == "before-attempt2" and attempt2.is_set():
                return
            sent = datetime.now(UTC)
            outcome = "ok"
            try:
                if args.status == "query":
                    await asyncio.wait_for(handle.query(StaleNowWorkflow.stamps_query), 15)
                elif args.status == "update":
                    await asyncio.wait_for(handle.execute_update(StaleNowWorkflow.stamps_update), 15)
                elif args.status == "describe":
                    await handle.describe()
                qcount["ok"] += 1
            except Exception as exc:
                qcount["err"] += 1
                outcome = type(exc).__name__
            calls.append((sent, datetime.now(UTC), outcome))
            await asyncio.sleep(0.5)

    pollers = [asyncio.create_task(poll_status()) for _ in range(args.pollers)] if args.status != "none" else []

    # Wait until the slow activity's first attempt is running.
    while True:
        desc = await handle.describe()
        raw = desc.raw_description
        if raw.pending_activities and raw.pending_activities[0].state == 2:  # STARTED
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(args.kill_after)
    os.killpg(w1.pid, signal.SIGKILL)
    w1.wait()
    marks["killed"] = datetime.now(UTC)
    await asyncio.sleep(args.restart_after)
    start_worker(procs, address, tq, opts, log)
    marks["restarted"] = datetime.now(UTC)
    result = await asyncio.wait_for(handle.result(), 60)
    stop.set()
    watcher.cancel()
    watcher2.cancel()
    for p in pollers:
        p.cancel()

    # Compare stamps with the WorkflowTaskStarted times in the history.
    history = await handle.fetch_history()
    wft_started = [ts(e) for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]
    act_completed = [ts(e) for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    stamps = {name: datetime.fromisoformat(v) for name, v in result}
    wft_problems = [
        f"{e.event_id}:{EventType.Name(e.event_type)}"
        for e in history.events
        if e.event_type in (EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    ]
    # the WFT that resolved the slow activity: the first WFT started after its completion
    resolving_wft = min(t for t in wft_started if t > act_completed[0])
    stale = []
    # the stamp "after_activity" must be at or after the slow activity's completion
    if stamps["after_activity"] < act_completed[0]:
        stale.append(f"after_activity={stamps['after_activity'].time()} < slow completed {act_completed[0].time()}")
    for name, value in stamps.items():
        if not any(abs((value - t).total_seconds()) < 0.001 for t in wft_started):
            stale.append(f"{name}={value.time()} is not any WFT-started time")
    replayer = Replayer(workflows=[StaleNowWorkflow])
    rr = await replayer.replay_workflow(
        WorkflowHistory.from_json(wf_id, history.to_json()),
        raise_on_replay_failure=False,
    )
    (HERE / "histories").mkdir(exist_ok=True)
    outcome = {
        "run": idx,
        "wf_id": wf_id,
        "stale": stale,
        "wft_problems": wft_problems,
        "replay": "OK" if rr.replay_failure is None else f"FAIL {rr.replay_failure}",
        "status_calls": qcount,
        "marks": {k: str(v.time()) for k, v in marks.items()},
        # status calls answered after the restart and before the WFT that resolved the slow activity
        "answered_in_window": sum(1 for s, d, o in calls if o == "ok" and marks["restarted"] <= d <= resolving_wft),
        "answered_after_act_completed_before_wft": sum(
            1 for s, d, o in calls if o == "ok" and act_completed[0] <= d <= resolving_wft
        ),
        "answered_restart_to_act_completed": sum(
            1 for s, d, o in calls if o == "ok" and marks["restarted"] <= d < act_completed[0]
        ),
        "calls_after_kill": [f"{s.time()}->{d.time()} {o}" for s, d, o in calls if d >= marks["killed"]][:12],
        "stamps": {k: str(v.time()) for k, v in stamps.items()},
        "wft_started": [str(t.time()) for t in wft_started],
        "act_completed": [str(t.time()) for t in act_completed],
    }
    if stale or rr.replay_failure is not None:
        (HERE / "histories" / f"{wf_id}.json").write_text(history.to_json())
    return outcome


async def orchestrate(args) -> None:
    from temporalio.client import Client

    procs = Procs()
    tmp = Path(tempfile.mkdtemp(prefix="stale-now-"))
    port, ui = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    log = HERE / f"worker-{args.label}.log"
    log.write_bytes(b"")
    if args.address:
        address = args.address
    else:
        server_log = (tmp / "server.log").open("wb")
        procs.add(
            subprocess.Popen(
                [
                    temporal_cli(),
                    "server",
                    "start-dev",
                    "--db-filename",
                    str(tmp / "t.db"),
                    "--ip",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--ui-port",
                    str(ui),
                    "--log-level",
                    "warn",
                ],
                stdout=server_log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = await Client.connect(address)
                await client.count_workflows()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)
        n_stale = n_fail = 0
        for i in range(args.runs):
            out = await one_run(client, address, procs, i, args, log)
            n_stale += bool(out["stale"])
            n_fail += out["replay"] != "OK"
            print(json.dumps(out), flush=True)
            # kill leftover workers of this run
            for p in procs.procs[1 if not args.address else 0 :]:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        print(
            f"SUMMARY label={args.label} status={args.status} phase={args.phase} split={args.split} opts={args.worker_opts} runs={args.runs} "
            f"stale={n_stale} replay_fail={n_fail}",
            flush=True,
        )
    finally:
        procs.kill_all()


def main() -> None:
    if sys.argv[1] == "worker":
        asyncio.run(worker_main(*sys.argv[2:5]))
        return
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--status", choices=["query", "update", "describe", "none"], default="query")
    ap.add_argument("--pollers", type=int, default=1)
    ap.add_argument("--split", action="store_true", help="activities in a separate process that is not killed")
    ap.add_argument(
        "--phase", choices=["all", "before-completion", "before-attempt2", "after-completion"], default="all"
    )
    ap.add_argument("--worker-opts", default="{}")
    ap.add_argument("--kill-after", type=float, default=0.5)
    ap.add_argument("--restart-after", type=float, default=0.5)
    ap.add_argument("--address", default="")
    ap.add_argument("--label", default="default")
    asyncio.run(orchestrate(ap.parse_args()))


if __name__ == "__main__":
    main()
