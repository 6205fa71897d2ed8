"""How a pilot is named: one id for its workflow and its event stream, made of its programme and its municipality.

`PilotId` writes the id and reads it back, side by side: everything that builds a pilot's id, or must tell which
programme and municipality a pilot belongs to from its id alone (the access policy before the pilot is on record,
the logs, finding a municipality's pilots among the streams), goes through it; nothing else spells or parses the id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from domain.municipalities import check_pilot_code

PROGRAMME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,40}$"
"""A programme (round) id: 'lfr-skola-2015', 'orebro-2014'."""


@dataclass(frozen=True)
class PilotId:
    """`leda-<programme>-<pilot code>`: one pilot per programme and municipality, so a second start is impossible.

    The pilot code is a kommunkod, or a kommunalförbund's member codes joined by '+'; the programme may hold
    dashes itself, so the code is what follows the last dash."""

    programme: str
    code: str

    PREFIX: ClassVar[str] = "leda-"

    def __str__(self) -> str:
        return f"{self.PREFIX}{self.programme}-{self.code}"

    @classmethod
    def parse(cls, workflow_id: str) -> PilotId | None:
        """The pilot `workflow_id` names, or None for an id that is not a pilot's."""
        if not workflow_id.startswith(cls.PREFIX):
            return None
        programme, _, code = workflow_id.removeprefix(cls.PREFIX).rpartition("-")
        if re.fullmatch(PROGRAMME_PATTERN, programme) is None:
            return None
        try:
            return cls(programme, check_pilot_code(code))
        except ValueError:  # not a pilot code, or one naming a member twice
            return None

    @classmethod
    def prefix_of(cls, programme: str = "", *, whole: bool = True) -> str:
        """What the ids of `programme`'s pilots start with; of every programme whose id starts with it, when not
        `whole` (a cohort's rounds); of every pilot, without a programme. Parse what it finds: a prefix is coarse."""
        return f"{cls.PREFIX}{programme}{'-' if programme and whole else ''}"
