"""What a participant submits when completing each kind of task; validated before anything is recorded."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.inspection import InspectionArea, InspectionLevel, Intervention, ReviewType
from domain.kpis import KpiObservation
from domain.roles import Role
from domain.success_factors import INDICATOR_IDS

NonEmptyText = Annotated[str, Field(min_length=1, max_length=4000)]
FactorId = Annotated[str, Field(pattern=r"^SF[1-8]$")]
KpiId = Annotated[str, Field(pattern=r"^[NU][0-9]{5}$")]


class TaskPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiDataPack(TaskPayload):
    """Filled in by the system: the Kolada figures gathered for the deep analysis."""

    kolada_base_url: str
    kpis: list[KpiId]
    municipalities: list[str]
    years: list[int]
    observations: list[KpiObservation]


class SelfAssessment(TaskPayload):
    """A level's self-assessment on every indicator of the 8 success factors, scored 1 (weak) to 4 (strong)."""

    level: Literal["P", "F", "R", "L"]
    scores: dict[str, Annotated[int, Field(ge=1, le=4)]]
    evidence: dict[str, NonEmptyText] = Field(default_factory=dict)

    @field_validator("scores")
    @classmethod
    def _every_indicator_scored(cls, scores: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(scores) - set(INDICATOR_IDS))
        if unknown:
            raise ValueError(f"unknown indicators {unknown}; indicators are SF1.a … SF8.e")
        missing = [i for i in INDICATOR_IDS if i not in scores]
        if missing:
            raise ValueError(f"every indicator needs a score; missing {missing}")
        return scores

    @field_validator("evidence")
    @classmethod
    def _evidence_for_known_indicators(cls, evidence: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(evidence) - set(INDICATOR_IDS))
        if unknown:
            raise ValueError(f"evidence given for unknown indicators {unknown}")
        return evidence


class AnalysisFinding(TaskPayload):
    factor: FactorId
    text: NonEmptyText


class StrengthsWeaknesses(TaskPayload):
    """The synthesis of the deep analysis: bristfaktorer and positiva drivkrafter (domain.md §1.5)."""

    strengths: list[AnalysisFinding] = Field(min_length=1)
    weaknesses: list[AnalysisFinding] = Field(min_length=1)
    prioritised_factors: list[FactorId] = Field(min_length=1)

    @model_validator(mode="after")
    def _priorities_are_weaknesses(self) -> StrengthsWeaknesses:
        weak = {w.factor for w in self.weaknesses}
        stray = [f for f in self.prioritised_factors if f not in weak]
        if stray:
            raise ValueError(f"prioritised_factors {stray} are not among the weaknesses {sorted(weak)}")
        return self


class PlanGoal(TaskPayload):
    title: NonEmptyText
    addresses_factor: FactorId
    kpi: KpiId
    baseline: float
    target: float
    measures: list[NonEmptyText] = Field(min_length=1)
    owner_role: Role


class PlanDraft(TaskPayload):
    """The skolutvecklingsplan as drafted by the förvaltning, before the nämnd adopts it."""

    goals: list[PlanGoal] = Field(min_length=1)
    period_years: int = Field(ge=1, le=10)


class NamndDecision(TaskPayload):
    """A decision of the municipality's deciding organ, as it stands in the minutes (domain.md §4.1)."""

    organ: NonEmptyText
    meeting_date: date
    paragraph: int = Field(ge=1, description="the § number in the minutes")
    diarienummer: Annotated[str, Field(min_length=3, max_length=60, pattern=r"^[\w\-/:. ]+$")]
    decision_text: NonEmptyText


class YearlyFollowUp(TaskPayload):
    """The yearly SKA follow-up of the plan: KPIs against target and progress per goal."""

    year: int = Field(ge=2000, le=2100)
    kpi_values: dict[str, float] = Field(min_length=1)
    progress: NonEmptyText

    @field_validator("kpi_values")
    @classmethod
    def _kpi_ids(cls, values: dict[str, float]) -> dict[str, float]:
        bad = [k for k in values if not re.fullmatch(r"[NU][0-9]{5}", k)]
        if bad:
            raise ValueError(f"{bad} are not Kolada KPI ids (like N15419)")
        return values


class InspectionFinding(TaskPayload):
    area: InspectionArea
    intervention: Intervention
    description: NonEmptyText
    legal_references: list[str] = Field(default_factory=list)
    deadline: date | None = None

    @model_validator(mode="after")
    def _orders_have_deadlines(self) -> InspectionFinding:
        needs = {Intervention.FORELAGGANDE, Intervention.FORELAGGANDE_MED_VITE}
        if self.intervention in needs and self.deadline is None:
            raise ValueError(f"a {self.intervention.value} must state the deadline for reporting measures")
        return self


class InspectionDecision(TaskPayload):
    """A Skolinspektionen decision as registered by the municipality (domain.md §7.4)."""

    diarienummer: Annotated[str, Field(min_length=3, max_length=60)]
    decided_on: date
    level: InspectionLevel
    school_form: NonEmptyText
    review_type: ReviewType
    school_unit_code: Annotated[str, Field(pattern=r"^[0-9]{8}$")] | None = None
    findings: list[InspectionFinding] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unit_code_for_unit_level(self) -> InspectionDecision:
        if self.level is InspectionLevel.SKOLENHET and self.school_unit_code is None:
            raise ValueError("a decision at skolenhet level needs the 8-digit school_unit_code")
        return self


class InspectionAction(TaskPayload):
    finding_index: int = Field(ge=0)
    measure: NonEmptyText
    owner_role: Role
    due: date


class InspectionActionPlan(TaskPayload):
    """Measures for the inspection's findings and the date the report of measures goes to the inspectorate."""

    actions: list[InspectionAction] = Field(min_length=1)
    report_due: date


PAYLOAD_MODELS: dict[str, type[TaskPayload]] = {
    "kpi_data_pack": KpiDataPack,
    "self_assessment": SelfAssessment,
    "strengths_weaknesses": StrengthsWeaknesses,
    "plan_draft": PlanDraft,
    "namnd_decision": NamndDecision,
    "yearly_follow_up": YearlyFollowUp,
    "inspection_decision": InspectionDecision,
    "inspection_action_plan": InspectionActionPlan,
}
