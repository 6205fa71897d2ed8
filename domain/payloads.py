"""What a participant submits when completing each kind of task; validated before anything is recorded."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.inspectorate import InspectionArea, InspectionLevel, Intervention, ReviewType
from domain.kpis import TOTAL, ComparisonGroup, KpiObservation, OrganisationalUnit, UnitObservation
from domain.roles import Role
from domain.success_factors import INDICATOR_IDS, indicators_for_level

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
    # Per school unit, so differences between the schools show and not only the municipality's average.
    # Defaults keep packs gathered before unit data existed valid.
    unit_kpis: list[KpiId] = Field(default_factory=list)
    units: list[OrganisationalUnit] = Field(default_factory=list)
    unit_observations: list[UnitObservation] = Field(default_factory=list)
    # The municipality's comparison group in Kolada, when the template asks for one; its members' figures are in
    # `observations` (and `municipalities`). None in packs from before, and when Kolada has no such group.
    comparison_group: ComparisonGroup | None = None


class SelfAssessment(TaskPayload):
    """A level's self-assessment of the 8 success factors, each indicator scored 1 (weak) to 4 (strong).

    Politics (P), the förvaltning (F) and the principals (R) score every indicator; the support functions (S)
    score the ones that concern HR and finance.
    """

    level: Literal["P", "F", "R", "S"]
    scores: dict[str, Annotated[int, Field(ge=1, le=4)]]
    evidence: dict[str, NonEmptyText] = Field(default_factory=dict)

    @field_validator("scores")
    @classmethod
    def _known_indicators(cls, scores: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(scores) - set(INDICATOR_IDS))
        if unknown:
            raise ValueError(f"unknown indicators {unknown}; indicators are SF1.a … SF8.e")
        return scores

    @model_validator(mode="after")
    def _every_indicator_of_the_level_scored(self) -> SelfAssessment:
        expected = indicators_for_level(self.level)
        missing = [i for i in expected if i not in self.scores]
        if missing:
            raise ValueError(f"level {self.level} scores every one of its indicators; missing {missing}")
        extra = sorted(set(self.scores) - set(expected))
        if extra:
            raise ValueError(f"level {self.level} does not score {extra} (not a support-function indicator)")
        return self

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
    """The synthesis of the deep analysis: bristfaktorer and positiva drivkrafter, the terms Regionförbundet
    Örebro's Skolkommunsatsning uses for what its deep analysis brings out."""

    strengths: list[AnalysisFinding] = Field(min_length=1)
    weaknesses: list[AnalysisFinding] = Field(min_length=1, description="bristfaktorer")
    positive_drivers: list[AnalysisFinding] = Field(
        min_length=1, description="positiva drivkrafter: what already works and can carry the change"
    )
    prioritised_factors: list[FactorId] = Field(min_length=1, description="the prioritised development areas")

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
    """A decision of the municipality's deciding organ, as it stands in the minutes: organ, meeting, § and
    diarienummer. Kommunallagen (2017:725) sets when those minutes are justerade and anslagna and the decision
    can be appealed."""

    organ: NonEmptyText
    meeting_date: date
    paragraph: int = Field(ge=1, description="the § number in the minutes")
    diarienummer: Annotated[str, Field(min_length=3, max_length=60, pattern=r"^[\w\-/:. ]+$")]
    decision_text: NonEmptyText


class PlanRevision(TaskPayload):
    """A revised plan is a new decision of the nämnd: the decision as minuted, and the plan it adopts."""

    decision: NamndDecision
    revised_plan: PlanDraft
    reason: NonEmptyText


class DecisionPosting(TaskPayload):
    """When the minutes with the decision were approved (justerade) and posted on the notice board (anslagna)."""

    justering_date: date
    anslag_date: date

    @model_validator(mode="after")
    def _posted_after_approval(self) -> DecisionPosting:
        if self.anslag_date < self.justering_date:
            raise ValueError(f"anslag_date {self.anslag_date} is before justering_date {self.justering_date}")
        return self


class FollowUpFigures(TaskPayload):
    """Filled in by the system: the plan's KPIs for the year a yearly follow-up looks back on, as Kolada publishes
    them for the municipality (each member, for a kommunalförbund) and its school units.

    A KPI Kolada has published no value of for the year is listed in `not_published` ("no value published"): the
    follow-up opens with its field empty, and whoever completes it may give the figure from another source."""

    kolada_base_url: str
    year: int = Field(ge=2000, le=2100, description="the calendar year the figures are for (Kolada's period)")
    kpis: list[KpiId] = Field(description="the KPIs of the plan's goals")
    observations: list[KpiObservation]
    unit_kpis: list[KpiId] = Field(default_factory=list, description="those of `kpis` Kolada publishes per unit")
    units: list[OrganisationalUnit] = Field(default_factory=list)
    unit_observations: list[UnitObservation] = Field(default_factory=list)
    not_published: list[KpiId] = Field(
        default_factory=list, description="KPIs with no value published for the year: Kolada has no figure yet"
    )

    def published(self, municipality: str) -> dict[str, float]:
        """The value of each KPI for the whole of `municipality` (both genders), where Kolada published one."""
        return {
            o.kpi: o.value
            for o in self.observations
            if o.municipality == municipality and o.gender == TOTAL and o.period == self.year and o.value is not None
        }


class YearlyFollowUp(TaskPayload):
    """The yearly SKA follow-up of the plan: KPIs against target and progress per goal.

    Where the system gathered the year's figures from Kolada, the follow-up opens with them filled in, and a value
    that differs from Kolada's (or gives one Kolada has not published) stands only with its reason in
    `corrections`; the gathered figure stays in the record beside it."""

    year: int = Field(ge=2000, le=2100)
    kpi_values: dict[str, float] = Field(min_length=1)
    corrections: dict[str, NonEmptyText] = Field(
        default_factory=dict,
        description="per KPI id: why its value differs from the figure gathered from Kolada, or where a value "
        "Kolada has not published comes from",
    )
    progress: NonEmptyText

    @field_validator("kpi_values", "corrections")
    @classmethod
    def _kpi_ids(cls, values: dict[str, object]) -> dict[str, object]:
        bad = [k for k in values if not re.fullmatch(r"[NU][0-9]{5}", k)]
        if bad:
            raise ValueError(f"{bad} are not Kolada KPI ids (like N15419)")
        return values

    @model_validator(mode="after")
    def _corrections_of_given_values(self) -> YearlyFollowUp:
        stray = sorted(set(self.corrections) - set(self.kpi_values))
        if stray:
            raise ValueError(f"corrections: {stray} have no value in kpi_values; a reason goes with a value given")
        return self


class CollectedDocument(TaskPayload):
    kind: Literal[
        "kvalitetsrapport", "maldokument", "delegationsordning", "resursfordelningsmodell", "inspektionsbeslut", "annat"
    ]
    title: NonEmptyText
    reference: NonEmptyText = Field(description="diarienummer, URL or archive reference")


class DocumentCollection(TaskPayload):
    """The governance documents the deep analysis reads."""

    documents: list[CollectedDocument] = Field(min_length=1)


class InterviewGroup(TaskPayload):
    level: Literal["P", "F", "R", "L", "elever", "vardnadshavare"]
    interviewed: int = Field(ge=1)


class InterviewSummary(TaskPayload):
    """Interviews and focus groups at every level, pupils included (djupintervjuer)."""

    groups: list[InterviewGroup] = Field(min_length=1)
    themes: list[NonEmptyText] = Field(min_length=1)

    @model_validator(mode="after")
    def _pupils_heard(self) -> InterviewSummary:
        if not any(g.level == "elever" for g in self.groups):
            raise ValueError("pupils are at the centre of the programme: include at least one group of elever")
        return self


class Consultation(TaskPayload):
    """A support function's opinion on the draft plan (HR: competence supply; finance: resources)."""

    supports_plan: bool
    opinion: NonEmptyText
    conditions: list[NonEmptyText] = Field(default_factory=list)


class SkaAnalysis(TaskPayload):
    """Analysis and assessment (analys och bedömning) of the year's follow-up."""

    causes: list[NonEmptyText] = Field(min_length=1)
    differences_between_units: NonEmptyText


class SkaPlanning(TaskPayload):
    """Planning (planering): next year's priorities, and whether the plan needs a new nämnd decision."""

    priorities: list[NonEmptyText] = Field(min_length=1)
    plan_revision_needed: bool = False


class MeasureProgress(TaskPayload):
    status: Literal["ej_startad", "pagar", "genomford", "installd"]
    progress: NonEmptyText
    evidence: list[NonEmptyText] = Field(default_factory=list)

    @model_validator(mode="after")
    def _done_needs_evidence(self) -> MeasureProgress:
        if self.status == "genomford" and not self.evidence:
            raise ValueError("a measure reported as genomförd needs evidence")
        return self


class ChangeProjectReport(TaskPayload):
    """A participant's förändringsprojekt, with how pupils took part: in SKL's "Leda för resultat i skolan"
    every participant carries one out, with the pupils at the centre."""

    title: NonEmptyText
    progress: NonEmptyText
    pupil_involvement: NonEmptyText = Field(description="how pupils' results, experiences and views were used")


class FundingApplication(TaskPayload):
    source: Literal["statsbidrag", "utvecklingsmedel", "annat"]
    name: NonEmptyText
    amount_sek: int = Field(ge=0)
    outcome: Literal["ansokt", "beviljad", "avslagen"]


class FundingApplications(TaskPayload):
    """The year's applications for state grants or development funds (stödpengar), with their outcome."""

    applications: list[FundingApplication] = Field(default_factory=list)
    none_this_year_reason: NonEmptyText | None = None

    @model_validator(mode="after")
    def _something_reported(self) -> FundingApplications:
        if not self.applications and self.none_this_year_reason is None:
            raise ValueError("list the applications, or say why there were none this year (none_this_year_reason)")
        return self


class InspectionFinding(TaskPayload):
    """A deficiency or development area; in a decision after follow-up, also what became of an earlier one."""

    area: InspectionArea
    intervention: Intervention
    description: NonEmptyText
    legal_references: list[str] = Field(default_factory=list)
    deadline: date | None = Field(default=None, description="when the report of measures is due")
    follows_up: int | None = Field(default=None, ge=0, description="index of the finding followed up")
    outcome: Literal["avhjalpt", "kvarstar"] | None = None

    @model_validator(mode="after")
    def _orders_have_deadlines(self) -> InspectionFinding:
        needs = {Intervention.FORELAGGANDE, Intervention.FORELAGGANDE_MED_VITE}
        if self.intervention in needs and self.deadline is None and self.outcome != "avhjalpt":
            raise ValueError(f"a {self.intervention.value} must state the deadline for reporting measures")
        if (self.follows_up is None) != (self.outcome is None):
            raise ValueError("a followed-up finding names both the finding (follows_up) and its outcome")
        if self.outcome == "kvarstar" and self.deadline is None:
            raise ValueError("a remaining (kvarstående) deficiency needs a new deadline")
        return self


class InspectionDecision(TaskPayload):
    """A Skolinspektionen decision as registered by the municipality."""

    # As a nämnd's: it names the decision's remediation tasks, and so the subject line of their mail.
    diarienummer: Annotated[str, Field(min_length=3, max_length=60, pattern=r"^[\w\-/:. ]+$")]
    decided_on: date
    level: InspectionLevel
    school_form: NonEmptyText
    review_type: ReviewType
    school_unit_code: Annotated[str, Field(pattern=r"^[0-9]{8}$")] | None = None
    findings: list[InspectionFinding] = Field(default_factory=list)
    follow_up_of: str | None = Field(default=None, description="diarienummer of the decision followed up")

    @model_validator(mode="after")
    def _unit_code_for_unit_level(self) -> InspectionDecision:
        if self.level is InspectionLevel.SKOLENHET and self.school_unit_code is None:
            raise ValueError("a decision at skolenhet level needs the 8-digit school_unit_code")
        if (self.review_type is ReviewType.UPPFOLJNING) != (self.follow_up_of is not None):
            raise ValueError("a decision after follow-up (uppfoljning) names the decision it follows up, and only it")
        if self.follow_up_of is not None and any(f.follows_up is None for f in self.findings):
            raise ValueError("every finding of a follow-up decision says which earlier finding it follows up")
        return self


class RemediationReport(TaskPayload):
    """One step of remedying an inspection finding, done."""

    done: NonEmptyText
    evidence: list[NonEmptyText] = Field(default_factory=list)


class NetworkContribution(TaskPayload):
    """A pilot's contribution to a network meeting of its cohort: where it stands so far, for the other pilots to
    learn from (the programme's pilots learn from each other)."""

    strengths: list[NonEmptyText] = Field(min_length=1, max_length=10)
    weaknesses: list[NonEmptyText] = Field(min_length=1, max_length=10)
    plan_goals: list[NonEmptyText] = Field(
        default_factory=list, max_length=10, description="the plan's goals so far; none before the plan is drafted"
    )
    question: NonEmptyText | None = Field(default=None, description="what the pilot wants the others' advice on")


class NetworkReflection(TaskPayload):
    """After a network meeting the pilot attended: what it takes home."""

    learned: NonEmptyText = Field(description="what the pilot learnt from the others")
    will_try: NonEmptyText = Field(description="what it will try in its own work")
    learned_from: list[Annotated[str, Field(pattern=r"^[0-9]{4}(\+[0-9]{4})*$")]] = Field(
        default_factory=list, max_length=20, description="the pilots it learnt most from, by kommunkod"
    )


PAYLOAD_MODELS: dict[str, type[TaskPayload]] = {
    "kpi_data_pack": KpiDataPack,
    "self_assessment": SelfAssessment,
    "strengths_weaknesses": StrengthsWeaknesses,
    "plan_draft": PlanDraft,
    "namnd_decision": NamndDecision,
    "yearly_follow_up": YearlyFollowUp,
    "follow_up_figures": FollowUpFigures,
    "decision_posting": DecisionPosting,
    "plan_revision": PlanRevision,
    "document_collection": DocumentCollection,
    "interview_summary": InterviewSummary,
    "consultation": Consultation,
    "ska_analysis": SkaAnalysis,
    "ska_planning": SkaPlanning,
    "measure_progress": MeasureProgress,
    "change_project": ChangeProjectReport,
    "funding_applications": FundingApplications,
    "inspection_decision": InspectionDecision,
    "remediation_step": RemediationReport,
    "network_contribution": NetworkContribution,
    "network_reflection": NetworkReflection,
}
