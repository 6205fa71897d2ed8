"""The kommunallag timeline of a nämnd decision: justering, anslag, appeal period, laga kraft.

The rules (kommunallagen (2017:725) 5 kap. 69 §, 8 kap. 12 §, 13 kap. 5 §; the same in KL (1991:900)):
the minutes are approved (justeras) within 14 days of the meeting, the approval is posted on the notice board
(anslag) within 2 days of the approval, and anyone may appeal for three weeks from the posting day. Deadlines
that fall on a Saturday, Sunday, public holiday, midsommarafton, julafton or nyårsafton move to the next
working day (lag (1930:173) om beräkning av lagstadgad tid 2 §, "söndagsregeln").

Each step may lawfully be taken on the last day the law allows, as moved: a justering on the Monday after a
Saturday deadline is in time, and the 2 days for the anslag count from that Monday. So before a step is taken,
the latest day of the next one counts from the latest lawful day of the step before it, not from the statutory
day before it was moved (a meeting on 2027-12-08: justering by 12-22, anslag due on julafton and so by 12-27, the
appeal period ending 2028-01-17, not 01-14).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

JUSTERING_WITHIN = timedelta(days=14)
ANSLAG_WITHIN = timedelta(days=2)
APPEAL_PERIOD = timedelta(weeks=3)

_FIRST_YEAR = 1953  # midsommardagen and alla helgons dag have been Saturdays since 1953
_NATIONALDAGEN_FROM = 2005  # nationaldagen replaced annandag pingst as a public holiday in 2005


def easter_sunday(year: int) -> date:
    """Påskdagen, by the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_offset = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_offset) // 451
    month, day = divmod(h + weekday_offset - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_between(first: date) -> date:
    """The Saturday among the seven days starting at `first`."""
    return first + timedelta(days=(5 - first.weekday()) % 7)


def swedish_public_holidays(year: int) -> frozenset[date]:
    """The allmänna helgdagar of `year` other than ordinary Sundays (lag (1989:253), and första maj)."""
    if year < _FIRST_YEAR:
        raise ValueError(f"holidays are computed from {_FIRST_YEAR} on (today's midsommar rules), not for {year}")
    easter = easter_sunday(year)
    holidays = {
        date(year, 1, 1),  # nyårsdagen
        date(year, 1, 6),  # trettondedag jul
        easter - timedelta(days=2),  # långfredagen
        easter,  # påskdagen
        easter + timedelta(days=1),  # annandag påsk
        date(year, 5, 1),  # första maj
        easter + timedelta(days=39),  # Kristi himmelsfärdsdag
        easter + timedelta(days=49),  # pingstdagen (a Sunday, but an allmän helgdag in its own right)
        _saturday_between(date(year, 6, 20)),  # midsommardagen
        _saturday_between(date(year, 10, 31)),  # alla helgons dag
        date(year, 12, 25),  # juldagen
        date(year, 12, 26),  # annandag jul
    }
    if year >= _NATIONALDAGEN_FROM:
        holidays.add(date(year, 6, 6))  # nationaldagen
    else:
        holidays.add(easter + timedelta(days=50))  # annandag pingst
    return frozenset(holidays)


def _eves(year: int) -> frozenset[date]:
    """Midsommarafton, julafton and nyårsafton: not holidays, but lag (1930:173) 2 § treats them as such."""
    return frozenset(
        {
            _saturday_between(date(year, 6, 20)) - timedelta(days=1),
            date(year, 12, 24),
            date(year, 12, 31),
        }
    )


def is_deadline_holiday(d: date) -> bool:
    """Whether a deadline falling on `d` moves to the next working day (lag (1930:173) 2 §)."""
    return d.weekday() >= 5 or d in swedish_public_holidays(d.year) or d in _eves(d.year)


def next_working_day(d: date) -> date:
    """`d` itself if it is a working day, else the first working day after it."""
    while is_deadline_holiday(d):
        d += timedelta(days=1)
    return d


def previous_working_day(d: date) -> date:
    """`d` itself if it is a working day, else the last working day before it."""
    while is_deadline_holiday(d):
        d -= timedelta(days=1)
    return d


class DecisionStatus(StrEnum):
    BESLUTAD = "beslutad"  # decided at the meeting
    JUSTERAD = "justerad"  # minutes approved
    ANSLAGEN = "anslagen"  # approval posted on the notice board; the appeal period runs
    LAGA_KRAFT = "laga_kraft"  # the appeal period is over


class DecisionStep(StrEnum):
    JUSTERING = "justering"
    ANSLAG = "anslag"


class OverdueStep(BaseModel):
    """A step taken, or still not taken, after the last day the law allows."""

    model_config = ConfigDict(frozen=True)

    step: DecisionStep
    latest: date
    done_on: date | None
    reason: str


class DecisionTimeline(BaseModel):
    """Where a nämnd decision stands on `today`.

    `*_due` is the statutory day; `*_latest` is the same day moved past weekends and holidays by
    lag (1930:173) 2 §, and a step is overdue only after that.
    """

    model_config = ConfigDict(frozen=True)

    meeting_date: date
    justering_date: date | None
    anslag_date: date | None
    justering_due: date
    justering_latest: date
    anslag_due: date
    anslag_latest: date
    appeal_period_ends: date
    appeal_period_provisional: bool
    status: DecisionStatus
    overdue: list[OverdueStep]


def decision_timeline(
    meeting_date: date,
    *,
    justering_date: date | None = None,
    anslag_date: date | None = None,
    today: date,
    lawful: bool = True,
) -> DecisionTimeline:
    """The due dates, appeal period, status and lateness of a decision, as they stand on `today`.

    `lawful=False` counts each step not yet taken from the statutory day of the one before, unmoved: how the
    first edition of the rules did it (domain.rulebook), kept so its runs replay as recorded."""
    _check_order(meeting_date, justering_date, anslag_date, today)

    justering_due = meeting_date + JUSTERING_WITHIN
    justering_latest = next_working_day(justering_due)
    anslag_due = (justering_date or (justering_latest if lawful else justering_due)) + ANSLAG_WITHIN
    anslag_latest = next_working_day(anslag_due)
    # lag (1930:173) 1 §: three weeks end on the same weekday as the posting; 2 §: then past any holiday
    appeal_period_ends = next_working_day((anslag_date or (anslag_latest if lawful else anslag_due)) + APPEAL_PERIOD)

    if anslag_date is not None:
        status = DecisionStatus.LAGA_KRAFT if today > appeal_period_ends else DecisionStatus.ANSLAGEN
    elif justering_date is not None:
        status = DecisionStatus.JUSTERAD
    else:
        status = DecisionStatus.BESLUTAD

    overdue = [
        o
        for o in (
            _lateness(DecisionStep.JUSTERING, justering_date, justering_latest, today),
            _lateness(DecisionStep.ANSLAG, anslag_date, anslag_latest, today),
        )
        if o is not None
    ]
    return DecisionTimeline(
        meeting_date=meeting_date,
        justering_date=justering_date,
        anslag_date=anslag_date,
        justering_due=justering_due,
        justering_latest=justering_latest,
        anslag_due=anslag_due,
        anslag_latest=anslag_latest,
        appeal_period_ends=appeal_period_ends,
        appeal_period_provisional=anslag_date is None,
        status=status,
        overdue=overdue,
    )


def _check_order(meeting_date: date, justering_date: date | None, anslag_date: date | None, today: date) -> None:
    if meeting_date > today:
        raise ValueError(f"the meeting on {meeting_date} has not happened yet (today is {today})")
    if justering_date is not None:
        if justering_date < meeting_date:
            raise ValueError(f"justering on {justering_date} is before the meeting on {meeting_date}")
        if justering_date > today:
            raise ValueError(f"justering on {justering_date} is in the future (today is {today})")
    if anslag_date is not None:
        if justering_date is None:
            raise ValueError(f"anslag on {anslag_date} without justering: only approved minutes are posted")
        if anslag_date < justering_date:
            raise ValueError(f"anslag on {anslag_date} is before the justering on {justering_date}")
        if anslag_date > today:
            raise ValueError(f"anslag on {anslag_date} is in the future (today is {today})")


def _lateness(step: DecisionStep, done_on: date | None, latest: date, today: date) -> OverdueStep | None:
    limit = "14 dagar efter sammanträdet" if step is DecisionStep.JUSTERING else "2 dagar efter justeringen"
    if done_on is not None and done_on > latest:
        reason = f"{step.value} {done_on} gjordes {_days(done_on - latest)} för sent; senast {latest} ({limit})"
    elif done_on is None and today > latest:
        reason = f"{step.value} saknas {_days(today - latest)} efter sista dag {latest} ({limit})"
    else:
        return None
    return OverdueStep(step=step, latest=latest, done_on=done_on, reason=reason)


def _days(delta: timedelta) -> str:
    return "1 dag" if delta.days == 1 else f"{delta.days} dagar"
