"""The programme templates Leda ships, as TOML files validated into `domain.template.ProgrammeTemplate`.

A template is read when a pilot starts, and the pilot's workflow input names its version in the registry
(`programmes.versions`): a running pilot keeps the template it started with, whatever later happens to the files.
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.refusals import describe
from domain.template import ProgrammeTemplate

TEMPLATE_DIR = Path(__file__).parent / "templates"


class TemplateError(ValueError):
    """A template file that cannot become a programme: which file, which field, why."""


def template_keys() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.toml"))


@cache
def template(key: str) -> ProgrammeTemplate:
    """The template named `key`, or a ValueError that lists the ones there are.

    `key` is looked up among the shipped keys, never joined into a path: a key such as `../../pyproject` names
    no template, however many TOML files lie elsewhere on the disk."""
    if key not in template_keys():
        raise TemplateError(f"unknown programme template {key!r}; known: {template_keys()}")
    path = TEMPLATE_DIR / f"{key}.toml"
    return parse_template(_read(path), source=path.name)


def _read(path: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if path.name in seen:
        raise TemplateError(f"{seen[0]}: based_on goes round in a circle: {' -> '.join((*seen, path.name))}")
    if not path.exists():
        raise TemplateError(f"{seen[-1] if seen else path.name}: based_on names {path.stem!r}, which does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{path.name}: not valid TOML: {error}") from None
    base = data.pop("based_on", None)
    if base is None:
        return data
    if base not in template_keys():
        raise TemplateError(f"{path.name}: based_on names {base!r}, which does not exist")
    # A derived template takes the base's tasks and overrides its header (key, titles, time scale).
    return {**_read(TEMPLATE_DIR / f"{base}.toml", (*seen, path.name)), **data}


def parse_template(data: dict[str, Any], *, source: str = "template") -> ProgrammeTemplate:
    """Validate template data, with durations given in days of `day_seconds` seconds."""
    data = dict(data)
    day = timedelta(seconds=_positive(data.pop("day_seconds", 86400), source, "day_seconds"))
    year_days = _positive(data.pop("year_days", 365), source, "year_days")
    tasks = []
    for index, task in enumerate(data.pop("tasks", [])):
        task = dict(task)
        where = f"tasks.{index}"
        if "due_days" in task:
            task["due_after"] = day * _number(task.pop("due_days"), source, f"{where}.due_days")
        if "reminder_days_before_due" in task:
            days = task.pop("reminder_days_before_due")
            task["reminders_before_due"] = [day * _number(n, source, f"{where}.reminder_days_before_due") for n in days]
        if "escalate_days_after_due" in task:
            task["escalate_after_due"] = day * _number(
                task.pop("escalate_days_after_due"), source, f"{where}.escalate_days_after_due"
            )
        tasks.append(task)
    try:
        return ProgrammeTemplate.model_validate(
            {**data, "tasks": tasks, "year_length": day * year_days, "day_length": day}
        )
    except ValidationError as error:
        raise TemplateError(f"{source}: {describe(error)}") from None


def _number(value: object, source: str, field: str) -> float:
    """A count of days, which TOML might give as anything: a bool is not a number of days."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError(f"{source}: {field}: expected a number of days, got {value!r}")
    return float(value)


def _positive(value: object, source: str, field: str) -> float:
    number = _number(value, source, field)
    if number <= 0:
        raise TemplateError(f"{source}: {field}: must be more than 0, got {value!r}")
    return number


M = TypeVar("M", bound=BaseModel)


def load_named_file(name_or_path: str, directory: Path, model: type[M], what: str) -> M:
    """A shipped TOML file by name (directory/NAME.toml), or any file by path, validated into `model`."""
    path = Path(name_or_path)
    if not path.exists():
        path = directory / f"{name_or_path}.toml"
    if not path.exists():
        known = sorted(p.stem for p in directory.glob("*.toml"))
        raise TemplateError(f"no {what} file {name_or_path!r}; shipped: {known}")
    try:
        return model.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{path.name}: not valid TOML: {error}") from None
    except ValidationError as error:
        raise TemplateError(f"{path.name}: {describe(error)}") from None


TEMPLATES: dict[str, ProgrammeTemplate] = {key: template(key) for key in template_keys()}
LFR_SKOLA = TEMPLATES["lfr-skola"]
DEMO = TEMPLATES["demo"]
OREBRO = TEMPLATES["orebro-skolkommun"]
