"""The file a running dev stack writes about itself, so that `leda` commands in another terminal find its database
and servers. Read by every command, written by `leda stack run`: kept apart from the stack itself, whose servers
need the `devstack` extra's packages."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import SecretStr

from settings import Settings

STACK_FILE = "stack.json"
"""Written while the stack runs, so `leda` commands in another terminal find its database and servers. It holds the
runtime role's password, so only its owner may read it (0600)."""


PLAIN_TEMPORAL = {
    "temporal_tls": None,
    "temporal_tls_ca_file": None,
    "temporal_tls_server_name": None,
    "temporal_tls_cert_file": None,
    "temporal_tls_key_file": None,
    "temporal_api_key": None,
}
"""Settings updates for the stack's own dev server, which speaks plain text: TLS settings in the environment are for
a real cluster, and would make every client of the local server fail its handshake."""


def settings_with_running_stack(settings: Settings) -> Settings:
    """Settings for a command run beside `make run`: the stack's addresses, unless set explicitly."""
    stack_file = settings.data_dir / STACK_FILE
    if settings.database_url is not None or not stack_file.exists():
        return settings
    running = running_stack(stack_file)
    if running is None:
        return settings
    return settings.model_copy(
        update={
            "database_url": SecretStr(str(running["database_url"])),
            "temporal_address": running["temporal_address"],
            **PLAIN_TEMPORAL,
        }
    )


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner alone, also when an older, readable file is there."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(text)


def running_stack(stack_file: Path) -> dict[str, object] | None:
    """What a live stack wrote about itself; None if there is none, or it was killed before cleaning up."""
    if not stack_file.exists():
        return None
    running: dict[str, object] = json.loads(stack_file.read_text())
    return running if process_alive(running.get("pid")) else None


def process_alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
