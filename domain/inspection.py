"""Skolinspektionen's decisions in a pilot: who may register one, what makes one contradict the pilot, and what a
registered decision does (the remediation it schedules, clears or renews), and how a decision's findings compare
with the municipality's own analysis. The inspectorate's vocabulary (areas, interventions, the crosswalk to the
success factors) is `domain.inspectorate`; the task flow that waits for the first decision is `domain.rules`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import ValidationError

from domain.events import (
    ComparisonItem,
    Event,
    InspectionDecisionRegistered,
    RemediationEnded,
    RemediationScheduled,
    TaskClosed,
)
from domain.inspectorate import AREA_FACTORS
from domain.payloads import InspectionDecision, StrengthsWeaknesses
from domain.refusals import IdSource, TaskRejected, check_not_ended, check_not_held, check_recordable, describe
from domain.remediation import schedule_backwards, schedule_from_registration
from domain.roles import Role
from domain.rulebook import CURRENT_RULES, Rulebook
from domain.state import MunicipalityState
from domain.task_keys import STRENGTHS_WEAKNESSES
from domain.template import ProgrammeTemplate, Repeat

INSPECTION_REGISTRARS = (
    Role.ANALYTIKER,
    Role.FORVALTNINGSCHEF,
    Role.PROGRAMLEDARE,
    Role.REGIONAL_SKOLSTODSGRUPP,
)
"""Who may register a Skolinspektionen decision for the municipality."""


def check_registration(
    state: MunicipalityState,
    participant_id: str,
    payload: dict[str, Any],
    *,
    today: date,
    rules: Rulebook = CURRENT_RULES,
) -> InspectionDecision:
    """The validated decision if `participant_id` may register it now; else TaskRejected."""
    check_not_ended(state)
    check_not_held(state)
    if not any(participant_id in state.participants.get(role, []) for role in INSPECTION_REGISTRARS):
        roles = ", ".join(r.value for r in INSPECTION_REGISTRARS)
        raise TaskRejected(
            "not_allowed", f"participant {participant_id!r} may not register inspection decisions (roles: {roles})"
        )
    try:
        decision = InspectionDecision.model_validate(payload)
    except ValidationError as error:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {describe(error)}") from None
    check_recordable(decision.model_dump(mode="json"))
    problem = inspection_contradiction(state, decision, today, late_allowed=rules.optional_inspection)
    if problem is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {problem}")
    return decision


def inspection_contradiction(
    state: MunicipalityState, decision: InspectionDecision, today: date, *, late_allowed: bool = False
) -> str | None:
    if decision.diarienummer in state.inspections:
        return f"diarienummer: decision {decision.diarienummer} is already registered"
    if decision.follow_up_of is not None:
        original = state.inspections.get(decision.follow_up_of)
        if original is None:
            return f"follow_up_of: no registered decision {decision.follow_up_of}"
        count = len(original.decision.get("findings", []))
        for index, finding in enumerate(decision.findings):
            if finding.follows_up is not None and finding.follows_up >= count:
                return f"findings.{index}.follows_up: decision {decision.follow_up_of} has {count} findings"
    if not late_allowed:
        for index, finding in enumerate(decision.findings):
            if finding.deadline is not None and finding.outcome != "avhjalpt" and finding.deadline < today:
                return f"findings.{index}.deadline: {finding.deadline} has already passed"
    return None


def overdue_findings(decision: InspectionDecision, today: date) -> list[int]:
    """The findings still to be remedied whose reporting deadline had passed by `today`."""
    return [
        index
        for index, finding in enumerate(decision.findings)
        if finding.deadline is not None and finding.outcome != "avhjalpt" and finding.deadline < today
    ]


def inspection_events(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    decision: InspectionDecision,
    registered_by: str,
    *,
    now: datetime,
    new_id: IdSource,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """A registered decision, and the remediation it starts, clears or renews.

    A finding whose reporting deadline has passed is remedied from the registration on (`schedule_from_registration`)
    and marked overdue, in the registration and in its schedule."""
    today = now.date()
    late = overdue_findings(decision, today) if rules.optional_inspection else []
    events: list[Event] = [
        InspectionDecisionRegistered(
            event_id=new_id(),
            occurred_at=now,
            diarienummer=decision.diarienummer,
            decision=decision.model_dump(mode="json"),
            registered_by=registered_by,
            overdue_findings=late,
        )
    ]
    remediates = any(t.repeat is Repeat.PER_FINDING for t in template.tasks)
    for index, finding in enumerate(decision.findings):
        if decision.follow_up_of is not None and finding.follows_up is not None and finding.outcome is not None:
            events += _end_remediation(state, decision, finding.follows_up, finding.outcome, now=now, new_id=new_id)
        if remediates and finding.deadline is not None and finding.outcome != "avhjalpt":
            events.append(
                RemediationScheduled(
                    event_id=new_id(),
                    occurred_at=now,
                    diarienummer=decision.diarienummer,
                    finding_index=index,
                    deadline=finding.deadline,
                    steps=schedule_from_registration(today=today)
                    if index in late
                    else schedule_backwards(finding.deadline, today=today),
                    registered_late=index in late,
                )
            )
    return events


def _end_remediation(
    state: MunicipalityState,
    decision: InspectionDecision,
    original_index: int,
    outcome: Literal["avhjalpt", "kvarstar"],
    *,
    now: datetime,
    new_id: IdSource,
) -> list[Event]:
    original = decision.follow_up_of
    assert original is not None
    if f"{original}#{original_index}" not in state.remediation:
        return []
    reason = (
        f"avhjälpt enligt beslut {decision.diarienummer}"
        if outcome == "avhjalpt"
        else f"kvarstår; ny tidsplan enligt beslut {decision.diarienummer}"
    )
    prefix = f"@{original}#{original_index + 1}/"
    closed: list[Event] = [
        TaskClosed(event_id=new_id(), occurred_at=now, task_key=task.key, reason=reason)
        for task in state.open_tasks()
        if prefix in task.key
    ]
    ended = RemediationEnded(
        event_id=new_id(),
        occurred_at=now,
        diarienummer=original,
        finding_index=original_index,
        outcome=outcome,
        by_decision=decision.diarienummer,
    )
    return [ended, *closed]


def compare_with_inspection(state: MunicipalityState, diarienummer: str) -> list[ComparisonItem]:
    """Classify every success factor flagged by the own analysis, the inspection, or both (the crosswalk of areas to
    factors in domain.inspectorate)."""
    own = StrengthsWeaknesses.model_validate(state.tasks[STRENGTHS_WEAKNESSES].payload)
    decision = InspectionDecision.model_validate(state.inspections[diarienummer].decision)
    self_factors = {w.factor for w in own.weaknesses}
    by_factor: dict[str, list[int]] = {}
    for index, finding in enumerate(decision.findings):
        for factor in AREA_FACTORS[finding.area]:
            by_factor.setdefault(factor, []).append(index)
    items = []
    for factor in sorted(self_factors | set(by_factor)):
        if factor in self_factors and factor in by_factor:
            classification = "agreed"
        elif factor in by_factor:
            classification = "inspection_only"
        else:
            classification = "self_only"
        items.append(
            ComparisonItem(factor=factor, classification=classification, finding_indexes=by_factor.get(factor, []))
        )
    return items
