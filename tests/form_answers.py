"""What a participant types into a task's form to give an answer: the inverse of reading the form back
(`web.forms.answer_of`). The unit tests post it; the browser tests type it, key by key."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from web.forms import COUNT, Leaf, Repeat, TaskContext, build_form


def fields_for(model: type[BaseModel], context: TaskContext, answer: dict[str, Any]) -> dict[str, list[str]]:
    """What a participant types into the form to give `answer`: the inverse of reading the form."""
    data: dict[str, list[str]] = {}

    def count_items(value: Any, name: str) -> None:  # a repeated group shows as many items as its count says
        if isinstance(value, dict):
            for key, inner in value.items():
                count_items(inner, f"{name}[{key}]" if name else key)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            data[f"{name}[{COUNT}]"] = [str(len(value))]
            for index, inner in enumerate(value):
                count_items(inner, f"{name}[{index}]")

    count_items(answer, "")
    form = build_form(model, context, data)
    for node in form.nodes():
        if isinstance(node, Repeat) and node.pairs:
            data[f"{node.name}[{COUNT}]"] = [str(len(value_at(answer, node.loc) or {}))]
    form = build_form(model, context, data)
    for node in form.nodes():
        if isinstance(node, Repeat) and node.pairs:
            for index, (key, value) in enumerate((value_at(answer, node.loc) or {}).items()):
                data[f"{node.name}[{index}][key]"] = [key]
                data[f"{node.name}[{index}][value]"] = [typed(value)]
        elif isinstance(node, Leaf) and node.fixed is None:
            value = value_at(answer, node.loc)
            if value is None:
                continue
            if node.widget == "checkboxes":
                data[node.name] = [str(v) for v in value]
            elif node.widget == "lines":
                data[node.name] = ["\n".join(str(v) for v in value)]
            else:
                data[node.name] = [typed(value)]
    return data


def value_at(answer: Any, loc: tuple[str | int, ...]) -> Any:
    for part in loc:
        if isinstance(answer, dict) and part in answer:
            answer = answer[part]
        elif isinstance(answer, list) and isinstance(part, int) and part < len(answer):
            answer = answer[part]
        else:
            return None
    return answer


def typed(value: Any) -> str:
    """A value as typed: yes or no for a choice of ja/nej, a decimal comma for a number."""
    if isinstance(value, bool):
        return "ja" if value else "nej"
    if isinstance(value, float):
        return str(value).replace(".", ",")
    return str(value)
