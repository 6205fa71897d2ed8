"""What every request meets before any route: a bound on its body, and HSTS when the site is served over https.

Both are plain ASGI middleware, so they hold for the HTTP API and the web pages alike, and a body that is too large
is refused before a byte of it is parsed, let alone sent to Temporal (whose own limit would refuse it only after it
had crossed the network, with a warning in the server's log).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 256 * 1024
"""The largest request body Leda reads by default (LEDA_MAX_REQUEST_BYTES): far more than any task's answer needs,
and well below Temporal's payload limits (a warning at 512 KiB, a refusal at 2 MiB)."""

HSTS = "max-age=31536000; includeSubDomains"
"""A year: once a browser has reached Leda over https, it never tries http again (no downgrade on a café's Wi-Fi)."""


class BodyLimit:
    """Refuses a request whose body is over `max_bytes` with 413 problem+json, by its Content-Length when it gives
    one, else by counting the chunks as they come; the app sees the body only once it is known to fit."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would say it

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        problem = {
            "type": "urn:leda:problem:too_large",
            "title": "Content too large",
            "status": 413,
            "detail": f"the request body is over {self.max_bytes} bytes, the most Leda reads",
            "code": "too_large",
        }
        body = json.dumps(problem).encode()
        headers = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": [*headers, (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


class StrictTransport:
    """Adds Strict-Transport-Security to every answer; installed only when the web address is https."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"strict-transport-security", HSTS.encode())],
                }
            await send(message)

        await self.app(scope, receive, with_hsts)
