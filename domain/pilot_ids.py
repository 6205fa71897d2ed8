"""How a pilot is named: one id for its workflow and its event stream, made of its programme and its municipality.

Everything that must tell which programme and municipality a pilot belongs to from its id alone (the access policy
before the pilot is on record, the logs) asks `pilot_of`; nothing else parses the id.
"""

from __future__ import annotations

import re

from domain.municipalities import check_pilot_code

PROGRAMME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,40}$"
"""A programme (round) id: 'lfr-skola-2015', 'orebro-2014'."""


def pilot_workflow_id(programme: str, kommunkod: str) -> str:
    """One pilot per programme and municipality: the id makes a second start impossible."""
    return f"leda-{programme}-{kommunkod}"


def pilot_of(workflow_id: str) -> tuple[str, str] | None:
    """The (programme, pilot code) a pilot's workflow id names (`pilot_workflow_id`), or None for another id."""
    prefix, _, rest = workflow_id.partition("-")
    programme, _, code = rest.rpartition("-")
    if prefix != "leda" or re.fullmatch(PROGRAMME_PATTERN, programme) is None:
        return None
    try:
        return programme, check_pilot_code(code)
    except ValueError:  # not a pilot code, or one naming a member twice
        return None
