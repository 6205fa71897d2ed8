"""An overdue task escalated to the holder's line manager: the mail says what they can do, and its link opens the
task's page for them, to read (they may not answer it, and they are not the pilot's lead).

A rektor's self-assessment falls overdue on the time-skipping server; its escalation reaches the programme lead and
the rektor's line manager, the förvaltningschef (by role, as the directory names no other); the manager follows the
link in the mail as a browser would.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from devstack.mail import MailCapture
from pilots import start_pilot
from settings import Settings
from tests.sign_in_links import follow_sign_in_link
from web.site import SESSION_COOKIE
from worker import mailer_for, running_worker

BASE = "http://leda.test"
TASK = "self_assessment@R"
MANAGER_MAIL = "forvaltningschef.1861@example.invalid"


@pytest_asyncio.fixture
async def site(
    time_skipping_env: WorkflowEnvironment, settings: Settings, db_pool: asyncpg.Pool
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    served = settings.model_copy(update={"web_base_url": BASE})
    app = create_app(
        pool=db_pool,
        client=time_skipping_env.client,
        task_queue=served.task_queue,
        web_base_url=BASE,
        mailer=mailer_for(served),
        mail_sender=served.mail_from,
    )
    async with (
        running_worker(time_skipping_env.client, served, db_pool),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as browser,
    ):
        yield browser, served


async def test_the_manager_an_overdue_task_is_escalated_to_opens_it_from_the_mail_and_is_told_what_they_can_do(
    site: tuple[httpx.AsyncClient, Settings],
    time_skipping_env: WorkflowEnvironment,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    browser, settings = site
    workflow_id = await start_pilot(
        time_skipping_env.client,
        db_pool,
        programme=f"eskalering-{uuid.uuid4().hex[:6]}",
        kommunkod="1861",
        template_key="lfr-skola",
        task_queue=settings.task_queue,
    )
    task_path = f"/pilots/{workflow_id}/tasks/{TASK}"

    await time_skipping_env.sleep(timedelta(days=45))  # past the deadline and the days before escalation

    [mail] = await mail_capture.wait_for(
        lambda m: (
            MANAGER_MAIL in str(m["To"]) and "Försenad uppgift" in str(m["Subject"]) and task_path in m.get_content()
        ),
        timeout=30,
    )
    body = mail.get_content()
    assert "som chef för den som har uppgiften" in body and "be programledaren att flytta den" in body
    link = re.search(re.escape(f"{BASE}{task_path}?token=") + r"[\w-]+", body)
    assert link is not None, body

    signed_in = await follow_sign_in_link(browser, link[0].removeprefix(BASE))
    assert signed_in.status_code == 303 and signed_in.headers["location"] == task_path
    assert browser.cookies.get(SESSION_COOKIE)
    page = await browser.get(task_path)

    assert page.status_code == 200, page.text
    assert "eskalerats till dig" in page.text  # read-only: what they can do, not a form to answer it
    assert 'class="task-form"' not in page.text
    pilot_page = await browser.get(f"/pilots/{workflow_id}")
    assert pilot_page.status_code == 403  # a line manager is not the pilot's lead
