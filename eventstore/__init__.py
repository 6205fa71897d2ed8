"""The append-only event store: every fact Leda records, in streams and in one global order."""

from eventstore.store import (
    SQLSTATE_APPEND_ONLY,
    SQLSTATE_EVENT_ID_CONFLICT,
    SQLSTATE_WRONG_EXPECTED_VERSION,
    AppendResult,
    EventIdConflict,
    EventStore,
    EventStoreError,
    NewEvent,
    StoredEvent,
    WrongExpectedVersion,
)
from eventstore.verify import ChainBreak, VerificationReport, verify_chains

__all__ = [
    "SQLSTATE_APPEND_ONLY",
    "SQLSTATE_EVENT_ID_CONFLICT",
    "SQLSTATE_WRONG_EXPECTED_VERSION",
    "AppendResult",
    "ChainBreak",
    "EventIdConflict",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "StoredEvent",
    "VerificationReport",
    "WrongExpectedVersion",
    "verify_chains",
]
