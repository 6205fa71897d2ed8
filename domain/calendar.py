"""A municipality's school year: terms and holidays (lov), so deadlines and reminders avoid days off,
and the nämnd's meeting dates, so tasks that need a decision fall due at a meeting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.decision_dates import swedish_public_holidays

OFFICE_DAY_END = time(16, 0)


class DateRange(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, description="e.g. höstlov, jullov, sportlov, påsklov, sommarlov")
    first: date
    last: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.last < self.first:
            raise ValueError(f"{self.name}: last day {self.last} is before the first {self.first}")
        return self

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


class SchoolCalendar(BaseModel):
    """The days a municipality's schools and förvaltning are at work, and when its nämnd meets."""

    model_config = ConfigDict(frozen=True)

    holidays: list[DateRange] = Field(default_factory=list, description="school holidays (lov)")
    meeting_dates: list[date] = Field(default_factory=list, description="the nämnd's meetings")

    def is_day_off(self, day: date) -> bool:
        """Weekends, public holidays and the school's lov."""
        return day.weekday() >= 5 or day in swedish_public_holidays(day.year) or any(day in h for h in self.holidays)

    def working_day_on_or_after(self, day: date) -> date:
        while self.is_day_off(day):
            day += timedelta(days=1)
        return day

    def working_day_on_or_before(self, day: date) -> date:
        while self.is_day_off(day):
            day -= timedelta(days=1)
        return day

    def next_meeting_on_or_after(self, day: date) -> date | None:
        return min((m for m in self.meeting_dates if m >= day), default=None)


def due_on_a_working_day(due: datetime, calendar: SchoolCalendar | None) -> datetime:
    """A deadline that falls on a day off moves to the end of the next working day."""
    if calendar is None or not calendar.is_day_off(due.date()):
        return due
    day = calendar.working_day_on_or_after(due.date())
    return datetime.combine(day, OFFICE_DAY_END, tzinfo=due.tzinfo)


def due_at_a_meeting(due: datetime, calendar: SchoolCalendar | None) -> datetime:
    """A task that needs the nämnd falls due at its first meeting on or after the deadline, when one is known."""
    meeting = calendar.next_meeting_on_or_after(due.date()) if calendar is not None else None
    if meeting is None:
        return due_on_a_working_day(due, calendar)
    return datetime.combine(meeting, OFFICE_DAY_END, tzinfo=due.tzinfo)


def reminder_on_a_working_day(moment: datetime, calendar: SchoolCalendar | None) -> datetime:
    """A reminder that would land on a day off comes on the working day before, so it still precedes the due."""
    if calendar is None or not calendar.is_day_off(moment.date()):
        return moment
    day = calendar.working_day_on_or_before(moment.date())
    return datetime.combine(day, moment.timetz())
