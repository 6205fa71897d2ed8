"""Following a mailed sign-in link the way a browser does: open the link's page, then press its button."""

from __future__ import annotations

import re

import httpx


def link_page_form(html: str) -> dict[str, str]:
    """The hidden fields of a sign-in link's page (token, next, nonce), which its button posts."""
    fields = dict(re.findall(r'<input type="hidden" name="(token|next|nonce)" value="([^"]*)">', html))
    assert set(fields) == {"token", "next", "nonce"}, f"not a sign-in link's page:\n{html}"
    return fields


async def follow_sign_in_link(visitor: httpx.AsyncClient, link: str) -> httpx.Response:
    """GET the link (path and query on the visitor's site), then press the page's button; the POST's answer."""
    shown = await visitor.get(link)
    assert shown.status_code == 200, (shown.status_code, shown.headers.get("location"), shown.text)
    return await visitor.post("/sign-in/link", data=link_page_form(shown.text))
