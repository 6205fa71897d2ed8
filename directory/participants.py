"""The participant directory: who takes part, in which municipality and role, and how to reach them.

This is the only place Leda keeps personal data. Events and workflows refer to people by
``participant_id`` alone, so a person's data can be corrected or erased here without rewriting history.
For the same reason, error messages in this module name lines and fields but never echo the values.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domain.language import Language
from domain.municipalities import check_pilot_code
from domain.pilot_ids import PilotId
from domain.roles import PROGRAMME_ROLES, Role

__all__ = [
    "CSV_COLUMNS",
    "CsvProblem",
    "ErasedParticipantsError",
    "Participant",
    "ParticipantCsvError",
    "UnknownManager",
    "get_participant",
    "list_participants",
    "programme_participants",
    "names_a_participant",
    "read_participants_csv",
    "upsert_participants",
]

# Deliberately loose: catches typos and swapped columns; only a delivered mail proves an address.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]")
"""Characters no name, address or id holds: control characters (a newline in a name breaks the mail header it goes
into, so that person silently gets no mail), line separators, and the invisible ones that reorder or hide text."""

CSV_COLUMNS = (
    "participant_id",
    "kommunkod",
    "programme",
    "role",
    "display_name",
    "email",
    "language",
    "mail_delivery",
    "manager",
)
"""Every column a participants CSV may have; README ("The participant directory") says what each holds."""
# A row names its municipality (kommunkod) or, for a person of a whole programme, the programme; language (default
# Swedish), mail_delivery (default immediate) and manager (default: by role) may be left out or left empty.
_OPTIONAL_CSV_COLUMNS = ("kommunkod", "programme", "language", "mail_delivery", "manager")
_REQUIRED_CSV_COLUMNS = tuple(column for column in CSV_COLUMNS if column not in _OPTIONAL_CSV_COLUMNS)

_COLUMNS = "participant_id, kommunkod, programme, role, display_name, email, language, mail_delivery, manager_id"
_SELECT = f"SELECT {_COLUMNS} FROM participants"

_UPSERT = f"""
INSERT INTO participants ({_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (participant_id) DO UPDATE
   SET kommunkod = EXCLUDED.kommunkod,
       programme = EXCLUDED.programme,
       role = EXCLUDED.role,
       display_name = EXCLUDED.display_name,
       email = EXCLUDED.email,
       language = EXCLUDED.language,
       mail_delivery = EXCLUDED.mail_delivery,
       manager_id = EXCLUDED.manager_id
"""

PROGRAMME_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,40}$"
"""A programme (round) id, as pilots are started in: 'lfr-skola-2015', 'orebro-2014'."""


_ERASED = (
    "SELECT participant_id FROM participant_erasures WHERE participant_id = ANY($1::text[]) ORDER BY participant_id"
)


class Participant(BaseModel):
    """A person in the programme: of one municipality (``kommunkod``: SCB's four-digit code, or a kommunalförbund's
    joined codes), or of a whole programme (``programme``: the lead at SKR or the region, the region's support
    group)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    participant_id: str = Field(min_length=1, max_length=200)
    kommunkod: str | None = None
    programme: str | None = Field(default=None, pattern=PROGRAMME_ID_PATTERN)
    role: str = Field(min_length=1)
    display_name: str = Field(min_length=1)
    email: str = Field(max_length=254)
    language: Language = "sv"
    # daily_digest: one mail a day listing every notification, instead of one mail per notification.
    mail_delivery: Literal["immediate", "daily_digest"] = "immediate"
    manager_id: str | None = Field(default=None, min_length=1, max_length=200, description="their line manager's id")

    @field_validator("participant_id", "role", "display_name", "email", "manager_id", mode="before")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        if isinstance(value, str) and (found := _CONTROL.search(value)):
            raise ValueError(f"holds a control or invisible character (U+{ord(found[0]):04X}); remove it")
        return value

    @field_validator("kommunkod")
    @classmethod
    def _kommunkod_is_a_pilot_code(cls, value: str | None) -> str | None:
        # A kommunalförbund's people belong to the förbund: its members' codes joined by '+', e.g. 1083+1272.
        return None if value is None else check_pilot_code(value)

    @field_validator("role")
    @classmethod
    def _a_known_role(cls, value: str) -> str:
        known = [r.value for r in Role]
        if value not in known:
            raise ValueError(f"unknown role {value!r}; roles are {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _of_a_municipality_or_a_programme(self) -> Participant:
        if (self.kommunkod is None) == (self.programme is None):
            raise ValueError("give the participant's kommunkod, or for a person of a whole programme its programme")
        if self.programme is not None and Role(self.role) not in PROGRAMME_ROLES:
            roles = ", ".join(sorted(r.value for r in PROGRAMME_ROLES))
            raise ValueError(f"a person of a whole programme holds one of the roles {roles}, not {self.role}")
        if self.manager_id == self.participant_id:
            raise ValueError("manager_id: a participant is not their own line manager")
        return self

    @field_validator("email")
    @classmethod
    def _email_looks_like_an_address(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("email does not look like an e-mail address (name@domain.tld)")
        return value


@dataclass(frozen=True)
class CsvProblem:
    """One thing wrong in a participants CSV file, located by line (1 is the header) and column."""

    line: int
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.field is None else f"line {self.line}, field {self.field!r}"
        return f"{where}: {self.message}"


class ErasedParticipantsError(ValueError):
    """An import names participant ids whose data was erased on request: importing them would bring it back."""

    def __init__(self, participant_ids: list[str]) -> None:
        self.participant_ids = participant_ids
        super().__init__(
            f"{len(participant_ids)} participant id(s) were erased on request and cannot be imported again: "
            f"{', '.join(participant_ids)}. Remove those rows, or give a person who returns a new participant_id"
        )


class ParticipantCsvError(ValueError):
    """A participants CSV file cannot be imported; lists every problem so all can be fixed at once."""

    def __init__(self, path: Path, problems: list[CsvProblem]) -> None:
        self.path = path
        self.problems = problems
        listed = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in participants CSV:\n{listed}")


def _clean_message(message: str) -> str:
    return message.removeprefix("Value error, ")


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # -sig: spreadsheet programs often start UTF-8 files with a BOM
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problem = CsvProblem(line, None, "is not valid UTF-8; save the file as 'CSV UTF-8'")
        raise ParticipantCsvError(path, [problem]) from error


def _delimiter(header_line: str) -> str:
    # A spreadsheet set to Swedish saves CSV with semicolons, since the comma is the decimal separator.
    return ";" if ";" in header_line and "," not in header_line else ","


def _read_header(path: Path, header: list[str]) -> list[str]:
    columns = [cell.strip() for cell in header]
    problems: list[CsvProblem] = []
    missing = [column for column in _REQUIRED_CSV_COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in CSV_COLUMNS]
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    for column in missing:
        problems.append(CsvProblem(1, column, "column is missing from the header"))
    for column in unknown:
        problems.append(CsvProblem(1, column, f"unknown column; the header must be {','.join(CSV_COLUMNS)}"))
    for column in repeated:
        problems.append(CsvProblem(1, column, "column appears more than once in the header"))
    if "kommunkod" not in columns and "programme" not in columns:
        problems.append(CsvProblem(1, "kommunkod", "the header needs kommunkod, or programme, or both"))
    if problems:
        raise ParticipantCsvError(path, problems)
    return columns


def read_participants_csv(path: str | os.PathLike[str]) -> list[Participant]:
    """Read and validate a participants CSV file (header ``participant_id,kommunkod,role,display_name,email,language``).

    Every row is checked before anything is returned, and all problems are reported together, each
    naming its line and field. Blank lines are skipped; an empty or missing ``language`` means Swedish, an
    empty or missing ``mail_delivery`` (``immediate`` or ``daily_digest``) means one mail per notification.
    """
    path = Path(path)
    text = _decode(path, path.read_bytes())
    if not text.strip():
        raise ParticipantCsvError(
            path, [CsvProblem(1, None, f"file is empty; expected the header {','.join(CSV_COLUMNS)}")]
        )

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.splitlines()[0]))
    columns = _read_header(path, next(reader))

    participants: list[Participant] = []
    problems: list[CsvProblem] = []
    first_line_of: dict[str, int] = {}
    last_line = reader.line_num
    while True:
        line = last_line + 1  # a quoted value may span lines; report where the record starts
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            problems.append(CsvProblem(line, None, f"is not valid CSV: {error}"))
            break
        last_line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            problems.append(
                CsvProblem(line, None, f"has {len(cells)} values but the header has {len(columns)} columns")
            )
            continue
        record = dict(zip(columns, cells, strict=True))
        for column in _OPTIONAL_CSV_COLUMNS:
            if not record.get(column, "").strip():
                record.pop(column, None)
        if "manager" in record:
            record["manager_id"] = record.pop("manager")
        try:
            participant = Participant.model_validate(record)
        except ValidationError as error:
            for detail in error.errors():
                field = str(detail["loc"][0]) if detail["loc"] else None
                problems.append(
                    CsvProblem(line, "manager" if field == "manager_id" else field, _clean_message(detail["msg"]))
                )
            continue
        if participant.participant_id in first_line_of:
            problems.append(
                CsvProblem(
                    line,
                    "participant_id",
                    f"the same participant_id is already on line {first_line_of[participant.participant_id]}",
                )
            )
            continue
        first_line_of[participant.participant_id] = line
        participants.append(participant)

    if problems:
        raise ParticipantCsvError(path, problems)
    return participants


async def upsert_participants(pool: asyncpg.Pool, participants: Iterable[Participant]) -> int:
    """Insert new participants and update known ones, all or nothing; returns how many were written.

    ``created_at`` of a known participant is kept, so it still says when they joined. Ids erased on request
    (``directory.erasure``) are refused with ``ErasedParticipantsError``: an old CSV file imported again must
    not bring an erased person back.
    """
    rows: list[tuple[str, str | None, str | None, str, str, str, str, str, str | None]] = []
    seen: set[str] = set()
    for index, participant in enumerate(participants):
        if not isinstance(participant, Participant):
            raise TypeError(f"participants[{index}] is {type(participant).__name__}, expected Participant")
        if participant.participant_id in seen:
            # Which of two versions should win is the caller's decision, not an accident of order.
            raise ValueError(f"participant_id {participant.participant_id!r} appears twice in one upsert")
        seen.add(participant.participant_id)
        rows.append(
            (
                participant.participant_id,
                participant.kommunkod,
                participant.programme,
                participant.role,
                participant.display_name,
                participant.email,
                participant.language,
                participant.mail_delivery,
                participant.manager_id,
            )
        )
    if rows:
        erased = await pool.fetch(_ERASED, [row[0] for row in rows])
        if erased:
            raise ErasedParticipantsError([row["participant_id"] for row in erased])
        await _check_managers(pool, rows)
        # asyncpg runs executemany in one transaction, so a failing row leaves the directory unchanged.
        await pool.executemany(_UPSERT, rows)
    return len(rows)


class UnknownManager(ValueError):
    """An import names line managers who are neither in it nor in the directory."""


async def _check_managers(
    pool: asyncpg.Pool, rows: list[tuple[str, str | None, str | None, str, str, str, str, str, str | None]]
) -> None:
    """Every manager named is someone: in the same import, or in the directory already."""
    named = {row[8] for row in rows if row[8] is not None} - {row[0] for row in rows}
    if not named:
        return
    known = {
        r["participant_id"]
        for r in await pool.fetch(
            "SELECT participant_id FROM participants WHERE participant_id = ANY($1::text[])", sorted(named)
        )
    }
    unknown = sorted(named - known)
    if unknown:
        who = ", ".join(f"{row[0]} (manager {row[8]})" for row in rows if row[8] in unknown)
        raise UnknownManager(f"manager: not in the directory nor in the import: {who}; import the managers too")


async def get_participant(pool: asyncpg.Pool, participant_id: str) -> Participant | None:
    """The participant with this id, or None if the directory has no such person."""
    row = await pool.fetchrow(f"{_SELECT} WHERE participant_id = $1", participant_id)
    return None if row is None else Participant.model_validate(dict(row))


async def participants_with_email(pool: asyncpg.Pool, email: str) -> list[Participant]:
    """Everyone the directory reaches at this address (compared without case), ordered by participant id."""
    rows = await pool.fetch(f"{_SELECT} WHERE lower(email) = lower($1) ORDER BY participant_id", email)
    return [Participant.model_validate(dict(row)) for row in rows]


async def list_participants(pool: asyncpg.Pool, kommunkod: str) -> list[Participant]:
    """Everyone in one municipality, ordered by role and then participant id."""
    check_pilot_code(kommunkod)
    rows = await pool.fetch(f"{_SELECT} WHERE kommunkod = $1 ORDER BY role, participant_id", kommunkod)
    return [Participant.model_validate(dict(row)) for row in rows]


async def programme_participants(pool: asyncpg.Pool, programme: str) -> list[Participant]:
    """Everyone of a whole programme (its lead, the region's support group), ordered by role and participant id."""
    rows = await pool.fetch(f"{_SELECT} WHERE programme = $1 ORDER BY role, participant_id", programme)
    return [Participant.model_validate(dict(row)) for row in rows]


async def names_a_participant(pool: asyncpg.Pool, pilot: PilotId, text: str) -> bool:
    """Whether `text` contains the full name or e-mail address of anyone of the pilot: its municipality's people and
    its programme's.

    Reasons given for steering and control go into the permanent record, which refers to people by id only;
    this catches the obvious slip of naming someone there.
    """
    folded = text.casefold()
    people = [*await list_participants(pool, pilot.code), *await programme_participants(pool, pilot.programme)]
    return any(p.display_name.casefold() in folded or p.email.casefold() in folded for p in people)
