"""The CSV of leavers (product.md section 10): the whole file or nothing, every bad row told.

The `core` fixture's clock stands at Monday 2026-11-23; the demo region's school `brug` is in
Zwolle and its school contact is `sara`.
"""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, func, select

from bot.core.app import Core
from bot.core.errors import Refused
from bot.core.i18n import translator
from bot.core.intake.csv_import import ImportResult, import_csv
from bot.core.intake.csv_read import RowProblem
from bot.core.intake.import_reply import result_reply
from bot.store import queries
from bot.store.db import make_engine, session_scope
from bot.store.models import AuditEvent, Case
from tests.factories import make_leaver, text_of

HEADER = (
    "student_ref,name,birth_year,home_municipality,programme,vso_profile,expected_exit,"
    "early_leaver,destination_wish,consent,notes"
)
GOOD = (
    HEADER + "\n"
    "DB-1,Sam de Boer,2009,Zwolle,pro,,2027-06,no,work,given,Stage bij de bakker\n"
    "DB-2,,2008,Kampen,vso,day_activities,2027-07-15,no,day_activities,not_asked,\n"
    "DB-3,,2010,GM0166,entree,,2026-10,yes,unknown,refused,\n"
)


def run_import(
    core: Core,
    data: str | bytes,
    *,
    school: str = "brug",
    filename: str = "",
    sheet: str | None = None,
) -> ImportResult:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with session_scope(core.engine) as session:
        actor = queries.person_by_id(session, person_id="sara")
        assert actor is not None
        ctx = core.ctx(session, actor, transport="test", private=True)
        return import_csv(ctx, school_id=school, data=raw, filename=filename, sheet=sheet)


def cases_of(core: Core, school: str = "brug") -> dict[str, Case]:
    with session_scope(core.engine) as session:
        found = session.exec(select(Case).where(Case.school_id == school)).all()
        return {c.student_ref: c for c in found}


def where(problems: list[RowProblem]) -> list[tuple[int, str]]:
    return [(p.line, p.column) for p in problems]


# --- good files ----------------------------------------------------------------------------


def test_a_good_comma_file_adds_every_leaver(core: Core) -> None:
    result = run_import(core, GOOD)

    assert result.ok and (result.added, result.updated) == (3, 0)
    found = cases_of(core)
    assert set(found) == {"DB-1", "DB-2", "DB-3"}
    sam = found["DB-1"]
    assert (sam.name, sam.notes, sam.consent) == ("Sam de Boer", "Stage bij de bakker", "given")
    assert sam.home_municipality_code == "GM0193" and sam.programme == "pro"
    assert sam.expected_exit == date(2027, 6, 1) and sam.state == "forecast"
    assert found["DB-2"].vso_profile == "day_activities"
    assert found["DB-2"].expected_exit == date(2027, 7, 15)
    assert found["DB-3"].home_municipality_code == "GM0166"
    assert found["DB-3"].early_leaver and found["DB-3"].state == "due"  # urgent at once


def test_a_good_import_is_one_audit_event_without_personal_data(core: Core) -> None:
    run_import(core, GOOD)

    with session_scope(core.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "csv_import")).all()
        registered = session.exec(
            select(func.count()).where(col(AuditEvent.action) == "register")
        ).one()
    assert len(events) == 1 and registered == 3
    event = events[0]
    assert (event.actor_id, event.transport, event.case_ref) == ("sara", "test", None)
    assert event.detail == {"school_id": "brug", "rows": 3, "added": 3, "updated": 0}
    assert "Sam" not in str(event.detail)


def test_a_semicolon_file_may_have_commas_in_its_values(core: Core) -> None:
    data = (
        "student_ref;home_municipality;programme;expected_exit;consent;notes\n"
        "DB-1;Zwolle;pro;2027-06;given;Stage bij de bakker, en bij de Jumbo\n"
        'DB-2;Kampen;entree;06-2027;given;"zegt ""ja"" en ""nee"""\n'
    )
    result = run_import(core, data)

    assert result.ok and result.added == 2, result.problems
    found = cases_of(core)
    assert found["DB-1"].notes == "Stage bij de bakker, en bij de Jumbo"
    assert found["DB-2"].notes == 'zegt "ja" en "nee"'


def test_a_byte_order_mark_and_windows_line_ends_are_fine(core: Core) -> None:
    data = codecs.BOM_UTF8 + GOOD.replace("\n", "\r\n").encode("utf-8")
    result = run_import(core, data)

    assert result.ok and result.added == 3, result.problems
    assert set(cases_of(core)) == {"DB-1", "DB-2", "DB-3"}


def test_dutch_headers_and_values_in_any_case_and_order(core: Core) -> None:
    data = (
        " Leerling ;WOONGEMEENTE;Onderwijs;Profiel;Uitstroomdatum;Tussentijds;Bestemming;"
        "Toestemming;Naam;Geboortejaar;Opmerkingen;Contactgegevens\n"
        "DB-1;zwolle;praktijkonderwijs;;juni 2027;nee;werk;ja;Sam de Boer;2009;Stage;06-123\n"
        "DB-2;Kampen;VSO;dagbesteding;2027-07;nee;dagbesteding;niet gevraagd;;;;\n"
    )
    result = run_import(core, data)

    assert result.ok and result.added == 2, result.problems
    found = cases_of(core)
    assert (found["DB-1"].name, found["DB-1"].contact, found["DB-1"].birth_year) == (
        "Sam de Boer",
        "06-123",
        2009,
    )
    assert found["DB-1"].programme == "pro" and found["DB-1"].destination_wish == "work"
    assert found["DB-2"].vso_profile == "day_activities" and found["DB-2"].consent == "not_asked"


def test_empty_lines_are_skipped_and_line_numbers_stay_physical(core: Core) -> None:
    data = (
        "\n" + HEADER + "\n\n"
        'DB-1,Sam,2009,Zwolle,pro,,2027-06,no,work,given,"eerste regel\ntweede regel"\n'
        "  \n"
        "DB-2,,2009,Zwolle,pro,,2020-01,no,work,not_asked,\n"
    )
    result = run_import(core, data)

    # the blank first line, the header (2), a blank line, a record over lines 4-5, a blank 6
    assert where(result.problems) == [(7, "expected_exit")]
    assert "in the past" in result.problems[0].message

    result = run_import(core, data.replace("2020-01", "2027-01"))
    assert result.ok and cases_of(core)["DB-1"].notes == "eerste regel\ntweede regel"


# --- bad files: nothing is written --------------------------------------------------------


def test_bad_rows_at_the_start_middle_and_end_are_all_told_and_nothing_is_added(
    core: Core,
) -> None:
    make_leaver(core, student_ref="OLD-1")
    before = cases_of(core)
    rows = [
        "DB-1,,2009,Zwole,pro,,2027-06,no,work,not_asked,",  # line 2: typo'd municipality
        "DB-2,,2009,Zwolle,pro,,2027-06,no,work,not_asked,",
        "DB-3,,2009,Zwolle,pro,,2027-06,no,work,not_asked,",
        "DB-4,,09,Zwolle,mbo,,2027-06,no,work,not_asked,",  # line 5: year and programme
        "DB-5,,2009,Zwolle,pro,,2027-06,no,work,not_asked,",
        "DB-6,,2009,Zwolle,pro,,2020-06,no,work,not_asked,",  # line 7: exit in the past
    ]
    result = run_import(core, HEADER + "\n" + "\n".join(rows) + "\n")

    assert not result.ok and (result.added, result.updated) == (0, 0)
    assert where(result.problems) == [
        (2, "home_municipality"),
        (5, "birth_year"),
        (5, "programme"),
        (7, "expected_exit"),
    ]
    messages = [p.message for p in result.problems]
    assert "Did you mean: Zwolle?" in messages[0]
    assert "four digits" in messages[1]
    assert "Choose one of" in messages[2]
    assert messages[3].startswith("That month is in the past.")
    assert cases_of(core).keys() == before.keys()  # neither DB-2 nor any other good row


def test_a_refused_file_leaves_the_callers_unit_of_work_untouched(core: Core) -> None:
    with session_scope(core.engine) as session:
        actor = queries.person_by_id(session, person_id="sara")
        assert actor is not None
        ctx = core.ctx(session, actor, transport="test", private=True)
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        result = import_csv(
            ctx,
            school_id="brug",
            data=(GOOD + "DB-9,,2009,Nowhere,pro,,2027-06,no,work,not_asked,\n").encode(),
        )
        assert where(result.problems) == [(5, "home_municipality")]
        assert not session.new and not session.dirty
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
    assert cases_of(core) == {}


def test_re_importing_the_same_file_updates_instead_of_duplicating(core: Core) -> None:
    assert run_import(core, GOOD).added == 3
    refs = {k: c.ref for k, c in cases_of(core).items()}

    again = run_import(core, GOOD.replace("Stage bij de bakker", "Stage bij de Jumbo"))

    assert again.ok and (again.added, again.updated) == (0, 3)
    found = cases_of(core)
    assert {k: c.ref for k, c in found.items()} == refs
    assert found["DB-1"].notes == "Stage bij de Jumbo"


def test_a_leaver_registered_in_the_chat_is_updated_by_the_file(core: Core) -> None:
    make_leaver(core, student_ref="DB-1", home_municipality="Kampen")

    result = run_import(core, GOOD)

    assert (result.added, result.updated) == (2, 1)
    assert cases_of(core)["DB-1"].home_municipality_code == "GM0193"


def test_the_same_student_twice_in_one_file(core: Core) -> None:
    data = GOOD + "DB-2,,2008,Zwolle,pro,,2027-06,no,work,not_asked,\n"

    result = run_import(core, data)

    assert where(result.problems) == [(5, "student_ref")]
    assert "DB-2" in result.problems[0].message and "line 3" in result.problems[0].message
    assert cases_of(core) == {}


def test_a_missing_required_column_is_told_on_the_header_line(core: Core) -> None:
    result = run_import(core, "student_ref,home_municipality,programme\nDB-1,Zwolle,pro\n")
    assert where(result.problems) == [(1, "")]
    assert result.problems[0].message == (
        "The column with the expected exit date is missing (for example 'expected_exit' or "
        "'Einddatum')."
    )


def test_unknown_columns_are_ignored_and_named_doubled_ones_refused(core: Core) -> None:
    data = "student_ref,home_municipality,programme,expected_exit,Klas,Mentor,name,Naam\n"
    result = run_import(core, data + "DB-1,Zwolle,pro,2027-06,4B,Jansen,,\n")

    assert where(result.problems) == [(1, "Naam")]
    assert "name" in result.problems[0].message
    assert result.ignored == ["Klas", "Mentor"]
    reply = text_of(result_reply(translator("en"), result))
    assert "Ignored 2 columns I do not know: Klas, Mentor." in reply

    typo = run_import(
        core, "leerling;woongemeete;onderwijs;uitstroomdatum\nDB-1;Zwolle;pro;2027-06\n"
    )
    assert where(typo.problems) == [(1, "")]
    assert "Is it column woongemeete?" in typo.problems[0].message
    assert cases_of(core) == {}


def test_a_row_with_too_few_or_too_many_values(core: Core) -> None:
    data = (
        "student_ref,home_municipality,programme,expected_exit,notes\n"
        "DB-1,Zwolle,pro\n"
        "DB-2,Zwolle,pro,2027-06,,\n"  # a trailing empty cell is harmless
        "DB-3,Zwolle,pro,2027-06,,extra\n"
    )
    result = run_import(core, data)

    assert where(result.problems) == [(2, ""), (4, "")]
    assert "3 values" in result.problems[0].message and "5 columns" in result.problems[0].message


def test_a_quote_that_is_never_closed_swallows_nothing(core: Core) -> None:
    data = (
        "student_ref,home_municipality,programme,expected_exit,consent,notes\n"
        'DB-1,Zwolle,pro,2027-06,given,"stage bij\n'
        "DB-2,Zwolle,pro,2027-06,given,stage\n"
    )
    result = run_import(core, data)

    assert where(result.problems) == [(2, "")]
    assert "quote" in result.problems[0].message


def test_a_file_that_is_neither_utf8_nor_windows_1252_is_one_clear_problem(core: Core) -> None:
    # a byte order mark says UTF-8, but the rest is Windows-1252: which one is right is a guess
    data = codecs.BOM_UTF8 + (
        HEADER + "\nÉ-1,Zoë,2009,Zwolle,pro,,2027-06,no,work,given,\n"
    ).encode("cp1252")

    result = run_import(core, data)

    assert where(result.problems) == [(2, "")]
    assert "UTF-8" in result.problems[0].message and "Windows-1252" in result.problems[0].message
    assert cases_of(core) == {}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty."),
        (b"\r\n  \n", "The file is empty."),
        (codecs.BOM_UTF8 + HEADER.encode() + b"\n\n", "header but no leavers"),
    ],
)
def test_an_empty_file_or_a_header_only(core: Core, data: bytes, expected: str) -> None:
    result = run_import(core, data)
    assert len(result.problems) == 1 and expected in result.problems[0].message


def test_a_name_without_consent_is_refused(core: Core) -> None:
    data = HEADER + "\nDB-1,Sam de Boer,2009,Zwolle,pro,,2027-06,no,work,refused,\n"

    result = run_import(core, data)

    assert where(result.problems) == [(2, "name")]
    assert "Without consent" in result.problems[0].message
    assert cases_of(core) == {}


def test_a_required_value_left_empty(core: Core) -> None:
    result = run_import(core, HEADER + "\n,,2009,,pro,,2027-06,no,work,not_asked,\n")

    assert where(result.problems) == [(2, "student_ref"), (2, "home_municipality")]
    assert result.problems[1].message == "Home municipality is required."


def test_an_unknown_school_is_refused_before_the_file_is_read(core: Core) -> None:
    with pytest.raises(Refused, match="no school nope"):
        run_import(core, b"\xff not even text", school="nope")


# --- the answer ----------------------------------------------------------------------------


def test_the_answer_for_a_good_file() -> None:
    t = translator("en")
    reply = result_reply(t, ImportResult(added=3, updated=1))
    assert reply.text == "3 leavers added, 1 already known and updated."
    assert not reply.error
    assert result_reply(t, ImportResult(added=1)).text.startswith("1 leaver added")


def test_the_answer_lists_every_problem_up_to_a_limit() -> None:
    t = translator("en")
    problems = [RowProblem(n, "Einddatum", "That month is in the past.") for n in range(2, 9)]
    problems.append(RowProblem(9, "", "This line has 3 values."))
    problems += [RowProblem(n, "Woonplaats", f"Place {n} is unknown.") for n in range(10, 16)]

    reply = result_reply(t, ImportResult(problems=problems))
    assert reply.error and reply.title == "Nothing was imported"
    assert reply.lines[0] == "7 lines (2–8), Einddatum: That month is in the past."
    assert reply.lines[1] == "line 9: This line has 3 values."
    assert reply.lines[2] == "line 10, Woonplaats: Place 10 is unknown."
    assert "14 problems" in reply.text

    short = result_reply(t, ImportResult(problems=problems), limit=5)
    assert len(short.lines) == 6 and short.lines[-1] == "… and 3 more problems."
    assert "line 12, Woonplaats" in text_of(short)


def test_identical_problems_of_thousands_of_lines_are_one_line_in_dutch() -> None:
    """Issue 22 item 4: never 50 identical lines."""
    t = translator("nl")
    message = "Deze maand ligt in het verleden."
    problems = [RowProblem(n, "Einddatum", message) for n in range(2, 25_787)]
    problems += [RowProblem(n, "Klas", "Te lang.") for n in (30, 31, 32, 40, 50, 60, 70, 80, 90)]
    reply = result_reply(t, ImportResult(problems=problems))
    assert reply.lines[0] == f"25.785 regels (2–25.786), Einddatum: {message}"
    assert reply.lines[1] == "9 regels (30–32, 40, 50, 60, 70, …), Klas: Te lang."
    assert "25.794 fouten" in reply.text


# --- the command line ----------------------------------------------------------------------


def vangnet(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_", "VANGNET_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "DATABASE_URL": database_url},
        timeout=120,
        check=False,
    )


def test_vangnet_import_on_the_command_line(tmp_path: Path) -> None:
    # A real clock here: the subprocess is not frozen. The demo region is used.
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    in_months = date(today.year + (today.month + 5) // 12, (today.month + 5) % 12 + 1, 1)
    exit_month = in_months.strftime("%Y-%m")
    url = f"sqlite:///{tmp_path}/cli.db"
    good = tmp_path / "leerlingen.csv"
    good.write_bytes(
        codecs.BOM_UTF8
        + (
            "leerling;woongemeente;onderwijs;uitstroomdatum\n"
            f"CLI-1;Zwolle;pro;{exit_month}\n"
            f"CLI-2;Kampen;entree;{exit_month}\n"
        ).encode()
    )
    bad = tmp_path / "fout.csv"
    bad.write_text(
        "student_ref,home_municipality,programme,expected_exit\n"
        f"CLI-3,Zwolle,pro,{exit_month}\n"
        "CLI-4,Zwolle,pro,someday\n",
        encoding="utf-8",
    )

    done = vangnet("import", str(good), "--school", "brug", database_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\b2\b", done.stdout)

    again = vangnet("import", str(good), "--school", "brug", database_url=url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr

    refused = vangnet("import", str(bad), "--school", "brug", database_url=url, cwd=tmp_path)
    assert refused.returncode == 1
    assert re.search(r"\b3\b.*expected_exit.*someday", refused.stderr), refused.stderr

    unknown = vangnet("import", str(good), "--school", "nope", database_url=url, cwd=tmp_path)
    assert unknown.returncode == 2 and "nope" in unknown.stderr
    missing = vangnet(
        "import", str(tmp_path / "x.csv"), "--school", "brug", database_url=url, cwd=tmp_path
    )
    assert missing.returncode == 2 and "x.csv" in missing.stderr

    engine = make_engine(url)
    with session_scope(engine) as session:
        refs = session.exec(
            select(Case.student_ref).where(col(Case.student_ref).startswith("CLI-"))
        ).all()
        imports = session.exec(
            select(AuditEvent).where(AuditEvent.action == "csv_import").order_by(col(AuditEvent.id))
        ).all()
    engine.dispose()
    assert sorted(refs) == ["CLI-1", "CLI-2"]
    assert [(e.actor_id, e.transport, e.detail["added"], e.detail["updated"]) for e in imports] == [
        ("system", "cli", 2, 0),
        ("system", "cli", 0, 2),
    ]


def test_a_line_of_twenty_megabytes_is_called_too_long_not_a_quoting_problem(
    core: Core,
) -> None:
    """Issue 14 item 10."""
    data = HEADER + "\nDB-1,,2009,Zwolle,pro,,2027-06,no,work,not_asked," + "x" * 2_000_000
    result = run_import(core, data)
    (problem,) = result.problems
    assert problem.line == 2 and "too long" in problem.message and "quotes" not in problem.message

    whole = run_import(core, data + "x" * 20_000_000)  # over 5 MB: refused as a whole
    (problem,) = whole.problems
    assert problem.line == 0 and "at most 5 MB" in problem.message


# --- many rows at once -----------------------------------------------------------------------


def _history(core: Core, ref: str) -> dict[str, object]:
    """What registering left behind for case `ref`, with its references taken out."""
    from bot.store.models import OutboxMessage, Task

    with session_scope(core.engine) as session:
        case = session.exec(select(Case).where(Case.ref == ref)).one()
        events = session.exec(
            select(AuditEvent).where(AuditEvent.case_ref == ref).order_by(col(AuditEvent.id))
        ).all()
        tasks = session.exec(select(Task).where(Task.case_ref == ref)).all()
        messages = session.exec(select(OutboxMessage).where(OutboxMessage.case_ref == ref)).all()
        return {
            "case": (case.state, case.version, case.urgent, case.due_at is not None),
            "events": sorted((e.action, str(e.detail)) for e in events),
            "tasks": sorted(
                (t.kind, (t.dedupe_key or "").replace(ref, "REF"), t.due_at) for t in tasks
            ),
            "messages": sorted(
                (m.person_id, m.kind, (m.dedupe_key or "").replace(ref, "REF")) for m in messages
            ),
            "cards": sorted(
                str(m.payload).replace(ref, "REF").replace(case.student_ref, "STUDENT")
                for m in messages
            ),
        }


@pytest.mark.parametrize(
    ("exit", "early"),
    [("2026-10", "yes"), ("2027-01-15", "no"), ("2027-09", "no")],
    ids=["early leaver", "window open already", "window ahead"],
)
def test_an_imported_leaver_is_handed_over_exactly_like_one_registered_in_the_chat(
    core: Core, exit: str, early: str
) -> None:
    """Written together, the rows still get what one registration gives: the case due at once
    (or its window task), the audit events, the brokers' cards and the reminders."""
    fields = {"birth_year": "2009", "home_municipality": "Kampen", "programme": "pro"}
    chat = make_leaver(core, student_ref="CHAT-1", expected_exit=exit, early_leaver=early, **fields)
    data = HEADER + "\n" + f"CSV-1,,2009,Kampen,pro,,{exit},{early},unknown,not_asked,\n"

    assert run_import(core, data).added == 1

    imported = cases_of(core)["CSV-1"]
    assert imported.ref != chat.ref
    assert _history(core, imported.ref) == _history(core, chat.ref)


def test_a_reference_taken_meanwhile_by_another_instance_still_saves_every_leaver_once(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core import refs

    taken = make_leaver(core, student_ref="OTHER").ref
    # the bulk draw comes up with a reference that another instance has just written
    monkeypatch.setattr(refs, "new_refs", lambda count, _taken: [taken] * count)

    result = run_import(core, GOOD)

    assert result.ok and result.added == 3
    found = cases_of(core)
    assert len({c.ref for c in found.values()}) == 4  # OTHER and the three new ones
    with session_scope(core.engine) as session:
        registered = session.exec(
            select(func.count()).where(col(AuditEvent.action) == "register")
        ).one()
    assert registered == 4


def test_references_drawn_together_are_new_and_grow_when_short_ones_are_crowded() -> None:
    from bot.core import refs

    drawn = refs.new_refs(500, lambda candidates: set())
    assert len(set(drawn)) == 500 and all(refs.looks_like_ref(r) for r in drawn)
    assert {len(r) for r in drawn} == {refs.MIN_LENGTH}
    # every character of the alphabet turns up, and nothing else
    many = "".join(refs.new_refs(5000, lambda candidates: set()))
    assert set(many) == set(refs.ALPHABET)

    # those already in use are never given out again
    used = set(drawn)
    again = refs.new_refs(2000, lambda candidates: used & set(candidates))
    assert len(set(again)) == 2000 and not used & set(again)

    # every four-character reference is in use: the draw moves to five characters
    longer = refs.new_refs(20, lambda candidates: {c for c in candidates if len(c) == 4})
    assert len(set(longer)) == 20 and {len(r) for r in longer} == {refs.MIN_LENGTH + 1}


def test_values_repeated_down_a_column_in_other_spellings_each_give_their_row_the_right_value(
    core: Core,
) -> None:
    """A big file has the same few programmes, months and answers on every row, written in
    more than one way; each row still gets what its own cells say. A month some months back
    is fine for an early leaver and refused for any other, whichever row comes first."""
    rows = [
        "R-1,,2009,Zwolle, pro ,,2027-06,no,werk,not_asked,",
        "R-2,,2009,zwolle,PrO,,2027-06 ,NO,Werk,not_asked,",
        "R-3,,2009,Zwolle,Praktijkonderwijs,,juni 2027,nee,work,not_asked,",
        "R-4,,2009,Kampen,VSO arbeid,,2027-07,no,dagbesteding,niet gevraagd,",
        "R-5,,2009,Kampen,vso,dagbesteding,2026-08,yes,work,not_asked,",
        "R-6,,2009,Kampen,pro,,2026-08,no,work,not_asked,",
        "R-7,,2009,Kampen,vso,Dagbesteding,2026-08,ja,work,not_asked,",
    ]

    refused = run_import(core, HEADER + "\n" + "\n".join(rows) + "\n")

    assert where(refused.problems) == [(7, "expected_exit")], refused.problems
    assert "in the past" in refused.problems[0].message and cases_of(core) == {}

    result = run_import(core, HEADER + "\n" + "\n".join(r for r in rows if "R-6" not in r))

    assert result.ok and result.added == 6, result.problems
    found = cases_of(core)
    for ref in ("R-1", "R-2", "R-3"):
        leaver = found[ref]
        assert (leaver.programme, leaver.vso_profile, leaver.early_leaver) == ("pro", None, False)
        assert leaver.expected_exit == date(2027, 6, 1) and leaver.destination_wish == "work"
        assert leaver.home_municipality_code == found["R-1"].home_municipality_code
    assert (found["R-4"].programme, found["R-4"].vso_profile) == ("vso", "work")
    assert found["R-4"].destination_wish == "day_activities"
    for ref in ("R-5", "R-7"):
        assert found[ref].early_leaver and found[ref].expected_exit == date(2026, 8, 1)
        assert found[ref].vso_profile == "day_activities" and found[ref].state == "due"
    assert found["R-4"].home_municipality_code != found["R-1"].home_municipality_code
