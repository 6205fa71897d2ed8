"""ProgrammeTemplate and TaskTemplate validation, the TOML loader, and the templates Leda ships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import programmes
from domain.phases import MAIN_TRACK, Phase
from domain.roles import Role
from domain.rules import start_events
from domain.state import TaskStatus
from domain.template import ProgrammeTemplate, Repeat, TaskTemplate
from programmes import DEMO, LFR_SKOLA, OREBRO, TEMPLATES, TemplateError, parse_template, template

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


def toml_task(key: str, phase: str = "djupanalys", **fields: Any) -> dict[str, Any]:
    """A task as a template file spells it: plain strings, durations in days."""
    return {
        "key": key,
        "title_sv": key,
        "title_en": key,
        "phase": phase,
        "owner_role": "forvaltningschef",
        "payload_kind": "namnd_decision",
    } | fields


def toml_data(**header: Any) -> dict[str, Any]:
    return {
        "key": "test-programme",
        "title_sv": "Test",
        "title_en": "Test",
        "tasks": [
            toml_task("analysis", due_days=10, reminder_days_before_due=[3], escalate_days_after_due=2),
            toml_task("plan", "skolutvecklingsplan"),
            toml_task("follow_up", "genomforande", repeat="per_year", due_days=30),
        ],
    } | header


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


def test_a_negative_deadline_is_refused_naming_the_task():
    with pytest.raises(ValidationError, match="task plan: deadlines, reminders and escalation cannot be negative"):
        TaskTemplate(**task("plan", due_after=-DAY))


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


def test_a_dependency_on_a_task_of_a_later_main_phase_is_refused_naming_the_task():
    # `analysis` could only open after `plan`, but `plan` opens only once the deep analysis is completed.
    with pytest.raises(ValidationError, match="analysis"):
        programme(
            task("analysis", depends_on=("plan",)),
            task("plan", Phase.DEVELOPMENT_PLAN),
            task("follow_up", Phase.IMPLEMENTATION),
        )


# repeat


def test_a_task_happens_once_unless_it_says_otherwise():
    assert TaskTemplate(**task("plan")).repeat is Repeat.ONCE


@pytest.mark.parametrize("repeat", [Repeat.PER_YEAR, Repeat.PER_MEASURE, Repeat.PER_CHANGE_PROJECT])
def test_a_yearly_repeat_outside_the_implementation_is_refused_naming_the_task(repeat):
    with pytest.raises(ValidationError, match=rf"task plan: only implementation tasks repeat every year \({repeat}\)"):
        TaskTemplate(**task("plan", Phase.DEVELOPMENT_PLAN, repeat=repeat))


@pytest.mark.parametrize("repeat", [Repeat.PER_YEAR, Repeat.PER_MEASURE, Repeat.PER_CHANGE_PROJECT])
def test_a_yearly_repeat_in_the_implementation_is_accepted(repeat):
    assert TaskTemplate(**task("follow_up", Phase.IMPLEMENTATION, repeat=repeat)).repeat is repeat


def test_a_per_level_task_may_be_part_of_the_deep_analysis():
    assert TaskTemplate(**task("assessment", repeat=Repeat.PER_LEVEL)).repeat is Repeat.PER_LEVEL


def test_an_implementation_year_lasts_365_days_unless_the_template_says_otherwise():
    assert programme(*one_per_main_phase()).year_length == 365 * DAY


# the shipped templates


@pytest.mark.parametrize("shipped", list(TEMPLATES.values()), ids=lambda t: t.key)
def test_a_shipped_template_has_tasks_in_every_main_phase(shipped):
    assert all(shipped.tasks_in(phase) for phase in MAIN_TRACK)


@pytest.mark.parametrize("shipped", list(TEMPLATES.values()), ids=lambda t: t.key)
def test_a_shipped_template_repeats_yearly_only_in_the_implementation(shipped):
    yearly = {Repeat.PER_YEAR, Repeat.PER_MEASURE, Repeat.PER_CHANGE_PROJECT}

    assert {t.phase for t in shipped.tasks if t.repeat in yearly} == {Phase.IMPLEMENTATION}


def test_the_skl_template_runs_its_deep_analysis_and_plan_as_the_programme_does():
    assert [(t.key, t.depends_on) for t in LFR_SKOLA.tasks_in(Phase.DEEP_ANALYSIS)] == [
        ("kpi_data_pack", ()),
        ("document_collection", ()),
        ("self_assessment", ()),
        ("strengths_weaknesses", ("kpi_data_pack", "document_collection", "self_assessment")),
        ("analysis_reported", ("strengths_weaknesses",)),
    ]
    assert [(t.key, t.depends_on) for t in LFR_SKOLA.tasks_in(Phase.DEVELOPMENT_PLAN)] == [
        ("plan_draft", ()),
        ("consult_hr", ("plan_draft",)),
        ("consult_finance", ("plan_draft",)),
        ("plan_adoption", ("consult_hr", "consult_finance")),
    ]
    assert LFR_SKOLA.task("self_assessment").repeat is Repeat.PER_LEVEL


def test_the_skl_templates_implementation_is_a_yearly_ska_cycle():
    implementation = {t.key: t for t in LFR_SKOLA.tasks_in(Phase.IMPLEMENTATION)}

    assert {"ska_follow_up", "ska_analysis", "ska_planning", "measure_progress", "change_project"} <= set(
        implementation
    )
    assert {"funding_application", "annual_report"} <= set(implementation)
    assert implementation["ska_analysis"].depends_on == ("ska_follow_up",)
    assert implementation["ska_planning"].depends_on == ("ska_analysis",)
    assert implementation["measure_progress"].repeat is Repeat.PER_MEASURE
    assert implementation["change_project"].repeat is Repeat.PER_CHANGE_PROJECT


def test_the_skl_template_registers_the_inspection_decision_on_its_own_track():
    assert LFR_SKOLA.task("inspection_decision").phase is Phase.INSPECTION_COMPARISON


def test_the_demo_runs_the_same_task_graph_as_the_real_template():
    def graph(t: ProgrammeTemplate) -> list[tuple[str, Phase, Role, Repeat, tuple[str, ...]]]:
        return [(x.key, x.phase, x.owner_role, x.repeat, x.depends_on) for x in t.tasks]

    assert graph(DEMO) == graph(LFR_SKOLA)


def test_the_demo_turns_days_into_tenths_of_a_second():
    assert DEMO.task("self_assessment").due_after == timedelta(seconds=21 * 0.1)
    assert DEMO.task("self_assessment").reminders_before_due == (timedelta(seconds=0.7), timedelta(seconds=0.1))
    assert LFR_SKOLA.task("self_assessment").due_after == timedelta(days=21)


def test_the_demo_year_lasts_six_seconds():
    assert DEMO.year_length == timedelta(seconds=6)
    assert LFR_SKOLA.year_length == timedelta(days=365)


def test_the_roles_needed_are_the_task_owners_the_programme_lead_and_every_assessment_level():
    assert LFR_SKOLA.roles_needed() == {
        Role.PROGRAMLEDARE,
        Role.POLITIKER,
        Role.ANALYTIKER,
        Role.FORVALTNINGSCHEF,
        Role.NAMNDSEKRETERARE,
        Role.HR,
        Role.EKONOMI,
        Role.REKTOR,
    }


def test_looking_up_a_task_that_is_not_in_the_template_raises_key_error():
    with pytest.raises(KeyError):
        LFR_SKOLA.task("budget_review")


def test_templates_are_found_by_key():
    assert template("demo") is DEMO
    assert template("orebro-skolkommun") is OREBRO
    assert set(TEMPLATES) == {"lfr-skola", "demo", "orebro-skolkommun"}


def test_an_unknown_template_key_is_refused_listing_the_known_ones():
    with pytest.raises(
        TemplateError, match=r"unknown programme template 'skola'; known: \['demo', 'lfr-skola', 'orebro-skolkommun'\]"
    ):
        template("skola")


def test_a_template_error_is_a_value_error():
    assert issubclass(TemplateError, ValueError)


# Örebro


def test_the_orebro_template_loads_with_its_own_key_and_year():
    assert OREBRO.key == "orebro-skolkommun"
    assert OREBRO.year_length == timedelta(days=365)
    assert all(OREBRO.tasks_in(phase) for phase in MAIN_TRACK)


def test_the_orebro_template_needs_the_regional_school_support_group():
    assert Role.REGIONAL_SKOLSTODSGRUPP in OREBRO.roles_needed()
    assert Role.REGIONAL_SKOLSTODSGRUPP not in LFR_SKOLA.roles_needed()
    assert OREBRO.task("regional_funding_application").owner_role is Role.REGIONAL_SKOLSTODSGRUPP


def test_the_orebro_deep_analysis_interviews_and_waits_for_the_interviews():
    assert OREBRO.task("interviews").payload_kind == "interview_summary"
    assert "interviews" in OREBRO.task("strengths_weaknesses").depends_on


def test_an_orebro_pilot_walks_to_completion_with_the_regional_group_doing_its_part(walked_pilot):
    walked = walked_pilot(OREBRO)

    assert walked.state.completed_at is not None
    group = walked.state.participants[Role.REGIONAL_SKOLSTODSGRUPP][0]
    assert walked.state.tasks["regional_funding_application"].completed_by == group
    assert walked.state.tasks["interviews"].status is TaskStatus.COMPLETED


def test_an_orebro_pilot_without_the_regional_group_is_refused(participants, new_id):
    del participants[Role.REGIONAL_SKOLSTODSGRUPP]

    with pytest.raises(ValueError, match=r"no participant for the roles \['regional_skolstodsgrupp'\]"):
        start_events(
            programme="skolkommunsatsning",
            kommunkod="1880",
            municipality_name="Örebro",
            deciding_organ="Förskole- och grundskolenämnden",
            template=OREBRO,
            participants=participants,
            now=datetime(2014, 9, 1, 8, 0, tzinfo=UTC),
            new_id=new_id,
        )


# parse_template


def test_parse_template_turns_days_into_durations():
    parsed = parse_template(toml_data(day_seconds=3600, year_days=10))

    analysis = parsed.task("analysis")
    assert analysis.due_after == timedelta(hours=10)
    assert analysis.reminders_before_due == (timedelta(hours=3),)
    assert analysis.escalate_after_due == timedelta(hours=2)
    assert parsed.year_length == timedelta(hours=10)


def test_parse_template_counts_whole_days_by_default():
    parsed = parse_template(toml_data())

    assert parsed.task("analysis").due_after == 10 * DAY
    assert parsed.year_length == 365 * DAY


def test_a_template_error_names_the_file_and_the_task_field():
    data = toml_data()
    data["tasks"][1]["owner_role"] = "vaktmastare"

    with pytest.raises(TemplateError, match=r"^broken\.toml: tasks\.1\.owner_role: Input should be"):
        parse_template(data, source="broken.toml")


def test_a_template_error_names_the_file_and_the_task_that_breaks_a_rule():
    data = toml_data()
    data["tasks"][1]["repeat"] = "per_year"

    with pytest.raises(
        TemplateError, match=r"^broken\.toml: tasks\.1: .*task plan: only implementation tasks repeat every year"
    ):
        parse_template(data, source="broken.toml")


def test_a_template_error_names_an_unknown_field():
    data = toml_data()
    data["tasks"][0]["colour"] = "red"

    with pytest.raises(TemplateError, match=r"^broken\.toml: tasks\.0\.colour: Extra inputs are not permitted"):
        parse_template(data, source="broken.toml")


def test_a_template_error_names_a_missing_header_field():
    data = toml_data()
    del data["title_en"]

    with pytest.raises(TemplateError, match=r"^broken\.toml: title_en: Field required"):
        parse_template(data, source="broken.toml")


def test_a_template_error_names_an_unknown_repeat():
    data = toml_data()
    data["tasks"][2]["repeat"] = "per_month"

    with pytest.raises(TemplateError, match=r"^broken\.toml: tasks\.2\.repeat: Input should be 'once'"):
        parse_template(data, source="broken.toml")


def test_a_template_error_without_a_source_says_template():
    with pytest.raises(TemplateError, match=r"^template: title_en"):
        parse_template({k: v for k, v in toml_data().items() if k != "title_en"})


# template files


@pytest.fixture
def template_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of template files of its own; `load` reads from it, bypassing the cache of shipped ones."""
    monkeypatch.setattr(programmes, "TEMPLATE_DIR", tmp_path)
    (tmp_path / "base.toml").write_text(
        """
key = "base"
title_sv = "Bas"
title_en = "Base"
day_seconds = 86400
year_days = 365

[[tasks]]
key = "analysis"
title_sv = "Analys"
title_en = "Analysis"
phase = "djupanalys"
owner_role = "forvaltningschef"
payload_kind = "namnd_decision"
due_days = 20
reminder_days_before_due = [5]

[[tasks]]
key = "plan"
title_sv = "Plan"
title_en = "Plan"
phase = "skolutvecklingsplan"
owner_role = "forvaltningschef"
payload_kind = "plan_draft"
depends_on = []

[[tasks]]
key = "follow_up"
title_sv = "Uppföljning"
title_en = "Follow-up"
phase = "genomforande"
owner_role = "analytiker"
repeat = "per_year"
payload_kind = "yearly_follow_up"
due_days = 100
""",
        encoding="utf-8",
    )
    return tmp_path


def load(key: str) -> ProgrammeTemplate:
    return template.__wrapped__(key)  # type: ignore[attr-defined]


def test_a_template_file_loads_from_the_template_directory(template_dir):
    base = load("base")

    assert [t.key for t in base.tasks] == ["analysis", "plan", "follow_up"]
    assert base.task("analysis").due_after == 20 * DAY


def test_a_derived_template_keeps_the_base_tasks_with_its_own_time_scale(template_dir):
    (template_dir / "fast.toml").write_text(
        'key = "fast"\nbased_on = "base"\ntitle_sv = "Snabb"\ntitle_en = "Fast"\nday_seconds = 0.5\nyear_days = 4\n',
        encoding="utf-8",
    )

    base, fast = load("base"), load("fast")

    assert (fast.key, fast.title_sv, fast.title_en) == ("fast", "Snabb", "Fast")
    assert [(t.key, t.phase, t.owner_role, t.repeat, t.depends_on) for t in fast.tasks] == [
        (t.key, t.phase, t.owner_role, t.repeat, t.depends_on) for t in base.tasks
    ]
    assert fast.task("analysis").due_after == timedelta(seconds=10)
    assert fast.task("analysis").reminders_before_due == (timedelta(seconds=2.5),)
    assert fast.task("follow_up").due_after == timedelta(seconds=50)
    assert fast.year_length == timedelta(seconds=2)


def test_a_derived_template_keeps_the_base_time_scale_it_does_not_override(template_dir):
    (template_dir / "renamed.toml").write_text(
        'key = "renamed"\nbased_on = "base"\ntitle_sv = "Omdöpt"\ntitle_en = "Renamed"\n', encoding="utf-8"
    )

    renamed = load("renamed")

    assert renamed.task("analysis").due_after == 20 * DAY
    assert renamed.year_length == 365 * DAY


def test_an_error_in_a_derived_template_names_the_derived_file(template_dir):
    (template_dir / "bad.toml").write_text(
        'key = "Bad Key"\nbased_on = "base"\ntitle_sv = "x"\ntitle_en = "x"\n', encoding="utf-8"
    )

    with pytest.raises(TemplateError, match=r"^bad\.toml: key: String should match pattern"):
        load("bad")


def test_a_template_key_is_a_name_never_a_path(template_dir):
    """`../../pyproject` once read the project's pyproject.toml and listed its keys in the error."""
    (template_dir.parent / "outside.toml").write_text('key = "outside"\ntitle_sv = "x"\n', encoding="utf-8")
    for key in ("../outside", "../../pyproject", "/etc/passwd", "base/../base"):
        with pytest.raises(TemplateError, match=r"^unknown programme template") as refused:
            load(key)
        assert "title_sv" not in str(refused.value)
    (template_dir / "sneaky.toml").write_text('key = "sneaky"\nbased_on = "../outside"\n', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^sneaky\.toml: based_on names '\.\./outside', which does not exist"):
        load("sneaky")


def test_a_file_that_is_not_toml_is_refused_naming_the_file(template_dir):
    (template_dir / "broken.toml").write_text('key = "broken\n', encoding="utf-8")

    with pytest.raises(TemplateError, match=r"^broken\.toml: not valid TOML"):
        load("broken")


def test_a_template_file_with_an_invalid_field_is_refused_naming_file_and_field(template_dir):
    text = (template_dir / "base.toml").read_text(encoding="utf-8").replace('key = "base"', 'key = "wrong"', 1)
    (template_dir / "wrong.toml").write_text(text.replace('owner_role = "analytiker"', 'owner_role = "vakt"'))

    with pytest.raises(TemplateError, match=r"^wrong\.toml: tasks\.2\.owner_role"):
        load("wrong")
