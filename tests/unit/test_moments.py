"""One reading of a moment a person gives, and one way of showing one: Swedish time, with the zone named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.moments import end_of_office_day, in_swedish_time, moment_of
from domain.steering import SteerTask


def test_a_bare_date_is_the_end_of_that_office_day_in_swedish_time():
    assert moment_of("2026-12-10") == datetime(2026, 12, 10, 15, 0, tzinfo=UTC)  # 16:00 CET
    assert moment_of("2027-06-10") == datetime(2027, 6, 10, 14, 0, tzinfo=UTC)  # 16:00 CEST
    assert moment_of(date(2026, 12, 10)) == end_of_office_day(date(2026, 12, 10))


def test_a_time_without_a_zone_is_swedish_time_and_one_with_a_zone_is_that_moment():
    assert moment_of("2026-12-10T09:30") == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
    assert moment_of("2026-12-10T09:30Z") == datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
    assert moment_of("2026-12-10T09:30+02:00") == datetime(2026, 12, 10, 7, 30, tzinfo=UTC)
    assert moment_of(datetime(2026, 12, 10, 9, 30)) == datetime(2026, 12, 10, 8, 30, tzinfo=UTC)


def test_what_is_not_a_moment_is_refused_saying_what_is_expected():
    with pytest.raises(ValueError, match="2026-12-01 \\(16:00 Swedish time\\)"):
        moment_of("next friday")
    with pytest.raises(ValueError, match="not a day or a moment"):
        moment_of("2026-13-01")


def test_every_moment_is_shown_in_swedish_time_with_its_zone_named():
    assert in_swedish_time(datetime(2026, 12, 10, 15, 0, tzinfo=UTC)) == "2026-12-10 16:00 CET"
    assert in_swedish_time(datetime(2027, 6, 10, 14, 0, tzinfo=UTC)) == "2027-06-10 16:00 CEST"
    assert in_swedish_time(datetime(2026, 12, 10, 22, 30, 5, tzinfo=UTC), seconds=True) == "2026-12-10 23:30:05 CET"
    new_york = timezone(timedelta(hours=-5))
    assert in_swedish_time(datetime(2026, 12, 10, 10, 0, tzinfo=new_york)) == "2026-12-10 16:00 CET"


def test_a_steering_request_reads_its_deadline_as_every_edge_does():
    def extend(until: object) -> SteerTask:
        return SteerTask(task_key="t", actor_id="lead", action="extend", reason="sjukdom", due_at=until)

    assert extend("2026-12-10").due_at == datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    assert extend("2026-12-10T12:00").due_at == datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
    # As the workflow receives it back from the data converter: the same moment.
    sent = extend("2026-12-10").model_dump_json()
    assert SteerTask.model_validate_json(sent).due_at == datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="due_at"):
        extend("tomorrow")
