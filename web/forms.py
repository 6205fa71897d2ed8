"""A task's form, generated from the JSON schema of its pydantic payload model; and the answer read back from it.

The schema gives the structure and the constraints: an object is a fieldset, a list of objects a group that grows
and shrinks by plain submit buttons (no JavaScript), a list of text a box with one entry per line, a choice a set of
radio buttons or a list, a date a date field. `web.labels` gives every field its Swedish and English label. Two
things the schema cannot say are declared here: which keys a keyed answer has (a self-assessment scores the
indicators of its level, each with optional evidence) and which values the task itself fixes (that level).

Field names use brackets, ``goals[0][title]`` and ``scores[SF1.a]``, since indicator ids hold dots. Every field
knows the location pydantic reports its errors at, so an error shows beside the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from domain.success_factors import SUCCESS_FACTORS, factor_of, indicator_text, indicators_for_level
from web.labels import Label, choice_label, field_label

Widget = Literal["text", "textarea", "number", "integer", "date", "select", "radio", "yesno", "checkboxes", "lines"]
Loc = tuple[str | int, ...]
FormData = Mapping[str, list[str]]

COUNT = "__n"
"""The hidden field that says how many items a repeated group shows: ``goals[__n]``."""

_MISSING = object()
PROSE = frozenset(
    {
        "corrections",
        "decision_text",
        "description",
        "differences_between_units",
        "done",
        "evidence",
        "none_this_year_reason",
        "opinion",
        "progress",
        "pupil_involvement",
        "reason",
        "text",
    }
)
"""Fields written as prose, in a box of several lines; other text (a title, an organ, a reference) is one line."""
_SCORES = ("1", "2", "3", "4")
_FACTOR_PATTERN = "^SF[1-8]$"


@dataclass(frozen=True)
class Choice:
    value: str
    label: Label


@dataclass
class Node:
    """A part of a form: a field (`Leaf`), a fieldset (`Group`) or a group that repeats (`Repeat`)."""

    name: str
    loc: Loc
    label: Label
    required: bool
    errors: list[str] = field(default_factory=list)
    context: tuple[Label, ...] = ()  # where the field is, for the error summary: ("Mål 2",) or ("SF1.a",)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", self.name).strip("-")

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()


@dataclass
class Leaf(Node):
    widget: Widget = "text"
    choices: tuple[Choice, ...] = ()
    value: str | list[str] = ""
    fixed: str | None = None  # set by the task itself: shown, not asked
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    must_answer: bool = False  # one key of a keyed answer that needs every key (each indicator scored)
    rows: int = 4  # of a text box


@dataclass
class Group(Node):
    children: list[Node] = field(default_factory=list)
    section: Label | None = None  # a heading before this group (a success factor before its indicators)
    wrapper: bool = False  # only groups its fields on the page (one key of a keyed answer); adds no level


@dataclass
class Repeat(Node):
    items: list[Group] = field(default_factory=list)
    min_items: int = 0
    pairs: bool = False  # a keyed answer with free keys (KPI id -> value), one key and value per item


@dataclass(frozen=True)
class TaskContext:
    """What the task, rather than the participant, decides about its answer."""

    level: str | None = None


@dataclass(frozen=True)
class Key:
    """One key of a keyed answer, with its label and the heading it falls under."""

    value: str
    label: Label
    section: Label


def _indicators(context: TaskContext) -> list[Key]:
    return [
        Key(
            indicator,
            Label(f"{indicator} {indicator_text(indicator, 'sv')}", f"{indicator} {indicator_text(indicator, 'en')}"),
            choice_label(factor_of(indicator)),
        )
        for indicator in indicators_for_level(context.level or "P")
    ]


@dataclass(frozen=True)
class KeyedAnswer:
    """Fields of a model keyed by a set the task decides, shown side by side per key, each with its own label."""

    fields: dict[str, Label]
    keys: Callable[[TaskContext], list[Key]]


KEYED: dict[str, KeyedAnswer] = {
    "SelfAssessment": KeyedAnswer(
        fields={
            "scores": Label("Bedömning", "Score", "1 = svagt, 4 = starkt", "1 = weak, 4 = strong"),
            "evidence": Label(
                "Underlag",
                "Evidence",
                "Vad bedömningen bygger på, t.ex. ett dokument eller ett nyckeltal",
                "What the score rests on, e.g. a document or a key figure",
            ),
        },
        keys=_indicators,
    ),
}
"""Answers keyed by a set the task decides: one group per key, holding each keyed field's value for it."""

FIXED: dict[str, Callable[[TaskContext], dict[str, str | None]]] = {
    "SelfAssessment": lambda context: {"level": context.level},
}
"""Fields whose value the task decides; the form shows them and ignores anything posted for them."""


# ---- building ---------------------------------------------------------------------------------------------------


@dataclass
class TaskForm:
    """A task's form: its fields, the errors of the last attempt, and the answer as data."""

    model: type[BaseModel]
    context: TaskContext
    root: Group
    errors: list[str] = field(default_factory=list)  # about the answer as a whole

    def nodes(self) -> Iterator[Node]:
        return _walk(self.root)

    @property
    def invalid(self) -> list[Node]:
        return [n for n in self.nodes() if n.errors]


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Group):
        for child in node.children:
            yield from _walk(child)
    elif isinstance(node, Repeat):
        for item in node.items:
            yield from _walk(item)


class _Builder:
    def __init__(self, model: type[BaseModel], context: TaskContext, data: FormData) -> None:
        self.schema = model.model_json_schema()
        self.defs: dict[str, Any] = self.schema.get("$defs", {})
        self.context = context
        self.data = data

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            resolved: dict[str, Any] = self.defs[schema["$ref"].rsplit("/", 1)[-1]]
            return resolved
        return schema

    def value(self, name: str) -> list[str]:
        return list(self.data.get(name, []))

    def group(self, schema: dict[str, Any], name: str, loc: Loc, label: Label, required: bool) -> Group:
        model_name = schema["title"]
        properties: dict[str, Any] = schema.get("properties", {})
        needed = set(schema.get("required", []))
        fixed = FIXED[model_name](self.context) if model_name in FIXED else {}
        keyed = KEYED.get(model_name)
        keyed_fields = keyed.fields if keyed else {}
        children: list[Node] = []
        for prop, prop_schema in properties.items():
            if prop in keyed_fields:
                continue
            child_name = f"{name}[{prop}]" if name else prop
            child_label = field_label(model_name, prop)
            child = self.node(prop_schema, child_name, (*loc, prop), child_label, prop in needed)
            if prop in fixed and isinstance(child, Leaf):
                child.fixed = fixed[prop]
                child.value = fixed[prop] or ""
            children.append(child)
        if keyed is not None:
            previous_section = None
            for key in keyed.keys(self.context):
                pair = Group(
                    name=f"{name}[{key.value}]",
                    loc=(*loc, "#", key.value),
                    label=key.label,
                    required=False,
                    wrapper=True,
                )
                for prop, leaf_label in keyed_fields.items():
                    value_schema = properties[prop].get("additionalProperties", {"type": "string"})
                    leaf_name = f"{name}[{prop}][{key.value}]" if name else f"{prop}[{key.value}]"
                    leaf = self.node(value_schema, leaf_name, (*loc, prop, key.value), leaf_label, prop in needed)
                    if isinstance(leaf, Leaf):
                        leaf.must_answer = prop in needed
                        leaf.rows = 2  # one box per key: dozens of them on one page
                    leaf.context = (Label(key.value, key.value),)
                    pair.children.append(leaf)
                if key.section != previous_section:
                    pair.section = previous_section = key.section
                children.append(pair)
        return Group(name=name, loc=loc, label=label, required=required, children=children)

    def node(self, schema: dict[str, Any], name: str, loc: Loc, label: Label, required: bool) -> Node:
        options = schema.get("anyOf")
        if options:
            present = [o for o in options if o.get("type") != "null"]
            if len(present) == 1:
                return self.node({**schema, **present[0], "anyOf": None}, name, loc, label, False)
        schema = self.resolve(schema)
        kind = schema.get("type")
        if kind == "object" and "properties" in schema:
            return self.group(schema, name, loc, label, required)
        if kind == "object":  # a keyed answer whose keys are free: pairs of key and value
            return self.repeat({"title": "_Pair", "pairs": schema}, name, loc, label, required, pairs=True)
        if kind == "array":
            items = self.resolve(schema.get("items", {}))
            if items.get("type") == "object":
                return self.repeat(items, name, loc, label, required, min_items=schema.get("minItems", 0))
            if items.get("pattern") == _FACTOR_PATTERN:
                leaf = Leaf(name=name, loc=loc, label=label, required=required, widget="checkboxes")
                leaf.choices = _factor_choices()
                leaf.value = self.value(name)
                return leaf
            leaf = Leaf(name=name, loc=loc, label=label, required=required, widget="lines")
            leaf.value = (self.value(name) or [""])[0]
            return leaf
        return self.leaf(schema, name, loc, label, required)

    def leaf(self, schema: dict[str, Any], name: str, loc: Loc, label: Label, required: bool) -> Leaf:
        leaf = Leaf(name=name, loc=loc, label=label, required=required)
        kind = schema.get("type")
        if "enum" in schema or "const" in schema:
            values = schema.get("enum") or [schema["const"]]
            leaf.choices = tuple(Choice(str(v), choice_label(str(v))) for v in values)
            leaf.widget = "radio" if len(values) <= 4 else "select"
        elif schema.get("pattern") == _FACTOR_PATTERN:
            leaf.choices, leaf.widget = _factor_choices(), "select"
        elif kind == "boolean":
            leaf.widget = "yesno"
        elif kind == "integer" and schema.get("minimum") == 1 and schema.get("maximum") == 4:
            leaf.widget = "radio"
            leaf.choices = tuple(Choice(s, Label(s, s)) for s in _SCORES)
        elif kind == "integer":
            leaf.widget = "integer"
        elif kind == "number":
            leaf.widget = "number"
        elif schema.get("format") == "date":
            leaf.widget = "date"
        elif PROSE.intersection(part for part in loc[-2:] if isinstance(part, str)):
            leaf.widget = "textarea"
        leaf.minimum, leaf.maximum = schema.get("minimum"), schema.get("maximum")
        leaf.max_length = schema.get("maxLength")
        leaf.value = (self.value(name) or [""])[0]
        return leaf

    def repeat(
        self,
        items: dict[str, Any],
        name: str,
        loc: Loc,
        label: Label,
        required: bool,
        *,
        min_items: int = 0,
        pairs: bool = False,
    ) -> Repeat:
        shown = self.value(f"{name}[{COUNT}]")
        default = max(min_items, 1 if required else 0)
        count = _count(shown[0] if shown else "", default)
        repeat = Repeat(name=name, loc=loc, label=label, required=required, min_items=min_items, pairs=pairs)
        for index in range(count):
            item_name = f"{name}[{index}]"
            if pairs:
                value_schema = items["pairs"].get("additionalProperties", {"type": "string"})
                typed_key = (self.value(f"{item_name}[key]") or [""])[0].strip()
                item = Group(name=item_name, loc=(*loc, "#", index), label=label, required=False)
                key_label, value_label = PAIR_LABELS.get(str(loc[-1]), (PAIR_KEY, PAIR_VALUE))
                item.children = [
                    self.leaf({"type": "string"}, f"{item_name}[key]", (*loc, "#", index, "key"), key_label, True),
                    self.node(value_schema, f"{item_name}[value]", (*loc, typed_key), value_label, True),
                ]
            else:
                item = self.group(items, item_name, (*loc, index), label, False)
            place = Label(f"{label.sv} {index + 1}", f"{label.en} {index + 1}")
            for node in _walk(item):
                node.context = (place, *node.context)
            repeat.items.append(item)
        return repeat


PAIR_KEY = Label("Nyckeltal (id)", "Key figure (id)", "Koladas id, till exempel N15419", "Kolada's id, like N15419")
PAIR_VALUE = Label("Värde", "Value", "Decimaler med komma eller punkt", "Decimals with a comma or a point")
PAIR_LABELS: dict[str, tuple[Label, Label]] = {
    "corrections": (PAIR_KEY, Label("Skäl eller källa", "Reason or source")),
}
"""Key and value labels of a keyed answer whose values are not figures, by the field's name."""


def _factor_choices() -> tuple[Choice, ...]:
    return tuple(Choice(f.id, choice_label(f.id)) for f in SUCCESS_FACTORS)


def build_form(model: type[BaseModel], context: TaskContext, data: FormData | None = None) -> TaskForm:
    """The form for `model`, showing `data` (what was posted, by field name) or empty."""
    builder = _Builder(model, context, data or {})
    root = builder.group(builder.schema, "", (), Label("", ""), True)
    return TaskForm(model=model, context=context, root=root)


# ---- reading an answer back ------------------------------------------------------------------------------------


def form_data_of(answer: Mapping[str, Any], language: str) -> dict[str, list[str]]:
    """The form data that shows `answer` (what the system prefills: plain fields, and keyed values such as a KPI id
    and its value); reading the form back gives the same answer. Decimals are written as the language writes them."""
    data: dict[str, list[str]] = {}
    for field_name, value in answer.items():
        if isinstance(value, Mapping):
            data[f"{field_name}[{COUNT}]"] = [str(len(value))]
            for index, (key, item) in enumerate(value.items()):
                data[f"{field_name}[{index}][key]"] = [str(key)]
                data[f"{field_name}[{index}][value]"] = [shown_value(item, language)]
        elif isinstance(value, list | tuple):
            raise ValueError(f"{field_name}: a list is not prefilled")
        else:
            data[field_name] = [shown_value(value, language)]
    return data


def shown_value(value: object, language: str) -> str:
    """A value as a form field holds it; a decimal with every digit, so it reads back as the same number."""
    if isinstance(value, float):
        text = repr(value).removesuffix(".0")
        return text.replace(".", ",") if language == "sv" else text
    return str(value)


def answer_of(form: TaskForm) -> dict[str, Any]:
    """The answer the form's fields hold, as the payload model reads it; empty fields are left out."""
    value = _read(form.root)
    return value if isinstance(value, dict) else {}


def _read(node: Node) -> Any:
    if isinstance(node, Leaf):
        return _read_leaf(node)
    if isinstance(node, Repeat):
        if node.pairs:
            pairs: dict[str, Any] = {}
            for item in node.items:
                key_leaf, value_leaf = item.children
                key, value = _read(key_leaf), _read(value_leaf)
                if key is not _MISSING or value is not _MISSING:
                    pairs[key if key is not _MISSING else ""] = value if value is not _MISSING else None
            return pairs or _MISSING
        items = [v for v in (_read(item) for item in node.items) if v is not _MISSING]
        return items or _MISSING
    assert isinstance(node, Group)
    result: dict[str, Any] = {}
    for child in node.children:
        _collect(child, node.loc, result)
    return result or _MISSING


def _collect(node: Node, base: Loc, result: dict[str, Any]) -> None:
    """Put a field's value into its object (`result`, at `base`) at the field's place: its name, or a keyed
    field's key (``scores`` -> ``SF1.a``)."""
    if isinstance(node, Group) and node.wrapper:
        for child in node.children:
            _collect(child, base, result)
        return
    value = _read(node)
    if value is _MISSING:
        return
    *path, last = (str(part) for part in node.loc[len(base) :])
    target = result
    for part in path:
        target = target.setdefault(part, {})
    target[last] = value


def _read_leaf(leaf: Leaf) -> Any:
    if leaf.fixed is not None:
        return leaf.fixed
    if leaf.widget == "checkboxes":
        chosen = [v for v in leaf.value if v] if isinstance(leaf.value, list) else []
        return chosen or _MISSING
    text = leaf.value if isinstance(leaf.value, str) else ""
    if leaf.widget == "lines":
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines or _MISSING
    text = text.strip()
    if not text:
        return _MISSING
    if leaf.widget == "integer" or (leaf.widget == "radio" and leaf.choices and leaf.choices[0].value in _SCORES):
        return int(text) if re.fullmatch(r"[-+]?[0-9]{1,18}", text) else text  # else the model says what is wrong
    if leaf.widget == "number":
        decimal = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")  # Swedish decimal comma
        try:
            return float(decimal)
        except ValueError:
            return text
    if leaf.widget == "yesno":
        return {"ja": True, "nej": False}.get(text, text)
    return text


# ---- errors -------------------------------------------------------------------------------------------------------


def validate(form: TaskForm, language: str) -> BaseModel | None:
    """The answer as the payload model, or None with every error placed beside its field (or on the form)."""
    unanswered = [n for n in form.nodes() if isinstance(n, Leaf) and n.must_answer and _read(n) is _MISSING]
    try:
        answer = form.model.model_validate(answer_of(form))
    except ValidationError as error:
        errors = [dict(e) for e in error.errors(include_url=False)]
        if unanswered:  # the rule that every key is answered would only repeat what the fields say
            errors = [e for e in errors if e["loc"] != ()]
        place_errors(form, errors, language)
        answer = None
    for leaf in unanswered:
        leaf.errors.append(error_message({"type": "missing"}, language))
    return None if unanswered else answer


def place_errors(form: TaskForm, errors: list[Any], language: str) -> None:
    by_loc: dict[Loc, Node] = {}
    for node in form.nodes():
        by_loc.setdefault(node.loc, node)
    for error in errors:
        loc: Loc = tuple(error["loc"])
        message = error_message(error, language)
        target: Node | None = None
        for cut in range(len(loc), 0, -1):
            target = by_loc.get(loc[:cut])
            if target is not None:
                break
        if target is None or target is form.root:
            form.errors.append(message)
        elif message not in target.errors:
            target.errors.append(message)


_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("Fyll i det här fältet.", "This field is required."),
    "string_too_short": ("Fältet får inte vara tomt.", "This field must not be empty."),
    "string_too_long": ("Högst {max_length} tecken.", "At most {max_length} characters."),
    "string_pattern_mismatch": ("Fel format.", "Wrong format."),
    "int_parsing": ("Skriv ett heltal, till exempel 12.", "Enter a whole number, for example 12."),
    "int_from_float": ("Skriv ett heltal, till exempel 12.", "Enter a whole number, for example 12."),
    "float_parsing": ("Skriv ett tal, till exempel 12,5.", "Enter a number, for example 12.5."),
    "greater_than_equal": ("Värdet måste vara minst {ge}.", "The value must be at least {ge}."),
    "less_than_equal": ("Värdet får vara högst {le}.", "The value must be at most {le}."),
    "date_parsing": ("Skriv ett datum som ÅÅÅÅ-MM-DD.", "Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": ("Skriv ett datum som ÅÅÅÅ-MM-DD.", "Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": ("Skriv ett datum som ÅÅÅÅ-MM-DD.", "Enter a date as YYYY-MM-DD."),
    "literal_error": ("Välj ett av alternativen.", "Choose one of the options."),
    "enum": ("Välj ett av alternativen.", "Choose one of the options."),
    "bool_parsing": ("Välj ja eller nej.", "Choose yes or no."),
    "too_short": ("Ange minst {min_length}.", "Give at least {min_length}."),
    "extra_forbidden": ("Fältet hör inte till svaret.", "This field is not part of the answer."),
}


def error_message(error: Mapping[str, Any], language: str) -> str:
    """A pydantic error in the participant's language; a rule of the answer keeps its own explanation."""
    known = _MESSAGES.get(error["type"])
    if known is None:
        text = str(error.get("msg", ""))
        text = text.removeprefix("Value error, ")
        prefix = "Svaret stämmer inte: " if language == "sv" else "The answer does not add up: "
        return prefix + text
    template = known[0] if language == "sv" else known[1]
    return template.format(**{k: v for k, v in (error.get("ctx") or {}).items()})


# ---- adding and removing items without JavaScript -------------------------------------------------------------


def apply_action(data: dict[str, list[str]], action: str) -> dict[str, list[str]]:
    """The posted fields after an 'add:NAME' or 'remove:NAME[i]' button: one item more, or item i gone."""
    verb, _, target = action.partition(":")
    if verb == "add":
        count_name = f"{target}[{COUNT}]"
        return {**data, count_name: [str(min(_count(data.get(count_name, ["0"])[0], 0) + 1, MAX_ITEMS))]}
    match = re.fullmatch(r"(?P<list>.+)\[(?P<index>[0-9]{1,3})\]", target)
    if verb != "remove" or match is None:
        raise ValueError(f"unknown form action {action!r}")
    prefix, index = match["list"], int(match["index"])
    moved: dict[str, list[str]] = {}
    item = re.compile(re.escape(prefix) + r"\[([0-9]{1,3})\](.*)")
    for name, values in data.items():
        found = item.fullmatch(name)
        if found is None:
            moved[name] = values
            continue
        position = int(found[1])
        if position == index:
            continue
        moved[f"{prefix}[{position - 1 if position > index else position}]{found[2]}"] = values
    count_name = f"{prefix}[{COUNT}]"
    moved[count_name] = [str(max(_count(data.get(count_name, ["1"])[0], 1) - 1, 0))]
    return moved


MAX_ITEMS = 100
"""The most items a repeated group shows, whatever count a form posts."""


def _count(text: str, default: int) -> int:
    """A posted item count: ASCII digits only (not '²', which `str.isdigit` accepts and `int` refuses), at most
    MAX_ITEMS (a count of 5,000 digits is not read at all); anything else is `default`."""
    if re.fullmatch(r"[0-9]{1,3}", text) is None:
        return default
    return min(int(text), MAX_ITEMS)
