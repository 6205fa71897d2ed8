"""Which rules of the programme a pilot's workflow run follows.

The rules run inside the workflow, and a workflow replays its history with the code it has now: a rule that now
decides differently (a track that closes, a deadline that falls on another day, a task more or less) would make
the replay issue other commands than the history holds. So a run keeps the rules it began with. Each rule that
changed has a patch id (`RULE_PATCHES`; rules that changed together share one), and the workflow asks
`workflow.patched` for each once, when a run begins (`rules_of_run`): runs that began before a change replay with
the rules they had, and take the newer rule at their next run (a new implementation year); new pilots at once.

Each field is one rule that changed, named for what the newer rule does; `False` is the older behaviour.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict


class Rulebook(BaseModel):
    """The rules a run follows; the default is the current edition."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    optional_inspection: bool = True
    """A pilot with no inspection decision during its programme completes (its inspection track closes saying so),
    and a decision whose reporting deadline has passed is registered late, its remediation scheduled from then."""

    lawful_decision_dates: bool = True
    """The latest anslag counts from the latest justering as lag (1930:173) moves it, and the appeal period from the
    latest anslag as moved: not from the statutory days before they were moved."""

    compressed_legal_periods: bool = True
    """A template whose days are shortened (the demo) shortens what it schedules by calendar dates too: the posting
    of minutes, the appeal period and the remediation steps. A real-time template is unchanged by it."""

    deadlines_by_role: bool = True
    """Weekends and public holidays move every deadline and reminder, calendar or not; a school's lov moves only the
    school-level roles' deadlines; and the work a nämnd decision rests on falls due in time for the meeting's notice."""

    every_assessor: bool = True
    """Every holder of a level's roles assesses: each rektor, and both support functions (HR and ekonomi)."""

    escalation_by_line_manager: bool = True
    """An overdue task escalates to the holder's line manager as the directory names them, else by role: the
    förvaltningschef's is the kommundirektör, never a politician."""

    office_day_in_swedish_time: bool = True
    """A deadline the rules set on a day (moved off a day off, at a meeting, a remediation step, the posting of
    minutes) is due at 16:00 Swedish time, as a lead's bare date is (domain.moments), and the day a moment falls on is
    its Swedish day. Before, 16:00 UTC: an hour or two after the office day ended."""


RULE_PATCHES: dict[str, str] = {
    "optional_inspection": "rules-2026-12",
    "lawful_decision_dates": "rules-2026-12",
    "compressed_legal_periods": "rules-2026-12",
    "deadlines_by_role": "rules-2026-12",
    "every_assessor": "rules-2026-12",
    "escalation_by_line_manager": "escalation-by-line-manager",
    "office_day_in_swedish_time": "office-day-in-swedish-time",
}
"""The workflow patch id of each rule: a run follows the newer rule if it took the patch."""

assert set(RULE_PATCHES) == set(Rulebook.model_fields), "every rule has a patch id"


def rules_of_run(patched: Callable[[str], bool]) -> Rulebook:
    """The rules of a run, each the newer one if the run took its patch (`workflow.patched`, asked in a fixed order;
    the SDK answers an id the same every time it is asked in a run)."""
    return Rulebook(**{rule: patched(patch) for rule, patch in RULE_PATCHES.items()})


CURRENT_RULES = Rulebook()
"""The rules a new run follows."""

FIRST_EDITION = rules_of_run(lambda _patch: False)
"""The rules of runs that began before any rule changed (December 2026)."""
