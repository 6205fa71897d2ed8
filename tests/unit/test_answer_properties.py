"""Generated answers to every kind of task, at a moment its task is open: each is refused (TaskRejected, naming
what is wrong) or recorded, and everything the workflow then computes from it can be computed.

In the workflow an exception of any other kind, after an Update's validator accepted it, fails the workflow task
again and again: the pilot would be stuck. So every rule the workflow runs on an accepted answer runs here too:
the events of the completion, what opens next, the moments of the reminders, decisions becoming final, and the
round trip of each event through the record (JSON, as the event store keeps it, and back).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from devstack import sample_payloads
from domain.calendar import reminder_on_a_working_day
from domain.events import Event, TaskCompleted, event_from_record, event_record
from domain.follow_up import follow_up_prefill
from domain.inspection import check_registration, inspection_events
from domain.network import RecordAttendance, ScheduleMeeting, attendance_events, schedule_events
from domain.payloads import PAYLOAD_MODELS
from domain.refusals import TaskRejected, check_recordable
from domain.rules import (
    advance,
    check_completion,
    completion_events,
    finality_events,
    next_finality_at,
    next_year_starts_at,
)
from domain.state import MunicipalityState, fold
from domain.template import ProgrammeTemplate
from programmes import LFR_SKOLA, OREBRO
from tests.unit.conftest import PilotDriver, follow_up_figures

LEAD, CHEF = "p-programledare", "p-forvaltningschef"

EXAMPLES = 1000


@dataclass(frozen=True, repr=False)
class OpenMoment:
    """A pilot just before one of its tasks was completed in a walk through the whole programme."""

    template: ProgrammeTemplate
    state: MunicipalityState
    task_key: str
    now: datetime
    assignee: str

    def __repr__(self) -> str:
        return f"OpenMoment({self.template.key}, {self.task_key}, {self.now:%Y-%m-%d})"

    @property
    def kind(self) -> str:
        return self.template.task(self.state.tasks[self.task_key].template_key).payload_kind

    @property
    def automated(self) -> bool:
        return self.template.task(self.state.tasks[self.task_key].template_key).automation is not None

    def own_answer(self) -> dict[str, Any]:
        task = self.state.tasks[self.task_key]
        if self.kind == "follow_up_figures":
            assert task.year is not None
            return follow_up_figures(self.state, task.year)
        if self.automated:
            return KIND_SAMPLES["kpi_data_pack"](self.now.date())
        return sample_payloads.answer_for(
            task.template_key,
            self.now.date(),
            level=task.level,
            year=task.year,
            organ=self.state.deciding_organ,
            prefill=follow_up_prefill(self.state, self.task_key),
        )


KIND_SAMPLES: dict[str, Callable[[date], dict[str, Any]]] = {
    "kpi_data_pack": lambda today: {
        "kolada_base_url": "https://api.kolada.se/v3",
        "kpis": ["N15419"],
        "municipalities": ["1861"],
        "years": [today.year - 2],
        "observations": [],
    },
    "follow_up_figures": lambda today: {
        "kolada_base_url": "https://api.kolada.se/v3",
        "year": today.year - 1,
        "kpis": ["N15419"],
        "observations": [],
        "not_published": ["N15419"],
    },
    "self_assessment": lambda _: sample_payloads.self_assessment("F"),
    "strengths_weaknesses": lambda _: sample_payloads.strengths_weaknesses(),
    "plan_draft": lambda _: sample_payloads.plan_draft(),
    "namnd_decision": lambda today: sample_payloads.namnd_decision(today - timedelta(days=40), 41, "anmälan"),
    "yearly_follow_up": lambda today: sample_payloads.yearly_follow_up(today.year),
    "decision_posting": lambda today: sample_payloads.decision_posting(today - timedelta(days=40)),
    "plan_revision": lambda today: sample_payloads.plan_revision(today - timedelta(days=40), "Bildningsnämnden"),
    "document_collection": lambda _: sample_payloads.document_collection(),
    "interview_summary": lambda _: sample_payloads.interviews(),
    "consultation": lambda _: sample_payloads.consultation("HR"),
    "ska_analysis": lambda _: sample_payloads.ska_analysis(),
    "ska_planning": lambda _: sample_payloads.ska_planning(2),
    "measure_progress": lambda _: sample_payloads.measure_progress(),
    "change_project": lambda _: sample_payloads.change_project(),
    "funding_applications": lambda _: sample_payloads.funding_applications(),
    "inspection_decision": lambda today: sample_payloads.inspection_decision(today - timedelta(days=30)),
    "remediation_step": lambda _: sample_payloads.remediation_step(),
    "network_contribution": lambda _: sample_payloads.network_contribution(),
    "network_reflection": lambda _: sample_payloads.network_reflection(),
}

# --- generated answers: a sample of some kind with mutations, or any JSON object --------------------------

FIELD_NAMES = sorted({name for model in PAYLOAD_MODELS.values() for name in model.model_fields})
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "SF9", "SF1.a", "N1541", "P", "2025-02-30"]),
    st.builds(lambda: "x" * 5000),
    st.dates().map(date.isoformat),
    st.datetimes(timezones=st.sampled_from([None, UTC])).map(datetime.isoformat),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
steps = st.lists(st.integers(0, 20), max_size=4)
mutations = st.lists(
    st.tuples(steps, st.sampled_from(["replace", "drop", "extra", "empty"]), json_values)
    # Other text where there is text, another date where there is a date: mostly still a valid answer.
    | st.tuples(steps, st.just("retext"), st.text(min_size=1, max_size=30) | st.sampled_from(["\x00", "a\x00b"]))
    | st.tuples(steps, st.just("redate"), st.dates().map(date.isoformat)),
    max_size=3,
)


def mutate(value: Any, mutation: tuple[list[int], str, Any]) -> Any:
    """Apply one mutation where its steps lead (each step picks a key or an item, modulo their number)."""
    steps, operation, new = mutation
    if steps and isinstance(value, dict) and value:
        key = sorted(value)[steps[0] % len(value)]
        if len(steps) == 1 and operation == "drop":
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: mutate(value[key], (steps[1:], operation, new))}
    if steps and isinstance(value, list) and value:
        index = steps[0] % len(value)
        if len(steps) == 1 and operation == "drop":
            return value[:index] + value[index + 1 :]
        return [*value[:index], mutate(value[index], (steps[1:], operation, new)), *value[index + 1 :]]
    if operation == "retext":
        return new if isinstance(value, str) else value
    if operation == "redate":
        return new if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else value
    if operation == "extra" and isinstance(value, dict):
        return {**value, "unexpected": new}
    if operation == "empty":
        return type(value)() if isinstance(value, str | list | dict) else None
    return new


@st.composite
def answers(draw: st.DrawFn, moment: OpenMoment) -> dict[str, Any]:
    how = draw(st.sampled_from(["own", "own mutated", "other kind mutated", "any object"]))
    if how == "any object":
        return draw(st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=12), json_values, max_size=6))
    kind = moment.kind if how.startswith("own") else draw(st.sampled_from(sorted(KIND_SAMPLES)))
    value: Any = moment.own_answer() if how.startswith("own") else KIND_SAMPLES[kind](moment.now.date())
    for mutation in draw(mutations) if how != "own" else []:
        value = mutate(value, mutation)
    return value if isinstance(value, dict) else {"value": value}


# --- the moments, and what the workflow does with an accepted answer -------------------------------------


@pytest.fixture(scope="module")
def open_moments(walked_pilot: Callable[..., Any]) -> list[OpenMoment]:
    """For every task of the SKL and Örebro templates, the moment before its first instance was completed."""
    moments: dict[tuple[str, str], OpenMoment] = {}
    for template in (LFR_SKOLA, OREBRO):
        driver = walked_pilot(template)
        for index, completion in enumerate(driver.events):
            if not isinstance(completion, TaskCompleted):
                continue
            state = fold(driver.events[:index])
            task = state.tasks[completion.task_key]
            moments.setdefault(
                (template.key, task.template_key),
                OpenMoment(template, state, completion.task_key, completion.occurred_at, completion.completed_by),
            )
    # The network meetings' tasks open when a lead schedules a meeting and records who attended: in a pilot of its own.
    meeting = PilotDriver(LFR_SKOLA)
    meeting.start()
    meeting.advance()
    held_at = meeting.now + timedelta(days=20)
    schedule = ScheduleMeeting(meeting_id="natverk-1", title="Nätverksträff 1", held_at=held_at, actor_id=LEAD)
    meeting.record(schedule_events(LFR_SKOLA, meeting.state, schedule, now=meeting.now, new_id=meeting.new_id))
    moments[LFR_SKOLA.key, "network_contribution"] = OpenMoment(
        LFR_SKOLA, meeting.state, "network_contribution@natverk-1", meeting.now, CHEF
    )
    meeting.now = held_at + timedelta(hours=3)
    attendance = RecordAttendance(meeting_id="natverk-1", attended=True, attendee_ids=[CHEF], actor_id=LEAD)
    meeting.record(attendance_events(LFR_SKOLA, meeting.state, attendance, now=meeting.now, new_id=meeting.new_id))
    moments[LFR_SKOLA.key, "network_reflection"] = OpenMoment(
        LFR_SKOLA, meeting.state, "network_reflection@natverk-1", meeting.now, CHEF
    )
    return list(moments.values())


def assert_clear(rejection: TaskRejected) -> None:
    assert rejection.code and rejection.message.strip(), rejection
    if rejection.code == "invalid_payload":
        assert ": " in rejection.message.split("invalid payload: ", 1)[-1], rejection.message


def follow_through(template: ProgrammeTemplate, state: MunicipalityState, events: list[Event], now: datetime) -> None:
    """What the workflow does once an answer is recorded: it must not raise."""
    new_id = uuid.uuid4
    state = fold(events, state)
    opened = advance(template, state, now=now, new_id=new_id)
    state = fold(opened, state)
    for recorded in [*events, *opened]:
        event_type, schema_version, data = event_record(recorded)
        check_recordable(data)
        stored = json.loads(json.dumps(data))
        assert event_from_record(event_type, recorded.event_id, schema_version, stored) == recorded
    for task in state.open_tasks():
        task_template = template.task(task.template_key)
        if task.due_at is None:
            continue
        for before in task_template.reminders_before_due:
            reminder_on_a_working_day(task.due_at - before, state.calendar)
    next_year_starts_at(template, state)
    if (finality := next_finality_at(template, state)) is not None:
        fold(finality_events(template, state, now=max(now, finality), new_id=new_id), state)


def test_every_payload_kind_has_an_open_moment_and_a_sample(open_moments: list[OpenMoment]) -> None:
    assert {m.kind for m in open_moments} == set(PAYLOAD_MODELS) == set(KIND_SAMPLES)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_an_answer_to_any_task_is_refused_with_a_reason_or_recorded_and_followed_through(
    open_moments: list[OpenMoment], data: st.DataObject
) -> None:
    moment = data.draw(st.sampled_from(open_moments), label="moment")
    payload = data.draw(answers(moment), label="payload")
    try:
        validated = check_completion(
            moment.template,
            moment.state,
            moment.task_key,
            moment.assignee,
            payload,
            by_system=moment.automated,
            today=moment.now.date(),
        )
    except TaskRejected as rejection:
        assert_clear(rejection)
        event(f"refused: {rejection.code}")
        return
    event(f"recorded: {moment.kind}")
    events = completion_events(
        moment.template,
        moment.task_key,
        moment.assignee,
        validated,
        now=moment.now,
        new_id=uuid.uuid4,
        state=moment.state,
    )
    follow_through(moment.template, moment.state, events, moment.now)


@settings(max_examples=EXAMPLES // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_inspection_decision_is_refused_with_a_reason_or_recorded_and_followed_through(
    open_moments: list[OpenMoment], data: st.DataObject
) -> None:
    moment = data.draw(st.sampled_from(open_moments), label="moment")
    base = KIND_SAMPLES["inspection_decision"](moment.now.date())
    if data.draw(st.booleans(), label="follow-up") and moment.state.inspections:
        base = sample_payloads.inspection_follow_up(
            next(iter(moment.state.inspections.values())).decision, moment.now.date()
        )
    for mutation in data.draw(mutations, label="mutations"):
        base = mutate(base, mutation)
    decision = base if isinstance(base, dict) else {"value": base}
    try:
        validated = check_registration(moment.state, "p-analytiker", decision, today=moment.now.date())
    except TaskRejected as rejection:
        assert_clear(rejection)
        event(f"refused: {rejection.code}")
        return
    event("recorded")
    events = inspection_events(
        moment.template, moment.state, validated, "p-analytiker", now=moment.now, new_id=uuid.uuid4
    )
    follow_through(moment.template, moment.state, events, moment.now)


def test_a_nämnd_decision_whose_dates_cannot_be_reckoned_is_refused_naming_the_meeting_date(
    open_moments: list[OpenMoment],
) -> None:
    """Holidays, and so the justering's latest date, are reckoned from 1953 on: a meeting before that (a typo
    such as 1024 for 2024) used to pass the check and then fail in completion_events, in the workflow."""
    moment = next(m for m in open_moments if m.kind == "namnd_decision")
    answer = {**moment.own_answer(), "meeting_date": "1024-03-12"}
    with pytest.raises(TaskRejected) as refused:
        check_completion(
            moment.template, moment.state, moment.task_key, moment.assignee, answer, today=moment.now.date()
        )
    assert "invalid payload: meeting_date: " in refused.value.message


def test_text_with_a_nul_character_is_refused_naming_its_field(open_moments: list[OpenMoment]) -> None:
    moment = next(m for m in open_moments if m.kind == "document_collection")
    answer = moment.own_answer()
    answer["documents"][0]["reference"] = "BN/2025:\x0012"
    with pytest.raises(TaskRejected) as refused:
        check_completion(
            moment.template, moment.state, moment.task_key, moment.assignee, answer, today=moment.now.date()
        )
    assert "invalid payload: documents.0.reference: text may not hold the NUL character" in refused.value.message


def test_an_inspection_decision_whose_diarienummer_breaks_a_line_is_refused(open_moments: list[OpenMoment]) -> None:
    """The diarienummer names the remediation tasks, and so the subject of their mail: a line break there made
    every such mail fail, and Temporal retry it for ever."""
    moment = open_moments[0]
    decision = {**KIND_SAMPLES["inspection_decision"](moment.now.date()), "diarienummer": "SI-2024:1\nBcc: x@y"}
    with pytest.raises(TaskRejected) as refused:
        check_registration(moment.state, "p-analytiker", decision, today=moment.now.date())
    assert "invalid payload: diarienummer: " in refused.value.message
