"""The web pages in a real headless Chromium, driven by Playwright, against the real stack.

Temporal's dev server, PostgreSQL, the SMTP server the tests start, a worker, and the API process serving the
pages on a port of its own. A participant follows the link in the mail the workflow sent, fills in a form with an
error, fixes it and completes the task; a programme lead signs in by mail, reads the cohort board and extends a
deadline with a reason.

Chromium is the system's (Debian's `chromium` package; `.ci/run` installs it); Playwright downloads nothing. Without
one, these tests are skipped and say so. Screenshots go to `test-artifacts/screenshots/` (or `LEDA_SCREENSHOTS`).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from access import issue_token
from devstack import sample_payloads
from devstack.mail import MailCapture
from devstack.ports import free_port
from domain.moments import SWEDISH_TIME as LOCAL_TIME
from pilots import PilotError, complete_task, start_pilot
from settings import Settings
from worker import running_worker, serving_api

pytestmark = pytest.mark.devserver

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
# As root in a container, without the sandbox; and no calls home, which this machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Date fields take their parts in the browser's language: English, month first, wherever the tests run.
    "--lang=en-US",
]
KOMMUNKOD = "1861"
LEAD = "p-1861-programledare"
HEAD = "p-1861-forvaltningschef"
TASK = "self_assessment@F"
NEXT_TASK = "strengths_weaknesses"
SCREENSHOTS = Path(os.environ.get("LEDA_SCREENSHOTS", "test-artifacts/screenshots"))


def chromium_path() -> str | None:
    """The system's Chromium: LEDA_CHROMIUM, else the first on PATH."""
    configured = os.environ.get("LEDA_CHROMIUM")
    if configured:
        return configured
    return next((found for name in CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


CHROMIUM = chromium_path()
if CHROMIUM is None and os.environ.get("LEDA_REQUIRE_BROWSER"):
    raise RuntimeError("LEDA_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)")
if CHROMIUM is None:
    pytestmark = [
        pytest.mark.devserver,
        pytest.mark.skip(
            reason="no Chromium found, so the browser tests did not run: install Debian's chromium package "
            "(apt-get install chromium), or set LEDA_CHROMIUM to a Chromium binary"
        ),
    ]


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest_asyncio.fixture
async def site(dev_client: Client, settings: Settings, db_pool: asyncpg.Pool) -> AsyncIterator[tuple[str, Settings]]:
    """The worker and the API process serving the pages, on a port of their own; the pages' base URL."""
    port = free_port()
    served = settings.model_copy(update={"api_port": port, "web_base_url": f"http://127.0.0.1:{port}"})
    async with running_worker(dev_client, served, db_pool), serving_api(dev_client, served, db_pool) as base_url:
        yield base_url, served


async def screenshot(page: object, name: str) -> None:
    """A full-page screenshot, kept as a test artefact (Playwright creates the directory)."""
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]


async def press_sign_in(page: Any, link: str) -> None:
    """Open a mailed sign-in link and press the one button of its page, as a participant does."""
    await page.goto(link)
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(lambda url: "token=" not in url)


async def mailed_link(mail_capture: MailCapture, recipient: str, pattern: str) -> str:
    [mail] = await mail_capture.wait_for(
        lambda m: recipient in str(m["To"]) and re.search(pattern, m.get_content()) is not None, timeout=30
    )
    match = re.search(pattern, mail.get_content())
    assert match is not None
    return match[0]


async def a_pilot_waiting_for_the_head(client: Client, db_pool: asyncpg.Pool, settings: Settings) -> str:
    """A pilot where only the förvaltningschef's self-assessment stands between the deep analysis and its synthesis."""
    workflow_id = await start_pilot(
        client,
        db_pool,
        programme=f"webb-{uuid.uuid4().hex[:6]}",
        kommunkod=KOMMUNKOD,
        template_key="lfr-skola",
        task_queue=settings.task_queue,
    )
    answers = [
        ("document_collection", HEAD, sample_payloads.document_collection()),
        ("self_assessment@P", "p-1861-politiker", sample_payloads.self_assessment("P")),
        ("self_assessment@R", "p-1861-rektor", sample_payloads.self_assessment("R")),
        ("self_assessment@S", "p-1861-hr", sample_payloads.self_assessment("S")),
        ("self_assessment@S/p-1861-ekonomi", "p-1861-ekonomi", sample_payloads.self_assessment("S")),
    ]
    for task_key, participant, payload in answers:
        for _ in range(100):  # the tasks open once the workflow has recorded its start
            try:
                await complete_task(client, workflow_id, task_key, participant, payload)
                break
            except PilotError as error:
                if error.code != "unknown_task":
                    raise
                await asyncio.sleep(0.1)
    return workflow_id


async def test_a_participant_follows_the_mail_link_fixes_an_error_and_completes_the_task(
    browser: object,
    site: tuple[str, Settings],
    dev_client: Client,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    link = await mailed_link(
        mail_capture,
        "forvaltningschef.1861@example.invalid",
        re.escape(f"{base_url}/pilots/{workflow_id}/tasks/{TASK}?token=") + r"[\w-]+",
    )
    context = await browser.new_context(locale="sv-SE", viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    page = await context.new_page()

    await press_sign_in(page, link)
    assert "?token=" not in page.url  # signed in, and the token is out of the address
    await page.get_by_role("heading", name="Självskattning mot de åtta framgångsfaktorerna").wait_for()

    # Every indicator but one scored; one evidence text.
    scores = sample_payloads.self_assessment("F")["scores"]
    for indicator, score in scores.items():
        if indicator == "SF2.a":
            continue
        group = page.get_by_role("group", name=re.compile(rf"^{re.escape(indicator)} "))
        await group.get_by_label(str(score), exact=True).check()
    await (
        page.get_by_role("group", name=re.compile(r"^SF4\.e "))
        .get_by_label(re.compile("Belägg|Underlag|Motiv"))
        .fill("Nämnden följer upp resultaten per skolenhet två gånger om året.")
    )
    await page.get_by_role("button", name="Skicka in och markera som klar").click()

    summary = page.get_by_role("alert")
    await summary.wait_for()
    assert "Svaret kunde inte sparas" in await summary.inner_text()
    missing = page.locator("#f-scores-SF2-a-error")
    assert "Fyll i det här fältet" in await missing.inner_text()
    assert (
        await page.locator("#f-scores-SF1-a-0").evaluate("e => e.closest('fieldset').getAttribute('aria-invalid')")
        is None
    )
    await screenshot(page, "task-form-with-error")

    # By keyboard alone: the summary's link leads to the field, the arrow keys choose the score, Enter submits.
    await summary.get_by_role("link").first.focus()
    await page.keyboard.press("Enter")
    first_option = page.locator("#f-scores-SF2-a-0")
    assert await first_option.evaluate("e => e === document.activeElement")
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowRight")
    assert await page.locator("#f-scores-SF2-a-2").is_checked()  # the answer given so far is still there, too:
    assert await page.locator(f"#f-scores-SF1-a-{scores['SF1.a'] - 1}").is_checked()
    await page.get_by_role("button", name="Skicka in och markera som klar").focus()
    await page.keyboard.press("Enter")

    await page.get_by_role("heading", name="Tack! Uppgiften är klar").wait_for()
    next_tasks = page.locator("ul.next-tasks")
    assert "Styrkor och svagheter" in await next_tasks.inner_text()  # what the answer opened
    await screenshot(page, "task-completed")

    await page.get_by_role("link", name="Tillbaka till mina uppgifter").click()
    open_tasks = page.locator("#open-tasks")
    await open_tasks.wait_for()
    hrefs = await open_tasks.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert f"/pilots/{workflow_id}/tasks/{TASK}" not in hrefs
    assert f"/pilots/{workflow_id}/tasks/{NEXT_TASK}" in hrefs
    await screenshot(page, "inbox")

    # In English, at the participant's choice.
    await page.get_by_role("link", name="In English").click()
    await page.get_by_role("heading", name="My tasks").wait_for()
    await context.close()


async def test_a_lead_signs_in_by_mail_reads_the_board_and_extends_a_deadline_with_a_reason(
    browser: object,
    site: tuple[str, Settings],
    dev_client: Client,
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    context = await browser.new_context(locale="sv-SE", viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    page = await context.new_page()

    await page.goto(f"{base_url}/board")
    await page.get_by_role("heading", name="Logga in").wait_for()
    await page.get_by_label("E-postadress").fill("programledare.1861@example.invalid")
    await page.get_by_role("button", name="Skicka inloggningslänk").click()
    await page.get_by_role("status").wait_for()
    link = await mailed_link(
        mail_capture, "programledare.1861@example.invalid", re.escape(f"{base_url}/board?token=") + r"[\w-]+"
    )
    await press_sign_in(page, link)

    await page.get_by_role("heading", name="Kohortöversikt").wait_for()
    board = page.locator("#board")
    assert await board.get_by_role("link", name=re.compile("Hallsberg")).count() >= 1
    await screenshot(page, "cohort-board")

    await page.locator(f'a[href="/pilots/{workflow_id}"]').click()
    await page.get_by_role("heading", name=re.compile("Hallsberg")).wait_for()
    steer = page.locator("tr", has=page.locator(f'a[href="/pilots/{workflow_id}/tasks/{TASK}"]'))
    await steer.locator("summary", has_text="Förläng").click()
    new_due = (datetime.now(LOCAL_TIME) + timedelta(days=45)).replace(hour=16, minute=0, second=0, microsecond=0)
    await steer.get_by_label("Ny sista dag").fill(new_due.strftime("%Y-%m-%dT%H:%M"))
    await steer.get_by_label("Skäl").first.fill("nämndens sammanträde flyttat")
    await steer.get_by_role("button", name="Förläng sista dag").click()

    await page.get_by_role("status").wait_for()
    timeline = await page.locator("#timeline").inner_text()
    assert f"ny tidsfrist: {TASK}" in timeline and "nämndens sammanträde flyttat" in timeline
    assert new_due.strftime("%Y-%m-%d 16:00") in await page.locator("#pilot-tasks").inner_text()
    await screenshot(page, "municipality-page")
    await context.close()


SKL_LEAD = "p-skr-programledare"
SKL_LEAD_MAIL = "programledare.skr@example.invalid"
SKL_NAMES = (
    "Habo",
    "Håbo",
    "Skellefteå",
    "Staffanstorp",
    "Trollhättan",
    "Tyresö",
    "Täby",
    "Vårgårda",
    "Ängelholm",
    "Sölvesborg-Bromölla kommunalförbund",
)


async def board_rows(page: object) -> list[str]:
    """The row headers of the board's two tables: pilots under way, and pilots whose start is scheduled."""
    return [
        text.strip()
        for text in await page.locator("#board tbody th, #scheduled tbody th").all_inner_texts()  # type: ignore[attr-defined]
    ]


async def test_one_lead_starts_the_skl_round_with_one_call_sees_all_ten_on_the_board_and_starts_a_pilot_on_the_form(
    browser: object,
    site: tuple[str, Settings],
    db_pool: asyncpg.Pool,
    mail_capture: MailCapture,
) -> None:
    base_url, _ = site
    token = await issue_token(db_pool, SKL_LEAD, "programme_lead")
    async with httpx.AsyncClient(base_url=base_url) as http:
        started = await http.post(
            "/api/v1/cohorts/lfr-skola-2015/start", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
    assert started.status_code == 201, started.text
    assert [o["refused"] for o in started.json()["pilots"]] == [None] * 10

    context = await browser.new_context(locale="sv-SE", viewport={"width": 1200, "height": 1000})  # type: ignore[attr-defined]
    page = await context.new_page()
    await page.goto(f"{base_url}/board")
    await page.get_by_label("E-postadress").fill(SKL_LEAD_MAIL)
    await page.get_by_role("button", name="Skicka inloggningslänk").click()
    await page.get_by_role("status").wait_for()
    await press_sign_in(
        page, await mailed_link(mail_capture, SKL_LEAD_MAIL, re.escape(f"{base_url}/board?token=") + r"[\w-]+")
    )

    await page.get_by_role("heading", name="Kohortöversikt").wait_for()
    rows = await board_rows(page)
    for _ in range(50):  # a pilot that begins between two reads is shown in the other table at the next
        if len(rows) == 10:
            break
        await asyncio.sleep(0.2)
        await page.reload()
        rows = await board_rows(page)
    assert sorted(re.sub(r" \(.*\)$", "", row) for row in rows) == sorted(SKL_NAMES)
    assert await page.locator("#scheduled tbody tr").count() >= 7  # the later waves begin 7, 14 and 21 days on
    await screenshot(page, "cohort-board-skl")

    await page.get_by_role("link", name="Starta pilot").first.click()
    await page.get_by_role("heading", name="Starta pilot").wait_for()
    form = page.locator("#start-pilot")
    assert await form.get_by_label("Program (omgång)").input_value() == "lfr-skola-2015"
    # Dorotea: not in the old list, and no test puts anyone of it in the session's directory
    await form.get_by_label("Kommun eller kommunalförbund").select_option("2425")
    await form.get_by_role("button", name="Starta piloten").click()
    summary = page.get_by_role("alert")
    await summary.wait_for()
    assert "organ" in await summary.inner_text()  # Leda does not know Dorotea's nämnd: the field is named
    assert await page.locator("#start-organ").get_attribute("aria-invalid") == "true"

    await page.locator("#start-organ").fill("Barn- och utbildningsnämnden")
    await page.locator("#start-pilot").get_by_role("button", name="Starta piloten").click()
    await page.get_by_role("alert").wait_for()
    assert "participants" in await page.get_by_role("alert").inner_text()  # nobody of Dorotea in the directory
    await screenshot(page, "start-form-refused")

    await page.locator("#start-kommunkod").select_option("1861")
    await page.locator("#start-organ").fill("")
    await page.locator("#start-pilot").get_by_role("button", name="Starta piloten").click()
    await page.get_by_role("heading", name="Hallsberg (1861)").wait_for()
    assert page.url.endswith("/pilots/leda-lfr-skola-2015-1861")
    await context.close()
