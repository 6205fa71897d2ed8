"""Deadlines on the days people work: weekends and holidays for everyone, lov for the schools, the nämnd's notice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.calendar import (
    DateRange,
    OrganMeetings,
    SchoolCalendar,
    deadline_on_a_working_day,
    meeting_reachable_from,
    notice_deadline_on_or_after,
    reminder_on_a_working_day_for,
    working_days_before,
)
from domain.moments import end_of_office_day
from domain.roles import Role
from domain.rulebook import CURRENT_RULES, FIRST_EDITION
from programmes import LFR_SKOLA
from tests.unit.conftest import PilotDriver

SPORTLOV = DateRange(name="sportlov", first=date(2027, 2, 22), last=date(2027, 2, 26))  # Monday to Friday
CALENDAR = SchoolCalendar(holidays=[SPORTLOV])


def at(day: date, hour: int = 8) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def test_a_deadline_on_a_saturday_moves_to_monday_even_without_a_calendar():
    moved = deadline_on_a_working_day(at(date(2027, 3, 6)), Role.FORVALTNINGSCHEF, None)

    assert moved == end_of_office_day(date(2027, 3, 8))


@pytest.mark.parametrize(
    ("day", "next_working"),
    [
        (date(2026, 12, 24), date(2026, 12, 28)),  # julafton, juldagen, annandag jul, a Sunday
        (date(2027, 1, 6), date(2027, 1, 7)),  # trettondedag jul
        (date(2027, 6, 25), date(2027, 6, 28)),  # midsommarafton, then the weekend
    ],
)
def test_a_deadline_on_a_public_holiday_or_an_eve_moves_to_the_next_working_day(day, next_working):
    assert deadline_on_a_working_day(at(day), Role.POLITIKER, None).date() == next_working


def test_a_working_day_deadline_stays_as_it_is():
    due = at(date(2027, 3, 10), 11)

    assert deadline_on_a_working_day(due, Role.EKONOMI, CALENDAR) == due


def test_the_schools_lov_moves_the_rektors_deadline_past_it():
    moved = deadline_on_a_working_day(at(date(2027, 2, 23)), Role.REKTOR, CALENDAR)

    assert moved == end_of_office_day(date(2027, 3, 1))


@pytest.mark.parametrize(
    "role", [Role.POLITIKER, Role.FORVALTNINGSCHEF, Role.HR, Role.EKONOMI, Role.ANALYTIKER, Role.NAMNDSEKRETERARE]
)
def test_the_schools_lov_does_not_move_the_deadlines_of_those_who_work_through_it(role):
    due = at(date(2027, 2, 23))

    assert deadline_on_a_working_day(due, role, CALENDAR) == due


def test_a_reminder_in_the_lov_comes_before_it_for_a_rektor_only():
    moment = at(date(2027, 2, 24), 9)

    assert reminder_on_a_working_day_for(moment, Role.REKTOR, CALENDAR) == at(date(2027, 2, 19), 9)
    assert reminder_on_a_working_day_for(moment, Role.HR, CALENDAR) == moment


def test_a_reminder_on_a_sunday_comes_on_the_friday_before_even_without_a_calendar():
    assert reminder_on_a_working_day_for(at(date(2027, 3, 7)), Role.HR, None) == at(date(2027, 3, 5))


def test_working_days_before_a_meeting_skip_weekends_and_holidays():
    # Ten working days before Thursday 2027-04-08: back over the Easter weekend (26 to 29 March).
    assert working_days_before(date(2027, 4, 8), 10) == date(2027, 3, 23)
    assert working_days_before(date(2027, 4, 8), 0) == date(2027, 4, 8)


def test_a_case_reaches_the_first_meeting_whose_notice_it_is_ready_for():
    meetings = OrganMeetings(meeting_dates=[date(2027, 3, 18), date(2027, 4, 22)], preparation_working_days=10)

    assert meeting_reachable_from(date(2027, 3, 4), meetings) == date(2027, 3, 18)  # notice deadline 3-04
    assert meeting_reachable_from(date(2027, 3, 5), meetings) == date(2027, 4, 22)
    assert meeting_reachable_from(date(2027, 4, 22), meetings) is None


def test_the_notice_deadline_is_the_first_on_or_after_the_tasks_own_deadline():
    meetings = OrganMeetings(meeting_dates=[date(2027, 3, 18), date(2027, 4, 22)], preparation_working_days=10)

    assert notice_deadline_on_or_after(date(2027, 3, 1), meetings) == date(2027, 3, 4)
    assert notice_deadline_on_or_after(date(2027, 3, 5), meetings) == working_days_before(date(2027, 4, 22), 10)


def test_each_organ_has_its_own_meetings_and_preparation_time_and_the_calendar_a_default():
    calendar = SchoolCalendar(
        meeting_dates=[date(2027, 3, 18)],
        organs={"Kommunstyrelsen": OrganMeetings(meeting_dates=[date(2027, 3, 9)], preparation_working_days=15)},
    )

    assert calendar.meetings_of("Kommunstyrelsen").preparation_working_days == 15
    assert calendar.meetings_of("Bildningsnämnden").meeting_dates == [date(2027, 3, 18)]
    assert calendar.meetings_of("Bildningsnämnden").preparation_working_days == 10  # the stated default


def meetings_pilot(*, rules=None) -> PilotDriver:
    """A pilot started 2024-09-02 whose nämnd meets 2024-10-24 and 2024-11-21, ready for the analysis."""
    calendar = SchoolCalendar(meeting_dates=[date(2024, 10, 24), date(2024, 11, 21)])
    pilot = PilotDriver(LFR_SKOLA) if rules is None else PilotDriver(LFR_SKOLA, rules=rules)
    pilot.start(calendar=calendar)
    pilot.advance()
    pilot.complete_all("kpi_data_pack", "document_collection", "self_assessment")
    return pilot


def test_what_a_decision_rests_on_is_due_by_the_notice_of_the_meeting_it_can_reach():
    pilot = meetings_pilot()

    # The synthesis is due 30 days after it opens (2024-10-02); the first notice deadline on or after that is
    # ten working days before 24 October: 10 October.
    due = pilot.state.tasks["strengths_weaknesses"].due_at
    assert due == end_of_office_day(date(2024, 10, 10))


def test_the_decision_is_due_at_the_first_meeting_its_case_still_reaches_when_it_opens():
    pilot = meetings_pilot()
    pilot.tick(timedelta(days=7))  # the synthesis done on 9 September, well before the notice for 24 October

    pilot.complete("strengths_weaknesses")

    assert pilot.state.tasks["analysis_reported"].due_at == end_of_office_day(date(2024, 10, 24))


def test_the_end_of_the_office_day_is_four_in_the_afternoon_swedish_time_summer_and_winter():
    assert end_of_office_day(date(2027, 1, 15)) == at(date(2027, 1, 15), 15)  # CET, UTC+1
    assert end_of_office_day(date(2027, 6, 15)) == at(date(2027, 6, 15), 14)  # CEST, UTC+2


def test_the_day_a_deadline_falls_on_is_its_swedish_day():
    # 23:30 UTC on Friday 5 March is 00:30 on Saturday in Sweden: a day off, so it moves to Monday.
    late_friday = datetime(2027, 3, 5, 23, 30, tzinfo=UTC)

    assert deadline_on_a_working_day(late_friday, Role.EKONOMI, None) == end_of_office_day(date(2027, 3, 8))
    assert deadline_on_a_working_day(late_friday, Role.EKONOMI, None, swedish=False) == late_friday


def test_runs_from_before_the_swedish_office_day_keep_four_in_the_afternoon_utc():
    rules = CURRENT_RULES.model_copy(update={"office_day_in_swedish_time": False})
    pilot = meetings_pilot(rules=rules)
    pilot.tick(timedelta(days=7))

    pilot.complete("strengths_weaknesses")

    assert deadline_on_a_working_day(at(date(2027, 3, 6)), Role.EKONOMI, None, swedish=False) == at(
        date(2027, 3, 8), 16
    )
    assert pilot.state.tasks["analysis_reported"].due_at == at(date(2024, 10, 24), 16)


def test_on_the_first_edition_of_the_rules_the_decision_is_due_at_the_first_meeting_after_its_own_deadline():
    pilot = meetings_pilot(rules=FIRST_EDITION)
    pilot.tick(timedelta(days=7))

    pilot.complete("strengths_weaknesses")

    # 45 days after 9 September is 24 October itself.
    assert pilot.state.tasks["analysis_reported"].due_at == at(date(2024, 10, 24), 16)
    assert pilot.state.tasks["strengths_weaknesses"].due_at == pilot.state.tasks["strengths_weaknesses"].opened_at + (
        timedelta(days=30)
    )


def test_a_decision_after_the_last_known_meeting_falls_back_to_its_own_deadline():
    pilot = meetings_pilot()
    pilot.tick(timedelta(days=90))  # past both meetings

    pilot.complete("strengths_weaknesses")

    reported = pilot.state.tasks["analysis_reported"]
    assert reported.due_at is not None and reported.due_at.date() >= (pilot.now + timedelta(days=45)).date()
