"""School-year calendars (lov and the nämnd's meetings) as TOML files, validated into SchoolCalendar."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from domain.calendar import SchoolCalendar
from domain.rules import describe
from programmes import TemplateError

CALENDAR_DIR = Path(__file__).parent / "calendars"


def load_calendar(name_or_path: str) -> SchoolCalendar:
    """A shipped calendar by name (programmes/calendars/NAME.toml) or any calendar file by path."""
    path = Path(name_or_path)
    if not path.exists():
        path = CALENDAR_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = sorted(p.stem for p in CALENDAR_DIR.glob("*.toml"))
        raise TemplateError(f"no calendar file {name_or_path!r}; shipped calendars: {known}")
    try:
        return SchoolCalendar.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as error:
        raise TemplateError(f"{path.name}: not valid TOML: {error}") from None
    except ValidationError as error:
        raise TemplateError(f"{path.name}: {describe(error)}") from None
