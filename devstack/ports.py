"""Local TCP ports for the development stack and the tests that start it."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    Chosen at random below the kernel's ephemeral range: a port the kernel handed out (``bind(0)``) is one it
    also gives to outgoing connections, and a test session making thousands of them took such a port back
    before the server meant for it could listen. The port is released before it is returned, so this is
    not a reservation, which is acceptable for tests and the dev stack.
    """
    low = 15000
    high = _ephemeral_range()[0] - 1
    if high - low < 1000:  # an unusual kernel setting: let the kernel choose after all
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])
    for _ in range(200):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free TCP port on {host} between {low} and {high}")


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel gives to outgoing connections (Linux; the IANA range elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def port_is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``.

    Connecting (rather than trying to bind) tells "a server is there" apart from "the port is free", which is
    what the dev stack needs to decide between reusing a server and starting one.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
