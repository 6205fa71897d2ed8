"""The daily digest's Temporal schedule on the real dev server: created by workers, kept, triggered.

The schedule id is fixed and the dev server is shared by the session, so each test starts from no schedule
and deletes it afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import time

import asyncpg
import pytest
import pytest_asyncio
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import ActivityEnvironment

from activities.contracts import NotificationRequest
from activities.notifications import Notifications
from adapters.mail import SmtpMailer, SmtpSettings
from devstack.mail import MailCapture
from directory import Participant, upsert_participants
from settings import Settings
from worker import running_worker
from workflows.digest_schedule import DIGEST_SCHEDULE_ID, ensure_digest_schedule

pytestmark = pytest.mark.devserver

STOCKHOLM = "Europe/Stockholm"


async def delete_schedule(client: Client) -> None:
    try:
        await client.get_schedule_handle(DIGEST_SCHEDULE_ID).delete()
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


@pytest_asyncio.fixture
async def schedule(dev_client: Client) -> AsyncIterator[ScheduleHandle]:
    """The digest schedule's handle, with no schedule behind it when the test starts."""
    await delete_schedule(dev_client)
    yield dev_client.get_schedule_handle(DIGEST_SCHEDULE_ID)
    await delete_schedule(dev_client)


async def test_a_worker_creates_the_schedule_and_triggering_it_mails_the_digest(
    dev_client: Client,
    schedule: ScheduleHandle,
    settings: Settings,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    reader = Participant(
        participant_id=f"digesttest-{uuid.uuid4().hex[:10]}",
        kommunkod="9990",
        role="analytiker",
        display_name="Exempel Digest (syntetisk)",
        email=f"digest-{uuid.uuid4().hex[:10]}@example.invalid",
        mail_delivery="daily_digest",
    )
    await upsert_participants(db_pool, [reader])
    workflow_id = f"leda-digesttest-{uuid.uuid4().hex[:8]}-1861"
    sender = Notifications(
        db_pool,
        SmtpMailer(SmtpSettings(host=mail_capture.host, port=mail_capture.port, sender=settings.mail_from)),
        sender=settings.mail_from,
        web_base_url=settings.web_base_url,
    )
    queued = await ActivityEnvironment().run(
        sender.send_notification,
        NotificationRequest(
            notification_id=uuid.uuid4(),
            kind="assignment",
            recipient_id=reader.participant_id,
            workflow_id=workflow_id,
            kommunkod="1861",
            municipality_name="Hallsberg",
            task_key="documents",
            task_title_sv="Underlag och dokument",
            task_title_en="Documents",
            due_at=None,
        ),
    )
    assert queued.queued_for_digest

    async with running_worker(dev_client, settings, db_pool):
        described = await schedule.describe()
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("DailyDigestWorkflow", settings.task_queue)
        assert described.schedule.spec.time_zone_name == STOCKHOLM
        [calendar] = described.schedule.spec.calendars
        assert [(r.start, r.end) for r in calendar.hour] == [(7, 7)]
        assert [(r.start, r.end) for r in calendar.minute] == [(0, 0)]

        await schedule.trigger()

        [digest] = await mail_capture.wait_for(lambda m: reader.email in str(m["X-Envelope-To"]), timeout=8)
    assert f"{settings.web_base_url}/pilots/{workflow_id}/tasks/documents?token=" in digest.get_content()


async def test_ensuring_an_unchanged_schedule_leaves_it_alone(dev_client: Client, schedule: ScheduleHandle) -> None:
    queue = f"test-{uuid.uuid4().hex[:10]}"
    assert await ensure_digest_schedule(dev_client, task_queue=queue, at=time(7, 0), time_zone=STOCKHOLM)

    await ensure_digest_schedule(dev_client, task_queue=queue, at=time(7, 0), time_zone=STOCKHOLM)

    assert (await schedule.describe()).info.last_updated_at is None


async def test_a_new_digest_time_updates_the_schedule_and_keeps_a_pause_set_by_operations(
    dev_client: Client, schedule: ScheduleHandle
) -> None:
    queue = f"test-{uuid.uuid4().hex[:10]}"
    await ensure_digest_schedule(dev_client, task_queue=queue, at=time(7, 0), time_zone=STOCKHOLM)
    await schedule.pause(note="paused by operations during the summer break")

    await ensure_digest_schedule(dev_client, task_queue=queue, at=time(6, 30), time_zone="Europe/Helsinki")

    described = await schedule.describe()
    [calendar] = described.schedule.spec.calendars
    assert [r.start for r in calendar.hour] == [6] and [r.start for r in calendar.minute] == [30]
    assert described.schedule.spec.time_zone_name == "Europe/Helsinki"
    assert described.schedule.state.paused
    assert described.schedule.state.note == "paused by operations during the summer break"


async def test_workers_starting_at_once_leave_one_schedule(dev_client: Client, schedule: ScheduleHandle) -> None:
    queue = f"test-{uuid.uuid4().hex[:10]}"

    created = await asyncio.gather(
        *(ensure_digest_schedule(dev_client, task_queue=queue, at=time(7, 0), time_zone=STOCKHOLM) for _ in range(4))
    )

    assert created == [True] * 4
    ids = [listed.id async for listed in await dev_client.list_schedules() if listed.id == DIGEST_SCHEDULE_ID]
    assert len(ids) <= 1  # listing is eventually consistent; the describe below is not
    action = (await schedule.describe()).schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow) and action.task_queue == queue
