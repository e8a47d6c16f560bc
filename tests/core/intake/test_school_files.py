"""Files schools really have (issue 13): Excel's "CSV (puntkomma gescheiden)" in Windows-1252,
tab-separated exports, Excel workbooks, the column names of student administration exports,
extra columns, Dutch date forms — in the core, the terminal chat and the command line.

The `core` fixture's clock stands at Monday 2026-11-23; school `brug` (Zwolle) is Sara's.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import Workbook
from sqlalchemy import Engine

from bot.core.app import Core
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.intake.columns import sheet_named
from bot.core.intake.file_kinds import file_kind
from bot.core.intake.import_reply import result_reply
from bot.region import Region
from bot.store.db import session_scope
from tests.core.intake.test_csv_import import cases_of, run_import, where
from tests.factories import text_of
from tests.handlers.test_terminal import chat

# An export as a Dutch school secretary gets it: the student administration's own column
# names, a class and a mentor the import does not need, and dates as Excel writes them.
SIS_HEADER = (
    "Leerlingnummer;Roepnaam;Tussenvoegsel;Achternaam;Geboortedatum;Woonplaats;Onderwijs;"
    "Uitstroomdatum;Toestemming;Klas;Mentor"
)
SIS_ROWS = (
    "1001;Zoë;de;Vries;15-3-2009;Zwolle;pro;31-7-2027;ja;4B;Jansen\r\n"
    "1002;René;;Smit;02-11-2008;Kampen;pro;31-07-2027;ja;4B;Jansen\r\n"
    "1003;Anouk;van;Eë;2010-01-05;Dalfsen;pro;2027-07-31;nee;4C;Bakker\r\n"
)


@pytest.fixture
def nl(engine: Engine, region: Region, frozen: time_machine.Coordinates) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


def sis_file() -> bytes:
    """What Excel's "CSV (puntkomma gescheiden)" writes on a Dutch Windows: Windows-1252."""
    return (SIS_HEADER + "\r\n" + SIS_ROWS).encode("cp1252")


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EXPORT_ROWS: list[list[object]] = [
    ["Stamnummer", "Voornaam", "Voorvoegsel", "Achternaam", "Geboortedatum", "Gemeente"],
    [20931, "Fleur", None, "Jansen", date(2009, 5, 4), "Raalte"],
    [20932, "Daan", "van der", "Berg", date(2008, 9, 30), "Zwolle"],
]


def leavers_sheet() -> list[list[object]]:
    """A sheet with what the import needs, Excel dates as real dates."""
    head = ["Leerlingnummer", "Roepnaam", "Achternaam", "Woonplaats", "Onderwijs"]
    return [
        [*head, "Uitstroomdatum", "Toestemming"],
        [20931, "Fleur", "Jansen", "Raalte", "pro", date(2027, 7, 31), "ja"],
        [20932, "Daan", "Berg", "Zwolle", "pro", "31-7-2027", "ja"],
    ]


def test_an_excel_made_windows_1252_semicolon_export_imports_with_its_accents(
    core: Core,
) -> None:
    result = run_import(core, sis_file())

    assert result.ok, result.problems
    found = cases_of(core)
    assert {ref: c.name for ref, c in found.items()} == {
        "1001": "Zoë de Vries",
        "1002": "René Smit",
        "1003": None,  # no consent: an export's name is left out (and the answer says so)
    }
    assert [found[r].birth_year for r in ("1001", "1002", "1003")] == [2009, 2008, 2010]
    assert found["1002"].home_municipality_code == "GM0166"
    # 31-7-2027, 31-07-2027 and 2027-07-31 are the same day
    assert {c.expected_exit for c in found.values()} == {date(2027, 7, 31)}
    assert result.ignored == ["Klas", "Mentor"]
    assert result.names_left_out == 1

    reply = text_of(result_reply(translator("en"), result))
    assert "Read as Windows-1252 text, separated by semicolons." in reply
    assert "Roepnaam + Tussenvoegsel + Achternaam → Name" in reply
    assert "Leerlingnummer → Student reference" in reply
    assert "Geboortedatum → Year of birth" in reply and "Woonplaats → Home municipality" in reply
    assert "Ignored 2 columns I do not know: Klas, Mentor." in reply
    assert "1 name was not stored: that leaver has no consent." in reply


def test_the_answer_in_dutch_names_the_encoding_and_the_mapping(nl: Core) -> None:
    reply = text_of(result_reply(translator("nl"), run_import(nl, sis_file())))
    assert "Gelezen als Windows-1252-tekst, gescheiden door puntkomma's." in reply
    assert "Roepnaam + Tussenvoegsel + Achternaam → Naam" in reply
    assert "2 kolommen overgeslagen die ik niet ken: Klas, Mentor." in reply


def test_a_name_typed_in_a_column_of_its_own_without_consent_is_still_refused(core: Core) -> None:
    data = "leerling;naam;woongemeente;onderwijs;uitstroomdatum;toestemming\n"
    result = run_import(core, data + "1004;Sem Bos;Zwolle;pro;2027-07;nee\n")
    assert where(result.problems) == [(2, "naam")]
    assert "Without consent" in result.problems[0].message
    assert cases_of(core) == {}


def test_a_tab_separated_export(core: Core) -> None:
    data = (
        "Leerlingnummer\tWoonplaats\tOnderwijs\tUitstroomdatum\tToestemming\tOpmerkingen\n"
        "T-1\tZwolle\tentree\t31-07-2027\tja\tstage, bij de bakker\n"
        "T-2\tHattem\tentree\t2027-06\tnee\t\n"
    )
    result = run_import(core, data)

    assert result.ok, result.problems
    assert set(cases_of(core)) == {"T-1", "T-2"}
    assert result.source is not None and result.source.separator == "\t"
    assert "separated by tabs" in text_of(result_reply(translator("en"), result))


def test_the_separator_is_the_one_that_splits_the_header_into_known_columns(core: Core) -> None:
    # more commas (5) than semicolons (4) in the header, but the semicolons make the columns
    extra = "Klas, groep, jaar, mentor, vak, uur"
    data = f"leerling;woongemeente;onderwijs;uitstroomdatum;{extra}\nS-1;Zwolle;pro;2027-06;4\n"
    result = run_import(core, data)
    assert result.ok, result.problems
    assert result.ignored == [extra]


def test_an_xlsx_workbook_first_sheet_or_the_one_named(core: Core) -> None:
    data = workbook(("Leerlingen", leavers_sheet()), ("Export", EXPORT_ROWS))

    result = run_import(core, data)
    assert result.ok, result.problems
    found = cases_of(core)
    assert set(found) == {"20931", "20932"}  # whole numbers, not "20931.0"
    assert {c.expected_exit for c in found.values()} == {date(2027, 7, 31)}  # a date cell
    assert found["20931"].name == "Fleur Jansen" and found["20931"].programme == "pro"
    reply = text_of(result_reply(translator("en"), result))
    assert "Read the Excel sheet Leerlingen." in reply

    export = run_import(core, data, sheet="export")
    assert where(export.problems) == [(1, "")]  # no exit date; the programme is the school's
    assert "expected exit date is missing" in export.problems[0].message
    assert "Read the Excel sheet Export." in text_of(result_reply(translator("en"), export))

    unknown = run_import(core, data, sheet="Blad3")
    (problem,) = unknown.problems
    assert problem.line == 0
    assert problem.message == "The workbook has no sheet Blad3. Its sheets are: Leerlingen, Export."


def test_a_date_of_birth_that_is_not_a_date(core: Core) -> None:
    data = (
        "leerlingnummer;geboortedatum;woonplaats;onderwijs;uitstroomdatum\n"
        "X-1;31-2-2009;Zwolle;pro;2027-06\n"
    )
    result = run_import(core, data)
    assert where(result.problems) == [(2, "geboortedatum")]
    assert result.problems[0].message == "31-2-2009 is not a date."


def _zip(*names: str, mimetype: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype:
            archive.writestr("mimetype", mimetype)
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"%PDF-1.7\n...", "leerlingen.pdf", "This file is a PDF file. I can read a CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "lijst.xls", "old Excel file (.xls)"),
        (_zip("word/document.xml"), "verslag.docx", "This file is a Word document. I can"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "foto.png", "This file is an image."),
        (
            _zip("word/document.xml"),
            "uitstroom.csv",
            "This file is a Word document, although its name ends in .csv.",
        ),
        (b"%PDF-1.4 ...", "export.xlsx", "a PDF file, although its name ends in .xlsx"),
        (_zip("data/export.csv"), "uitstroom.csv", "a zip archive, although its name ends in .csv"),
        (
            _zip("content.xml", mimetype=b"application/vnd.oasis.opendocument.spreadsheet"),
            "lijst.ods",
            "an OpenDocument spreadsheet (LibreOffice)",
        ),
        (b"<html><table><tr><td>1</td></tr></table></html>", "export.xls", "a web page (HTML)"),
        (b"\x00\x01binary", "lijst.dat", "(this is a .dat file)"),
    ],
    ids=["pdf", "xls", "docx", "png", "docx-as-csv", "pdf-as-xlsx", "zip", "ods", "html", "other"],
)
def test_a_file_of_another_kind_gets_a_clear_message(
    core: Core, data: bytes, filename: str, expected: str
) -> None:
    result = run_import(core, data, filename=filename)
    (problem,) = result.problems
    assert problem.line == 0 and expected in problem.message
    reply = result_reply(translator("en"), result)
    assert reply.error and not any(line.startswith("line 0") for line in reply.lines)
    assert cases_of(core) == {}


def test_a_word_document_named_csv_is_called_a_word_document_in_dutch(nl: Core) -> None:
    result = run_import(nl, _zip("word/document.xml"), filename="uitstroom.csv")
    reply = result_reply(translator("nl"), result)
    assert reply.text.startswith("Dit bestand is een Word-document, al eindigt de naam op .csv."), (
        reply.text
    )


def test_file_kinds_from_bytes_and_name() -> None:
    assert file_kind(b"a,b\n1,2\n", "") == "csv"
    assert file_kind(b"a,b\n1,2\n", "Leerlingen.CSV") == "csv"
    assert file_kind(b"a\tb\n", "export.txt") == "csv"
    assert file_kind(workbook(("Blad1", [["a"]])), "") == "xlsx"
    assert file_kind(workbook(("Blad1", [["a"]])), "export.xlsx") == "xlsx"
    assert file_kind(b"a,b\n", "lijst.xlsx") == "csv"  # what the bytes are, whatever the name
    assert file_kind(workbook(("Blad1", [["a"]])), "lijst.csv") == "xlsx"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert file_kind(ole + "WordDocument".encode("utf-16-le"), "a.csv") == "doc"
    assert file_kind(b"a;b\n1;2\n", "export.xls") == "csv"  # CSV text an administration named .xls
    assert file_kind(b"<html>", "verslag.html") == "html"
    assert file_kind(b"just some text", "notities.md") == "other"


@pytest.mark.parametrize(
    ("text", "sheet"),
    [
        ("blad Leerlingen", "Leerlingen"),
        ("Sheet: Export 2026", "Export 2026"),
        ("--sheet Blad2", "Blad2"),
        ("tabblad: uitstroom", "uitstroom"),
        ("hier is de lijst", None),
        ("", None),
    ],
)
def test_the_message_sent_with_a_workbook_may_name_its_sheet(text: str, sheet: str | None) -> None:
    assert sheet_named(text) == sheet


# --- the terminal chat ---------------------------------------------------------------------


def test_upload_in_the_terminal_reads_windows_1252_and_a_named_sheet(
    nl: Core, tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes(sis_file())
    out = chat(nl, f"/as sara\n/upload {export}\n")
    assert "3 uitstromers toegevoegd" in out
    assert "Windows-1252" in out and "Roepnaam + Tussenvoegsel + Achternaam → Naam" in out

    book = tmp_path / "leerlingen.xlsx"
    book.write_bytes(workbook(("Klassen", [["klas"], ["4B"]]), ("Uitstroom", leavers_sheet())))
    out = chat(nl, f"/as sara\n/upload {book}\n")
    assert "Er is niets geïmporteerd" in out and "Tabblad Klassen" in out  # the first sheet
    out = chat(nl, f"/as sara\n/upload {book} --sheet Uitstroom\n")
    assert "2 uitstromers toegevoegd" in out and "Tabblad Uitstroom" in out

    pdf = tmp_path / "lijst.pdf"
    pdf.write_bytes(b"%PDF-1.4 ...")
    out = chat(nl, f"/as sara\n/upload {pdf}\n")
    assert "Dit bestand is een pdf-bestand. Ik kan een CSV-bestand of een Excel-werkmap" in out


# --- the command line ----------------------------------------------------------------------


def test_vangnet_import_reads_a_workbook_and_its_named_sheet(tmp_path: Path) -> None:
    from tests.core.intake.test_csv_import import vangnet

    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    exit_day = date(today.year + 1, 7, 31).strftime("%d-%m-%Y")
    rows: list[list[object]] = [
        ["Leerlingnummer", "Woonplaats", "Onderwijs", "Uitstroomdatum", "Klas"],
        ["CLI-X1", "Zwolle", "pro", exit_day, "4B"],
    ]
    book = tmp_path / "export.xlsx"
    book.write_bytes(workbook(("Blad1", [["leeg"]]), ("Uitstroom", rows)))
    url = f"sqlite:///{tmp_path}/cli.db"

    done = vangnet(
        "import",
        str(book),
        "--school",
        "brug",
        "--sheet",
        "Uitstroom",
        database_url=url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Uitstroom" in done.stdout and "Klas" in done.stdout
    assert re.search(r"Leerlingnummer → \S+", done.stdout), done.stdout

    first = vangnet("import", str(book), "--school", "brug", database_url=url, cwd=tmp_path)
    assert first.returncode == 1 and "Blad1" in first.stderr
