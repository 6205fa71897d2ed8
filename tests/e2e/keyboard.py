"""A person at the keyboard alone: Tab to a control, then the keys that control takes; no mouse, no script setting a
value. Every Tab is checked for a focus the person can see: an outline or ring of at least two pixels, on a control
inside the window (`Keyboard.unseen` lists each place it was not).

Dates are typed as Chromium's date fields take them in the browser's language, which the browser tests pin to
English (`--lang=en-US`): month, day and year, then hours, minutes and AM/PM; Tab moves between those parts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from playwright.async_api import TimeoutError as PlaywrightTimeout

FOCUS_SEEN = """
() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  // On a date field's calendar button (its last stop) the field is not :focus; Chromium rings the button itself.
  const calendar = /^(date|datetime-local)$/.test(e.type) && !e.matches(':focus');
  const ring = calendar || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== 'none';
  const r = e.getBoundingClientRect();
  const inside = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0
    && r.left < innerWidth;
  if (ring && inside) return '';
  return `${ring ? '' : 'no ring'}${inside ? '' : ' outside the window'}: ${e.outerHTML.slice(0, 100)}`;
}
"""
HOLDS_FOCUS = "els => els.some(e => e === document.activeElement || e.contains(document.activeElement))"


@dataclass
class Keyboard:
    page: Any
    unseen: list[str] = field(default_factory=list)
    """Where the focus landed without being visible."""

    async def tab_to(self, target: Any, *, limit: int = 600) -> None:
        """Tab (round the page, if need be) until the focus is on `target` (a locator; any of its elements)."""
        for _ in range(limit):
            if await target.evaluate_all(HOLDS_FOCUS):
                return
            await self.press("Tab")
        raise AssertionError(f"Tab never reached {target}")

    async def press(self, key: str) -> None:
        await self.page.keyboard.press(key)
        if key in ("Tab", "Shift+Tab"):
            problem = await self.page.evaluate(FOCUS_SEEN)
            if problem:
                self.unseen.append(problem)

    async def activate(self, target: Any) -> None:
        """Tab to a link, button or summary and press Enter; waits for the page it leads to, if any (a summary opens
        its details, a link to `#id` moves the focus within the page)."""
        await self.tab_to(target)
        stays = await target.evaluate(
            "e => e.tagName === 'SUMMARY' || (e.tagName === 'A' && e.getAttribute('href').startsWith('#'))"
        )
        if stays:
            await self.page.keyboard.press("Enter")
            return
        async with self.page.expect_navigation():
            await self.page.keyboard.press("Enter")

    async def type_text(self, target: Any, text: str) -> None:
        """Tab to a text field and write `text` over what it holds (new lines only in a box of several lines)."""
        await self.tab_to(target)
        await self.page.keyboard.press("ControlOrMeta+A")
        if text:
            await self.page.keyboard.insert_text(text)
        else:
            await self.page.keyboard.press("Delete")

    async def type_date(self, target: Any, day: date | datetime) -> None:
        """Tab to a date (or date and time) field and type its parts."""
        await self.tab_to(target)
        await self.page.keyboard.type(day.strftime("%m%d%Y"))
        if isinstance(day, datetime):
            await self.page.keyboard.press("Tab")  # to the hours
            await self.page.keyboard.type(day.strftime("%I%M") + day.strftime("%p")[0])

    async def choose_option(self, select: Any, value: str) -> None:
        """Tab to a list and move through it with the arrow keys to `value`."""
        await self.tab_to(select)
        for _ in range(1000):
            at, wanted = await select.evaluate(
                "(e, v) => [e.selectedIndex, [...e.options].findIndex(o => o.value === v)]", value
            )
            assert wanted >= 0, f"{value!r} is not an option of {select}"
            if at == wanted:
                return
            await self.page.keyboard.press("ArrowDown" if at < wanted else "ArrowUp")
        raise AssertionError(f"the arrow keys never reached {value!r}")

    async def choose_radio(self, radios: Any, value: str) -> None:
        """Tab into a group of radio buttons (the focus lands on the chosen one, or the first) and move with the
        arrow keys to `value`."""
        await self.tab_to(radios)
        if not await radios.evaluate_all("els => els.some(e => e.checked)"):
            await self.page.keyboard.press("Space")
        for _ in range(await radios.count()):
            if await radios.evaluate_all("(els, v) => els.some(e => e.checked && e.value === v)", value):
                return
            await self.page.keyboard.press("ArrowRight")
        raise AssertionError(f"the arrow keys never reached {value!r} in {radios}")

    async def tick(self, checkbox: Any, ticked: bool = True) -> None:
        """Tab to a checkbox and press Space if it is not as wanted."""
        await self.tab_to(checkbox)
        if await checkbox.is_checked() != ticked:
            await self.page.keyboard.press("Space")


async def fill_task_form(keyboard: Keyboard, data: dict[str, list[str]]) -> None:
    """Give a task's form the values `data` names (as `tests.form_answers.fields_for` writes them), by keyboard:
    first as many items of each repeated group as the answer has (its add and remove buttons), then every field."""
    page = keyboard.page
    form = page.locator("form.task-form")
    while True:  # one press of an add or remove button at a time: the page comes back with the group changed
        counts = await form.locator('input[type="hidden"][name$="[__n]"]').evaluate_all(
            "els => els.map(e => [e.name, Number(e.value)])"
        )
        change = next(((name, shown) for name, shown in counts if int(data.get(name, [shown])[0]) != shown), None)
        if change is None:
            break
        name, shown = change
        group = name.removesuffix("[__n]")
        action = f"add:{group}" if int(data[name][0]) > shown else f"remove:{group}[{shown - 1}]"
        await keyboard.activate(form.locator(f'button[name="_action"][value="{action}"]'))

    names = await form.locator("[name]").evaluate_all("els => [...new Set(els.map(e => e.name))]")
    for name in names:
        if name not in data or name.endswith("[__n]"):
            continue
        fields = form.locator(f'[name="{name}"]')
        kind = await fields.first.evaluate("e => e.tagName === 'INPUT' ? e.type : e.tagName.toLowerCase()")
        values = data[name]
        if kind == "radio":
            await keyboard.choose_radio(fields, values[0])
        elif kind == "checkbox":
            for value in values:
                await keyboard.tick(form.locator(f'[name="{name}"][value="{value}"]'))
        elif kind == "select":
            await keyboard.choose_option(fields, values[0])
        elif kind == "date":
            await keyboard.type_date(fields, date.fromisoformat(values[0]))
        else:
            await keyboard.type_text(fields, values[0])


async def error_summary_problems(page: Any) -> list[str]:
    """What keeps a refused form's errors from being heard and followed: the summary must hold the focus and be
    announced (an alert), and each of its links must lead to a field that is marked invalid and described by its
    error."""
    problems: list[str] = []
    summary = page.get_by_role("alert")
    try:  # autofocus: the browser moves the focus once the page is shown
        await page.wait_for_function(
            "() => document.querySelector('[role=alert]').contains(document.activeElement)", timeout=2000
        )
    except PlaywrightTimeout:
        problems.append("the error summary does not hold the focus")
    for href in await summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        target = re.sub(r"^#", "", href or "")
        problem = await page.evaluate(
            """id => {
              const e = document.getElementById(id);
              if (!e) return `no element #${id}`;
              const described = e.closest('[aria-describedby]');
              const errors = (described ? described.getAttribute('aria-describedby') : '').split(' ')
                .map(i => document.getElementById(i)).filter(x => x && x.classList.contains('error')
                && x.textContent.trim());
              const invalid = e.closest('[aria-invalid="true"]');
              return errors.length && invalid ? '' : `#${id}: ${errors.length ? '' : 'not described by its error'}`
                + `${invalid ? '' : ' not marked invalid'}`;
            }""",
            target,
        )
        if problem:
            problems.append(problem)
    return problems
