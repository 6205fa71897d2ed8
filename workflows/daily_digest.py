"""DailyDigestWorkflow: what the schedule ``leda-daily-digest`` starts each morning (see workflows/digest_schedule.py).

The workflow only runs the ``send_digests`` activity: what goes in a digest is decided there, per participant,
in the database. Retries are safe because every digest settles its items in the same transaction as its log.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import DigestResult

DIGEST_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), maximum_interval=timedelta(minutes=10))
"""Retried until the give-up time below: a relay that is down at seven is likely up by eight."""


@workflow.defn
class DailyDigestWorkflow:
    @workflow.run
    async def run(self) -> DigestResult:
        result: DigestResult = await workflow.execute_activity(
            "send_digests",
            result_type=DigestResult,
            # One attempt mails everyone pending, beating after each participant, so a dead worker is noticed
            # in a minute rather than at the end of the attempt.
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=1),
            # Give up well before the next morning's run, which sends whatever is still pending.
            schedule_to_close_timeout=timedelta(hours=6),
            retry_policy=DIGEST_RETRY,
            summary="send the daily digests",
        )
        return result
