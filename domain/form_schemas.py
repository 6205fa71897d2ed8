"""The JSON Schema of one task's answer in one pilot: the whole contract a client needs to answer it right first time.

The payload model's own schema says the shape. To it this adds what the validator enforces that depends on the task
and the pilot, wherever JSON Schema can state it: the indicators of the self-assessment's level and the level itself,
the pilot's deciding organ, the decisions a follow-up decision may follow up, the factors the analysis prioritised,
the figures gathered from Kolada and when a value needs its reason, and that text holds no NUL character (which the
record cannot keep). What JSON Schema cannot state (a rule across fields or against today's date) is listed in the
schema's description, from `CROSS_FIELD_RULES`, each with the check that tells whether an answer keeps it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from domain.decision_dates import decision_timeline
from domain.follow_up import gathered_figures
from domain.inspectorate import Intervention
from domain.municipalities import members_of
from domain.payloads import (
    DecisionPosting,
    FundingApplications,
    InspectionDecision,
    InterviewSummary,
    MeasureProgress,
    NamndDecision,
    PlanDraft,
    PlanRevision,
    SelfAssessment,
    StrengthsWeaknesses,
    TaskPayload,
    YearlyFollowUp,
)
from domain.rules import decision_of
from domain.state import MunicipalityState, TaskState
from domain.success_factors import INDICATOR_IDS, indicators_for_level
from domain.task_keys import STRENGTHS_WEAKNESSES

NO_NUL = "^[^\\x00]*$"
"""Text the record can keep: PostgreSQL's jsonb refuses the NUL character."""

Answer = dict[str, Any]


@dataclass(frozen=True)
class CrossFieldRule:
    """A rule of the validator that JSON Schema cannot state, said in words, with the check of it (an answer that
    keeps to the schema and to every such rule of its payload is accepted)."""

    payload: type[TaskPayload]
    says: str
    holds: Callable[[Answer, date, MunicipalityState, TaskState], bool]


def _lawful_meeting(meeting: str, today: date) -> bool:
    """A meeting on or before today whose minutes' posting the law's rules can date (they are known from 1953)."""
    day = date.fromisoformat(meeting)
    if day > today:
        return False
    try:
        decision_timeline(day, today=today)
    except ValueError:
        return False
    return True


def _posting_in_order(answer: Answer, today: date, state: MunicipalityState, task: TaskState) -> bool:
    decision = state.decision(decision_of(task.key))
    justering, anslag = date.fromisoformat(answer["justering_date"]), date.fromisoformat(answer["anslag_date"])
    return decision is not None and decision.meeting_date <= justering <= anslag <= today


def _prioritised_are_weaknesses(answer: Answer, *_: object) -> bool:
    return set(answer["prioritised_factors"]) <= {w["factor"] for w in answer["weaknesses"]}


def _corrections_have_values(answer: Answer, *_: object) -> bool:
    return set(answer.get("corrections", {})) <= set(answer["kpi_values"])


def _follows_up_findings_there_are(answer: Answer, _today: date, state: MunicipalityState, _task: TaskState) -> bool:
    original = state.inspections.get(answer.get("follow_up_of") or "")
    if original is None:
        return True
    count = len(original.decision.get("findings", []))
    return all(f.get("follows_up") is None or f["follows_up"] < count for f in answer.get("findings", []))


CROSS_FIELD_RULES: tuple[CrossFieldRule, ...] = (
    CrossFieldRule(
        StrengthsWeaknesses,
        "prioritised_factors: each is the factor of one of the weaknesses",
        _prioritised_are_weaknesses,
    ),
    CrossFieldRule(
        NamndDecision,
        "meeting_date: not after today, and a day whose minutes the law's rules can date (1953 or later)",
        lambda answer, today, *_: _lawful_meeting(answer["meeting_date"], today),
    ),
    CrossFieldRule(
        PlanRevision,
        "decision.meeting_date: not after today, and a day whose minutes the law's rules can date (1953 or later)",
        lambda answer, today, *_: _lawful_meeting(answer["decision"]["meeting_date"], today),
    ),
    CrossFieldRule(
        DecisionPosting,
        "anslag_date: on or after justering_date (a step taken later than kommunallagen's days is recorded as late)",
        _posting_in_order,
    ),
    CrossFieldRule(YearlyFollowUp, "corrections: each KPI in it has a value in kpi_values", _corrections_have_values),
    CrossFieldRule(
        InspectionDecision,
        "findings.N.follows_up: the index of a finding of the decision followed up (follow_up_of)",
        _follows_up_findings_there_are,
    ),
)
"""The rules the schemas cannot state, by payload."""


def rules_for(payload: type[TaskPayload]) -> list[CrossFieldRule]:
    return [rule for rule in CROSS_FIELD_RULES if rule.payload is payload]


def answer_schema(
    model: type[TaskPayload], state: MunicipalityState, task: TaskState, *, today: date
) -> dict[str, Any]:
    """The JSON Schema of the answer to `task` of the pilot in `state`, as the validator judges it on `today` (the
    workflow's day, in UTC); see the module."""
    schema = copy.deepcopy(model.model_json_schema())
    defs = schema.get("$defs", {})
    if model is SelfAssessment and task.level is not None:
        _self_assessment(schema, task.level)
    if model in (NamndDecision, PlanRevision):
        decision = schema if model is NamndDecision else defs["NamndDecision"]
        decision["properties"]["meeting_date"] = {
            "type": "string",
            "format": "date",
            "pattern": _days_from_1953_to_the_year_of(today),
            "description": "the day the organ met: from 1953, when the law's rules for posting minutes start, to today",
        }
        if state.deciding_organ:
            organ = {"const": state.deciding_organ, "description": "the pilot's deciding organ"}
            decision["properties"]["organ"] = organ
    if model in (PlanDraft, PlanRevision):
        _plan_goals(defs["PlanGoal"], state)
    if model is YearlyFollowUp:
        _follow_up(schema, state, task)
    if model is InspectionDecision:
        _inspection_decision(schema, defs["InspectionFinding"], state)
    if model is DecisionPosting:
        _posting_days(schema, state, task, today)
    if model is InterviewSummary:
        schema["properties"]["groups"]["contains"] = {
            "type": "object",
            "properties": {"level": {"const": "elever"}},
            "required": ["level"],
        }
    if model is MeasureProgress:
        schema["if"] = {"properties": {"status": {"const": "genomford"}}, "required": ["status"]}
        schema["then"] = {"properties": {"evidence": {"minItems": 1}}, "required": ["evidence"]}
    if model is FundingApplications:
        schema["anyOf"] = [
            {"properties": {"applications": {"minItems": 1}}, "required": ["applications"]},
            {"properties": {"none_this_year_reason": {"type": "string"}}, "required": ["none_this_year_reason"]},
        ]
    _text_the_record_keeps(schema)
    rules = rules_for(model)
    if rules:
        said = "\n".join(f"- {rule.says}" for rule in rules)
        schema["description"] = f"{schema.get('description', '')}\n\nAlso, beyond what this schema states:\n{said}"
    return schema


def _days_from_1953_to_the_year_of(today: date) -> str:
    """A pattern of the dates from 1953-01-01 to the end of `today`'s year (a later day of it is a rule in words)."""
    years = "|".join(str(year) for year in range(1953, today.year + 1))
    leap = "|".join(str(year) for year in range(1956, today.year + 1, 4))
    long_months = "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    short_months = "(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    days = f"{long_months}|{short_months}|02-(?:0[1-9]|1[0-9]|2[0-8])"
    return f"^(?:(?:{years})-(?:{days})|(?:{leap})-02-29)$"


POSTING_DAYS_LISTED = 400
"""Up to how many days after the meeting a posting's possible days are listed (a later one is any day)."""


def _posting_days(schema: dict[str, Any], state: MunicipalityState, task: TaskState, today: date) -> None:
    """The minutes are approved (justering) and posted (anslag) on a day from the meeting to today: listed."""
    decision = state.decision(decision_of(task.key))
    if decision is None or not 0 <= (today - decision.meeting_date).days <= POSTING_DAYS_LISTED:
        return
    days = [
        (decision.meeting_date + timedelta(days=n)).isoformat() for n in range((today - decision.meeting_date).days + 1)
    ]
    for field in ("justering_date", "anslag_date"):
        schema["properties"][field] = {
            "type": "string",
            "format": "date",
            "enum": days,
            "description": "a day from the decision's meeting to today",
        }


def _self_assessment(schema: dict[str, Any], level: str) -> None:
    indicators = list(indicators_for_level(level))
    score = {"type": "integer", "minimum": 1, "maximum": 4}
    properties = schema["properties"]
    properties["level"] = {"const": level, "description": "the level whose self-assessment this task is"}
    properties["scores"] = {
        "type": "object",
        "description": "every indicator of the level, scored 1 (weak) to 4 (strong)",
        "properties": {indicator: score for indicator in indicators},
        "required": indicators,
        "additionalProperties": False,
    }
    properties["evidence"]["propertyNames"] = {"enum": list(INDICATOR_IDS)}


def _plan_goals(goal: dict[str, Any], state: MunicipalityState) -> None:
    analysis = state.completed_payload(STRENGTHS_WEAKNESSES)
    prioritised = sorted(analysis["prioritised_factors"]) if analysis else []  # type: ignore[call-overload]
    if prioritised:
        goal["properties"]["addresses_factor"] = {
            "enum": prioritised,
            "description": "one of the development areas the analysis prioritised",
        }


def _follow_up(schema: dict[str, Any], state: MunicipalityState, task: TaskState) -> None:
    properties = schema["properties"]
    properties["kpi_values"]["propertyNames"] = {"pattern": "^[NU][0-9]{5}$"}
    properties["corrections"]["propertyNames"] = {"pattern": "^[NU][0-9]{5}$"}
    figures = gathered_figures(state, task.key)
    if figures is None:
        return
    properties["year"] = {"const": figures.year, "description": "the year the figures gathered from Kolada are for"}
    if len(members_of(state.kommunkod)) > 1:
        return
    published = figures.published(state.kommunkod)
    conditions: list[dict[str, Any]] = []
    for kpi in figures.kpis:
        if kpi in published:
            properties["kpi_values"].setdefault("required", []).append(kpi)
            value = published[kpi]
            close = max(abs(value) * 1e-9, 1e-9)  # as domain.follow_up.same_figure compares a typed value
            same = {"minimum": value - close, "maximum": value + close}
            kept = {"properties": {"kpi_values": {"properties": {kpi: same}}}}
            conditions.append(
                {
                    "if": kept,
                    "then": {"properties": {"corrections": {"not": {"required": [kpi]}}}},
                    "else": {"properties": {"corrections": {"required": [kpi]}}, "required": ["corrections"]},
                }
            )
        else:  # Kolada published nothing: a value given needs its source
            given = {"properties": {"kpi_values": {"required": [kpi]}}}
            conditions.append(
                {"if": given, "then": {"properties": {"corrections": {"required": [kpi]}}, "required": ["corrections"]}}
            )
    if conditions:
        schema["allOf"] = conditions


def _inspection_decision(schema: dict[str, Any], finding: dict[str, Any], state: MunicipalityState) -> None:
    properties = schema["properties"]
    registered = sorted(state.inspections)
    if registered:
        properties["diarienummer"]["not"] = {"enum": registered}
    properties["follow_up_of"] = (
        {"anyOf": [{"enum": registered}, {"type": "null"}], "description": "diarienummer of the decision followed up"}
        if registered
        else {"type": "null", "description": "no decision is registered yet that one could follow up"}
    )
    schema["allOf"] = [
        {
            "if": {"properties": {"level": {"const": "skolenhet"}}, "required": ["level"]},
            "then": {"properties": {"school_unit_code": {"type": "string"}}, "required": ["school_unit_code"]},
        },
        {
            "if": {"properties": {"review_type": {"const": "uppfoljning"}}, "required": ["review_type"]},
            "then": {
                "properties": {
                    "follow_up_of": {"type": "string"},
                    "findings": {"items": {"required": ["follows_up", "outcome"]}},
                },
                "required": ["follow_up_of"],
            },
            "else": {"properties": {"follow_up_of": {"type": "null"}}},
        },
    ]
    orders = [Intervention.FORELAGGANDE.value, Intervention.FORELAGGANDE_MED_VITE.value]
    finding["allOf"] = [
        {  # an order states its deadline, unless it was remedied
            "if": {
                "properties": {"intervention": {"enum": orders}, "outcome": {"not": {"const": "avhjalpt"}}},
                "required": ["intervention"],
            },
            "then": {"properties": {"deadline": {"type": "string"}}, "required": ["deadline"]},
        },
        {  # a remaining deficiency has a new deadline
            "if": {"properties": {"outcome": {"const": "kvarstar"}}, "required": ["outcome"]},
            "then": {"properties": {"deadline": {"type": "string"}}, "required": ["deadline"]},
        },
        {  # a finding followed up names both the earlier finding and its outcome, or neither
            "anyOf": [
                {
                    "properties": {"follows_up": {"type": "integer"}, "outcome": {"type": "string"}},
                    "required": ["follows_up", "outcome"],
                },
                {"properties": {"follows_up": {"type": "null"}, "outcome": {"type": "null"}}},
            ]
        },
    ]


WORD_CHARACTERS = "0-9A-Za-z_ÅÄÖåäöÉéÜü"
"""What a diarienummer's `\\w` is published as: letters and digits every regex dialect reads alike (ECMAScript's
`\\w` is ASCII only, Python's and Rust's are Unicode, and differ from each other on ² and the like)."""


def _portable(pattern: str) -> str:
    """`pattern` as ECMAScript, Python and Rust read it alike: explicit word characters, and a `$` that means the very
    end (Python's lets a final newline by)."""
    pattern = pattern.replace("[\\w", "[" + WORD_CHARACTERS)
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + "(?!\\n)$"
    return pattern


def _text_the_record_keeps(node: Any) -> None:
    """Every free string in the schema refuses the NUL character, as the record does; every pattern is portable."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(node):
            node["pattern"] = NO_NUL
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            node["pattern"] = _portable(pattern)
        for value in node.values():
            _text_the_record_keeps(value)
    elif isinstance(node, list):
        for value in node:
            _text_the_record_keeps(value)
