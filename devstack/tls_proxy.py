"""A TLS-terminating TCP proxy in front of a plain-text server, such as the Temporal dev server.

`temporal server start-dev` speaks plain text only, yet Leda must be shown to reach a secured cluster and Temporal
Cloud over TLS, and to fail with one clear line when the certificates are wrong. This proxy gives the dev server a
TLS front with whatever certificate and client-certificate policy a test wants: the SDK's client sees a server
that requires mutual TLS, and the dev server behind it sees plain gRPC. It uses only the standard library, so the
same proxy can front the embedded stack when trying a TLS set-up by hand.

gRPC runs over HTTP/2, so the proxy offers only ALPN ``h2``; past the handshake it copies bytes both ways and never
looks inside them.

The TLS is driven through memory buffers (`ssl.SSLObject`) rather than asyncio's own TLS transport: when a
handshake fails, asyncio drops the connection without sending the alert that says why, whereas a real server (Go's
TLS, as Temporal's) sends it. A client refused for lacking a certificate must see what it would see in production,
"certificate required", so the proxy sends every alert OpenSSL produces before it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from pathlib import Path

log = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_HANDSHAKE_TIMEOUT = 10.0


def server_context(
    cert_file: Path, key_file: Path, *, client_ca_file: Path | None = None, require_client_cert: bool = True
) -> ssl.SSLContext:
    """A server-side TLS context with ALPN ``h2``.

    With `client_ca_file` and `require_client_cert`, a client without a certificate signed by that CA is refused
    during the handshake, as a cluster configured for mutual TLS refuses it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    context.set_alpn_protocols(["h2"])
    if client_ca_file is not None:
        context.load_verify_locations(cafile=client_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return context


class TlsProxy:
    """Accepts TLS on ``host:port`` and forwards the decrypted bytes to `upstream` (``host:port``).

    Use as ``async with TlsProxy(context, upstream, port) as proxy:``; `proxy.address` is what a client connects to.
    `refused` counts the handshakes that failed (no client certificate, or one the context does not trust) and
    `forwarded` the connections that reached `upstream`, so a test can tell who refused a client.
    """

    def __init__(self, context: ssl.SSLContext, upstream: str, port: int, host: str = "127.0.0.1") -> None:
        self._context = context
        self._upstream_host, _, upstream_port = upstream.rpartition(":")
        self._upstream_port = int(upstream_port)
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.refused = 0
        self.forwarded = 0

    @property
    def address(self) -> str:
        """``host:port`` of the TLS side, as ``Client.connect`` takes it."""
        return f"{self._host}:{self._port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted, self._host, self._port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):  # ends every pipe at its next read, so each handler returns
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> TlsProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            tls = _TlsSession(self._context, reader, writer)
            try:
                await asyncio.wait_for(tls.handshake(), _HANDSHAKE_TIMEOUT)
            except (ssl.SSLError, OSError, EOFError, TimeoutError) as error:
                self.refused += 1
                log.debug("TLS handshake with a client failed: %s", error)
                return
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self._upstream_host, self._upstream_port
                )
            except OSError as error:
                log.warning("cannot reach %s:%s: %s", self._upstream_host, self._upstream_port, error)
                return
            self._writers.add(upstream_writer)
            self.forwarded += 1
            try:
                await asyncio.gather(tls.decrypt_to(upstream_writer), tls.encrypt_from(upstream_reader))
            finally:
                upstream_writer.transport.abort()
                self._writers.discard(upstream_writer)
        finally:
            writer.close()  # not abort(): that would drop an alert still in the buffer
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            self._writers.discard(writer)


class _TlsSession:
    """One client's TLS over memory buffers: bytes from the socket go in, alerts and records come out."""

    def __init__(self, context: ssl.SSLContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self._reader = reader
        self._writer = writer

    async def handshake(self) -> None:
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                await self._flush()
                await self._receive()
            except ssl.SSLError:
                await self._flush()  # the alert telling the client why, as a real server sends it
                raise
            else:
                await self._flush()
                return

    async def decrypt_to(self, upstream: asyncio.StreamWriter) -> None:
        """Client to upstream, until the client closes; then half-close the upstream side."""
        with contextlib.suppress(ssl.SSLError, OSError, EOFError):
            while True:
                try:
                    data = self._tls.read(_CHUNK)
                except ssl.SSLWantReadError:
                    await self._flush()  # TLS 1.3 may have something to say (a key update's answer)
                    await self._receive()
                    continue
                except ssl.SSLZeroReturnError:
                    break
                if not data:
                    break
                upstream.write(data)
                await upstream.drain()
        with contextlib.suppress(OSError, RuntimeError):
            if upstream.can_write_eof():
                upstream.write_eof()

    async def encrypt_from(self, upstream: asyncio.StreamReader) -> None:
        """Upstream to client, until upstream closes."""
        with contextlib.suppress(ssl.SSLError, OSError):
            while data := await upstream.read(_CHUNK):
                self._tls.write(data)
                await self._flush()
            with contextlib.suppress(ssl.SSLWantReadError):
                self._tls.unwrap()  # sends close_notify, so the client sees an orderly end
            await self._flush()

    async def _receive(self) -> None:
        data = await self._reader.read(_CHUNK)
        if not data:
            raise EOFError("the client closed the connection")
        self._incoming.write(data)

    async def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._writer.write(pending)
            await self._writer.drain()
