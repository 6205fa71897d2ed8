"""What a pilot is waiting for, and until when: the answer a programme lead or operations wants first.

Read from the pilot's state alone (the fold of its record), never from its workflow: open tasks (whose, due when),
the timers the workflow holds (an appeal period running out, the next implementation year), appeals before a
court, a pause, steps that failed for good and wait for a retry, or nothing at all once the pilot has ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain.instances import instance_title
from domain.rules import finality_moment, next_year_starts_at
from domain.state import MunicipalityState, TaskState
from domain.task_keys import INSPECTION_DECISION
from domain.template import ProgrammeTemplate

WaitKind = Literal["ended", "paused", "failed_step", "task", "appeal", "timer"]


class Waiting(BaseModel):
    """One thing the pilot waits for, in Swedish and English, with the moment it falls due when there is one."""

    model_config = ConfigDict(frozen=True)

    kind: WaitKind
    text_sv: str
    text_en: str
    until: datetime | None = None
    participant_id: str | None = None
    task_key: str | None = None


def waiting_for(template: ProgrammeTemplate, state: MunicipalityState) -> list[Waiting]:
    """Everything the pilot waits for: the end if it has ended; else a pause, failed steps, open tasks (soonest
    due first), appeals before a court, and the timers (soonest first)."""
    ended = _ended(state)
    if ended is not None:
        return [ended]
    waits: list[Waiting] = []
    if state.paused is not None:
        since, by, reason = f"{state.paused.occurred_at:%Y-%m-%d %H:%M}", state.paused.by, state.paused.reason
        waits.append(
            Waiting(
                kind="paused",
                text_sv=f"pausad sedan {since} av {by} ({reason}): påminnelser, tidsfrister och svar väntar tills den "
                "återupptas",
                text_en=f"paused since {since} UTC by {by} ({reason}): reminders, timers and answers wait until it "
                "is resumed",
            )
        )
    for step in state.failed_steps.values():
        at = f"{step.occurred_at:%Y-%m-%d %H:%M}"
        waits.append(
            Waiting(
                kind="failed_step",
                text_sv=f"nytt försök (leda retry) med {step.step}, som misslyckades {at}: {step.error}",
                text_en=f"a retry (leda retry) of {step.step}, which failed at {at} UTC: {step.error}",
            )
        )
    open_tasks = sorted(state.open_tasks(), key=lambda t: (t.due_at is None, t.due_at or t.opened_at, t.key))
    waits += [_task(template, task) for task in open_tasks]
    waits += _appeals(state)
    waits += sorted(_timers(template, state), key=lambda w: (w.until or datetime.max, w.text_en))
    return waits


def _ended(state: MunicipalityState) -> Waiting | None:
    withdrawn, terminated = state.withdrawn, state.terminated
    ends = (
        (state.completed_at, "piloten är klar sedan", "the pilot completed on"),
        (withdrawn.occurred_at if withdrawn else None, "kommunen lämnade programmet", "the municipality withdrew on"),
        (terminated.occurred_at if terminated else None, "arbetsflödet avbröts", "the workflow was terminated on"),
    )
    for moment, sv, en in ends:
        if moment is not None:
            day = f"{moment:%Y-%m-%d}"
            return Waiting(kind="ended", text_sv=f"ingenting: {sv} {day}", text_en=f"nothing: {en} {day}")
    return None


def _task(template: ProgrammeTemplate, task: TaskState) -> Waiting:
    task_template = template.task(task.template_key)
    if task.key == INSPECTION_DECISION:
        return Waiting(
            kind="task",
            text_sv="Skolinspektionens beslut, om ett kommer under programmet (annars stängs jämförelsen när "
            "programmet i övrigt är klart)",
            text_en="Skolinspektionen's decision, if one comes during the programme (else the comparison closes "
            "when the rest of the programme is done)",
            participant_id=task.assignee_id,
            task_key=task.key,
        )
    title_sv = instance_title(task_template.title_sv, level=task.level, year=task.year, subject=task.subject)
    title_en = instance_title(
        task_template.title_en, level=task.level, year=task.year, subject=task.subject, english=True
    )
    if task_template.automation is not None:
        return Waiting(
            kind="task",
            text_sv=f"systemet: {title_sv}",
            text_en=f"the system: {title_en}",
            task_key=task.key,
        )
    due_sv = f"senast {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "utan slutdatum"
    due_en = f"due {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "no deadline"
    return Waiting(
        kind="task",
        text_sv=f"{title_sv}: {task.assignee_id}, {due_sv}",
        text_en=f"{title_en}: {task.assignee_id}, {due_en}",
        until=task.due_at,
        participant_id=task.assignee_id,
        task_key=task.key,
    )


def _appeals(state: MunicipalityState) -> list[Waiting]:
    waits = []
    for decision in state.decisions:
        for appeal in state.appeals.get(decision.key, []):
            if not appeal.pending or decision.key in state.annulled_decisions:
                continue
            what = f"{decision.organ} § {decision.paragraph} ({decision.diarienummer})"
            case = f"{appeal.court}, mål {appeal.case_number}, {appeal.lodged_on}"
            waits.append(
                Waiting(
                    kind="appeal",
                    text_sv=f"domstolens avgörande: {what} är överklagat ({case}) och vinner inte laga kraft förrän "
                    "domstolen har avgjort målet",
                    text_en=f"the court's outcome: {what} is appealed ({appeal.court}, case {appeal.case_number}, "
                    f"{appeal.lodged_on}) and is not final until the court decides",
                )
            )
    return waits


def _timers(template: ProgrammeTemplate, state: MunicipalityState) -> list[Waiting]:
    waits = []
    for key, posting in state.postings.items():
        if key in state.final_decisions or key in state.annulled_decisions or state.appeal_pending(key):
            continue
        decision = state.decision(key)
        what = f"{decision.organ} § {decision.paragraph} ({decision.diarienummer})" if decision else key
        ends = posting.appeal_period_ends
        waits.append(
            Waiting(
                kind="timer",
                text_sv=f"överklagandetiden för {what} löper ut {ends}; då vinner beslutet laga kraft",
                text_en=f"the appeal period of {what} runs out on {ends}; the decision is final then",
                until=finality_moment(template, posting),
            )
        )
    next_year = next_year_starts_at(template, state)
    if next_year is not None:
        year = state.implementation_year + 1
        waits.append(
            Waiting(
                kind="timer",
                text_sv=f"genomförandeår {year} börjar {next_year:%Y-%m-%d %H:%M} UTC",
                text_en=f"implementation year {year} begins {next_year:%Y-%m-%d %H:%M} UTC",
                until=next_year,
            )
        )
    return waits
