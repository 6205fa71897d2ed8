"""Leda's one way to a Temporal client: pydantic payloads, and TLS, mutual TLS or an API key as the settings say.

Every process connects through `connect_temporal`: the worker, the API, the CLI (and with the client, the daily
digest's schedule set-up). A failure is one line that names the setting to fix, not the SDK's nested error.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from settings import Settings

CONNECT_TIMEOUT = timedelta(seconds=10)
"""How long a process waits for Temporal at start before it gives up with one line; a supervisor restarts it."""


class TemporalConnectError(RuntimeError):
    """Leda could not connect to Temporal. The message is one line that names the setting to fix.

    `unreachable` is True when nothing answered at the address (refused, unknown host, no answer in time), as
    opposed to a server that answered and refused this client.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


async def connect_temporal(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client that speaks pydantic, as every Leda process must, so workflows see the same models.

    Over TLS when the settings ask for it (a CA, a client certificate for mutual TLS, an API key). A failure is a
    `TemporalConnectError` whose one line names the setting to fix, never the SDK's nested transport error.

    `runtime` None is the SDK's default runtime, which serves no metrics: only `serve` passes one that does.
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key is not None else None
    tls = temporal_tls_config(settings)
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
            runtime=runtime,
            tls=tls,
            api_key=api_key,
            connect_timeout=CONNECT_TIMEOUT,
        )
    except RuntimeError as error:  # the SDK's core reports every connection failure this way
        raise _connect_failure(settings, str(error)) from error


def temporal_tls_config(settings: Settings) -> TLSConfig | bool:
    """The SDK's TLS configuration from the settings; False for plain text.

    Without a CA file the server's certificate is checked against the system's roots (Temporal Cloud). The files
    are read here, at connect time, so a certificate renewed on disk is picked up when the process restarts.
    """
    if not settings.temporal_tls_enabled:
        return False
    return TLSConfig(
        server_root_ca_cert=_read_tls_file(settings.temporal_tls_ca_file, "LEDA_TEMPORAL_TLS_CA_FILE"),
        domain=settings.temporal_tls_server_name,
        client_cert=_read_tls_file(settings.temporal_tls_cert_file, "LEDA_TEMPORAL_TLS_CERT_FILE"),
        client_private_key=_read_tls_file(settings.temporal_tls_key_file, "LEDA_TEMPORAL_TLS_KEY_FILE"),
    )


def _read_tls_file(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:  # checked when the settings were read, but a file can go away since
        raise TemporalConnectError(f"cannot read {setting} {path}: {error.strerror}") from None


_CLIENT_CERT_REFUSALS = ("CertificateRequired", "HandshakeFailure", "BadCertificate", "UnknownCA", "CertificateUnknown")
"""TLS alerts a server sends when it does not accept the client's certificate, or the lack of one."""
_CLOSED_AT_START = ("connection closed", "UnexpectedEof", "close_notify", "BrokenPipe", "ConnectionReset")
"""How the core reports a server that hung up at once; over TLS without a client certificate, mTLS refusing it."""
_UNREACHABLE = ("ConnectionRefused", "Connection refused", "dns error", "timed out", "Timeout", "Elapsed")


def _connect_failure(settings: Settings, reason: str) -> TemporalConnectError:
    """The one line for a failed `Client.connect`, from the SDK's nested error text (Rust debug output).

    The SDK raises a bare RuntimeError whose text is the only clue; what each case looks like was observed with
    the SDK against a TLS proxy (tests/integration/test_temporal_tls.py).
    """
    address = settings.temporal_address
    if any(marker in reason for marker in _UNREACHABLE):
        return TemporalConnectError(f"cannot reach Temporal at {address} ({_detail(reason)})", unreachable=True)
    if not settings.temporal_tls_enabled:
        if any(marker in reason for marker in _CLOSED_AT_START):
            return TemporalConnectError(
                f"cannot connect to Temporal at {address}: the server hung up at once, as a server that requires TLS "
                "does; set LEDA_TEMPORAL_TLS=true (and LEDA_TEMPORAL_TLS_CA_FILE for a private CA)"
            )
        return TemporalConnectError(f"cannot connect to Temporal at {address}: {_detail(reason)}")
    where = f"cannot connect to Temporal at {address} over TLS"
    ca_file, cert_file = settings.temporal_tls_ca_file, settings.temporal_tls_cert_file
    if "UnknownIssuer" in reason:
        if ca_file is not None:
            return TemporalConnectError(
                f"{where}: the server's certificate is not signed by LEDA_TEMPORAL_TLS_CA_FILE ({ca_file})"
            )
        return TemporalConnectError(
            f"{where}: the server's certificate is not signed by a CA this system trusts; "
            "set LEDA_TEMPORAL_TLS_CA_FILE to the CA that signed it"
        )
    if "NotValidForName" in reason:
        presented = re.findall(r'(?:DnsName|IpAddress)\(\\?"?([^")\\]+)', reason.split("presented", 1)[-1])
        carries = f" (it names {', '.join(presented)})" if presented else ""
        name = settings.temporal_tls_server_name or address.rpartition(":")[0]
        return TemporalConnectError(
            f"{where}: the server's certificate is not for {name}{carries}; "
            "set LEDA_TEMPORAL_TLS_SERVER_NAME to a name it carries"
        )
    if "Expired" in reason or "NotValidYet" in reason:
        return TemporalConnectError(
            f"{where}: the server's certificate is outside its validity period (or this machine's clock is wrong)"
        )
    if "InvalidContentType" in reason or "CorruptMessage" in reason:
        return TemporalConnectError(
            f"{where}: the server does not speak TLS on this port; check LEDA_TEMPORAL_ADDRESS, or unset the "
            "LEDA_TEMPORAL_TLS settings for a plain-text server"
        )
    if "InconsistentKeys" in reason:
        return TemporalConnectError(
            f"{where}: LEDA_TEMPORAL_TLS_KEY_FILE is not the key of LEDA_TEMPORAL_TLS_CERT_FILE"
        )
    refused_certificate = any(alert in reason for alert in _CLIENT_CERT_REFUSALS)
    if refused_certificate or any(marker in reason for marker in _CLOSED_AT_START):
        if cert_file is None:
            return TemporalConnectError(
                f"{where}: the server asked for a client certificate: "
                "set LEDA_TEMPORAL_TLS_CERT_FILE and LEDA_TEMPORAL_TLS_KEY_FILE"
            )
        return TemporalConnectError(
            f"{where}: the server refused the client certificate LEDA_TEMPORAL_TLS_CERT_FILE ({cert_file}); "
            f"is it signed by a CA the server trusts, and current? ({_detail(reason)})"
        )
    if "Unauthenticated" in reason or "PermissionDenied" in reason:
        if settings.temporal_api_key is not None:
            return TemporalConnectError(f"{where}: the server refused LEDA_TEMPORAL_API_KEY ({_detail(reason)})")
        return TemporalConnectError(
            f"{where}: the server wants credentials: set LEDA_TEMPORAL_API_KEY, or LEDA_TEMPORAL_TLS_CERT_FILE and "
            f"LEDA_TEMPORAL_TLS_KEY_FILE ({_detail(reason)})"
        )
    return TemporalConnectError(f"{where}: {_detail(reason)}")


def _detail(reason: str) -> str:
    """The innermost readable part of the core's error, on one line: `received fatal alert: UnknownCA`."""
    for pattern in (r'error: "([^"]+)"', r'message: "([^"]+)"', r"error: (\w+(?:\(\w+\))?)"):
        found = re.findall(pattern, reason)
        if found:
            return str(found[-1])
    return " ".join(reason.removeprefix("Failed client connect: ").split())[:200]
