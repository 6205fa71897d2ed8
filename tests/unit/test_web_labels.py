"""The web forms' label catalogue: every payload field and every choice value has a Swedish and an English label."""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from domain.inspectorate import InspectionArea, Intervention, ReviewType
from domain.payloads import PAYLOAD_MODELS
from reports.pilot_report import AREAS, INTERVENTIONS, REVIEW_TYPES
from web.labels import CHOICE_LABELS, FIELD_LABELS, Label, choice_label, field_label


def _nested(annotation: Any) -> Iterator[Any]:
    """The annotation and every type inside it: list items, dict keys and values, Optional, Annotated."""
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _nested(arg)


def reachable_models() -> dict[str, type[BaseModel]]:
    """Every model of PAYLOAD_MODELS and every model nested in their fields, by __name__."""
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = list(PAYLOAD_MODELS.values())
    while pending:
        model = pending.pop()
        if model.__name__ in found:
            continue
        found[model.__name__] = model
        for field in model.model_fields.values():
            for inner in _nested(field.annotation):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    pending.append(inner)
    return found


def reachable_choices() -> dict[str, set[str]]:
    """Every Literal and enum value used by a reachable field, with the fields that use it."""
    choices: dict[str, set[str]] = {}
    for name, model in reachable_models().items():
        for field_name, field in model.model_fields.items():
            for inner in _nested(field.annotation):
                if typing.get_origin(inner) is typing.Literal:
                    values = [str(v) for v in typing.get_args(inner)]
                elif isinstance(inner, type) and issubclass(inner, enum.Enum):
                    values = [str(member.value) for member in inner]
                else:
                    continue
                for value in values:
                    choices.setdefault(value, set()).add(f"{name}.{field_name}")
    return choices


def _schema_enum_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum":
                yield from (str(v) for v in value)
            elif key == "const":
                yield str(value)
            else:
                yield from _schema_enum_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_enum_values(item)


def test_the_walk_reaches_the_nested_models() -> None:
    models = reachable_models()
    for nested in ("KpiObservation", "OrganisationalUnit", "UnitObservation", "AnalysisFinding", "PlanGoal"):
        assert nested in models
    for nested in ("NamndDecision", "CollectedDocument", "InterviewGroup", "FundingApplication", "InspectionFinding"):
        assert nested in models
    assert set(PAYLOAD_MODELS.values()) <= set(models.values())


def test_every_field_has_a_label_in_both_languages() -> None:
    missing = []
    for name, model in reachable_models().items():
        for field_name in model.model_fields:
            key = f"{name}.{field_name}"
            if key not in FIELD_LABELS:
                missing.append(key)
                continue
            label = field_label(name, field_name)
            assert label.sv.strip() and label.en.strip(), key
    assert not missing, f"fields without a label: {missing}"


def test_no_label_for_a_field_that_does_not_exist() -> None:
    known = {f"{name}.{f}" for name, model in reachable_models().items() for f in model.model_fields}
    assert not sorted(set(FIELD_LABELS) - known)


def test_every_choice_has_a_label_in_both_languages() -> None:
    choices = reachable_choices()
    assert {"P", "F", "R", "S", "L", "elever", "vardnadshavare", "forelaggande", "avhjalpt"} <= set(choices)
    missing = {value: sorted(fields) for value, fields in choices.items() if value not in CHOICE_LABELS}
    assert not missing, f"choices without a label: {missing}"
    for value in choices:
        label = choice_label(value)
        assert label.sv.strip() and label.en.strip(), value


def test_the_schema_offers_no_choice_without_a_label() -> None:
    """The form generator reads the JSON schema; its enum and const values are the ones the walk found."""
    in_schemas = {v for model in PAYLOAD_MODELS.values() for v in _schema_enum_values(model.model_json_schema())}
    assert in_schemas == set(reachable_choices())
    assert in_schemas <= set(CHOICE_LABELS)


@pytest.mark.parametrize("label", [*FIELD_LABELS.values(), *CHOICE_LABELS.values()])
def test_a_hint_is_given_in_both_languages_or_neither(label: Label) -> None:
    assert bool(label.hint_sv.strip()) == bool(label.hint_en.strip()), label


def test_levels_read_as_the_governance_chain() -> None:
    assert [choice_label(v).sv for v in ("P", "F", "R", "S")] == [
        "Politik",
        "Förvaltning",
        "Rektorer",
        "Stödfunktioner",
    ]
    assert choice_label("L").sv == "Lärare"


def test_inspection_words_are_the_pilot_reports() -> None:
    for area in InspectionArea:
        assert choice_label(area).sv == AREAS[area]
    for intervention in Intervention:
        assert choice_label(intervention).sv.lower() == INTERVENTIONS[intervention].lower()
    for review_type in ReviewType:
        assert choice_label(review_type).sv.lower() == REVIEW_TYPES[review_type].lower()


def test_field_label_names_the_missing_key() -> None:
    assert field_label("NamndDecision", "paragraph").sv == "Paragraf (§)"
    with pytest.raises(KeyError, match=r"NamndDecision\.no_such_field"):
        field_label("NamndDecision", "no_such_field")


def test_choice_label_falls_back_to_the_value() -> None:
    assert choice_label("no_such_value") == Label("no_such_value", "no_such_value")
    assert choice_label("pagar") == Label("Pågår", "In progress")
