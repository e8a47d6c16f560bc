"""The Dutch a school secretary reads: whole sentences, no codes, no English placeholders.

Everyone here gets Dutch (the region's default), except Bram and Mila who chose English.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import Engine

from bot.core.app import Core
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.intake import rounds
from bot.core.sweeps import run_sweep
from bot.core.vocab import role_labels
from bot.region import Region
from bot.store.db import session_scope
from tests.core.test_schedule import place
from tests.factories import inbox, make_leaver, one, press, say, text_of

AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def nl(engine: Engine, region: Region, frozen: time_machine.Coordinates) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


def test_a_listing_of_one_page_says_one_page(nl: Core) -> None:
    make_leaver(nl)
    reply = one(say(nl, "sara", "/leavers 2"))
    assert reply.error
    assert reply.text == "Er is maar 1 pagina."


def test_help_shows_the_usage_in_dutch(nl: Core) -> None:
    broker = "\n".join(one(say(nl, "wim", "/help")).lines)
    assert "/transfer REF GEMEENTE-of-@persoon [reden] — een casus overdragen" in broker
    assert "/close REF REDEN — " in broker
    school = "\n".join(one(say(nl, "sara", "/help")).lines)
    assert "/withdraw REF [reden] — " in school
    for text in (broker, school):
        assert "MUNICIPALITY" not in text and "REASON" not in text and "reason" not in text


def test_a_command_without_a_case_names_its_usage_in_dutch(nl: Core) -> None:
    reply = one(say(nl, "wim", "/transfer"))
    assert reply.text == "Welke casus? Gebruik: /transfer REF GEMEENTE-of-@persoon [reden]"
    reply = one(say(nl, "sara", "/withdraw"))
    assert reply.text == "Welke casus? Gebruik: /withdraw REF [reden]"


def test_the_history_names_what_happened_and_who_did_it(nl: Core) -> None:
    c = make_leaver(nl, early_leaver="yes", expected_exit="2026-11")
    say(nl, "wim", f"/claim {c.ref}")
    card = one(press(nl, "wim", f"details:{c.ref}"))
    assert card.lines[0] == "Verloop:"
    history = card.lines[1:]
    assert [line.split(" · ", 1)[1] for line in history] == [
        "aangemeld · Sara Smit",
        "klaargezet om te claimen · Sara Smit",
        "geclaimd · Wim Jansen",
    ]


def test_scheduled_work_shows_as_vangnet_in_the_history(
    nl: Core, frozen: time_machine.Coordinates
) -> None:
    c = make_leaver(nl, expected_exit="2027-03")  # the handover window opens a week from now
    frozen.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=AMS))
    run_sweep(nl)
    history = one(press(nl, "anna", f"details:{c.ref}")).lines
    assert history[-1].endswith(" · klaargezet om te claimen · Vangnet")


def test_doing_what_is_already_done_says_so(nl: Core) -> None:
    c = make_leaver(nl)
    say(nl, "sara", f"/withdraw {c.ref} mistake")
    press(nl, "sara", "form:confirm")
    reply = one(say(nl, "sara", f"/withdraw {c.ref}"))
    assert reply.error
    assert reply.text == f"Casus {c.ref} is al ingetrokken."


def test_a_refused_transition_reads_as_a_sentence(nl: Core) -> None:
    forecast = make_leaver(nl)
    reply = one(say(nl, "wim", f"/claim {forecast.ref}"))
    assert reply.text == (
        f"Casus {forecast.ref} is verwacht; claimen kan alleen bij een casus die te claimen is."
    )
    lost = make_leaver(nl, early_leaver="yes", expected_exit="2026-11")
    say(nl, "wim", f"/claim {lost.ref}")
    say(nl, "wim", f"/lost {lost.ref}")
    reply = one(say(nl, "sara", f"/withdraw {lost.ref}"))
    assert reply.text == (
        f"Casus {lost.ref} is uit beeld; intrekken kan alleen bij een casus die verwacht, "
        "te claimen, geclaimd of geplaatst is."
    )


def test_marking_lost_and_the_doorstroompunt_say_why(nl: Core) -> None:
    lost = make_leaver(nl, early_leaver="yes", expected_exit="2026-11")
    say(nl, "wim", f"/claim {lost.ref}")
    reply = one(say(nl, "wim", f"/lost {lost.ref}"))
    assert reply.text == (
        f"Casus {lost.ref} is gemarkeerd als uit beeld; de coördinator is ingelicht."
    )
    nowhere = make_leaver(nl, early_leaver="yes", expected_exit="2026-11")
    say(nl, "wim", f"/claim {nowhere.ref}")
    place(nl, "wim", nowhere.ref, "none", "vandaag")
    told = [m.payload["text"] for m in inbox(nl, "dirk", kind="doorstroompunt")]
    assert told == [
        f"Casus {lost.ref} eindigt zonder structurele plek (de jongere is uit beeld); "
        "daarom melden we de casus bij jou.",
        f"Casus {nowhere.ref} eindigt zonder structurele plek (geen werk en geen school); "
        "daarom melden we de casus bij jou.",
    ]


def test_role_labels_have_no_brackets_of_their_own() -> None:
    nl = translator("nl")
    assert role_labels(nl, ["doorstroompunt"]) == "RMC-doorstroompunt"
    assert "(" not in role_labels(translator("en"), ["doorstroompunt", "coordinator"])


def test_the_round_asks_to_add_leavers_one_by_one() -> None:
    assert "één voor één" in rounds._ask_text(translator("nl"), "Praktijkschool De Brug")


def test_the_upload_help_names_excel_and_the_student_administration_columns() -> None:
    nl = translator("nl")(rounds.UPLOAD_HELP)
    assert "Excel-werkmap (.xlsx" in nl and "Leerlingnummer" in nl and "Windows-1252" in nl
    assert "Excel workbook (.xlsx" in translator("en")(rounds.UPLOAD_HELP)


def test_a_file_that_is_neither_utf8_nor_windows_1252_names_the_dutch_excel_file_type(
    nl: Core,
) -> None:
    from tests.core.intake.test_csv_import import HEADER, run_import

    data = b"\xef\xbb\xbf" + (
        HEADER + "\nDB-1,Zo\u00eb,2009,Zwolle,pro,,2027-06,no,work,given,\n"
    ).encode("cp1252")
    (problem,) = run_import(nl, data).problems
    assert problem.message == (
        'Deze regel is geen UTF-8- of Windows-1252-tekst. Kies in Excel "Opslaan als" met het '
        'bestandstype "CSV UTF-8 (door komma\'s gescheiden)" en probeer het opnieuw.'
    )


def test_every_button_starts_with_a_capital_and_the_first_question_says_it_once(
    nl: Core,
) -> None:
    """'Ja', 'Nee', 'Gegeven' beside 'Terug' and 'Annuleren' (never 'ja' beside 'Terug');
    the intake's first question has no hint that repeats it."""
    first = one(say(nl, "sara", "/leaver"))
    assert first.text == (
        "Wat is het eigen kenmerk van de school voor deze leerling? Initialen of een "
        "leerlingnummer, niet de volledige naam."
    )
    shown = [first]
    for answer in ("AB12", "Zwolle", "pro", "nee", "juni 2027", "2009", "werk"):
        shown.append(one(say(nl, "sara", answer)))
    labels = [b.label for reply in shown for b in reply.buttons]
    assert {"Ja", "Nee", "Gegeven", "Geweigerd", "Werk", "Terug", "Annuleren"} <= set(labels)
    assert all(label[:1].isupper() for label in labels), labels
    assert "Entree (mbo)" in labels  # not "mbo Entree", nor "Mbo Entree"


def test_one_new_person_is_spoken_of_as_this_person(nl: Core) -> None:
    say(nl, "anna", "/admin add")
    for answer in ("Karin de Boer", "schakelmakelaar", "Zwolle"):
        say(nl, "anna", answer)
    question = one(say(nl, "anna", "nl")).text
    assert "Het Slack-lid-ID van deze persoon" in question and "noem deze persoon met @" in question
    assert "Hun " not in question and " ze " not in question
    teams = one(say(nl, "anna", "skip")).text
    assert "Microsoft Teams" in teams and "deze persoon" in teams
    assert "Hun " not in teams and " ze " not in teams
    say(nl, "anna", "skip")
    link = "\n".join(text_of(r) for r in say(nl, "anna", "bevestigen"))
    assert "De Telegram-bot draait nog niet" in link and "ik weet de link niet" not in link


def test_too_long_to_look_for_reads_without_a_trailing_please(nl: Core) -> None:
    reply = one(say(nl, "sara", "/find " + "x" * 101))
    assert reply.text == "Dat is te lang om op te zoeken: gebruik hooguit 100 tekens."
