"""The participant directory: validation, CSV import and the PostgreSQL round trip.

Each test uses fresh participant ids (and a random kommunkod, filtering listings to its own ids) so tests
share the session database without depending on each other.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import asyncpg
import pydantic
import pytest

from directory import (
    Participant,
    ParticipantCsvError,
    UnknownManager,
    get_participant,
    list_participants,
    programme_participants,
    read_participants_csv,
    upsert_participants,
)

HEADER = "participant_id,kommunkod,role,display_name,email,language\n"


def random_kommunkod() -> str:
    return f"{random.randint(0, 9999):04d}"


def participant(kommunkod: str, role: str = "rektor", **changes: str) -> Participant:
    participant_id = f"p-{uuid.uuid4().hex[:12]}"
    fields = {
        "participant_id": participant_id,
        "kommunkod": kommunkod,
        "role": role,
        "display_name": "Åsa Öberg",
        "email": f"{participant_id}@example.se",
        **changes,
    }
    return Participant.model_validate(fields)


def write_csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "participants.csv"
    path.write_bytes(text.encode(encoding))
    return path


# --- the model ------------------------------------------------------------------------------------------


def test_participant_language_defaults_to_swedish() -> None:
    assert participant("1861").language == "sv"


@pytest.mark.parametrize("kommunkod", ["186", "18610", "18a1", ""])
def test_participant_kommunkod_must_be_four_digits(kommunkod: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="four digits"):
        participant(kommunkod)


@pytest.mark.parametrize("email", ["anna.example.se", "anna@localhost", "anna @example.se", "@example.se"])
def test_participant_email_must_look_like_an_address(email: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="e-mail address"):
        participant("1861", email=email)


# --- CSV import -----------------------------------------------------------------------------------------


def test_csv_rows_become_participants(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER + "p1,1861,rektor,Anna Andersson,anna@example.se,sv\n"
        "\n"
        'p2,1861,forvaltningschef,"Berg, Björn",bjorn@example.se,\n'
        "p3,0114,politiker,Carl Carlsson,carl@example.se,en\n",
    )

    participants = read_participants_csv(path)

    assert [p.participant_id for p in participants] == ["p1", "p2", "p3"]
    assert participants[1].display_name == "Berg, Björn"
    assert participants[1].language == "sv"  # an empty language cell means Swedish
    assert participants[2].kommunkod == "0114"  # leading zero kept
    assert participants[2].language == "en"


def test_csv_saved_by_a_swedish_spreadsheet_is_read(tmp_path: Path) -> None:
    text = HEADER.replace(",", ";") + "p1;1861;rektor;Anna Andersson;anna@example.se;sv\r\n"
    path = write_csv(tmp_path, text, encoding="utf-8-sig")

    assert read_participants_csv(path) == [
        Participant(
            participant_id="p1",
            kommunkod="1861",
            role="rektor",
            display_name="Anna Andersson",
            email="anna@example.se",
        )
    ]


def test_csv_errors_name_the_line_and_field(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER + "p1,1861,rektor,Anna Andersson,anna@example.se,sv\n"
        "p2,1861,rektor,Bo Berg,not-an-address,sv\n"
        "p3,186,rektor,Cia Ek,cia@example.se,de\n",
    )

    with pytest.raises(ParticipantCsvError) as caught:
        read_participants_csv(path)

    located = {(problem.line, problem.field) for problem in caught.value.problems}
    assert located == {(3, "email"), (4, "kommunkod"), (4, "language")}
    message = str(caught.value)
    assert "line 3, field 'email'" in message
    assert "line 4, field 'kommunkod'" in message
    assert "not-an-address" not in message  # personal data stays out of error messages and logs


def test_csv_names_and_addresses_with_control_characters_are_refused_naming_the_row(tmp_path: Path) -> None:
    """A newline in a name once went into the directory, and the person silently got no mail after that."""
    path = write_csv(
        tmp_path,
        HEADER + "p1,1861,rektor,Anna Andersson,anna@example.se,sv\n"
        'p2,1861,rektor,"Bo\nBerg",bo@example.se,sv\n'
        "p3,1861,rektor,Cia\x00 Ek,cia@example.se,sv\n"
        "p4,1861,rektor,Dan \u202eDal,dan@example.se,sv\n"
        "p5,1861,rektor,Eva Ek,eva\x07@example.se,sv\n"
        "p\x1b6,1861,rektor,Fia Fors,fia@example.se,sv\n",
    )

    with pytest.raises(ParticipantCsvError) as caught:
        read_participants_csv(path)

    located = {(problem.line, problem.field) for problem in caught.value.problems}
    assert located == {
        (3, "display_name"),
        (5, "display_name"),
        (6, "display_name"),
        (7, "email"),
        (8, "participant_id"),
    }
    assert "U+000A" in str(caught.value) and "U+202E" in str(caught.value)
    assert "Bo" not in str(caught.value)


def test_csv_with_a_missing_column_names_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "participant_id,kommunkod,role,display_name\np1,1861,rektor,Anna\n")

    with pytest.raises(ParticipantCsvError, match="line 1, field 'email': column is missing"):
        read_participants_csv(path)


def test_csv_row_with_too_many_values_names_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + "p1,1861,rektor,Anna,anna@example.se,sv\np2,1861,rektor,Bo,b@x.se,sv,extra\n")

    with pytest.raises(ParticipantCsvError, match="line 3: has 7 values but the header has 6 columns"):
        read_participants_csv(path)


def test_csv_repeating_a_participant_id_names_both_lines(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + "p1,1861,rektor,Anna,anna@example.se,sv\np1,1861,rektor,Bo,bo@example.se,sv\n")

    with pytest.raises(ParticipantCsvError, match="line 3, field 'participant_id': .* already on line 2"):
        read_participants_csv(path)


def test_csv_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + "p1,1861,rektor,Åsa Öberg,asa@example.se,sv\n", encoding="cp1252")

    with pytest.raises(ParticipantCsvError, match="line 2: is not valid UTF-8"):
        read_participants_csv(path)


def test_csv_without_a_mail_delivery_column_means_one_mail_per_notification(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HEADER + "p1,1861,rektor,Anna Andersson,anna@example.se,sv\n")

    [anna] = read_participants_csv(path)

    assert anna.mail_delivery == "immediate"


def test_csv_mail_delivery_column_chooses_the_daily_digest(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER.rstrip("\n") + ",mail_delivery\n"
        "p1,1861,rektor,Anna Andersson,anna@example.se,sv,daily_digest\n"
        "p2,1861,rektor,Bo Berg,bo@example.se,en,\n"
        "p3,1861,rektor,Cia Ek,cia@example.se,,immediate\n",
    )

    participants = read_participants_csv(path)

    assert [(p.participant_id, p.language, p.mail_delivery) for p in participants] == [
        ("p1", "sv", "daily_digest"),
        ("p2", "en", "immediate"),  # an empty cell means immediate
        ("p3", "sv", "immediate"),
    ]


def test_csv_with_an_unknown_mail_delivery_names_the_line_and_field(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        HEADER.rstrip("\n") + ",mail_delivery\n"
        "p1,1861,rektor,Anna Andersson,anna@example.se,sv,daily_digest\n"
        "p2,1861,rektor,Bo Berg,bo@example.se,sv,weekly\n",
    )

    with pytest.raises(ParticipantCsvError) as caught:
        read_participants_csv(path)

    assert [(problem.line, problem.field) for problem in caught.value.problems] == [(3, "mail_delivery")]
    assert "line 3, field 'mail_delivery': Input should be 'immediate' or 'daily_digest'" in str(caught.value)


# --- the database ---------------------------------------------------------------------------------------


async def test_upserted_participants_can_be_got_and_listed_by_kommunkod(db_pool: asyncpg.Pool) -> None:
    kommunkod = random_kommunkod()
    rektor = participant(kommunkod, role="rektor", language="en")
    huvudman = participant(kommunkod, role="forvaltningschef")
    elsewhere = participant("9999" if kommunkod != "9999" else "0001")

    written = await upsert_participants(db_pool, [rektor, huvudman, elsewhere])

    assert written == 3
    assert await get_participant(db_pool, rektor.participant_id) == rektor
    mine = {rektor.participant_id, huvudman.participant_id}
    listed = [p for p in await list_participants(db_pool, kommunkod) if p.participant_id in mine]
    assert listed == [huvudman, rektor]  # ordered by role


async def test_upsert_updates_a_known_participant_and_keeps_created_at(db_pool: asyncpg.Pool) -> None:
    original = participant(random_kommunkod())
    await upsert_participants(db_pool, [original])
    created_at = await db_pool.fetchval(
        "SELECT created_at FROM participants WHERE participant_id = $1", original.participant_id
    )
    changed = original.model_copy(update={"display_name": "Åsa Öberg Lind", "email": "asa.lind@example.se"})

    await upsert_participants(db_pool, [changed])

    assert await get_participant(db_pool, original.participant_id) == changed
    assert (
        await db_pool.fetchval("SELECT created_at FROM participants WHERE participant_id = $1", original.participant_id)
        == created_at
    )


async def test_get_participant_returns_none_for_an_unknown_id(db_pool: asyncpg.Pool) -> None:
    assert await get_participant(db_pool, f"unknown-{uuid.uuid4()}") is None


async def test_upsert_refuses_the_same_participant_twice_in_one_batch(db_pool: asyncpg.Pool) -> None:
    first = participant(random_kommunkod())
    second = first.model_copy(update={"display_name": "Someone Else"})

    with pytest.raises(ValueError, match="appears twice"):
        await upsert_participants(db_pool, [first, second])

    assert await get_participant(db_pool, first.participant_id) is None


async def test_csv_import_round_trips_through_the_directory(db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    kommunkod = random_kommunkod()
    ids = [f"csv-{uuid.uuid4().hex[:12]}" for _ in range(2)]
    path = write_csv(
        tmp_path,
        HEADER + f"{ids[0]},{kommunkod},rektor,Anna Andersson,anna@example.se,sv\n"
        f"{ids[1]},{kommunkod},forvaltningschef,Bo Berg,bo@example.se,en\n",
    )

    await upsert_participants(db_pool, read_participants_csv(path))

    listed = [p for p in await list_participants(db_pool, kommunkod) if p.participant_id in ids]
    assert [(p.participant_id, p.role, p.language) for p in listed] == [
        (ids[1], "forvaltningschef", "en"),
        (ids[0], "rektor", "sv"),
    ]


async def test_mail_delivery_round_trips_and_can_be_changed_back(db_pool: asyncpg.Pool) -> None:
    reader = participant(random_kommunkod(), mail_delivery="daily_digest")
    await upsert_participants(db_pool, [reader])
    assert (await get_participant(db_pool, reader.participant_id)) == reader

    await upsert_participants(db_pool, [reader.model_copy(update={"mail_delivery": "immediate"})])

    stored = await get_participant(db_pool, reader.participant_id)
    assert stored is not None and stored.mail_delivery == "immediate"


# --- people of a whole programme, and line managers ------------------------------------------------------


def test_a_person_of_a_whole_programme_has_a_programme_and_no_kommunkod(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        "participant_id,kommunkod,programme,role,display_name,email\n"
        "p-skr-lead,,lfr-skola-2015,programledare,Exempel SKR-ledare (syntetisk),ledare@example.se\n",
    )

    [lead] = read_participants_csv(path)

    assert (lead.kommunkod, lead.programme, lead.role) == (None, "lfr-skola-2015", "programledare")


@pytest.mark.parametrize(
    ("row", "field", "says"),
    [
        ("p-a,,,programledare,A,a@example.se,", None, "give the participant's kommunkod, or"),
        ("p-a,1861,lfr-skola,programledare,A,a@example.se,", None, "give the participant's kommunkod, or"),
        ("p-a,,lfr-skola,rektor,A,a@example.se,", None, "a person of a whole programme holds one of the roles"),
        ("p-a,1861,,skolchef,A,a@example.se,", "role", "unknown role 'skolchef'"),
        ("p-a,1861,,rektor,A,a@example.se,p-a", None, "not their own line manager"),
        ("p-a,,Program Ett,programledare,A,a@example.se,", "programme", "String should match pattern"),
    ],
)
def test_a_row_that_is_neither_a_municipalitys_nor_a_programmes_is_refused_naming_why(
    tmp_path: Path, row: str, field: str | None, says: str
) -> None:
    path = write_csv(tmp_path, "participant_id,kommunkod,programme,role,display_name,email,manager\n" + row + "\n")

    with pytest.raises(ParticipantCsvError) as refused:
        read_participants_csv(path)

    [problem] = refused.value.problems
    assert problem.line == 2 and problem.field == field and says in problem.message, problem


def test_a_header_with_neither_kommunkod_nor_programme_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "participant_id,role,display_name,email\np-a,rektor,A,a@example.se\n")

    with pytest.raises(ParticipantCsvError, match="needs kommunkod, or programme"):
        read_participants_csv(path)


async def test_line_managers_round_trip_and_must_be_someone(db_pool: asyncpg.Pool) -> None:
    kommunkod = random_kommunkod()
    director = participant(kommunkod, "kommundirektor")
    chef = participant(kommunkod, "forvaltningschef", manager_id=director.participant_id)

    await upsert_participants(db_pool, [chef, director])  # the manager may come in the same import

    assert (await get_participant(db_pool, chef.participant_id)).manager_id == director.participant_id  # type: ignore[union-attr]
    stray = participant(kommunkod, "rektor", manager_id="p-nobody-at-all")
    with pytest.raises(UnknownManager, match="p-nobody-at-all"):
        await upsert_participants(db_pool, [stray])
    assert await get_participant(db_pool, stray.participant_id) is None


async def test_programme_people_are_listed_by_programme_and_not_by_any_municipality(db_pool: asyncpg.Pool) -> None:
    programme = f"prog-{uuid.uuid4().hex[:8]}"
    lead = Participant(
        participant_id=f"p-{uuid.uuid4().hex[:8]}",
        programme=programme,
        role="programledare",
        display_name="Exempel Ledare (syntetisk)",
        email="ledare@example.se",
    )

    await upsert_participants(db_pool, [lead])

    assert await programme_participants(db_pool, programme) == [lead]
