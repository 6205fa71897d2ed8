"""The baseline: a trivial workflow and activity on the same server and SDK, without any of Leda's work.

A `BareWorkflow` runs a given number of activities that return at once, then waits; its Update counts and
answers immediately, its query answers a number. What Leda costs on top of Temporal is the ratio of a Leda
measurement to the same measurement on these. Run as a worker of its own process, as `leda worker` is:
`python -m bench.bare ADDRESS TASK_QUEUE`.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker


class BarePlan(BaseModel):
    activities: int = 0
    """Activities run one after another as the workflow starts."""
    updates: int = 0
    """The workflow completes once it has run its activities and taken this many Updates (0: never)."""


@activity.defn
async def bare_activity(number: int) -> int:
    return number


@workflow.defn
class BareWorkflow:
    def __init__(self) -> None:
        self._updates = 0
        self._activities_run = 0

    @workflow.run
    async def run(self, plan: BarePlan) -> int:
        for number in range(plan.activities):
            await workflow.execute_activity(bare_activity, number, start_to_close_timeout=timedelta(seconds=30))
            self._activities_run += 1
        await workflow.wait_condition(lambda: plan.updates > 0 and self._updates >= plan.updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._updates

    @workflow.update
    async def touch(self, number: int) -> int:
        self._updates += 1
        return number

    @workflow.update
    async def touch_after_activities(self, activities: int) -> int:
        """An Update that answers after running `activities` activities one after another, as a completion
        answers after recording it and recording what it opened."""
        for number in range(activities):
            await workflow.execute_activity(bare_activity, number, start_to_close_timeout=timedelta(seconds=30))
        self._updates += 1
        return activities

    @workflow.query
    def activities_run(self) -> int:
        return self._activities_run


async def serve(address: str, task_queue: str) -> None:
    """Poll `task_queue` until SIGINT or SIGTERM."""
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    # The runner `leda worker` uses (worker.workflow_runner: no sandbox), so the baseline pays what Leda pays; not
    # imported from there, so this process loads none of Leda.
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[bare_activity],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address")
    parser.add_argument("task_queue")
    arguments = parser.parse_args()
    asyncio.run(serve(arguments.address, arguments.task_queue))
