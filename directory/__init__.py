"""The participant directory: the only place Leda keeps personal data."""

from directory.erasure import (
    DIRECTORY_STREAM,
    AlreadyErased,
    Erasure,
    ErasureRefused,
    OpenTask,
    ParticipantHoldsOpenTasks,
    RosterPlace,
    UnknownParticipant,
    erase_participant,
    erased_at,
)
from directory.participants import (
    CSV_COLUMNS,
    CsvProblem,
    ErasedParticipantsError,
    Participant,
    ParticipantCsvError,
    get_participant,
    list_participants,
    names_a_participant,
    read_participants_csv,
    upsert_participants,
)

__all__ = [
    "CSV_COLUMNS",
    "DIRECTORY_STREAM",
    "AlreadyErased",
    "CsvProblem",
    "ErasedParticipantsError",
    "Erasure",
    "ErasureRefused",
    "OpenTask",
    "Participant",
    "ParticipantCsvError",
    "ParticipantHoldsOpenTasks",
    "RosterPlace",
    "UnknownParticipant",
    "erase_participant",
    "erased_at",
    "get_participant",
    "list_participants",
    "names_a_participant",
    "read_participants_csv",
    "upsert_participants",
]
