"""The published form schema is the whole contract: answers generated from it alone are accepted on the first try,
for every task type of every template, at the point of the programme where the task opens; what the schema cannot
state is listed in its description, and each such rule has its own test below.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis_jsonschema import from_schema

from devstack.sample_payloads import inspection_follow_up
from domain.form_schemas import CROSS_FIELD_RULES, answer_schema, rules_for
from domain.inspection import check_registration
from domain.network import RecordAttendance, ScheduleMeeting, attendance_events, schedule_events
from domain.payloads import InspectionDecision, TaskPayload
from domain.refusals import TaskRejected
from domain.rules import check_completion
from domain.state import MunicipalityState, TaskState
from domain.template import ProgrammeTemplate
from programmes import TEMPLATES
from tests.unit.conftest import PilotDriver


@dataclass(frozen=True)
class Moment:
    """A task as it stood open, in the pilot of one template, when its answer was due."""

    template: ProgrammeTemplate
    state: MunicipalityState
    task_key: str
    now: datetime

    @property
    def task(self) -> TaskState:
        return self.state.tasks[self.task_key]

    @property
    def model(self) -> type[TaskPayload]:
        return self.template.task(self.task.template_key).payload_model

    @property
    def schema(self) -> dict[str, Any]:
        return answer_schema(self.model, self.state, self.task, today=self.now.date())

    def accepts(self, answer: dict[str, Any]) -> TaskPayload:
        return check_completion(
            self.template, self.state, self.task_key, self.task.assignee_id, answer, today=self.now.date()
        )


class Recorder(PilotDriver):
    """Walks a pilot as the other unit tests do, keeping the first moment each kind of answer (and level) was due."""

    def __init__(self, template: ProgrammeTemplate) -> None:
        super().__init__(template)
        self.moments: dict[tuple[str, str | None], Moment] = {}

    def complete(self, task_key: str, payload: dict[str, Any] | None = None) -> list[Any]:
        task = self.state.tasks[task_key]
        template_task = self.template.task(task.template_key)
        if template_task.automation is None and payload is None:
            self.moments.setdefault(
                (template_task.payload_kind, task.level),
                Moment(self.template, self.state.model_copy(deep=True), task_key, self.now),
            )
        return super().complete(task_key, payload)


def network_moments(template: ProgrammeTemplate) -> list[Moment]:
    """A network meeting's contribution (asked before it) and reflection (asked after it, of a pilot that attended)."""
    driver = PilotDriver(template)
    driver.start()
    driver.advance()
    meeting, lead = "2024-10-15-natverk", "p-programledare"
    scheduled = ScheduleMeeting(
        meeting_id=meeting, title="Nätverksträff", held_at=driver.now + template.day_length * 30, actor_id=lead
    )
    driver.record(schedule_events(template, driver.state, scheduled, now=driver.now, new_id=driver.new_id))
    found = [Moment(template, driver.state.model_copy(deep=True), f"network_contribution@{meeting}", driver.now)]
    driver.now += template.day_length * 31
    attended = RecordAttendance(meeting_id=meeting, attended=True, attendee_ids=["p-forvaltningschef"], actor_id=lead)
    driver.record(attendance_events(template, driver.state, attended, now=driver.now, new_id=driver.new_id))
    found.append(Moment(template, driver.state.model_copy(deep=True), f"network_reflection@{meeting}", driver.now))
    return found


@functools.cache
def moments() -> list[Moment]:
    found = []
    for template in TEMPLATES.values():
        recorder = Recorder(template)
        recorder.start()
        recorder.advance()
        recorder.walk(step=timedelta(days=1) if template.in_real_time else timedelta(seconds=0.1))
        found += [*recorder.moments.values(), *network_moments(template)]
    return found


@functools.cache
def distinct_moments() -> list[Moment]:
    """One moment per distinct schema: templates that ask the same answer of the same pilot publish the same one."""
    distinct: dict[tuple[str, str], Moment] = {}
    for moment in moments():
        distinct.setdefault((moment.model.__name__, json.dumps(moment.schema, sort_keys=True)), moment)
    return list(distinct.values())


def moment_id(moment: Moment) -> str:
    return f"{moment.template.key}:{moment.task_key}"


@pytest.mark.parametrize("moment", distinct_moments(), ids=moment_id)
def test_answers_generated_from_the_published_schema_alone_are_accepted(moment: Moment) -> None:
    rules = rules_for(moment.model)

    @settings(
        max_examples=10,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.large_base_example],
        database=None,
    )
    @given(from_schema(moment.schema))
    def accepted(answer: dict[str, Any]) -> None:
        assume(all(rule.holds(answer, moment.now.date(), moment.state, moment.task) for rule in rules))
        moment.accepts(answer)

    accepted()


def test_every_kind_of_answer_of_every_template_is_covered() -> None:
    """The walk and a network meeting reach every task a participant answers, in every template."""
    for template in TEMPLATES.values():
        kinds = {t.payload_kind for t in template.tasks if t.automation is None}
        reached = {m.template.task(m.task.template_key).payload_kind for m in moments() if m.template is template}
        assert kinds | {"network_contribution", "network_reflection"} <= reached, template.key


def test_the_schema_states_the_pilots_own_values() -> None:
    by_kind = {m.template.task(m.task.template_key).payload_kind: m for m in moments()}
    assessment = next(m for m in moments() if m.task.template_key == "self_assessment" and m.task.level == "S")
    scores = assessment.schema["properties"]["scores"]
    assert assessment.schema["properties"]["level"]["const"] == "S"
    assert set(scores["required"]) == set(scores["properties"]) and scores["additionalProperties"] is False
    decision = by_kind["namnd_decision"]
    assert decision.schema["properties"]["organ"]["const"] == decision.state.deciding_organ


@pytest.mark.parametrize("rule", CROSS_FIELD_RULES, ids=lambda r: f"{r.payload.__name__}:{r.says[:30]}")
def test_each_rule_the_schema_cannot_state_is_in_its_description_and_refused_when_broken(rule: Any) -> None:
    moment = next(m for m in moments() if m.model is rule.payload)
    assert rule.says in moment.schema["description"]
    if rule.payload is InspectionDecision:  # a follow-up of a decision registered before: by registration
        driver = _driver_at(moment)
        original = driver.answer(moment.task_key)
        driver.register(original)
        follow_up = inspection_follow_up(original, driver.now.date())
        answer = follow_up | {"findings": [f | {"follows_up": 5} for f in follow_up["findings"]]}
        assert not rule.holds(answer, driver.now.date(), driver.state, moment.task)
        with pytest.raises(TaskRejected) as refused:
            check_registration(driver.state, "p-analytiker", answer, today=driver.now.date())
        assert refused.value.code == "invalid_payload" and "follows_up" in refused.value.message
        return
    answer = broken(rule.payload.__name__, moment)
    assert not rule.holds(answer, moment.now.date(), moment.state, moment.task)
    with pytest.raises(TaskRejected) as refused:
        moment.accepts(answer)
    assert refused.value.code == "invalid_payload"


def broken(kind: str, moment: Moment) -> dict[str, Any]:
    """A valid answer of the pilot's, changed to break the one rule of `kind` the schema cannot state."""
    answer = PilotDriver.answer(_driver_at(moment), moment.task_key)
    match kind:
        case "StrengthsWeaknesses":
            return {**answer, "prioritised_factors": ["SF8" if answer["weaknesses"][0]["factor"] != "SF8" else "SF7"]}
        case "NamndDecision":
            return {**answer, "meeting_date": (moment.now.date() + timedelta(days=3)).isoformat()}
        case "PlanRevision":
            later = (moment.now.date() + timedelta(days=3)).isoformat()
            return {**answer, "decision": {**answer["decision"], "meeting_date": later}}
        case "DecisionPosting":
            return {**answer, "anslag_date": "1999-01-01"}
        case "YearlyFollowUp":
            return {**answer, "corrections": {**answer.get("corrections", {}), "N99999": "en annan källa"}}
    raise AssertionError(kind)


def _driver_at(moment: Moment) -> PilotDriver:
    driver = PilotDriver(moment.template)
    driver.state, driver.now = moment.state.model_copy(deep=True), moment.now
    return driver
