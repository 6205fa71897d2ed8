"""`domain.instances`: which concrete instances each kind of repeating task becomes, and who gets each."""

from __future__ import annotations

import pytest

from devstack.sample_payloads import answer_for
from domain.instances import (
    CHANGE_PROJECT_ROLES,
    LEVEL_ROLES,
    all_done,
    instance_title,
    instances_of,
    template_key_of,
)
from domain.roles import Role
from domain.rulebook import FIRST_EDITION
from domain.state import MunicipalityState
from domain.template import Repeat
from programmes import LFR_SKOLA


def keys_and_assignees(instances) -> list[tuple[str, str]]:
    return [(i.key, i.assignee_id) for i in instances]


def to_implementation(pilot, plan: dict | None = None) -> None:
    """Deep analysis and plan (the synthetic one unless `plan` is given), up to implementation year 1."""
    pilot.complete_all(
        "kpi_data_pack", "document_collection", "self_assessment", "strengths_weaknesses", "analysis_reported"
    )
    pilot.complete("plan_draft", plan)
    pilot.complete_all("consult_hr", "consult_finance", "plan_adoption")


def two_goal_plan(today) -> dict:
    plan = answer_for("plan_draft", today)
    first = plan["goals"][0]
    plan["goals"] = [
        first | {"measures": ["Resultatdialoger", "Gemensam analysmodell"]},
        first | {"addresses_factor": "SF7", "measures": ["Tidiga insatser i åk 4–6"], "owner_role": "rektor"},
    ]
    return plan


def test_the_shipped_template_repeats_its_tasks_as_the_programme_does():
    repeats = {t.key: t.repeat for t in LFR_SKOLA.tasks if t.repeat is not Repeat.ONCE}

    assert repeats == {
        "self_assessment": Repeat.PER_LEVEL,
        "follow_up_figures": Repeat.PER_YEAR,
        "ska_follow_up": Repeat.PER_YEAR,
        "ska_analysis": Repeat.PER_YEAR,
        "ska_planning": Repeat.PER_YEAR,
        "measure_progress": Repeat.PER_MEASURE,
        "change_project": Repeat.PER_CHANGE_PROJECT,
        "funding_application": Repeat.PER_YEAR,
        "plan_revision": Repeat.PER_YEAR,
        "annual_report": Repeat.PER_YEAR,
        "remediation": Repeat.PER_FINDING,
        "decision_posted": Repeat.PER_DECISION,
    }


# once


def test_a_once_task_has_one_instance_under_its_own_key_for_its_owner(pilot):
    [instance] = instances_of(LFR_SKOLA.task("document_collection"), pilot.state)

    assert (instance.key, instance.template_key, instance.assignee_id) == (
        "document_collection",
        "document_collection",
        "p-forvaltningschef",
    )
    assert (instance.level, instance.year, instance.subject) == (None, None, None)


def test_a_role_without_participant_falls_back_to_the_programme_lead():
    state = MunicipalityState(participants={Role.PROGRAMLEDARE: ["p-lead"], Role.ANALYTIKER: ["p-analys"]})

    assert state.primary(Role.ANALYTIKER) == "p-analys"
    assert state.primary(Role.FORVALTNINGSCHEF) == "p-lead"
    [instance] = instances_of(LFR_SKOLA.task("document_collection"), state)
    assert instance.assignee_id == "p-lead"


# per level


def test_the_levels_are_politics_administration_principals_and_support_functions():
    assert LEVEL_ROLES == {"P": Role.POLITIKER, "F": Role.FORVALTNINGSCHEF, "R": Role.REKTOR, "S": Role.HR}


def test_a_per_level_task_has_an_instance_for_every_holder_of_the_levels_roles(pilot):
    instances = instances_of(LFR_SKOLA.task("self_assessment"), pilot.state)

    assert keys_and_assignees(instances) == [
        ("self_assessment@P", "p-politiker"),
        ("self_assessment@F", "p-forvaltningschef"),
        ("self_assessment@R", "p-rektor"),
        ("self_assessment@S", "p-hr"),
        ("self_assessment@S/p-ekonomi", "p-ekonomi"),
    ]
    assert [i.level for i in instances] == ["P", "F", "R", "S", "S"]
    assert {i.template_key for i in instances} == {"self_assessment"}


def test_on_the_first_edition_of_the_rules_a_per_level_task_has_one_instance_per_level(pilot):
    instances = instances_of(LFR_SKOLA.task("self_assessment"), pilot.state, rules=FIRST_EDITION)

    assert keys_and_assignees(instances) == [
        ("self_assessment@P", "p-politiker"),
        ("self_assessment@F", "p-forvaltningschef"),
        ("self_assessment@R", "p-rektor"),
        ("self_assessment@S", "p-hr"),
    ]


def test_every_rektor_assesses_their_own_school_unit(driver, participants):
    participants[Role.REKTOR] = ["p-rektor-1", "p-rektor-2", "p-rektor-3"]
    driver.start(participants)
    driver.advance()

    rektors = [(t.key, t.assignee_id) for t in driver.state.open_tasks() if t.level == "R"]
    assert rektors == [
        ("self_assessment@R", "p-rektor-1"),
        ("self_assessment@R/p-rektor-2", "p-rektor-2"),
        ("self_assessment@R/p-rektor-3", "p-rektor-3"),
    ]


def test_an_assessment_handed_to_someone_else_is_still_the_one_it_opened_for(driver, participants):
    participants[Role.REKTOR] = ["p-rektor-1", "p-rektor-2"]
    driver.start(participants)
    driver.advance()
    driver.state.tasks["self_assessment@R"].assignee_id = "p-stand-in"  # as a stand-in would hold it

    keys = [i.key for i in instances_of(LFR_SKOLA.task("self_assessment"), driver.state) if i.level == "R"]

    assert keys == ["self_assessment@R", "self_assessment@R/p-rektor-2"]


def test_a_level_goes_to_the_first_participant_of_its_role(driver, participants):
    participants[Role.REKTOR] = ["p-rektor-1", "p-rektor-2"]
    driver.start(participants)
    driver.advance()

    assert driver.state.tasks["self_assessment@R"].assignee_id == "p-rektor-1"
    assert driver.state.tasks["self_assessment@R/p-rektor-2"].assignee_id == "p-rektor-2"


def test_a_pilot_without_a_participant_for_an_assessment_level_is_refused_at_the_start(driver, participants):
    # Every level assesses itself: a pilot with no politiker would silently lose the politicians' view.
    del participants[Role.POLITIKER]
    with pytest.raises(ValueError, match="politiker"):
        driver.start(participants)


# per year


def test_a_yearly_task_has_no_instance_before_the_implementation(pilot):
    assert instances_of(LFR_SKOLA.task("ska_follow_up"), pilot.state) == []


def test_a_per_year_task_has_one_instance_in_the_current_year_for_its_owner(implementing):
    [instance] = instances_of(LFR_SKOLA.task("ska_follow_up"), implementing.state)

    assert (instance.key, instance.assignee_id, instance.year) == ("ska_follow_up@y1", "p-analytiker", 1)
    assert implementing.state.tasks["ska_follow_up@y1"].year == 1


def test_a_yearly_task_can_be_asked_for_another_year(implementing):
    [instance] = instances_of(LFR_SKOLA.task("annual_report"), implementing.state, year=3)

    assert (instance.key, instance.assignee_id, instance.year) == ("annual_report@y3", "p-namndsekreterare", 3)


def test_the_next_year_gets_instances_of_its_own(implementing):
    implementing.next_year()

    assert implementing.state.implementation_year == 2
    assert implementing.state.tasks["ska_follow_up@y2"].year == 2
    assert implementing.state.tasks["ska_follow_up@y1"].year == 1


# per measure


def test_a_per_measure_task_has_one_instance_per_measure_of_the_plan(implementing):
    [instance] = instances_of(LFR_SKOLA.task("measure_progress"), implementing.state)

    # the synthetic plan has one goal with one measure, owned by the förvaltningschef
    assert (instance.key, instance.assignee_id, instance.year, instance.subject) == (
        "measure_progress@y1/M1.1",
        "p-forvaltningschef",
        1,
        "M1.1",
    )


def test_measures_are_numbered_per_goal_and_go_to_the_goals_owner(pilot):
    to_implementation(pilot, two_goal_plan(pilot.now.date()))

    assert [(m.id, m.owner_role, m.goal_index) for m in pilot.state.plan_measures()] == [
        ("M1.1", Role.FORVALTNINGSCHEF, 0),
        ("M1.2", Role.FORVALTNINGSCHEF, 0),
        ("M2.1", Role.REKTOR, 1),
    ]
    assert keys_and_assignees(instances_of(LFR_SKOLA.task("measure_progress"), pilot.state)) == [
        ("measure_progress@y1/M1.1", "p-forvaltningschef"),
        ("measure_progress@y1/M1.2", "p-forvaltningschef"),
        ("measure_progress@y1/M2.1", "p-rektor"),
    ]
    assert pilot.state.tasks["measure_progress@y1/M2.1"].subject == "M2.1"


def test_every_measure_is_followed_again_each_year(pilot):
    to_implementation(pilot, two_goal_plan(pilot.now.date()))

    pilot.next_year()

    assert [t.key for t in pilot.state.open_tasks() if t.template_key == "measure_progress" and t.year == 2] == [
        "measure_progress@y2/M1.1",
        "measure_progress@y2/M1.2",
        "measure_progress@y2/M2.1",
    ]


# per change project


def test_each_programme_participant_runs_a_change_project():
    assert CHANGE_PROJECT_ROLES == (Role.POLITIKER, Role.FORVALTNINGSCHEF, Role.REKTOR, Role.HR, Role.EKONOMI)


def test_a_per_change_project_task_has_one_instance_per_participant_for_that_participant(driver, participants):
    participants[Role.REKTOR] = ["p-rektor-1", "p-rektor-2"]
    driver.start(participants)
    driver.advance()
    to_implementation(driver)

    instances = instances_of(LFR_SKOLA.task("change_project"), driver.state)

    assert keys_and_assignees(instances) == [
        ("change_project@y1/p-politiker", "p-politiker"),
        ("change_project@y1/p-forvaltningschef", "p-forvaltningschef"),
        ("change_project@y1/p-rektor-1", "p-rektor-1"),
        ("change_project@y1/p-rektor-2", "p-rektor-2"),
        ("change_project@y1/p-hr", "p-hr"),
        ("change_project@y1/p-ekonomi", "p-ekonomi"),
    ]
    assert [i.subject for i in instances] == [i.assignee_id for i in instances]
    assert {i.year for i in instances} == {1}


def test_participants_outside_the_programme_roles_run_no_change_project(implementing):
    assignees = {i.assignee_id for i in instances_of(LFR_SKOLA.task("change_project"), implementing.state)}

    assert assignees.isdisjoint({"p-analytiker", "p-namndsekreterare", "p-programledare"})


# all_done, template_key_of, instance_title


def test_all_done_needs_every_instance(pilot):
    assessment = LFR_SKOLA.task("self_assessment")
    pilot.complete_all("self_assessment@P", "self_assessment@F", "self_assessment@R", "self_assessment@S")

    assert not all_done(assessment, pilot.state)
    pilot.complete("self_assessment@S/p-ekonomi")
    assert all_done(assessment, pilot.state)


def test_all_done_of_a_yearly_task_looks_at_the_year_asked_for(implementing):
    follow_up = LFR_SKOLA.task("ska_follow_up")
    implementing.complete("ska_follow_up@y1")
    implementing.next_year()

    assert all_done(follow_up, implementing.state, year=1)
    assert not all_done(follow_up, implementing.state)  # the current year, 2


def test_the_template_key_of_an_instance_is_the_part_before_the_at_sign():
    assert template_key_of("self_assessment@P") == "self_assessment"
    assert template_key_of("measure_progress@y2/M1.1") == "measure_progress"
    assert template_key_of("plan_draft") == "plan_draft"


def test_an_instance_title_names_its_level():
    assert instance_title("Självskattning", level="F", year=None, subject=None) == "Självskattning (förvaltning)"
    assert (
        instance_title("Self-assessment", level="S", year=None, subject=None, english=True)
        == "Self-assessment (support functions)"
    )


def test_an_instance_title_names_its_year_and_subject():
    assert instance_title("Åtgärd", level=None, year=2, subject="M1.1") == "Åtgärd (år 2, M1.1)"
    assert instance_title("Measure", level=None, year=2, subject="M1.1", english=True) == "Measure (year 2, M1.1)"


def test_a_once_task_keeps_its_title():
    assert instance_title("Utkast", level=None, year=None, subject=None) == "Utkast"
