"""Appeals of the nämnd's decisions (laglighetsprövning, kommunallagen (2017:725) 13 kap.).

Any member of the municipality may ask the förvaltningsrätt to try whether a decision is lawful, within three weeks
of the day the approval of its minutes was posted. A decision is not final (has not vunnit laga kraft) while an
appeal is pending. The court rejects the appeal (the decision stands), dismisses it without trial (avvisar; an
appeal lodged too late, say), annuls the decision (upphäver), or annuls part of it (what is left stands).

The programme lead records both steps: the appeal when the municipality learns of it (during its appeal period or
later, since the court tells the municipality after the fact), and the court's outcome. An annulled decision was
never taken as far as the programme goes: its task reopens, with a new deadline, for the nämnd to decide again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.events import (
    AppealDecided,
    AppealOutcome,
    DecisionAppealed,
    DecisionRecorded,
    Event,
    PhaseStarted,
    TaskClosed,
    TaskReopened,
)
from domain.phases import Phase
from domain.refusals import IdSource, TaskRejected, check_not_ended, check_not_held, check_recordable
from domain.rulebook import CURRENT_RULES, Rulebook
from domain.rules import reopened_due
from domain.state import Appeal, MunicipalityState, TaskStatus
from domain.template import ProgrammeTemplate, Repeat

CASE_NUMBER_PATTERN = r"^[\w\-/:. ]{3,40}$"
"""A court's case number (målnummer), such as '1234-26' or 'Mål nr 1234-26 E'."""

OUTCOME_TITLES: dict[AppealOutcome, tuple[str, str]] = {
    "avslaget": ("överklagandet avslogs: beslutet står fast", "the appeal was rejected: the decision stands"),
    "avvisat": ("överklagandet avvisades: beslutet står fast", "the appeal was dismissed: the decision stands"),
    "delvis_upphavt": (
        "beslutet upphävdes delvis: resten står fast",
        "the decision was partly annulled: the rest stands",
    ),
    "upphavt": ("beslutet upphävdes: nämnden beslutar på nytt", "the decision was annulled: the nämnd decides again"),
}


class AppealStep(BaseModel):
    """The programme lead's record of an appeal lodged against a decision, or of the court's outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    action: Literal["lodged", "decided"]
    decision_key: str = Field(min_length=1, max_length=200, description="the decision, by its task's key")
    actor_id: str = Field(min_length=1)
    case_number: str = Field(pattern=CASE_NUMBER_PATTERN, description="the court's målnummer")
    court: str | None = Field(
        default=None, min_length=3, max_length=100, description="e.g. Förvaltningsrätten i Karlstad"
    )
    lodged_on: date | None = Field(default=None, description="when the appeal reached the court (lodged)")
    outcome: AppealOutcome | None = Field(default=None, description="the court's outcome (decided)")
    decided_on: date | None = Field(default=None, description="the day of the court's judgment (decided)")

    @model_validator(mode="after")
    def _fields_of_the_step(self) -> AppealStep:
        if self.action == "lodged":
            missing = [f for f in ("court", "lodged_on") if getattr(self, f) is None]
            stray = [f for f in ("outcome", "decided_on") if getattr(self, f) is not None]
        else:
            missing = [f for f in ("outcome", "decided_on") if getattr(self, f) is None]
            stray = [f for f in ("court", "lodged_on") if getattr(self, f) is not None]
        if missing:
            raise ValueError(f"an appeal {self.action} needs {' and '.join(missing)}")
        if stray:
            raise ValueError(f"{' and '.join(stray)} belong to the other step of an appeal, not to {self.action}")
        if self.court is not None and not self.court.isprintable():
            raise ValueError("court: holds a line break or another control character")
        return self


def check_appeal(state: MunicipalityState, step: AppealStep, *, today: date) -> DecisionRecorded:
    """The decision `step` is about, if it can be recorded now; else TaskRejected naming the field."""
    check_not_ended(state)
    check_not_held(state)
    check_recordable(step.model_dump(mode="json"))
    decision = state.decision(step.decision_key)
    if decision is None:
        known = ", ".join(d.key for d in state.decisions) or "none yet"
        raise TaskRejected(
            "unknown_decision", f"decision_key: the pilot has no decision {step.decision_key!r} (decisions: {known})"
        )
    if decision.key in state.annulled_decisions:
        raise TaskRejected("invalid_payload", f"decision_key: {decision.key} was annulled on appeal already")
    appeals = state.appeals.get(decision.key, [])
    if step.action == "lodged":
        assert step.lodged_on is not None
        if any(a.case_number == step.case_number for a in appeals):
            raise TaskRejected("invalid_payload", f"case_number: the appeal {step.case_number} is already recorded")
        if step.lodged_on < decision.meeting_date:
            raise TaskRejected(
                "invalid_payload",
                f"lodged_on: {step.lodged_on} is before the meeting on {decision.meeting_date} that took the decision",
            )
        if step.lodged_on > today:
            raise TaskRejected("invalid_payload", f"lodged_on: {step.lodged_on} is in the future (today is {today})")
        posting = state.postings.get(decision.key)
        ends = posting.appeal_period_ends if posting is not None else decision.appeal_period_ends_latest
        if step.lodged_on > ends:
            raise TaskRejected(
                "invalid_payload",
                f"lodged_on: {step.lodged_on} is after the appeal period ended on {ends}; an appeal lodged late is "
                "dismissed (avvisas) and does not stop the decision becoming final",
            )
        return decision
    assert step.decided_on is not None
    pending = next((a for a in appeals if a.case_number == step.case_number and a.pending), None)
    if pending is None:
        cases = ", ".join(a.case_number for a in appeals if a.pending) or "none"
        raise TaskRejected(
            "invalid_payload",
            f"case_number: no pending appeal {step.case_number} of {decision.key} (pending: {cases}); record the "
            "appeal first",
        )
    if step.decided_on < pending.lodged_on:
        raise TaskRejected(
            "invalid_payload", f"decided_on: {step.decided_on} is before the appeal was lodged on {pending.lodged_on}"
        )
    if step.decided_on > today:
        raise TaskRejected("invalid_payload", f"decided_on: {step.decided_on} is in the future (today is {today})")
    return decision


def appeal_events(
    template: ProgrammeTemplate,
    state: MunicipalityState,
    step: AppealStep,
    *,
    now: datetime,
    new_id: IdSource,
    rules: Rulebook = CURRENT_RULES,
) -> list[Event]:
    """The events that record a checked appeal step; an annulment also reopens the decision's task."""
    decision = check_appeal(state, step, today=now.date())
    if step.action == "lodged":
        assert step.court is not None and step.lodged_on is not None
        events: list[Event] = []
        if Phase.DECISION_FOLLOW_UP not in state.active_phases:
            # The decisions are followed up again, until this one is final or decided anew.
            events.append(PhaseStarted(event_id=new_id(), occurred_at=now, phase=Phase.DECISION_FOLLOW_UP))
        events.append(
            DecisionAppealed(
                event_id=new_id(),
                occurred_at=now,
                decision_key=decision.key,
                court=step.court,
                case_number=step.case_number,
                lodged_on=step.lodged_on,
                by=step.actor_id,
            )
        )
        return events
    assert step.outcome is not None and step.decided_on is not None
    decided: list[Event] = [
        AppealDecided(
            event_id=new_id(),
            occurred_at=now,
            decision_key=decision.key,
            case_number=step.case_number,
            outcome=step.outcome,
            decided_on=step.decided_on,
            by=step.actor_id,
        )
    ]
    if step.outcome != "upphavt":
        return decided
    reason = f"beslutet upphävt / decision annulled ({step.case_number}, {step.decided_on})"
    task = state.tasks[decision.task_key]
    reopened = TaskReopened(
        event_id=new_id(),
        occurred_at=now,
        task_key=task.key,
        due_at=reopened_due(template, state, task, now=now, rules=rules),
        reason=reason,
    )
    # Minutes not yet posted need no posting now: the decision they would post is gone.
    postings = [f"{t.key}@{decision.key}" for t in template.tasks if t.repeat is Repeat.PER_DECISION]
    unposted: list[Event] = [
        TaskClosed(event_id=new_id(), occurred_at=now, task_key=key, reason=reason)
        for key in postings
        if key in state.tasks and state.tasks[key].status is TaskStatus.OPEN
    ]
    return [*decided, reopened, *unposted]


DecisionStatusName = Literal["beslutad", "anslagen", "overklagad", "laga_kraft", "upphavd"]

DECISION_STATUS_TITLES: dict[DecisionStatusName, tuple[str, str]] = {
    "beslutad": ("beslutad, protokollet ännu inte anslaget", "decided, its minutes not yet posted"),
    "anslagen": ("anslagen, överklagandetiden löper", "posted, the appeal period is running"),
    "overklagad": ("överklagad, i väntan på domstolen", "appealed, waiting for the court"),
    "laga_kraft": ("har vunnit laga kraft", "final (laga kraft)"),
    "upphavd": ("upphävd av domstolen", "annulled by the court"),
}


class DecisionStanding(BaseModel):
    """A nämnd decision as it stands: its minuted facts, its legal dates, and its appeals."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(
        description="names the decision in an appeal: its task's key, or '<task key>/<n>' when decided again"
    )
    task_key: str
    organ: str
    meeting_date: date
    paragraph: int
    diarienummer: str
    justering_due: date = Field(description="the latest lawful day of the justering")
    anslag_due: date = Field(description="the latest lawful day of the anslag")
    appeal_period_ends_latest: date
    justering_date: date | None = None
    anslag_date: date | None = None
    appeal_period_ends: date | None = Field(default=None, description="once posted: the end of the appeal period")
    status: DecisionStatusName
    appeals: list[Appeal] = Field(default_factory=list)


def decision_standings(state: MunicipalityState) -> list[DecisionStanding]:
    """Every nämnd decision of the pilot, oldest first, as it stands."""
    standings = []
    for decision in state.decisions:
        key = decision.key
        posting = state.postings.get(key)
        status: DecisionStatusName
        if key in state.annulled_decisions:
            status = "upphavd"
        elif state.appeal_pending(key):
            status = "overklagad"
        elif key in state.final_decisions:
            status = "laga_kraft"
        elif posting is not None:
            status = "anslagen"
        else:
            status = "beslutad"
        standings.append(
            DecisionStanding(
                key=key,
                task_key=decision.task_key,
                organ=decision.organ,
                meeting_date=decision.meeting_date,
                paragraph=decision.paragraph,
                diarienummer=decision.diarienummer,
                justering_due=decision.justering_due,
                anslag_due=decision.anslag_due,
                appeal_period_ends_latest=decision.appeal_period_ends_latest,
                justering_date=posting.justering_date if posting else None,
                anslag_date=posting.anslag_date if posting else None,
                appeal_period_ends=posting.appeal_period_ends if posting else None,
                status=status,
                appeals=list(state.appeals.get(key, [])),
            )
        )
    return standings
