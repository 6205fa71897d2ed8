"""WCAG 2.1 A and AA, checked by axe-core in the real Chromium on every page, in Swedish and in English.

axe-core comes with its maintained Python binding for Playwright (axe-playwright-python, which ships axe.min.js; no
download). Each page is checked as a user reaches it: signed in by a mailed link, a task's form empty, with errors
shown and filled, the confirmation, the cohort board, a municipality's page with its forms, the reports, the start
form and the error pages. No rule is disabled.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg
import pytest
from axe_playwright_python.async_playwright import Axe
from temporalio.client import Client

from access import issue_sign_in_link
from devstack import sample_payloads
from domain.pilot_ids import PilotId
from domain.status import TaskView
from pilots import PilotRecords
from programmes import DEMO
from settings import Settings
from tests.e2e.test_web_browser import (
    CHROMIUM,
    HEAD,
    LEAD,
    SCREENSHOTS,
    TASK,
    a_pilot_waiting_for_the_head,
    browser,  # noqa: F401 (a fixture)
    site,  # noqa: F401 (a fixture)
)
from tests.faults.persistent_participants import PersistentParticipants, start_demo_pilots

pytestmark = [pytest.mark.devserver]
if CHROMIUM is None:
    pytestmark.append(pytest.mark.skip(reason="no Chromium found, so the accessibility tests did not run"))

SUBMIT_SV = "Skicka in och markera som klar"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DISABLED_RULES: dict[str, str] = {}
"""Rules left out, each with the reason: none."""


async def violations(page: Any) -> list[str]:
    """What axe-core finds on the page against WCAG 2.1 A and AA, one line per rule and element."""
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    if DISABLED_RULES:
        options["rules"] = {rule: {"enabled": False} for rule in DISABLED_RULES}
    results = await Axe().run(page, options=options)
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in results.response["violations"]
        for node in v["nodes"]
    ]


def programme_of(workflow_id: str) -> str:
    """The programme of a pilot's workflow id."""
    pilot = PilotId.parse(workflow_id)
    assert pilot is not None, workflow_id
    return pilot.programme


async def signed_in(
    chromium: Any,
    base_url: str,
    pool: asyncpg.Pool,
    participant: str,
    path: str,
    language: str,
    *,
    viewport: dict[str, int] | None = None,
) -> Any:
    """A page of `participant`'s, signed in by a mailed link to `path` (the link's page checked on the way)."""
    # axe is injected into the page, which runs no script of its own
    context = await chromium.new_context(bypass_csp=True, **({"viewport": viewport} if viewport else {}))
    page = await context.new_page()
    token = await issue_sign_in_link(pool, participant)
    await page.goto(f"{base_url}{path}?token={token}")
    found = {"url": page.url, "violations": await violations(page)}
    await page.get_by_role("button", name="Logga in").click()
    await page.wait_for_url(lambda url: "token=" not in url)
    if language == "en":
        await page.get_by_role("link", name="In English").click()
    page.link_page_found = found  # type: ignore[attr-defined]
    return page


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_every_page_meets_wcag_21_aa_in_both_languages(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
    language: str,
) -> None:
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    found: dict[str, list[str]] = {}

    async def check(page: Any, name: str) -> None:
        found[name] = await violations(page)

    head = await signed_in(browser, base_url, db_pool, HEAD, "/inbox", language)
    found["sign-in link page"] = head.link_page_found["violations"]
    await check(head, "inbox")
    assert (await head.goto(f"{base_url}/pilots/{workflow_id}/tasks/{TASK}")).ok
    await check(head, "task form, empty")
    submit = SUBMIT_SV if language == "sv" else "Submit and mark as done"
    await head.get_by_role("button", name=submit).click()
    await check(head, "task form, with errors")
    scores = sample_payloads.self_assessment("F")["scores"]
    for indicator, score in scores.items():
        group = head.get_by_role("group", name=re.compile(rf"^{re.escape(indicator)} "))
        await group.get_by_label(str(score), exact=True).check()
    await check(head, "task form, filled")
    await head.get_by_role("button", name=submit).click()
    await head.locator("ul.next-tasks").wait_for()
    await check(head, "confirmation")
    assert (await head.goto(f"{base_url}/pilots/{workflow_id}/tasks/no-such-task")).status == 404
    await check(head, "not found page")
    assert (await head.goto(f"{base_url}/board")).status == 403
    await check(head, "forbidden page")

    lead = await signed_in(browser, base_url, db_pool, LEAD, "/board", language)
    await check(lead, "cohort board")
    await lead.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    await check(lead, "cohort board, the meetings' forms open")
    assert (await lead.goto(f"{base_url}/pilots/{workflow_id}")).ok
    await check(lead, "municipality page")
    await lead.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    await check(lead, "municipality page, its steering, control and roster forms open")
    assert (await lead.goto(f"{base_url}/pilots/{workflow_id}/report")).ok
    await check(lead, "pilot report")
    assert (await lead.goto(f"{base_url}/start")).ok
    await check(lead, "start form")
    programme = programme_of(workflow_id)
    assert (await lead.goto(f"{base_url}/programmes/{programme}/report")).ok
    await check(lead, "cohort report")

    anonymous = await (await browser.new_context(bypass_csp=True)).new_page()
    await anonymous.goto(f"{base_url}/sign-in")
    await check(anonymous, "sign-in page")
    await anonymous.goto(f"{base_url}/sign-in?expired=1")
    await check(anonymous, "sign-in page, link expired")
    await anonymous.get_by_role("link", name="Tillgänglighetsredogörelse").click()  # in every page's footer
    await anonymous.get_by_role("heading", level=1, name="Tillgänglighetsredogörelse för Leda för resultat").wait_for()
    await check(anonymous, "accessibility statement")
    if language == "en":
        await anonymous.get_by_role("link", name="In English").click()
        await anonymous.get_by_role("heading", level=1, name="Accessibility statement for Lead for Results").wait_for()
        await check(anonymous, "accessibility statement, in English")

    assert {name: lines for name, lines in found.items() if lines} == {}


async def test_the_check_finds_what_breaks_wcag(browser: Any) -> None:  # noqa: F811
    """The check is not blind: a page with an unlabelled field, an image without text and a page without a language
    is found wanting on each."""
    page = await (await browser.new_context()).new_page()
    await page.set_content('<html><body><main><img src="data:,"><input type="text"></main></body></html>')

    found = " ".join(await violations(page))

    assert "image-alt" in found and "label" in found and "html-has-lang" in found


ZOOMED_200 = {"width": 640, "height": 900}
"""A 1280-pixel window at 200 per cent: the page is laid out in 640 CSS pixels."""

LAYOUT_PROBLEMS = """
() => {
  const shown = [...document.querySelectorAll('input, select, textarea, button, a')].filter(e => {
    const style = getComputedStyle(e);
    const folded = e.closest('details:not([open])') !== null && e.closest('summary') === null;
    const hidden = folded || e.closest('[aria-hidden="true"], .skip, .default-submit') !== null;
    return !hidden && style.visibility !== 'hidden' && style.display !== 'none' && e.getClientRects().length > 0
      && !(e.type === 'radio' || e.type === 'checkbox' || e.type === 'hidden');
  });
  const width = document.documentElement.clientWidth;
  const problems = [];
  const boxes = shown.map(e => [e, e.getBoundingClientRect()]);
  for (const [e, r] of boxes) {
    if (r.left < -1 || r.right > width + 1) problems.push(`cut off: ${e.outerHTML.slice(0, 80)}`);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, ra] = boxes[i], [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 1 && y > 1) problems.push(`overlap: ${a.outerHTML.slice(0, 60)} / ${b.outerHTML.slice(0, 60)}`);
    }
  }
  return problems;
}
"""


async def test_at_200_percent_no_control_is_cut_off_or_overlaps_and_a_refused_form_takes_the_focus_to_its_errors(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
) -> None:
    """Text at 200 per cent: a 1280-pixel window zoomed to 200 per cent lays the page out in 640 CSS pixels."""
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    task_path = f"/pilots/{workflow_id}/tasks/{TASK}"
    head = await signed_in(browser, base_url, db_pool, HEAD, task_path, "sv", viewport=ZOOMED_200)
    found = {"task form": await head.evaluate(LAYOUT_PROBLEMS)}

    await head.get_by_role("button", name=SUBMIT_SV).click()
    summary = head.get_by_role("alert")
    await summary.wait_for()
    assert await summary.evaluate("e => e === document.activeElement || e.contains(document.activeElement)")
    found["task form, with errors"] = await head.evaluate(LAYOUT_PROBLEMS)
    await head.goto(f"{base_url}/inbox")
    found["inbox"] = await head.evaluate(LAYOUT_PROBLEMS)

    lead = await signed_in(browser, base_url, db_pool, LEAD, f"/pilots/{workflow_id}", "sv", viewport=ZOOMED_200)
    for details in await lead.locator("details").all():
        await details.evaluate("e => e.open = true")  # the steering and roster forms, opened
    found["municipality page, forms open"] = await lead.evaluate(LAYOUT_PROBLEMS)
    await lead.goto(f"{base_url}/board")
    for details in await lead.locator("details").all():
        await details.evaluate("e => e.open = true")  # the network meetings' forms, opened
    found["cohort board, forms open"] = await lead.evaluate(LAYOUT_PROBLEMS)
    programme = programme_of(workflow_id)
    for name, path in (
        ("start form", "/start"),
        ("pilot report", f"/pilots/{workflow_id}/report"),
        ("cohort report", f"/programmes/{programme}/report"),
        ("accessibility statement", "/tillganglighet"),
    ):
        assert (await lead.goto(f"{base_url}{path}")).ok
        found[name] = await lead.evaluate(LAYOUT_PROBLEMS)
    await lead.goto(f"{base_url}/start")
    await lead.locator("#start-pilot").get_by_role("button", name="Starta piloten").click()
    await lead.get_by_role("alert").wait_for()
    found["start form, refused"] = await lead.evaluate(LAYOUT_PROBLEMS)
    anonymous = await (await browser.new_context(viewport=ZOOMED_200)).new_page()
    await anonymous.goto(f"{base_url}/sign-in")
    found["sign-in page"] = await anonymous.evaluate(LAYOUT_PROBLEMS)

    assert {name: problems for name, problems in found.items() if problems} == {}


@dataclass
class VisitingParticipants(PersistentParticipants):
    """The demo pilot's people, who open each kind of task's page in the browser before they answer it."""

    visit: Callable[[TaskView], Awaitable[None]] | None = None

    async def complete(self, task: TaskView, payload: dict[str, Any]) -> None:
        if self.visit is not None:
            await self.visit(task)
        await super().complete(task, payload)


async def test_the_page_of_every_kind_of_task_meets_wcag_21_aa(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
) -> None:
    """A demo pilot taken through the whole programme; each kind of task's form is checked as its assignee sees it."""
    base_url, settings = site
    [workflow_id] = await start_demo_pilots(dev_client, db_pool, task_queue=settings.task_queue, count=1, name="axe")
    pages: dict[str, Any] = {}
    found: dict[str, list[str]] = {}

    async def page_of(participant: str) -> Any:
        if participant not in pages:
            pages[participant] = await signed_in(browser, base_url, db_pool, participant, "/inbox", "sv")
        return pages[participant]

    async def visit(task: TaskView) -> None:
        if task.template_key in found:
            return
        page = await page_of(task.assignee_id)
        assert (await page.goto(f"{base_url}/pilots/{workflow_id}/tasks/{quote(task.key, safe='@/')}")).ok
        found[task.template_key] = await violations(page)
        # Sent empty, a form is refused with its errors shown (each asks for something), and checked again. (A task
        # the demo's quick clock already moved on from shows its state instead of a form.)
        submit = page.get_by_role("button", name=SUBMIT_SV)
        if await submit.count():
            await submit.click()
            await page.get_by_role("alert").wait_for()
            found[f"{task.template_key}, with errors"] = await violations(page)

    participants = VisitingParticipants(dev_client, workflow_id, PilotRecords(db_pool), plan_years=2, visit=visit)
    await participants.play()

    kinds = {t.key for t in DEMO.tasks if t.automation is None}
    assert kinds - set(found) <= {"inspection_decision"}  # registered through its own route in this play, as a rule
    assert sum(name.endswith(", with errors") for name in found) >= len(kinds) // 2
    assert {kind: lines for kind, lines in found.items() if lines} == {}


A4_PRINTABLE = {"portrait": {"width": 688, "height": 1050}, "landscape": {"width": 1017, "height": 700}}
"""A4 (210 by 297 mm) less the reports' 14 mm margins on each side, in CSS pixels: 182 mm is 688 pixels."""

PRINT_PROBLEMS = """
() => {
  const width = document.documentElement.clientWidth;
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const problems = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (shown(e) && r.width > 0 && r.right > width + 1) problems.push(`cut off: ${e.outerHTML.slice(0, 80)}`);
  }
  for (const e of document.querySelectorAll('table, svg.chart')) {
    if (!shown(e)) problems.push(`not printed: ${e.outerHTML.slice(0, 80)}`);
  }
  for (const e of document.querySelectorAll('input:not([type=hidden]), button, select, textarea, summary')) {
    if (shown(e)) problems.push(`a control on paper: ${e.outerHTML.slice(0, 80)}`);
  }
  return problems;
}
"""


async def test_the_reports_and_the_municipality_page_print_on_a4_with_nothing_cut_off(
    browser: Any,  # noqa: F811
    site: tuple[str, Settings],  # noqa: F811
    dev_client: Client,
    db_pool: asyncpg.Pool,
) -> None:
    """As the nämnd's secretary prints them for the meeting: in print media, at A4's printable width, every chart and
    table is printed whole and no form control is; Chromium makes the PDF (kept with the screenshots)."""
    base_url, settings = site
    workflow_id = await a_pilot_waiting_for_the_head(dev_client, db_pool, settings)
    programme = programme_of(workflow_id)
    lead = await signed_in(browser, base_url, db_pool, LEAD, "/board", "sv")
    await lead.emulate_media(media="print")
    found: dict[str, list[str]] = {}
    for name, path, orientation in (
        ("pilot-report", f"/pilots/{workflow_id}/report", "portrait"),
        ("cohort-report", f"/programmes/{programme}/report", "landscape"),  # a column per success factor
        ("municipality-page", f"/pilots/{workflow_id}", "portrait"),
    ):
        await lead.set_viewport_size(A4_PRINTABLE[orientation])
        assert (await lead.goto(f"{base_url}{path}")).ok
        found[name] = await lead.evaluate(PRINT_PROBLEMS)
        pdf = await lead.pdf(format="A4", prefer_css_page_size=True, print_background=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"print-{name}.pdf").write_bytes(pdf)
        [(width, height)] = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
        assert (float(width) > float(height)) == (orientation == "landscape"), name
        assert abs(min(float(width), float(height)) - 595.3) < 1, name  # A4: 210 mm is 595.3 points

    assert {name: problems for name, problems in found.items() if problems} == {}
