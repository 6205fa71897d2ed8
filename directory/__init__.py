"""The participant directory: the only place Leda keeps personal data."""

from directory.participants import (
    CSV_COLUMNS,
    CsvProblem,
    Participant,
    ParticipantCsvError,
    get_participant,
    list_participants,
    read_participants_csv,
    upsert_participants,
)

__all__ = [
    "CSV_COLUMNS",
    "CsvProblem",
    "Participant",
    "ParticipantCsvError",
    "get_participant",
    "list_participants",
    "read_participants_csv",
    "upsert_participants",
]
