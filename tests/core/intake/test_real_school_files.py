"""Files schools really send (issue 22, items 1-4): the fixtures of tests/fixtures/school_files
(made as Dutch Excel and student administrations make them, see make_fixtures.py there) import
unedited in the chat upload, the terminal's /upload and `vangnet import`; title rows above
the header; Opleiding, Leerweg and the like as the programme, the school's own type when the
file has none; errors in the reader's words; the 5 MB limit on every way in.

The `nl` core's clock stands at Monday 2026-11-23; the fixtures' leavers leave in July 2027.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine

from bot.core.app import Core
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.intake.csv_read import MAX_FILE_BYTES
from bot.core.intake.fields import ParseEnv, parse_profile, programme_and_profile
from bot.core.intake.import_reply import result_reply
from bot.region import Region
from bot.store.db import session_scope
from tests.core.intake.test_csv_import import cases_of, run_import, vangnet, where
from tests.core.intake.test_school_files import workbook
from tests.factories import text_of
from tests.handlers.test_terminal import chat

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "school_files"
BRUG_CSV = FIXTURES / "brug_uitstroom.csv"  # Praktijkschool De Brug (pro, Zwolle): Sara's
VLINDER_XLSX = FIXTURES / "vlinderboom_uitstroom.xlsx"  # VSO De Vlinderboom (vso): Mila's
VAART_XLSX = FIXTURES / "vaart_entree.xlsx"  # Vaartcollege Entree (entree): Tim's
WORD_CSV = FIXTURES / "uitstroom_word.csv"


@pytest.fixture
def nl(engine: Engine, region: Region, frozen: time_machine.Coordinates) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


def upload(core: Core, person: str, path: Path) -> str:
    """What a school contact sees after sending the file in the chat (Slack, Telegram)."""
    replies = core.handle_file(
        person_id=person, data=path.read_bytes(), transport="test", filename=path.name
    )
    return "\n".join(text_of(reply) for reply in replies)


# --- the fixtures, through every way in ---------------------------------------------------------


def test_a_pro_schools_csv_with_a_title_row_and_villages_imports_unedited(nl: Core) -> None:
    out = upload(nl, "sara", BRUG_CSV)
    assert "7 uitstromers toegevoegd" in out, out
    assert "Gelezen als Windows-1252-tekst, gescheiden door puntkomma's." in out
    assert "De kolomnamen staan op regel 3; de regels daarboven heb ik overgeslagen." in out
    assert "Waar het bestand geen onderwijstype noemt, geldt dat van de school: " in out
    assert "Nieuwleusen → Dalfsen, IJsselmuiden → Kampen, Genemuiden → Zwartewaterland" in out
    found = cases_of(nl)
    assert {c.programme for c in found.values()} == {"pro"}
    assert found["20411"].home_municipality_code == "GM0148"  # Nieuwleusen: Dalfsen
    assert found["20415"].home_municipality_code == "GM0160"  # Dedemsvaart: Hardenberg
    assert found["20411"].name == "Daniël Vos"  # Windows-1252 read as such


def test_a_vso_workbook_with_a_title_and_profiles_as_schools_write_them(nl: Core) -> None:
    out = upload(nl, "mila", VLINDER_XLSX)  # Mila reads English
    assert "7 leavers added" in out, out
    assert "The column names are on line 4; the lines above it were skipped." in out
    assert "Opleiding → Programme, Uitstroomprofiel → VSO profile" in out
    found = cases_of(nl, school="vlinder")
    profiles = {ref: (c.programme, c.vso_profile) for ref, c in found.items()}
    assert profiles == {
        "310101": ("vso", "work"),  # "VSO arbeidsmarktgericht", no profile: it is in the name
        "310102": ("vso", "work"),  # "arbeid"
        "310103": ("vso", "day_activities"),  # "VSO dagbesteding"
        "310104": ("vso", "work"),  # "Voortgezet speciaal onderwijs", "uitstroomprofiel arbeid"
        "310105": ("vso", "work"),  # "werk"
        "310106": ("vso", "further_education"),  # "vervolgonderwijs"
        "310107": ("vso", "work"),
    }
    assert found["310107"].home_municipality_code == "GM1896"  # Hasselt: Zwartewaterland


def test_an_entree_export_reads_opleiding_and_sets_leerweg_aside(nl: Core) -> None:
    out = upload(nl, "tim", VAART_XLSX)
    assert "3 uitstromers toegevoegd" in out, out
    assert "Niet gelezen, want een andere kolom geeft het onderwijstype al: Leerweg." in out
    assert "Heino → Raalte, Balkbrug → Hardenberg, Wezep → Oldebroek" in out
    assert {c.programme for c in cases_of(nl, school="vaart").values()} == {"entree"}


def test_the_terminal_upload_reads_the_fixtures_unedited(nl: Core) -> None:
    out = chat(nl, f"/as sara\n/upload {BRUG_CSV}\n")
    assert "7 uitstromers toegevoegd" in out and "Nieuwleusen → Dalfsen" in out
    out = chat(nl, f"/as mila\n/upload {VLINDER_XLSX}\n")
    assert "7 leavers added" in out  # Mila reads English
    out = chat(nl, f"/as sara\n/upload {WORD_CSV}\n")
    assert "Dit bestand is een Word-document, al eindigt de naam op .csv." in out


def test_vangnet_import_reads_the_fixtures_unedited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    done = vangnet("import", str(BRUG_CSV), "--school", "brug", database_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "7 uitstromers toegevoegd" in done.stdout and "Nieuwleusen → Dalfsen" in done.stdout
    done = vangnet(
        "import", str(VLINDER_XLSX), "--school", "vlinder", database_url=url, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "De kolomnamen staan op regel 4" in done.stdout

    word = vangnet("import", str(WORD_CSV), "--school", "brug", database_url=url, cwd=tmp_path)
    assert word.returncode == 1
    assert "Dit bestand is een Word-document, al eindigt de naam op .csv." in word.stderr


def test_over_5_mb_is_refused_in_the_terminal_and_on_the_command_line(
    nl: Core, tmp_path: Path
) -> None:
    big = tmp_path / "groot.csv"
    big.write_bytes(BRUG_CSV.read_bytes() + b"x" * MAX_FILE_BYTES)
    out = chat(nl, f"/as sara\n/upload {big}\n")
    assert "Dat bestand is te groot voor mij: hooguit 5 MB." in out
    assert cases_of(nl) == {}

    url = f"sqlite:///{tmp_path}/cli.db"
    done = vangnet("import", str(big), "--school", "brug", database_url=url, cwd=tmp_path)
    assert done.returncode == 1 and "hooguit 5 MB" in done.stderr


# --- title rows (item 2) -------------------------------------------------------------------------


def test_title_rows_above_the_header_of_a_csv_and_a_workbook(nl: Core) -> None:
    data = (
        "Verwachte uitstroom schooljaar 2026-2027;;;\n"
        "Praktijkschool De Brug;;;\n"
        "Leerlingnummer;Woonplaats;Onderwijs;Einddatum\n"
        "T-1;Zwolle;pro;31-7-2027\n"
        "T-2;Zwolle;havo;31-7-2027\n"
    )
    result = run_import(nl, data)
    assert where(result.problems) == [(5, "Onderwijs")]  # lines as the file counts them
    reply = text_of(result_reply(translator("nl"), result))
    assert "De kolomnamen staan op regel 3; de regels daarboven heb ik overgeslagen." in reply

    rows: list[list[object]] = [
        ["Verwachte uitstroom — VSO De Vlinderboom"],
        [],
        ["Leerlingnummer", "Woonplaats", "Onderwijs", "Profiel", "Einddatum"],
        ["T-3", "Kampen", "vso", "arbeid", "31-7-2027"],
    ]
    comma_title = "Uitstroom, schooljaar 2026-2027\n" + data.split("\n", 2)[2]
    assert where(run_import(nl, comma_title).problems) == [(4, "Onderwijs")]  # ; not ,

    book = run_import(nl, workbook(("Blad1", rows)), school="vlinder")
    assert book.ok, book.problems
    assert book.header_line == 3


def test_a_file_without_title_says_nothing_about_skipped_lines(nl: Core) -> None:
    result = run_import(
        nl, "Leerlingnummer;Woonplaats;Onderwijs;Einddatum\nT-1;Zwolle;pro;7-2027\n"
    )
    assert result.ok and result.header_line == 0
    assert "overgeslagen" not in text_of(result_reply(translator("nl"), result))


# --- programme columns and values (item 3) -------------------------------------------------------


@pytest.mark.parametrize("column", ["Opleiding", "Opleidingsnaam", "Leerweg", "Onderwijstype"])
def test_programme_columns_as_exports_name_them(nl: Core, column: str) -> None:
    data = (
        f"Leerlingnummer;Woonplaats;{column};Einddatum\n"
        "P-1;Zwolle;Praktijkonderwijs;31-7-2027\n"
        "P-2;Zwolle;VSO arbeidsmarktgericht;31-7-2027\n"
        "P-3;Zwolle;Entree;31-7-2027\n"
    )
    result = run_import(nl, data)
    assert result.ok, result.problems
    found = {ref: (c.programme, c.vso_profile) for ref, c in cases_of(nl).items()}
    assert found == {"P-1": ("pro", None), "P-2": ("vso", "work"), "P-3": ("entree", None)}


@pytest.mark.parametrize(
    ("typed", "profile"),
    [
        ("arbeid", "work"),
        ("werk", "work"),
        ("arbeidsmarktgericht", "work"),
        ("dagbesteding", "day_activities"),
        ("vervolgonderwijs", "further_education"),
        ("uitstroomprofiel arbeid", "work"),
        ("Uitstroomprofiel: dagbesteding", "day_activities"),
    ],
)
def test_vso_profiles_as_schools_write_them(nl: Core, typed: str, profile: str) -> None:
    from sqlmodel import Session

    with Session(nl.engine) as session:
        env = ParseEnv(t=translator("nl"), today=date(2026, 11, 23), session=session)
        assert parse_profile(typed, env) == profile
        assert programme_and_profile(f"VSO {typed}", env) == ("vso", profile)


def test_a_school_of_one_type_gives_its_type_when_the_file_has_none(nl: Core) -> None:
    data = "Leerlingnummer;Woonplaats;Profiel;Einddatum\nS-1;Kampen;arbeid;31-7-2027\n"
    result = run_import(nl, data, school="vlinder")  # VSO De Vlinderboom: type vso
    assert result.ok, result.problems
    (case,) = cases_of(nl, school="vlinder").values()
    assert (case.programme, case.vso_profile) == ("vso", "work")

    no_profile = run_import(
        nl, "Leerlingnummer;Woonplaats;Einddatum\nS-2;Kampen;31-7-2027\n", school="vlinder"
    )
    reply = result_reply(translator("nl"), no_profile)
    assert reply.lines[0] == "regel 2, VSO-profiel: Een VSO-uitstromer heeft een profiel nodig."


# --- errors in the reader's words (item 4) -------------------------------------------------------


def test_a_missing_column_is_described_never_named_by_its_internal_id(nl: Core) -> None:
    result = run_import(nl, "Leerlingnummer;Woonplaats;Onderwijs\nX-1;Zwolle;pro\n")
    reply = text_of(result_reply(translator("nl"), result))
    assert (
        "regel 1: De kolom met de verwachte uitstroomdatum ontbreekt (bijvoorbeeld 'Einddatum' "
        "of 'uitstroomdatum')."
    ) in reply
    assert "expected_exit" not in reply
