"""A progress line while the benchmarks run: what is being measured, how far it got, how long the run has taken."""

from __future__ import annotations

import sys
import time


class Progress:
    """Prints one line per step, and a counter that rewrites itself in a terminal (or a line per tenth if piped)."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._tty = sys.stdout.isatty()
        self._counting: tuple[str, int, int] | None = None  # label, total, last tenth printed

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def step(self, message: str) -> None:
        self._end_count()
        print(f"[{self._clock()}] {message}", flush=True)

    def count(self, label: str, done: int, total: int) -> None:
        """`done` of `total` of something; call as often as you like."""
        if self._counting is None or self._counting[0] != label:
            self._end_count()
            self._counting = (label, total, -1)
        tenth = 10 * done // max(total, 1)
        if self._tty:
            filled = 30 * done // max(total, 1)
            bar = "#" * filled + "." * (30 - filled)
            print(f"\r[{self._clock()}]   {label} [{bar}] {done}/{total}", end="", flush=True)
        elif tenth > self._counting[2]:
            print(f"[{self._clock()}]   {label}: {done}/{total}", flush=True)
            self._counting = (label, total, tenth)

    def _end_count(self) -> None:
        if self._counting is not None and self._tty:
            print(flush=True)
        self._counting = None

    def _clock(self) -> str:
        minutes, seconds = divmod(int(self.elapsed()), 60)
        return f"{minutes:02d}:{seconds:02d}"
