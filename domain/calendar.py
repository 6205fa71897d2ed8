"""A municipality's school year: terms and holidays (lov), so deadlines and reminders avoid days off,
and the nämnd's meeting dates, so tasks that need a decision fall due at a meeting.

Whose day off it is matters: weekends, public holidays and midsommarafton, julafton and nyårsafton are days off for
everyone, while the school's lov is a day off only at the schools (the rektor and those who work under them). The
politicians, the förvaltning, HR and ekonomi work through the höstlov.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.decision_dates import is_deadline_holiday, swedish_public_holidays
from domain.moments import OFFICE_DAY_END, SWEDISH_TIME, end_of_office_day
from domain.roles import Role

SCHOOL_LEVEL_ROLES: frozenset[Role] = frozenset({Role.REKTOR})
"""The roles whose working year is the school's, so the lov moves their deadlines and reminders."""

PREPARATION_WORKING_DAYS = 10
"""Working days before a meeting by which a case must be ready, so it goes out with the notice (kallelse): the
default where the calendar does not set the organ's own."""


class OrganMeetings(BaseModel):
    """One organ's meetings, and how many working days before a meeting its cases must be ready."""

    model_config = ConfigDict(frozen=True)

    meeting_dates: list[date] = Field(default_factory=list)
    preparation_working_days: int = Field(default=PREPARATION_WORKING_DAYS, ge=0, le=60)


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
    preparation_working_days: int = Field(
        default=PREPARATION_WORKING_DAYS,
        ge=0,
        le=60,
        description="working days before a meeting by which its cases must be ready for the notice",
    )
    organs: dict[str, OrganMeetings] = Field(
        default_factory=dict, description="other organs' meetings by the organ's name, e.g. Kommunstyrelsen"
    )

    def meetings_of(self, organ: str) -> OrganMeetings:
        """The organ's own meetings where the calendar lists it by name, else the calendar's (the nämnd's)."""
        return self.organs.get(organ) or OrganMeetings(
            meeting_dates=self.meeting_dates, preparation_working_days=self.preparation_working_days
        )

    def is_school_day_off(self, day: date) -> bool:
        """Whether `day` falls in one of the school's lov."""
        return any(day in h for h in self.holidays)

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


# ---- the first edition (domain.rulebook): runs that began before December 2026 keep these ---------------------
# Only a pilot with a calendar moved its deadlines, off weekends, public holidays and lov alike for every role.


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


# ---- the current edition (domain.rulebook, deadlines_by_role) ---------------------------------------------------


def is_day_off_for(day: date, role: Role | None, calendar: SchoolCalendar | None) -> bool:
    """Whether `role` is off on `day`: weekends, public holidays and the eves for everyone; lov at the schools."""
    if is_deadline_holiday(day):
        return True
    return calendar is not None and role in SCHOOL_LEVEL_ROLES and calendar.is_school_day_off(day)


def day_of(moment: datetime, *, swedish: bool = True) -> date:
    """The day `moment` falls on: its Swedish day; on runs from before (domain.rulebook, office_day_in_swedish_time)
    its day in its own zone, which the workflow keeps in UTC."""
    return moment.astimezone(SWEDISH_TIME).date() if swedish else moment.date()


def office_day_end(day: date, due: datetime, *, swedish: bool = True) -> datetime:
    """The end of the office day on `day`: 16:00 Swedish time; on runs from before, 16:00 in `due`'s zone (UTC)."""
    return end_of_office_day(day) if swedish else datetime.combine(day, OFFICE_DAY_END, tzinfo=due.tzinfo)


def deadline_on_a_working_day(
    due: datetime, role: Role | None, calendar: SchoolCalendar | None, *, swedish: bool = True
) -> datetime:
    """A deadline that falls on its holder's day off moves to the end of their next working day."""
    day = day_of(due, swedish=swedish)
    if not is_day_off_for(day, role, calendar):
        return due
    while is_day_off_for(day, role, calendar):
        day += timedelta(days=1)
    return office_day_end(day, due, swedish=swedish)


def reminder_on_a_working_day_for(moment: datetime, role: Role | None, calendar: SchoolCalendar | None) -> datetime:
    """A reminder that would land on its holder's day off comes on their working day before."""
    if not is_day_off_for(moment.date(), role, calendar):
        return moment
    day = moment.date()
    while is_day_off_for(day, role, calendar):
        day -= timedelta(days=1)
    return datetime.combine(day, moment.timetz())


def working_days_before(day: date, count: int) -> date:
    """The working day `count` working days before `day` (weekends, public holidays and eves not counted)."""
    while count > 0:
        day -= timedelta(days=1)
        if not is_deadline_holiday(day):
            count -= 1
    return day


def meeting_reachable_from(day: date, meetings: OrganMeetings) -> date | None:
    """The first meeting whose notice a case ready on `day` still makes: ready `preparation_working_days` working
    days before it. None when the calendar knows no such meeting."""
    return min(
        (m for m in meetings.meeting_dates if working_days_before(m, meetings.preparation_working_days) >= day),
        default=None,
    )


def notice_deadline_on_or_after(day: date, meetings: OrganMeetings) -> date | None:
    """The earliest notice deadline (a meeting's date less its preparation time) on or after `day`, or None."""
    deadlines = (working_days_before(m, meetings.preparation_working_days) for m in meetings.meeting_dates)
    return min((d for d in deadlines if d >= day), default=None)
