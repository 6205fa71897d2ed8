"""Moments as people in a Swedish municipality mean and read them: in Swedish time, with the zone named.

A deadline is one moment, whoever gives it and wherever it is shown. Read from a person (the CLI's `--until`, the web
form, the API), a bare date means the end of that office day, 16:00 Swedish time; a date and time without a zone is
Swedish time; a moment with a zone or offset is that moment. Shown to a person, a moment is in Swedish time with the
zone named (CET in winter, CEST in summer). Stored and sent between the rooms it is an aware moment, in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
OFFICE_DAY_END = time(16, 0)
"""When an office day ends: a deadline on a day is due by then."""


def end_of_office_day(day: date) -> datetime:
    """16:00 Swedish time on `day`, in UTC."""
    return datetime.combine(day, OFFICE_DAY_END, tzinfo=SWEDISH_TIME).astimezone(UTC)


def moment_of(value: str | date | datetime) -> datetime:
    """The one reading of a moment a person gives (see the module): a bare date is the end of that office day, a
    time without a zone is Swedish time. Raises ValueError saying what it expected."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not a day or a moment like 2026-12-01 (16:00 Swedish time), 2026-12-01T14:00 "
                "(Swedish time) or 2026-12-01T13:00Z"
            ) from None
    if not isinstance(value, datetime):
        return end_of_office_day(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=SWEDISH_TIME)
    return value.astimezone(UTC)


def _read(value: object) -> object:
    return moment_of(value) if isinstance(value, str | date) else value


Deadline = Annotated[datetime, BeforeValidator(_read)]
"""A moment a person gives, read as `moment_of` reads it, for a pydantic field."""


def in_swedish_time(moment: datetime, *, seconds: bool = False) -> str:
    """'2026-12-01 16:00 CET': the moment in Swedish time, with the zone named (a naive moment is taken as UTC)."""
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(SWEDISH_TIME)
    return f"{local:%Y-%m-%d %H:%M:%S %Z}" if seconds else f"{local:%Y-%m-%d %H:%M %Z}"
