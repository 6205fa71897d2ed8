"""ProgrammeTemplate and TaskTemplate validation, and the two templates Leda ships."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from domain.phases import MAIN_TRACK, Phase
from domain.programmes import DEMO, LFR_SKOLA, TEMPLATES, template
from domain.roles import Role
from domain.template import ProgrammeTemplate, TaskTemplate

DAY = timedelta(days=1)


def task(key: str, phase: Phase = Phase.DEEP_ANALYSIS, **fields: Any) -> dict[str, Any]:
    return {
        "key": key,
        "title_sv": key,
        "title_en": key,
        "phase": phase,
        "owner_role": Role.FORVALTNINGSCHEF,
        "payload_kind": "namnd_decision",
    } | fields


def one_per_main_phase() -> list[dict[str, Any]]:
    return [task("analysis"), task("plan", Phase.DEVELOPMENT_PLAN), task("follow_up", Phase.IMPLEMENTATION)]


def programme(*tasks: dict[str, Any]) -> ProgrammeTemplate:
    return ProgrammeTemplate(key="test-programme", title_sv="Test", title_en="Test", tasks=tasks)


def test_a_template_with_a_task_in_every_main_phase_is_accepted():
    assert len(programme(*one_per_main_phase()).tasks) == 3


def test_repeated_task_keys_are_refused_naming_the_key():
    with pytest.raises(ValidationError, match=r"task keys must be unique; repeated: \['plan'\]"):
        programme(*one_per_main_phase(), task("plan", Phase.DEVELOPMENT_PLAN))


def test_a_dependency_on_an_unknown_task_is_refused_naming_both():
    with pytest.raises(ValidationError, match=r"task plan depends on unknown tasks \['analyss'\]"):
        programme(
            task("analysis"),
            task("plan", Phase.DEVELOPMENT_PLAN, depends_on=("analyss",)),
            task("follow_up", Phase.IMPLEMENTATION),
        )


def test_a_dependency_cycle_is_refused_naming_the_tasks_in_it():
    with pytest.raises(ValidationError, match="in a cycle: draft -> review -> draft"):
        programme(
            *one_per_main_phase(),
            task("draft", Phase.DEVELOPMENT_PLAN, depends_on=("review",)),
            task("review", Phase.DEVELOPMENT_PLAN, depends_on=("draft",)),
        )


def test_a_task_that_depends_on_itself_is_refused():
    with pytest.raises(ValidationError, match="in a cycle: plan -> plan"):
        programme(
            task("analysis"),
            task("plan", Phase.DEVELOPMENT_PLAN, depends_on=("plan",)),
            task("follow_up", Phase.IMPLEMENTATION),
        )


def test_a_main_phase_without_tasks_is_refused_naming_the_phase():
    with pytest.raises(ValidationError, match="phase genomforande has no tasks"):
        programme(task("analysis"), task("plan", Phase.DEVELOPMENT_PLAN))


def test_reminders_without_a_deadline_are_refused_naming_the_task():
    with pytest.raises(ValidationError, match="task plan: reminders and escalation need a deadline"):
        TaskTemplate(**task("plan", reminders_before_due=(DAY,)))


def test_escalation_without_a_deadline_is_refused_naming_the_task():
    with pytest.raises(ValidationError, match="task plan: reminders and escalation need a deadline"):
        TaskTemplate(**task("plan", escalate_after_due=DAY))


def test_a_reminder_before_the_task_opens_is_refused_naming_the_task():
    with pytest.raises(ValidationError, match="task plan: a reminder falls before the task opens"):
        TaskTemplate(**task("plan", due_after=7 * DAY, reminders_before_due=(8 * DAY,)))


def test_a_reminder_on_the_day_the_task_opens_is_accepted():
    assert TaskTemplate(**task("plan", due_after=7 * DAY, reminders_before_due=(7 * DAY, 0 * DAY))).due_after == 7 * DAY


def test_a_refused_task_is_refused_inside_a_programme_too():
    with pytest.raises(ValidationError, match="task plan: reminders and escalation need a deadline"):
        programme(
            task("analysis"),
            task("plan", Phase.DEVELOPMENT_PLAN, reminders_before_due=(DAY,)),
            task("follow_up", Phase.IMPLEMENTATION),
        )


def test_an_unknown_payload_kind_is_refused_naming_the_task():
    with pytest.raises(ValidationError, match="task plan: unknown payload_kind 'budget'"):
        TaskTemplate(**task("plan", payload_kind="budget"))


def test_a_task_key_must_be_a_lowercase_identifier():
    with pytest.raises(ValidationError, match="key"):
        TaskTemplate(**task("Plan-Draft"))


# the shipped templates


@pytest.mark.parametrize("shipped", [LFR_SKOLA, DEMO], ids=lambda t: t.key)
def test_a_shipped_template_has_tasks_in_every_main_phase(shipped):
    assert all(shipped.tasks_in(phase) for phase in MAIN_TRACK)


def test_the_demo_runs_the_same_task_graph_as_the_real_template():
    def graph(t: ProgrammeTemplate) -> list[tuple[str, Phase, Role, tuple[str, ...]]]:
        return [(x.key, x.phase, x.owner_role, x.depends_on) for x in t.tasks]

    assert graph(DEMO) == graph(LFR_SKOLA)


def test_the_demo_turns_days_into_quarter_seconds():
    assert DEMO.task("self_assessment").due_after == timedelta(seconds=21 * 0.25)
    assert LFR_SKOLA.task("self_assessment").due_after == timedelta(days=21)


def test_the_roles_needed_are_the_task_owners_and_the_programme_lead():
    assert LFR_SKOLA.roles_needed() == {
        Role.PROGRAMLEDARE,
        Role.ANALYTIKER,
        Role.FORVALTNINGSCHEF,
        Role.NAMNDSEKRETERARE,
    }


def test_looking_up_a_task_that_is_not_in_the_template_raises_key_error():
    with pytest.raises(KeyError):
        LFR_SKOLA.task("budget_review")


def test_templates_are_found_by_key():
    assert template("demo") is DEMO
    assert set(TEMPLATES) == {"lfr-skola", "demo"}


def test_an_unknown_template_key_is_refused_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown programme template 'skola'; known: \['demo', 'lfr-skola'\]"):
        template("skola")


def test_a_dependency_on_a_task_of_a_later_main_phase_is_refused_naming_the_task():
    # `analysis` could only open after `plan`, but `plan` opens only once the deep analysis is completed.
    with pytest.raises(ValidationError, match="analysis"):
        programme(
            task("analysis", depends_on=("plan",)),
            task("plan", Phase.DEVELOPMENT_PLAN),
            task("follow_up", Phase.IMPLEMENTATION),
        )
