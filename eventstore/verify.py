"""Check the hash chains of the event store and name the events where they break.

Each event carries two links (``database/migrations/0010_hash_chains.sql``): ``stream_hash`` chains it to the
previous event of its stream, ``global_hash`` to the previous event of the whole store. Both are checked
link by link against the *stored* hash before them, so one changed event breaks exactly its own link and a
removed event breaks its successor's: the report names the events where the record was altered, not
everything after them.

The content digest of an event is recomputed by the database (``leda_event_digest``), from the same
definition the append function used, so no second serialisation has to agree with jsonb's. Rows are read in
pages by keyset, inside one read-only REPEATABLE READ transaction: memory stays at one page whatever the size
of the store, and the counts describe one consistent snapshot while appends go on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import asyncpg

__all__ = ["ChainBreak", "VerificationReport", "verify_chains"]

GENESIS = bytes(32)
"""The "previous hash" of the first link of every chain."""

_PAGE_SIZE = 5000
# Breaks kept for the report (the earliest by global position); the total is counted beyond that.
_MAX_BREAKS = 100

_GLOBAL_PAGE = """
SELECT global_position, stream_id, stream_version, event_id, stream_hash, global_hash
  FROM events
 WHERE global_position > $1
 ORDER BY global_position
 LIMIT $2
"""

_DIGEST = (
    "leda_event_digest(event_id, stream_id, stream_version, global_position, event_type, schema_version,"
    " data, metadata, recorded_at) AS digest"
)

# Row comparison in key order, so every page is a range scan of the (stream_id, stream_version) index.
_STREAMS_PAGE = f"""
SELECT global_position, stream_id, stream_version, event_id, stream_hash, {_DIGEST}
  FROM events
 WHERE (stream_id, stream_version) > ($1, $2)
 ORDER BY stream_id, stream_version
 LIMIT $3
"""

_ONE_STREAM_PAGE = f"""
SELECT global_position, stream_id, stream_version, event_id, stream_hash, {_DIGEST}
  FROM events
 WHERE stream_id = $1 AND stream_version > $2
 ORDER BY stream_version
 LIMIT $3
"""


def link(previous: bytes, this: bytes) -> bytes:
    """One link of a chain, as ``leda_chain_link`` computes it: sha256(previous || this)."""
    return hashlib.sha256(previous + this).digest()


@dataclass(frozen=True)
class ChainBreak:
    """One event whose stored hash does not follow from its predecessor's hash (and, in a stream, its content)."""

    chain: Literal["stream", "global"]
    global_position: int
    stream_id: str
    stream_version: int
    event_id: UUID
    problem: str
    expected: str
    """Hex of the hash the event should carry, given the stored hash before it."""
    found: str
    """Hex of the hash it carries."""

    def __str__(self) -> str:
        return (
            f"{self.chain} chain broken at event {self.event_id} (stream {self.stream_id!r}, version "
            f"{self.stream_version}, global position {self.global_position}): {self.problem}; "
            f"expected {self.chain}_hash {self.expected}, found {self.found or 'none'}"
        )


@dataclass
class VerificationReport:
    """What a walk over the chains found: how much was checked, the global head, and every break."""

    events: int = 0
    streams: int = 0
    stream_id: str | None = None
    """The one stream checked, or None when the whole store was (both chains)."""
    head_position: int | None = None
    head_hash: str | None = None
    """The global chain's last hash: recorded outside the database, it shows later that nothing was cut off."""
    breaks_total: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    """The earliest breaks by global position (at most 100), in that order."""

    @property
    def intact(self) -> bool:
        return self.breaks_total == 0

    @property
    def first_break(self) -> ChainBreak | None:
        """The break earliest in the global order: where the record was first altered."""
        return self.breaks[0] if self.breaks else None

    def _add(self, chain_break: ChainBreak) -> None:
        self.breaks_total += 1
        self.breaks.append(chain_break)
        if len(self.breaks) > 2 * _MAX_BREAKS:
            self._trim()

    def _trim(self) -> None:
        # The stream walk goes stream by stream, so a later find may be earlier in the global order.
        self.breaks.sort(key=lambda b: (b.global_position, b.chain != "stream"))
        del self.breaks[_MAX_BREAKS:]


async def verify_chains(pool: asyncpg.Pool, *, stream_id: str | None = None) -> VerificationReport:
    """Walk every stream chain and the global chain (or only ``stream_id``'s chain); report what breaks."""
    report = VerificationReport(stream_id=stream_id)
    async with pool.acquire() as connection, connection.transaction(isolation="repeatable_read", readonly=True):
        if stream_id is None:
            await _walk_global_chain(connection, report)
        await _walk_stream_chains(connection, report, stream_id)
    report._trim()
    return report


async def _walk_global_chain(connection: asyncpg.Connection, report: VerificationReport) -> None:
    previous = GENESIS
    position = 0
    while rows := await connection.fetch(_GLOBAL_PAGE, position, _PAGE_SIZE):
        for row in rows:
            stored = bytes(row["global_hash"] or b"")
            expected = link(previous, bytes(row["stream_hash"] or b""))
            if stored != expected:
                problem = (
                    "the first event of the store does not chain from the start: an event before it was removed, "
                    "or this event's stream hash was changed"
                    if previous == GENESIS
                    else "its global hash does not follow from the event before it: an event was removed or "
                    "inserted before it, or this event's stream hash was changed"
                )
                report._add(_break("global", row, problem, expected, stored))
            previous = stored
            report.events += 1
        position = rows[-1]["global_position"]
        report.head_position, report.head_hash = position, previous.hex()


async def _walk_stream_chains(
    connection: asyncpg.Connection, report: VerificationReport, only_stream: str | None
) -> None:
    stream, version, previous = "", 0, GENESIS
    events = 0
    while True:
        if only_stream is None:
            rows = await connection.fetch(_STREAMS_PAGE, stream, version, _PAGE_SIZE)
        else:
            rows = await connection.fetch(_ONE_STREAM_PAGE, only_stream, version, _PAGE_SIZE)
        if not rows:
            break
        for row in rows:
            if row["stream_id"] != stream:
                stream, version, previous = row["stream_id"], 0, GENESIS
                report.streams += 1
            stored = bytes(row["stream_hash"] or b"")
            expected = link(previous, bytes(row["digest"]))
            problem = None
            if row["stream_version"] != version + 1:
                before = "the start of the stream" if version == 0 else f"version {version}"
                problem = f"version {row['stream_version']} follows {before}: the events between were removed"
            elif stored != expected:
                problem = (
                    "its stream hash does not follow from its content and the previous event's hash: "
                    "this event was changed (or inserted)"
                )
            if problem is not None:
                report._add(_break("stream", row, problem, expected, stored))
            version, previous = row["stream_version"], stored
            events += 1
    if only_stream is not None:
        report.events = events


def _break(
    chain: Literal["stream", "global"], row: asyncpg.Record, problem: str, expected: bytes, found: bytes
) -> ChainBreak:
    return ChainBreak(
        chain=chain,
        global_position=row["global_position"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        problem=problem,
        expected=expected.hex(),
        found=found.hex(),
    )
