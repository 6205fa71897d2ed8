"""How every command refuses: the refusal itself (`TaskRejected`, a stable code and a message naming the field), and
the checks every command makes first: that the pilot is neither held nor over, and that the record can keep what is
given. A refusal names each field of a request that pydantic refused (`describe`), so the workflow's Update
validators, which may import nothing above the domain, refuse as clearly as the edges do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from domain.moments import in_swedish_time
from domain.state import MunicipalityState

IdSource = Callable[[], UUID]


class TaskRejected(ValueError):
    """A completion the rules refuse; `code` is stable for programs, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


UNRECORDABLE_TEXT = "text may not hold the NUL character (U+0000) or an unpaired surrogate (such as \\ud800)"


def unrecordable_text(value: Any, path: str = "") -> str | None:
    """Where `value` holds text the record cannot keep (the path of the first such string), or None.

    The record is JSON in PostgreSQL: its jsonb refuses the NUL character, and UTF-8 has no encoding for a lone
    surrogate (what a JSON escape such as \\ud800 decodes to). Accepted, such text would fail every attempt to
    append its event, and the pilot would wait for that append for ever.
    """
    if isinstance(value, str):
        unrecordable = "\x00" in value or not value.isascii() and not _encodes_as_utf8(value)
        return (path or "(value)") if unrecordable else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list | tuple) else ()
    for key, item in items:
        name = str(key) if re.fullmatch(r"[\w.@/-]+", str(key)) else ascii(key)  # any other key shown escaped
        where = f"{path}.{name}" if path else name
        if isinstance(key, str) and unrecordable_text(key) is not None:
            return where
        found = unrecordable_text(item, where)
        if found is not None:
            return found
    return None


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


ERROR_RECORDED_CHARS = 500


_EMAIL_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


def recordable_error(message: str) -> str:
    """A failure's message as the permanent record may keep it: no e-mail address (a relay's refusal can quote one,
    and the record names people by id only), on one line, and not too long."""
    text = " ".join(_EMAIL_ADDRESS.sub("<e-post / e-mail>", message).split())
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= ERROR_RECORDED_CHARS else text[: ERROR_RECORDED_CHARS - 1] + "…"


def check_recordable(value: Any) -> None:
    """TaskRejected naming the field, if `value` holds text the record cannot keep (see `unrecordable_text`)."""
    where = unrecordable_text(value)
    if where is not None:
        raise TaskRejected("invalid_payload", f"Ogiltiga uppgifter / invalid payload: {where}: {UNRECORDABLE_TEXT}")


def check_not_held(state: MunicipalityState) -> None:
    """Participants' answers and steering wait while operations hold the pilot."""
    if state.paused is not None:
        raise TaskRejected(
            "pilot_paused",
            f"Piloten är pausad / the pilot is paused since {in_swedish_time(state.paused.occurred_at)} "
            f"({state.paused.reason}); try again when it is resumed",
        )


def check_not_ended(state: MunicipalityState) -> None:
    """A pilot that has ended takes nothing more: say when and how it ended."""
    if state.completed_at is not None:
        raise TaskRejected(
            "pilot_ended",
            f"Piloten avslutades / the pilot completed on {state.completed_at:%Y-%m-%d}: its programme is over, so "
            "nothing more is registered in it",
        )
    if state.withdrawn is not None:
        raise TaskRejected(
            "pilot_ended",
            f"Kommunen lämnade programmet / the municipality withdrew on {state.withdrawn.occurred_at:%Y-%m-%d}: "
            "nothing more is registered in the pilot",
        )
    if state.terminated is not None:
        raise TaskRejected(
            "pilot_ended",
            f"Piloten avbröts / the pilot was terminated on {state.terminated.occurred_at:%Y-%m-%d}: nothing more "
            "is registered in it",
        )


def describe(error: ValidationError) -> str:
    """A pydantic error as one line naming each field and why it is wrong."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(one_line(str(p)) for p in item["loc"]) or "(payload)"
        parts.append(f"{where}: {one_line(item['msg'])}")
    return "; ".join(parts)


def one_line(text: str) -> str:
    """`text` with what is not printable (a line break, an escape) written as its escape: field names are keys of
    the submitted answer, and anything can be a key."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
