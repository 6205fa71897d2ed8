"""Workflow and activities for repro.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

SLOW = 2.0  # seconds the slow activity sleeps
ACT_TIMEOUT = 5.0  # start_to_close of the slow activity


@activity.defn
async def slow() -> str:
    activity.logger.info("slow attempt %s", activity.info().attempt)
    await asyncio.sleep(SLOW)
    return datetime.now(UTC).isoformat()


@activity.defn
async def quick() -> str:
    return datetime.now(UTC).isoformat()


@workflow.defn
class StaleNowWorkflow:
    def __init__(self) -> None:
        self.stamps: list[tuple[str, str]] = []

    @workflow.run
    async def run(self, act_queue: str | None = None) -> list[tuple[str, str]]:
        self.stamps.append(("start", workflow.now().isoformat()))
        await workflow.execute_activity(
            slow,
            task_queue=act_queue,
            start_to_close_timeout=timedelta(seconds=ACT_TIMEOUT),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=10),
        )
        self.stamps.append(("after_activity", workflow.now().isoformat()))
        # A command whose *shape* depends on workflow.now(): like Leda's, it makes replay diverge if now is stale.
        if workflow.now() - datetime.fromisoformat(self.stamps[0][1]) > timedelta(seconds=ACT_TIMEOUT / 2):
            await workflow.execute_activity(quick, task_queue=act_queue, start_to_close_timeout=timedelta(seconds=10))
        else:
            await workflow.sleep(0.01)
        self.stamps.append(("after_quick", workflow.now().isoformat()))
        return self.stamps

    @workflow.query
    def stamps_query(self) -> list[tuple[str, str]]:
        return self.stamps

    @workflow.update
    def stamps_update(self) -> list[tuple[str, str]]:
        return self.stamps
