"""The one error the service layer raises: a refusal to show a user as it is, with a stable code."""

from __future__ import annotations


class PilotError(Exception):
    """A refusal to show a user as it is: which pilot, task or field, and why."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code
