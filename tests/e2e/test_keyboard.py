"""Leda by keyboard alone, in the real Chromium: every kind of task answered and every step of a programme lead taken
with Tab, the arrow keys, Space and Enter, the focus visible at every stop. What axe cannot see is checked here as a
person using a screen reader meets it: the skip link, the page's language, one main heading and landmark, a refused
form's errors announced, each tied to its field and reached from the summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from temporalio.client import Client

from devstack.mail import MailCapture
from domain.status import TaskView
from pilots import PilotRecords
from programmes import DEMO
from settings import Settings
from tests.e2e.keyboard import Keyboard, error_summary_problems, fill_task_form
from tests.e2e.test_accessibility import programme_of, signed_in
from tests.e2e.test_web_browser import (
    CHROMIUM,
    HEAD,
    TASK,
    a_pilot_waiting_for_the_head,
    browser,  # noqa: F401 (a fixture)
    mailed_link,
    site,  # noqa: F401 (a fixture)
)
from tests.faults.persistent_participants import PersistentParticipants, start_demo_pilots
from tests.form_answers import fields_for
from tests.integration.test_web_pages import answered
from web.forms import TaskContext

pytestmark = [pytest.mark.devserver]
if CHROMIUM is None:
    pytestmark.append(pytest.mark.skip(reason="no Chromium found, so the keyboard tests did not run"))

SUBMIT = re.compile("^(Skicka in och markera som klar|Submit and mark as done)$")
DONE = re.compile("^(Tack! Uppgiften är klar|Thank you! The task is done)$")
LEAD_MAIL = "programledare.1861@example.invalid"


async def sign_in_by_keyboard(
    chromium: Any, base_url: str, mail_capture: MailCapture, address: str, path: str
) -> Keyboard:
    """Ask for a sign-in link on the sign-in page and follow it, all by keyboard; the page of `path`, signed in."""
    context = await chromium.new_context(locale="sv-SE", viewport={"width": 1200, "height": 900})
    keyboard = Keyboard(await context.new_page())
    page = keyboard.page
    await page.goto(f"{base_url}{path}")
    await keyboard.type_text(page.get_by_label("E-postadress"), address)
    await keyboard.activate(page.get_by_role("button", name="Skicka inloggningslänk"))
    await page.get_by_role("status").wait_for()
    await page.goto(await mailed_link(mail_capture, address, re.escape(f"{base_url}{path}?token=") + r"[\w-]+"))
    await keyboard.activate(page.get_by_role("button", name="Logga in"))
    await page.wait_for_url(lambda url: "token=" not in url)
    return keyboard


async def landmark_problems(page: Any, language: str) -> list[str]:
    """What keeps a screen reader user from finding their way: the page's language, one h1 inside the one main
    landmark, a skip link first in the tab order that takes the focus to the main content."""
    problems = []
    if await page.locator("html").get_attribute("lang") != language:
        problems.append(f"html lang is not {language}")
    if await page.locator("main").count() != 1 or await page.locator("main h1").count() != 1:
        problems.append("not one main landmark with one h1")
    await page.locator("body").focus()
    await page.evaluate("document.activeElement.blur()")
    await page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    if not await skip.evaluate("e => e === document.activeElement"):
        problems.append("the skip link is not the first stop")
    await page.keyboard.press("Enter")
    if not await page.evaluate("document.activeElement === document.querySelector('main')"):
        problems.append("the skip link does not take the focus to the main content")
    return problems


@dataclass
class KeyboardParticipants(PersistentParticipants):
    """The demo pilot's people, who answer the first task of each kind on its page in the browser, by keyboard alone;
    others (and a task the demo's quick clock has already moved on from) through the API."""

    open_page: Any = None
    by_keyboard: dict[str, list[str]] = field(default_factory=dict)
    """Each kind of task answered by keyboard, with what was found wanting on the way."""
    base_url: str = ""
    moved_on: dict[str, str] = field(default_factory=dict)
    """Tasks answered through the API, since the demo's clock had moved on: what their page said."""

    async def complete(self, task: TaskView, payload: dict[str, Any]) -> None:
        if task.template_key in self.by_keyboard or task.key in self.completed:
            return await super().complete(task, payload)
        keyboard: Keyboard = await self.open_page(task.assignee_id)
        page = keyboard.page
        address = f"{self.base_url}/pilots/{self.workflow_id}/tasks/{quote(task.key, safe='@/')}"
        assert (await page.goto(address)).ok
        submit = page.get_by_role("button", name=SUBMIT)
        if not await submit.count():
            self.moved_on[task.key] = await page.locator("main").inner_text()
            return await super().complete(task, payload)
        # The participant's language, as the directory has it: the link to the other one names it
        other = await page.locator("header .tools a[lang]").get_attribute("lang")
        found = await landmark_problems(page, "en" if other == "sv" else "sv")

        # Sent empty, the form is refused: the focus goes to the summary, each error leads to its field.
        await keyboard.activate(submit)
        await page.get_by_role("alert").wait_for()
        found += await error_summary_problems(page)
        links = page.get_by_role("alert").locator("a")
        if await links.count():  # (an error of the whole answer has no field to lead to)
            target = (await links.first.get_attribute("href") or "#").removeprefix("#")
            await keyboard.activate(links.first)
            if not await page.evaluate("id => document.activeElement.id === id", target):
                found.append(f"the summary's first link does not take the focus to #{target}")

        model = DEMO.task(task.template_key).payload_model
        context = TaskContext(level=task.level)
        answer = model.model_validate(payload).model_dump(mode="json", exclude_defaults=True)
        await fill_task_form(keyboard, fields_for(model, context, answer))
        await keyboard.activate(page.get_by_role("button", name=SUBMIT))
        done = page.get_by_role("heading", name=DONE)
        if not await done.count():
            if await page.get_by_role("button", name=SUBMIT).count() and await page.get_by_role("alert").count():
                raise AssertionError(f"{task.key}: refused: {await page.get_by_role('alert').inner_text()}")
            self.moved_on[task.key] = await page.locator("main").inner_text()  # while it was typed
            return await super().complete(task, payload)
        self.completed.append(task.key)
        self.by_keyboard[task.template_key] = found + keyboard.unseen
        keyboard.unseen.clear()


async def test_every_kind_of_task_is_answered_by_keyboard_alone_with_the_focus_always_visible(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
) -> None:
    """A demo pilot taken through the whole programme; each kind of task answered once by its assignee at the
    keyboard, after a refused first try."""
    base_url, settings = site
    [workflow_id] = await start_demo_pilots(dev_client, db_pool, task_queue=settings.task_queue, count=1, name="kbd")
    keyboards: dict[str, Keyboard] = {}

    async def open_page(participant: str) -> Keyboard:
        if participant not in keyboards:
            page = await signed_in(browser, base_url, db_pool, participant, "/inbox", "sv")
            keyboards[participant] = Keyboard(page)
        return keyboards[participant]

    participants = KeyboardParticipants(
        dev_client, workflow_id, PilotRecords(db_pool), plan_years=2, open_page=open_page, base_url=base_url
    )
    await participants.play()

    kinds = {t.key for t in DEMO.tasks if t.automation is None}
    missed = kinds - set(participants.by_keyboard) - {"inspection_decision"}  # registered through its own route
    assert missed == set(), participants.moved_on
    assert {kind: found for kind, found in participants.by_keyboard.items() if found} == {}


async def test_every_step_of_a_programme_lead_by_keyboard_alone_with_the_focus_always_visible(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    today = datetime.now(UTC).date()
    for key in (TASK, "strengths_weaknesses", "analysis_reported"):  # a nämnd's decision, to appeal against
        await answered(dev_client, db_pool, workflow_id, key, today)
    keyboard = await sign_in_by_keyboard(browser, base_url, mail_capture, LEAD_MAIL, "/board")
    page = keyboard.page
    found = {"board": await landmark_problems(page, "sv")}

    await keyboard.activate(page.locator(f'#board a[href="/pilots/{workflow_id}"]'))
    await page.get_by_role("heading", level=1, name=re.compile("Hallsberg")).wait_for()
    found["municipality page"] = await landmark_problems(page, "sv")

    async def done(step: str, notice: str) -> None:
        """The step's page says it is done; nothing refused."""
        status = page.get_by_role("status")
        await status.wait_for()
        assert notice in await status.inner_text(), f"{step}: {await page.locator('main').inner_text()}"

    # Extend a deadline, with a reason
    steered = (
        await page.locator("#pilot-tasks tbody tr", has=page.locator("summary"))
        .first.locator("a")
        .get_attribute("href")
    )
    row = page.locator("#pilot-tasks tr", has=page.locator(f'a[href="{steered}"]'))
    await keyboard.activate(row.locator("summary", has_text="Förläng"))
    new_due = (datetime.now(UTC) + timedelta(days=40)).replace(hour=15, minute=0, second=0, microsecond=0)
    await keyboard.type_date(row.get_by_label("Ny sista dag"), new_due)
    await keyboard.type_text(row.get_by_label("Skäl").first, "nämndens sammanträde flyttat")
    await keyboard.activate(row.get_by_role("button", name="Förläng sista dag"))
    await done("extend", "Sista dagen är flyttad fram")

    # Give a task to someone else
    row = page.locator("#pilot-tasks tr", has=page.locator(f'a[href="{steered}"]'))
    await keyboard.activate(row.locator("summary", has_text="Flytta till någon annan"))
    await keyboard.choose_option(row.get_by_label("Till deltagare"), HEAD)
    await keyboard.type_text(row.get_by_label("Skäl").last, "sekreteraren är föräldraledig")
    await keyboard.activate(row.get_by_role("button", name="Flytta uppgiften"))
    await done("reassign", "Uppgiften har fått en ny ansvarig")

    # Pause and resume
    await keyboard.type_text(page.locator("#control-reason"), "valet till fullmäktige")
    await keyboard.activate(page.get_by_role("button", name="Pausa piloten"))
    await done("pause", "Piloten är pausad")
    await keyboard.type_text(page.locator("#control-reason"), "nya nämnden på plats")
    await keyboard.activate(page.get_by_role("button", name="Återuppta piloten"))
    await done("resume", "Piloten har återupptagits")

    # The roster: the region's support group leaves
    await keyboard.activate(page.locator("summary", has_text="Ändra rollistan"))
    await keyboard.choose_option(page.locator("#roster-role"), "regional_skolstodsgrupp")
    await keyboard.choose_option(page.locator("#roster-leaving"), "p-1861-regional")
    await keyboard.type_text(page.locator("#roster-reason"), "tjänsten dras in")
    await keyboard.activate(page.get_by_role("button", name="Ändra rollistan"))
    await done("roster", "Rollistan är ändrad")

    # An appeal against the nämnd's decision, and the court's answer
    decisions = page.locator("#decisions")
    await keyboard.activate(decisions.locator("summary", has_text="Registrera ett överklagande"))
    await keyboard.type_text(decisions.get_by_label("Domstol"), "Förvaltningsrätten i Karlstad")
    await keyboard.type_text(decisions.get_by_label("Målnummer"), "7777-26")
    await keyboard.type_date(decisions.get_by_label("Inkom till domstolen"), today)
    await keyboard.activate(decisions.get_by_role("button", name="Registrera överklagandet"))
    await done("appeal", "Överklagandet är registrerat")
    decisions = page.locator("#decisions")
    await keyboard.activate(decisions.locator("summary", has_text="Registrera domstolens avgörande"))
    await keyboard.choose_option(decisions.get_by_label("Avgörande", exact=True), "avslaget")
    await keyboard.type_date(decisions.get_by_label("Domstolens avgörande den"), today)
    await keyboard.activate(decisions.get_by_role("button", name="Registrera avgörandet"))
    await done("appeal's outcome", "Domstolens avgörande är registrerat")

    # A pilot started on the form: refused first (the focus on the summary, the field named), then started
    await keyboard.activate(page.get_by_role("link", name="Starta pilot"))
    found["start form"] = await landmark_problems(page, "sv")
    form = page.locator("#start-pilot")
    await keyboard.type_text(form.get_by_label("Program (omgång)"), f"tangent-{workflow_id[-6:]}")
    await keyboard.choose_option(form.get_by_label("Kommun eller kommunalförbund"), "1861")
    await keyboard.type_date(form.locator("#start-starts_on"), today - timedelta(days=3))
    await keyboard.activate(form.get_by_role("button", name="Starta piloten"))
    await page.get_by_role("alert").wait_for()
    found["start form, refused"] = await error_summary_problems(page)
    await keyboard.type_date(page.locator("#start-starts_on"), today + timedelta(days=7))
    await keyboard.activate(page.locator("#start-pilot").get_by_role("button", name="Starta piloten"))
    await done("start", "Piloten är startad")

    # In English, the page's language follows
    await keyboard.activate(page.get_by_role("link", name="In English"))
    found["municipality page, in English"] = await landmark_problems(page, "en")

    found["focus"] = keyboard.unseen
    assert {step: problems for step, problems in found.items() if problems} == {}


async def test_a_lead_schedules_a_network_meeting_and_records_who_came_by_keyboard_alone(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    """On the demo's clock: a meeting 20 days ahead is held two seconds on."""
    base_url, settings = site
    [workflow_id] = await start_demo_pilots(dev_client, db_pool, task_queue=settings.task_queue, count=1, name="mtg")
    programme = programme_of(workflow_id)
    keyboard = await sign_in_by_keyboard(browser, base_url, mail_capture, LEAD_MAIL, "/board")
    page = keyboard.page

    article = page.locator("article.programme", has=page.get_by_role("heading", name=programme))
    await keyboard.activate(article.locator("summary"))
    await keyboard.type_text(article.get_by_label("Rubrik"), "Träff 1: styrkor")
    held_at = datetime.now(UTC) + timedelta(days=20)
    await keyboard.type_date(article.get_by_label("Dag och tid"), held_at)
    await keyboard.type_text(article.get_by_label(re.compile("^Plats")), "Örebro")
    await keyboard.activate(article.get_by_role("button", name="Planera träffen"))
    await page.get_by_role("status").wait_for()

    await page.wait_for_timeout(2500)
    await page.goto(f"{base_url}/pilots/{workflow_id}")
    meetings = page.locator("#meetings")
    await keyboard.activate(meetings.locator("summary", has_text="Registrera deltagandet"))
    await keyboard.choose_radio(meetings.locator('input[name="attended"]'), "yes")
    await keyboard.tick(meetings.locator(f'input[value="{HEAD}"]'))
    await keyboard.activate(meetings.get_by_role("button", name="Registrera deltagandet"))
    await page.get_by_role("status").wait_for()

    [meeting] = (await PilotRecords(db_pool).status(workflow_id)).meetings
    assert meeting.attended and meeting.attendee_ids == [HEAD]
    assert keyboard.unseen == []
