"""School-year calendars (lov and the nämnd's meetings) as TOML files, validated into SchoolCalendar."""

from __future__ import annotations

from pathlib import Path

from domain.calendar import SchoolCalendar
from programmes import load_named_file

CALENDAR_DIR = Path(__file__).parent / "calendars"


def load_calendar(name_or_path: str) -> SchoolCalendar:
    """A shipped calendar by name (programmes/calendars/NAME.toml) or any calendar file by path."""
    return load_named_file(name_or_path, CALENDAR_DIR, SchoolCalendar, "calendar")
