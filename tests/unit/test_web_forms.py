"""The forms generated from the payload models: every answer a participant can give survives the trip through the
form's fields, errors land beside the field they are about, and every form renders."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.requests import Request

from access import Identity
from devstack import sample_payloads
from domain.payloads import PAYLOAD_MODELS, DecisionPosting, PlanDraft, SelfAssessment, YearlyFollowUp
from domain.phases import Phase
from domain.status import TaskView
from programmes import LFR_SKOLA, OREBRO
from tests.form_answers import fields_for
from web.forms import Leaf, Repeat, TaskContext, answer_of, apply_action, build_form, form_data_of, validate
from web.labels import field_label
from web.site import Page, _environment

TODAY = date(2026, 11, 23)

SAMPLES: dict[str, dict[str, Any]] = {
    "self_assessment": sample_payloads.self_assessment("R"),
    "document_collection": sample_payloads.document_collection(),
    "interview_summary": sample_payloads.interviews(),
    "consultation": sample_payloads.consultation("HR"),
    "ska_analysis": sample_payloads.ska_analysis(),
    "ska_planning": sample_payloads.ska_planning(2),
    "plan_revision": sample_payloads.plan_revision(TODAY, "Bildningsnämnden"),
    "measure_progress": sample_payloads.measure_progress(),
    "change_project": sample_payloads.change_project(),
    "funding_applications": sample_payloads.funding_applications(),
    "strengths_weaknesses": sample_payloads.strengths_weaknesses(),
    "namnd_decision": sample_payloads.namnd_decision(TODAY, 41, "analysen anmäls"),
    "plan_draft": sample_payloads.plan_draft(),
    # Kolada had no figure for the year, so the one given comes with its source.
    "yearly_follow_up": sample_payloads.yearly_follow_up(2026, {"year": 2025, "kpi_values": {}}),
    "inspection_decision": sample_payloads.inspection_decision(TODAY),
    "decision_posting": sample_payloads.decision_posting(TODAY),
    "remediation_step": sample_payloads.remediation_step(),
    "network_contribution": sample_payloads.network_contribution(),
    "network_reflection": sample_payloads.network_reflection() | {"learned_from": ["1864", "1083+1272"]},
}
SYSTEM_KINDS = {t.payload_kind for template in (LFR_SKOLA, OREBRO) for t in template.tasks if t.automation}
"""Answers the system gathers (the Kolada data pack, the follow-up figures): no participant fills them in."""
PARTICIPANT_KINDS = sorted(set(PAYLOAD_MODELS) - SYSTEM_KINDS)


def context_for(kind: str) -> TaskContext:
    return TaskContext(level=SAMPLES[kind].get("level")) if kind == "self_assessment" else TaskContext()


def test_every_participant_kind_has_a_sample() -> None:
    assert sorted(SAMPLES) == PARTICIPANT_KINDS


@pytest.mark.parametrize("kind", PARTICIPANT_KINDS)
def test_an_answer_survives_the_form(kind: str) -> None:
    model: type[BaseModel] = PAYLOAD_MODELS[kind]
    expected = model.model_validate(SAMPLES[kind])
    data = fields_for(model, context_for(kind), expected.model_dump(mode="json", exclude_defaults=True))

    filled = build_form(model, context_for(kind), data)
    answer = validate(filled, "sv")

    assert [(n.name, n.errors) for n in filled.invalid] == [] and filled.errors == []
    assert answer == expected, answer_of(filled)


def test_a_self_assessment_asks_exactly_the_levels_indicators_and_fixes_the_level() -> None:
    form = build_form(SelfAssessment, TaskContext(level="S"))
    scored = [n.loc[-1] for n in form.nodes() if isinstance(n, Leaf) and n.loc[:1] == ("scores",)]
    assert scored == ["SF2.c", "SF2.d", "SF2.f", "SF2.g", "SF6.b", "SF6.c"]
    [level] = [n for n in form.nodes() if isinstance(n, Leaf) and n.name == "level"]
    assert level.fixed == "S"
    # Posting another level changes nothing: the task decides it.
    data = {f"scores[{i}]": ["2"] for i in scored} | {"level": ["P"]}
    answer = validate(build_form(SelfAssessment, TaskContext(level="S"), data), "sv")
    assert answer is not None and answer.level == "S"  # type: ignore[attr-defined]


def test_each_error_lands_beside_its_field_in_the_participants_language() -> None:
    data = {
        "goals[__n]": ["1"],
        "goals[0][title]": ["Fler elever når målen i matematik"],
        "goals[0][kpi]": ["N1541"],  # a digit short
        "goals[0][baseline]": ["62,5"],  # a Swedish decimal comma is a number
        "goals[0][target]": ["sjuttio"],
        "goals[0][measures]": ["\n  \n"],  # only blank lines
        "period_years": ["11"],
    }
    form = build_form(PlanDraft, TaskContext(), data)
    assert validate(form, "sv") is None
    errors = {n.name: n.errors for n in form.invalid}
    assert errors == {
        "goals[0][addresses_factor]": ["Fyll i det här fältet."],
        "goals[0][kpi]": ["Fel format."],
        "goals[0][target]": ["Skriv ett tal, till exempel 12,5."],
        "goals[0][measures]": ["Fyll i det här fältet."],
        "goals[0][owner_role]": ["Fyll i det här fältet."],
        "period_years": ["Värdet får vara högst 10."],
    }
    [target] = [n for n in form.nodes() if n.name == "goals[0][target]"]
    assert [place.sv for place in target.context] == [goals_label_sv() + " 1"]  # the summary names its goal
    english = build_form(PlanDraft, TaskContext(), data)
    validate(english, "en")
    assert {n.name: n.errors for n in english.invalid}["period_years"] == ["The value must be at most 10."]


def goals_label_sv() -> str:
    return field_label("PlanDraft", "goals").sv


def test_a_rule_of_the_whole_answer_is_shown_on_the_form() -> None:
    data = {"justering_date": ["2026-11-10"], "anslag_date": ["2026-11-01"]}
    form = build_form(DecisionPosting, TaskContext(), data)
    assert validate(form, "sv") is None
    assert form.errors and form.errors[0].startswith("Svaret stämmer inte: anslag_date 2026-11-01 is before")


def test_key_figures_are_pairs_of_id_and_value() -> None:
    data = {
        "year": ["2026"],
        "progress": ["Fler elever når målen."],
        "kpi_values[__n]": ["2"],
        "kpi_values[0][key]": ["N15419"],
        "kpi_values[0][value]": ["71,2"],
        "kpi_values[1][key]": ["U15401"],
        "kpi_values[1][value]": ["inte ett tal"],
    }
    form = build_form(YearlyFollowUp, TaskContext(), data)
    assert validate(form, "sv") is None
    assert {n.name: n.errors for n in form.invalid} == {"kpi_values[1][value]": ["Skriv ett tal, till exempel 12,5."]}
    data["kpi_values[1][value]"] = ["3"]
    answer = validate(build_form(YearlyFollowUp, TaskContext(), data), "sv")
    assert answer is not None and answer.kpi_values == {"N15419": 71.2, "U15401": 3.0}  # type: ignore[attr-defined]


def test_items_are_added_and_removed_keeping_what_was_typed() -> None:
    data = {"goals[__n]": ["3"], "goals[0][title]": ["a"], "goals[1][title]": ["b"], "goals[2][title]": ["c"]}
    removed = apply_action(data, "remove:goals[1]")
    assert removed == {"goals[__n]": ["2"], "goals[0][title]": ["a"], "goals[1][title]": ["c"]}
    added = apply_action(removed, "add:goals")
    form = build_form(PlanDraft, TaskContext(), added)
    [goals] = [n for n in form.nodes() if isinstance(n, Repeat)]
    assert len(goals.items) == 3
    with pytest.raises(ValueError, match="unknown form action"):
        apply_action(data, "drop:goals[1]")


def test_an_empty_form_shows_the_least_a_valid_answer_needs() -> None:
    form = build_form(PlanDraft, TaskContext())
    [goals] = [n for n in form.nodes() if isinstance(n, Repeat)]
    assert len(goals.items) == 1  # at least one goal is required
    assert validate(form, "sv") is None


class _Controls(HTMLParser):
    """The form controls of a page, and the ids that a <label for> names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(str(attributes["id"]))
        if tag == "label" and attributes.get("for"):
            self.labelled.add(str(attributes["for"]))
        if tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)


def render_task_page(kind: str, language: str, data: dict[str, list[str]] | None = None) -> str:
    model = PAYLOAD_MODELS[kind]
    form = build_form(model, context_for(kind), data or {})
    validate(form, language)  # an empty answer: errors on every required field
    request = Request({"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b""})
    page = Page(request, language, Identity(participant_id="p-9990-rektor", scope="participant"), "session")  # type: ignore[arg-type]
    task = TaskView(
        key=kind,
        template_key=kind,
        level=None,
        year=None,
        subject=None,
        title_sv="Uppgift",
        title_en="Task",
        phase=Phase.DEEP_ANALYSIS,
        status="open",
        assignee_id="p-9990-rektor",
        opened_at=datetime.now(UTC),
        due_at=None,
        completed_at=None,
        completed_by=None,
        reminders_sent=0,
        escalated=False,
        automated=False,
    )
    pilot = SimpleNamespace(
        municipality_name="Exempelby", kommunkod="9990", programme="test", workflow_id="leda-test-9990"
    )
    return (
        _environment()
        .get_template("task.html")
        .render(
            page=page,
            t=page.t,
            pilot=pilot,
            task=task,
            form=form,
            answering=True,
            assignee_name="",
            may_lead=False,
            now=datetime.now(UTC),
        )
    )


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("kind", PARTICIPANT_KINDS)
def test_every_form_renders_with_a_label_for_every_field_and_its_errors_summarised(kind: str, language: str) -> None:
    html = render_task_page(kind, language)
    controls = _Controls()
    controls.feed(html)
    assert controls.controls, "the form has no fields"
    unlabelled = [c.get("name") for c in controls.controls if c.get("id") not in controls.labelled]
    assert unlabelled == []
    duplicated = sorted({i for i in controls.ids if controls.ids.count(i) > 1})
    assert duplicated == []
    assert 'role="alert"' in html  # the empty answer's errors, summarised at the top
    for target in re.findall(r'<a href="#([^"]+)">', html):
        assert target in controls.ids, f"the summary links to #{target}, which is not on the page"


@pytest.mark.parametrize("kind", PARTICIPANT_KINDS)
def test_a_box_of_entries_says_one_per_line(kind: str) -> None:
    form = build_form(PAYLOAD_MODELS[kind], context_for(kind))
    for leaf in (n for n in form.nodes() if isinstance(n, Leaf) and n.widget == "lines"):
        hint = leaf.label.hint_sv
        assert not hint or "per rad" in hint, f"{leaf.name}: the hint {hint!r} does not say one entry per line"


@pytest.mark.parametrize("count", ["²", "٣", "9" * 5000, "-1", "1e3", " 2", "１"])
def test_a_posted_item_count_that_is_not_plain_digits_shows_the_default(count: str) -> None:
    """'²' passes str.isdigit and fails int(); 5,000 digits exceed int()'s limit: both were a 500."""
    data = {"goals[__n]": [count], "goals[0][title]": ["Fler elever når målen"]}
    form = build_form(PlanDraft, TaskContext(), data)
    [goals] = [node for node in form.nodes() if isinstance(node, Repeat)]
    assert len(goals.items) == 1  # the default for a required list
    assert apply_action(data, "add:goals")["goals[__n]"] == ["1"]
    assert apply_action(data, "remove:goals[0]")["goals[__n]"] == ["0"]


def test_a_posted_item_count_is_bounded() -> None:
    form = build_form(PlanDraft, TaskContext(), {"goals[__n]": ["999"]})
    [goals] = [node for node in form.nodes() if isinstance(node, Repeat)]
    assert len(goals.items) == 100
    assert apply_action({"goals[__n]": ["100"]}, "add:goals")["goals[__n]"] == ["100"]
    with pytest.raises(ValueError, match="unknown form action"):
        apply_action({}, "remove:goals[" + "9" * 5000 + "]")
    with pytest.raises(ValueError, match="unknown form action"):
        apply_action({}, "remove:goals[²]")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_prefilled_follow_up_reads_back_as_the_very_figures_gathered(language: str) -> None:
    prefill = {"year": 2025, "kpi_values": {"N15419": 72.9, "N15006": 121034.0, "N15814": 0.1 + 0.2}}

    data = form_data_of(prefill, language)
    form = build_form(YearlyFollowUp, TaskContext(), data)

    assert answer_of(form) == prefill  # every digit, whichever decimal sign the language writes
    assert data["kpi_values[0][value]"] == ["72,9" if language == "sv" else "72.9"]
    labels = [n.label.sv for n in form.nodes() if isinstance(n, Leaf) and n.name.startswith("corrections")]
    assert labels == []  # no correction until one is asked for


def test_a_correction_is_a_key_figure_and_its_reason_in_a_box() -> None:
    data = apply_action({"corrections[__n]": ["0"]}, "add:corrections")
    form = build_form(YearlyFollowUp, TaskContext(), data)

    key, reason = [n for n in form.nodes() if isinstance(n, Leaf) and n.name.startswith("corrections")]
    assert (key.label.sv, reason.label.sv, reason.widget) == ("Nyckeltal (id)", "Skäl eller källa", "textarea")
