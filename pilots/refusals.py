"""A refused request as one line, as every edge (the API, the CLI, the web pages) shows it."""

from __future__ import annotations

from pydantic import ValidationError

from domain.refusals import one_line


def refusal_of(error: ValidationError) -> str:
    """A request's refusal as one line that starts with the field: like `describe`, except that a check of the whole
    request, which names its field in its own message ('attendee_ids: ...'), is given as that message alone rather
    than as '(payload): Value error, attendee_ids: ...'."""
    return "; ".join(
        f"{'.'.join(one_line(str(p)) for p in item['loc'])}: {one_line(item['msg'])}"
        if item["loc"]
        else one_line(str(item["msg"]).removeprefix("Value error, "))
        for item in error.errors(include_url=False)
    )
