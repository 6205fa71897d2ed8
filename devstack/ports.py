"""Local TCP ports for the development stack and the tests that start it."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    The operating system picks the port, so parallel test sessions do not collide on fixed numbers. The port
    is released before it is returned: another process could take it in between, which is acceptable for
    tests and the dev stack but not a reservation.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


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
