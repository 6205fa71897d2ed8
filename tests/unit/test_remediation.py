"""`schedule_backwards`: the remediation steps of an inspection finding, dated back from the report deadline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.decision_dates import is_deadline_holiday
from domain.remediation import DEFAULT_PLAN, PlannedStep, schedule_backwards
from domain.roles import Role


def dates(steps):
    return [s.due for s in steps]


def compressed(steps):
    return [s.key for s in steps if s.compressed]


def test_the_default_plan_has_its_four_steps_and_owners_in_order():
    assert [(s.key, s.owner_role, s.days_before_deadline) for s in DEFAULT_PLAN] == [
        ("atgardsplan", Role.FORVALTNINGSCHEF, 60),
        ("atgarder_genomforda", Role.REKTOR, 21),
        ("namndbeslut_redovisning", Role.NAMNDSEKRETERARE, 10),
        ("redovisning_inskickad", Role.FORVALTNINGSCHEF, 0),
    ]


def test_with_time_enough_each_step_is_due_its_days_before_the_deadline():
    steps = schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1))

    # Thu 2016-12-01 - 60 = Sun 10-02 -> Fri 09-30; -21 = Thu 11-10; -10 = Mon 11-21; -0 = Thu 12-01
    assert dates(steps) == [date(2016, 9, 30), date(2016, 11, 10), date(2016, 11, 21), date(2016, 12, 1)]
    assert compressed(steps) == []


def test_a_deadline_on_a_holiday_is_met_on_the_working_day_before():
    steps = schedule_backwards(date(2016, 6, 6), today=date(2016, 1, 4))

    # Mon 2016-06-06 is nationaldagen -> Fri 06-03; -10 = Fri 05-27; -21 = Mon 05-16; -60 = Thu 04-07
    assert dates(steps) == [date(2016, 4, 7), date(2016, 5, 16), date(2016, 5, 27), date(2016, 6, 3)]


def test_a_step_landing_on_christmas_moves_back_to_the_last_working_day_before_it():
    steps = schedule_backwards(date(2017, 1, 5), today=date(2016, 8, 1))

    # Thu 2017-01-05 - 10 = Mon 2016-12-26 annandag jul; Sun 25, Sat 24 -> Fri 2016-12-23
    assert steps[2].due == date(2016, 12, 23)


def test_the_steps_carry_their_titles_and_owners():
    [first, *_] = schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1))

    assert (first.key, first.title_sv, first.owner_role) == (
        "atgardsplan",
        "Åtgärdsplan upprättad",
        Role.FORVALTNINGSCHEF,
    )


def test_a_deadline_that_has_passed_is_rejected():
    with pytest.raises(ValueError, match="the report deadline 2016-08-09 has passed"):
        schedule_backwards(date(2016, 8, 9), today=date(2016, 8, 10))


def test_a_close_deadline_spreads_the_steps_that_do_not_fit_over_the_days_left():
    steps = schedule_backwards(date(2016, 8, 20), today=date(2016, 8, 10))

    # Sat 08-20 -> report Fri 08-19. Planned -60 = 06-21 and -21 = 07-30 are past; -10 = Wed 08-10 is today,
    # which leaves no day before it for the two past steps, so it is squeezed too. Working days from Wed 08-10
    # before Fri 08-19: 10 11 12 15 16 17 18 (7); 3 steps at 0*7//3=0, 1*7//3=2, 2*7//3=4 -> 08-10, 08-12, 08-16
    assert dates(steps) == [date(2016, 8, 10), date(2016, 8, 12), date(2016, 8, 16), date(2016, 8, 19)]
    assert compressed(steps) == ["atgardsplan", "atgarder_genomforda", "namndbeslut_redovisning"]


def test_only_the_steps_that_do_not_fit_are_compressed():
    steps = schedule_backwards(date(2016, 9, 30), today=date(2016, 9, 1))

    # Fri 09-30: -60 = 08-01 is past -> today Thu 09-01; -21 = Fri 09-09, -10 = Tue 09-20 keep their dates
    assert dates(steps) == [date(2016, 9, 1), date(2016, 9, 9), date(2016, 9, 20), date(2016, 9, 30)]
    assert compressed(steps) == ["atgardsplan"]


def test_two_late_steps_are_spread_evenly_before_the_first_step_that_fits():
    steps = schedule_backwards(date(2016, 9, 30), today=date(2016, 9, 12))

    # -60 and -21 (Fri 09-09) are past; -10 = Tue 09-20 fits. Working days Mon 09-12 up to 09-20:
    # 12 13 14 15 16 19 (6); 2 steps at 0*6//2=0, 1*6//2=3 -> 09-12, 09-15
    assert dates(steps) == [date(2016, 9, 12), date(2016, 9, 15), date(2016, 9, 20), date(2016, 9, 30)]
    assert compressed(steps) == ["atgardsplan", "atgarder_genomforda"]


def test_with_too_few_days_left_the_steps_share_days():
    steps = schedule_backwards(date(2016, 9, 13), today=date(2016, 9, 12))

    # Mon 09-12 and Tue 09-13 are the only days (2) for 4 steps: 0*2//3=0, 1*2//3=0, 2*2//3=1; report on 09-13
    assert dates(steps) == [date(2016, 9, 12), date(2016, 9, 12), date(2016, 9, 13), date(2016, 9, 13)]
    assert compressed(steps) == ["atgardsplan", "atgarder_genomforda", "namndbeslut_redovisning"]


def test_a_deadline_today_puts_every_step_today():
    steps = schedule_backwards(date(2016, 9, 13), today=date(2016, 9, 13))

    assert dates(steps) == [date(2016, 9, 13)] * 4
    assert compressed(steps) == ["atgardsplan", "atgarder_genomforda", "namndbeslut_redovisning"]


def test_with_no_working_day_left_every_step_is_due_today():
    steps = schedule_backwards(date(2016, 9, 11), today=date(2016, 9, 10))

    # Sat 09-10 and Sun 09-11: the report's working day (Fri 09-09) is already past
    assert dates(steps) == [date(2016, 9, 10)] * 4
    assert compressed(steps) == [s.key for s in DEFAULT_PLAN]


def test_dates_never_decrease_never_precede_today_and_never_pass_the_deadline():
    deadline = date(2016, 12, 1)
    for offset in range(0, 120):
        today = deadline - timedelta(days=offset)
        due = dates(schedule_backwards(deadline, today=today))
        assert due == sorted(due), today
        assert today <= due[0] and due[-1] <= deadline, today


def test_a_scheduled_step_never_falls_on_a_holiday_while_working_days_are_left():
    deadline = date(2016, 12, 28)
    for offset in range(0, 120):
        today = deadline - timedelta(days=offset)
        if is_deadline_holiday(today):
            continue
        assert not any(is_deadline_holiday(d) for d in dates(schedule_backwards(deadline, today=today))), today


def test_a_custom_plan_is_scheduled_the_same_way():
    plan = (
        PlannedStep(
            key="kartlaggning",
            title_sv="Kartläggning",
            title_en="Survey",
            owner_role=Role.ANALYTIKER,
            days_before_deadline=30,
        ),
        PlannedStep(
            key="redovisning",
            title_sv="Redovisning",
            title_en="Report",
            owner_role=Role.FORVALTNINGSCHEF,
            days_before_deadline=0,
        ),
    )

    steps = schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1), plan=plan)

    # Thu 12-01 - 30 = Tue 11-01
    assert [(s.key, s.due) for s in steps] == [("kartlaggning", date(2016, 11, 1)), ("redovisning", date(2016, 12, 1))]


def test_a_plan_out_of_order_is_rejected():
    plan = (DEFAULT_PLAN[1], DEFAULT_PLAN[0])

    with pytest.raises(ValueError, match="steps must be in order: 'atgardsplan'"):
        schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1), plan=plan)


def test_a_plan_with_a_repeated_key_is_rejected():
    with pytest.raises(ValueError, match=r"repeated: \['atgardsplan'\]"):
        schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1), plan=(DEFAULT_PLAN[0], DEFAULT_PLAN[0]))


def test_an_empty_plan_is_rejected():
    with pytest.raises(ValueError, match="at least one step"):
        schedule_backwards(date(2016, 12, 1), today=date(2016, 8, 1), plan=())
