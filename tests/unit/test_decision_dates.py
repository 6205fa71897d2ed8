"""The kommunallag timeline of a nämnd decision (kommunallagen 2017:725) and the calendar it runs on."""

from __future__ import annotations

from datetime import date

import pytest

from domain.decision_dates import (
    DecisionStatus,
    DecisionStep,
    decision_timeline,
    easter_sunday,
    is_deadline_holiday,
    next_working_day,
    previous_working_day,
    swedish_public_holidays,
)

MEETING = date(2016, 9, 15)  # a Thursday

# the calendar


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2016, date(2016, 3, 27)),
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
    ],
)
def test_easter_sunday_follows_the_gregorian_computus(year, easter):
    assert easter_sunday(year) == easter


def test_public_holidays_of_2016():
    # Easter 2016-03-27: långfredagen -2, annandag påsk +1, Kristi himmelsfärd +39 (05-05), pingstdagen +49 (05-15);
    # midsommardagen the Saturday 20–26 June (06-25); alla helgons dag the Saturday 31 Oct–6 Nov (11-05)
    assert swedish_public_holidays(2016) == {
        date(2016, 1, 1),
        date(2016, 1, 6),
        date(2016, 3, 25),
        date(2016, 3, 27),
        date(2016, 3, 28),
        date(2016, 5, 1),
        date(2016, 5, 5),
        date(2016, 5, 15),
        date(2016, 6, 6),
        date(2016, 6, 25),
        date(2016, 11, 5),
        date(2016, 12, 25),
        date(2016, 12, 26),
    }


@pytest.mark.parametrize("midsommardagen", [date(2015, 6, 20), date(2016, 6, 25), date(2021, 6, 26)])
def test_midsommardagen_is_the_saturday_between_20_and_26_june(midsommardagen):
    assert midsommardagen in swedish_public_holidays(midsommardagen.year)


@pytest.mark.parametrize("alla_helgons_dag", [date(2015, 10, 31), date(2016, 11, 5), date(2021, 11, 6)])
def test_alla_helgons_dag_is_the_saturday_between_31_october_and_6_november(alla_helgons_dag):
    assert alla_helgons_dag in swedish_public_holidays(alla_helgons_dag.year)


def test_before_2005_annandag_pingst_was_a_holiday_and_nationaldagen_was_not():
    # Easter 2004-04-11 + 50 days = annandag pingst 2004-05-31
    holidays = swedish_public_holidays(2004)

    assert date(2004, 5, 31) in holidays
    assert date(2004, 6, 6) not in holidays


def test_years_before_1953_are_rejected():
    with pytest.raises(ValueError, match="from 1953"):
        swedish_public_holidays(1952)


@pytest.mark.parametrize(
    "eve",
    [date(2016, 6, 24), date(2018, 12, 24), date(2015, 12, 31)],
    ids=["midsommarafton", "julafton", "nyarsafton"],
)
def test_the_three_eves_count_as_deadline_holidays_without_being_public_holidays(eve):
    assert is_deadline_holiday(eve)
    assert eve not in swedish_public_holidays(eve.year)


@pytest.mark.parametrize("weekend_day", [date(2016, 10, 22), date(2016, 10, 23)])
def test_saturdays_and_sundays_are_deadline_holidays(weekend_day):
    assert is_deadline_holiday(weekend_day)


def test_an_ordinary_wednesday_is_a_working_day():
    assert not is_deadline_holiday(date(2016, 10, 12))


def test_next_working_day_of_a_working_day_is_that_day():
    assert next_working_day(date(2016, 10, 12)) == date(2016, 10, 12)


def test_next_working_day_skips_the_easter_weekend():
    # Fri 03-25 långfredagen, Sat, Sun 03-27 påskdagen, Mon 03-28 annandag påsk -> Tue 03-29
    assert next_working_day(date(2016, 3, 25)) == date(2016, 3, 29)


def test_previous_working_day_of_a_working_day_is_that_day():
    assert previous_working_day(date(2016, 12, 23)) == date(2016, 12, 23)


def test_previous_working_day_skips_back_over_christmas():
    # Mon 12-26 annandag jul, Sun 12-25 juldagen, Sat 12-24 julafton -> Fri 12-23
    assert previous_working_day(date(2016, 12, 26)) == date(2016, 12, 23)


# the timeline: due dates


def test_justering_is_due_14_days_after_the_meeting():
    timeline = decision_timeline(MEETING, today=MEETING)

    # 2016-09-15 + 14 = 2016-09-29 (a Thursday)
    assert timeline.justering_due == date(2016, 9, 29)


def test_before_justering_the_anslag_is_due_2_days_after_the_justering_due_date():
    timeline = decision_timeline(MEETING, today=MEETING)

    # 2016-09-29 + 2 = 2016-10-01 (a Saturday: the statutory day, lawful until Monday 10-03)
    assert timeline.anslag_due == date(2016, 10, 1)
    assert timeline.anslag_latest == date(2016, 10, 3)


def test_after_justering_the_anslag_is_due_2_days_after_the_actual_justering():
    timeline = decision_timeline(MEETING, justering_date=date(2016, 9, 20), today=date(2016, 9, 20))

    # 2016-09-20 + 2 = 2016-09-22
    assert timeline.anslag_due == date(2016, 9, 22)


def test_the_appeal_period_ends_three_weeks_after_the_posting():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 21), today=date(2016, 9, 21)
    )

    # posted Wed 2016-09-21 + 21 days = Wed 2016-10-12, a working day
    assert timeline.appeal_period_ends == date(2016, 10, 12)
    assert timeline.appeal_period_provisional is False


def test_an_appeal_period_ending_on_a_saturday_runs_to_monday():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 29), anslag_date=date(2016, 10, 1), today=date(2016, 10, 1)
    )

    # posted Sat 2016-10-01 + 21 days = Sat 2016-10-22 -> Mon 2016-10-24 (lag 1930:173 2 §)
    assert timeline.appeal_period_ends == date(2016, 10, 24)


def test_an_appeal_period_ending_on_julafton_runs_past_christmas():
    posted = date(2018, 12, 3)
    timeline = decision_timeline(date(2018, 11, 26), justering_date=posted, anslag_date=posted, today=posted)

    # Mon 2018-12-03 + 21 = Mon 12-24 julafton; Tue 12-25 juldagen; Wed 12-26 annandag jul -> Thu 12-27
    assert timeline.appeal_period_ends == date(2018, 12, 27)


def test_an_appeal_period_ending_on_midsommarafton_runs_to_monday():
    posted = date(2016, 6, 3)
    timeline = decision_timeline(date(2016, 5, 26), justering_date=posted, anslag_date=posted, today=posted)

    # Fri 2016-06-03 + 21 = Fri 06-24 midsommarafton; Sat 06-25 midsommardagen; Sun 06-26 -> Mon 06-27
    assert timeline.appeal_period_ends == date(2016, 6, 27)


def test_an_appeal_period_ending_on_nyarsafton_runs_past_new_year():
    posted = date(2015, 12, 10)
    timeline = decision_timeline(date(2015, 12, 3), justering_date=posted, anslag_date=posted, today=posted)

    # Thu 2015-12-10 + 21 = Thu 12-31 nyårsafton; Fri 2016-01-01 nyårsdagen; Sat 01-02; Sun 01-03 -> Mon 01-04
    assert timeline.appeal_period_ends == date(2016, 1, 4)


def test_before_posting_the_appeal_period_is_provisional_and_counts_from_the_anslag_due_date():
    timeline = decision_timeline(MEETING, justering_date=date(2016, 9, 20), today=date(2016, 9, 20))

    # anslag due 2016-09-22 (Thu) + 21 = Thu 2016-10-13
    assert timeline.appeal_period_ends == date(2016, 10, 13)
    assert timeline.appeal_period_provisional is True


# the timeline: status


def test_a_decision_without_justering_is_beslutad():
    assert decision_timeline(MEETING, today=MEETING).status is DecisionStatus.BESLUTAD


def test_a_decision_with_justering_is_justerad():
    timeline = decision_timeline(MEETING, justering_date=date(2016, 9, 20), today=date(2016, 9, 20))

    assert timeline.status is DecisionStatus.JUSTERAD


def test_on_the_last_day_of_the_appeal_period_the_decision_is_still_anslagen():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 21), today=date(2016, 10, 12)
    )

    assert timeline.status is DecisionStatus.ANSLAGEN


def test_the_day_after_the_appeal_period_the_decision_has_laga_kraft():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 21), today=date(2016, 10, 13)
    )

    assert timeline.status is DecisionStatus.LAGA_KRAFT


def test_an_unposted_decision_never_gets_laga_kraft():
    timeline = decision_timeline(MEETING, justering_date=date(2016, 9, 20), today=date(2017, 1, 1))

    assert timeline.status is DecisionStatus.JUSTERAD


# the timeline: overdue


def test_steps_taken_in_time_are_not_overdue():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 21), today=date(2016, 11, 1)
    )

    assert timeline.overdue == []


def test_a_late_justering_is_overdue_with_the_days_late():
    timeline = decision_timeline(MEETING, justering_date=date(2016, 10, 3), today=date(2016, 10, 3))

    # latest Thu 2016-09-29; done 2016-10-03 -> 4 days late
    [late] = timeline.overdue
    assert late.step is DecisionStep.JUSTERING
    assert late.done_on == date(2016, 10, 3)
    assert (
        late.reason == "justering 2016-10-03 gjordes 4 dagar för sent; senast 2016-09-29 (14 dagar efter sammanträdet)"
    )


def test_a_missing_justering_is_overdue_once_its_last_day_has_passed():
    timeline = decision_timeline(MEETING, today=date(2016, 9, 30))

    # justering latest 2016-09-29 < 09-30; anslag latest Mon 10-03 (due Sat 10-01) not passed yet
    assert [(o.step, o.done_on) for o in timeline.overdue] == [(DecisionStep.JUSTERING, None)]
    assert timeline.overdue[0].reason == (
        "justering saknas 1 dag efter sista dag 2016-09-29 (14 dagar efter sammanträdet)"
    )


def test_a_missing_justering_and_anslag_are_both_overdue():
    timeline = decision_timeline(MEETING, today=date(2016, 10, 4))

    assert [o.step for o in timeline.overdue] == [DecisionStep.JUSTERING, DecisionStep.ANSLAG]


def test_a_late_anslag_is_overdue():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 26), today=date(2016, 9, 26)
    )

    # justered Tue 09-20 + 2 = Thu 09-22; posted Mon 09-26 -> 4 days late
    [late] = timeline.overdue
    assert late.step is DecisionStep.ANSLAG
    assert late.latest == date(2016, 9, 22)
    assert "4 dagar för sent" in late.reason


def test_an_anslag_due_on_a_saturday_may_be_posted_on_monday():
    timeline = decision_timeline(
        MEETING, justering_date=date(2016, 9, 29), anslag_date=date(2016, 10, 3), today=date(2016, 10, 3)
    )

    # justered Thu 09-29 + 2 = Sat 10-01 -> lag (1930:173) 2 § allows Mon 10-03
    assert timeline.overdue == []


def test_justering_on_the_meeting_day_is_allowed():
    timeline = decision_timeline(MEETING, justering_date=MEETING, today=MEETING)

    assert timeline.status is DecisionStatus.JUSTERAD


# the timeline: validation


def test_a_justering_before_the_meeting_is_rejected():
    with pytest.raises(ValueError, match="justering on 2016-09-14 is before the meeting on 2016-09-15"):
        decision_timeline(MEETING, justering_date=date(2016, 9, 14), today=date(2016, 9, 20))


def test_an_anslag_before_the_justering_is_rejected():
    with pytest.raises(ValueError, match="anslag on 2016-09-19 is before the justering on 2016-09-20"):
        decision_timeline(
            MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 19), today=date(2016, 9, 20)
        )


def test_an_anslag_without_justering_is_rejected():
    with pytest.raises(ValueError, match="anslag on 2016-09-21 without justering"):
        decision_timeline(MEETING, anslag_date=date(2016, 9, 21), today=date(2016, 9, 21))


def test_a_meeting_after_today_is_rejected():
    with pytest.raises(ValueError, match="the meeting on 2016-09-15 has not happened yet"):
        decision_timeline(MEETING, today=date(2016, 9, 14))


def test_a_justering_after_today_is_rejected():
    with pytest.raises(ValueError, match="justering on 2016-09-20 is in the future"):
        decision_timeline(MEETING, justering_date=date(2016, 9, 20), today=date(2016, 9, 19))


def test_an_anslag_after_today_is_rejected():
    with pytest.raises(ValueError, match="anslag on 2016-09-21 is in the future"):
        decision_timeline(
            MEETING, justering_date=date(2016, 9, 20), anslag_date=date(2016, 9, 21), today=date(2016, 9, 20)
        )
