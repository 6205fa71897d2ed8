"""The languages Leda writes to people in: Swedish first, English at the participant's choice."""

from typing import Literal

Language = Literal["sv", "en"]
LANGUAGES: tuple[Language, ...] = ("sv", "en")
