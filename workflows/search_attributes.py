"""The custom search attributes Leda keeps current on every pilot (never personal data)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

PROGRAMME = SearchAttributeKey.for_keyword("LedaProgramme")
MUNICIPALITY = SearchAttributeKey.for_keyword("LedaMunicipality")
PHASE = SearchAttributeKey.for_keyword("LedaPhase")
OVERDUE_COUNT = SearchAttributeKey.for_int("LedaOverdueCount")
"""Open tasks past their deadline, as of the pilot's last change or deadline passing."""
NEXT_DUE_AT = SearchAttributeKey.for_datetime("LedaNextDueAt")
"""The earliest deadline among open tasks; unset when none has one."""
STATE = SearchAttributeKey.for_keyword("LedaState")
"""running, paused, failing (a step waits for a retry), withdrawn or completed: where the pilot stands."""

PHASE_AT_START = "start"
STATE_AT_START = "running"
"""What `start_pilot` sets them to, and a run that began with every patch keeps until its first phase begins."""

ALL = (PROGRAMME, MUNICIPALITY, PHASE, OVERDUE_COUNT, NEXT_DUE_AT, STATE)
"""Registered by the embedded stack, the tests and compose before any workflow runs."""


def type_names() -> dict[str, str]:
    """Each attribute's name and Temporal type name, as `temporal operator search-attribute create` takes them."""
    names = {"KEYWORD": "Keyword", "INT": "Int", "DATETIME": "Datetime"}
    return {key.name: names[key.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")] for key in ALL}
