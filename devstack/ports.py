"""Local TCP ports for the development stack and the tests that start it."""

from __future__ import annotations

import os
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


def listening_process(port: int) -> tuple[int, str] | None:
    """The process (pid, command name) listening on TCP ``port`` on this machine, when Linux's /proc tells it and
    the process is visible to this user; None elsewhere. Lets a message name what holds a port, not only that
    something does."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{inode}]")
    if not inodes:
        return None
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            held = any(os.readlink(fd) in inodes for fd in fd_dir.iterdir())
        except OSError:
            continue  # gone meanwhile, or not ours to look into
        if held:
            pid = int(fd_dir.parent.name)
            try:
                name = (fd_dir.parent / "comm").read_text().strip()
            except OSError:
                name = "?"
            return pid, name
    return None
