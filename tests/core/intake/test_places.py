"""A woonplaats is not a municipality (issue 22, item 1): the villages of the region's
municipalities, read as their municipality in the guided intake and in a file, the region
first; a place that lies in two municipalities is asked about.

The `core` fixture's clock stands at Monday 2026-11-23; the demo region is arbeidsmarktregio
Zwolle (Dalfsen, Kampen, Hardenberg, Zwartewaterland, Meppel … but not Horst aan de Maas).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine
from sqlmodel import Session

from bot import nl_municipalities, nl_places
from bot.core.app import Core
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.intake.fields import FieldError, ParseEnv, parse_municipality
from bot.core.intake.import_reply import result_reply
from bot.region import Region
from bot.store.db import session_scope
from tests.core.intake.test_csv_import import cases_of, run_import, where
from tests.factories import text_of
from tests.handlers.test_terminal import chat

TODAY = date(2026, 11, 23)
DALFSEN, KAMPEN, ZWARTEWATERLAND, HARDENBERG, MEPPEL = (
    "GM0148",
    "GM0166",
    "GM1896",
    "GM0160",
    "GM0119",
)


@pytest.fixture
def env(core: Core) -> Iterator[ParseEnv]:
    with Session(core.engine) as session:
        yield ParseEnv(t=translator("en"), today=TODAY, session=session)


@pytest.fixture
def nl(engine: Engine, region: Region, frozen: time_machine.Coordinates) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


# --- the table ---------------------------------------------------------------------------------


def test_the_table_is_cbs_woonplaatsen_2026_with_the_municipality_codes_of_gemeenten() -> None:
    places = nl_places.all_places()
    assert len(places) == 2502  # CBS: 2,502 woonplaatsen on 1 January 2026
    assert len({p.code for p in places}) == 2502
    municipalities = {m.code for m in nl_municipalities.all_municipalities()}
    assert {p.municipality for p in places} == municipalities  # each of the 342 has places
    head = nl_places.DATA_FILE.read_text(encoding="utf-8").split("\ncode,name,")[0]
    assert "86312NED" in head and "Woonplaatsen in Nederland 2026" in head
    rows = list(csv.reader(Path(nl_places.DATA_FILE).read_text("utf-8").splitlines()[17:]))
    assert rows[0] == ["WP1000", "Hoogerheide", "GM0873"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Nieuwleusen", DALFSEN),
        ("Lemelerveld", DALFSEN),
        ("IJsselmuiden", KAMPEN),
        ("ijsselmuiden", KAMPEN),
        ("Genemuiden", ZWARTEWATERLAND),
        ("Dedemsvaart", HARDENBERG),
        ("Hoogvliet", "GM0599"),  # "Hoogvliet Rotterdam" as the BAG names it
        ("Balloerveld", "GM1680"),  # Balloërveld, Aa en Hunze
        ("Oost Souburg", "GM0718"),  # Oost-Souburg, Vlissingen
    ],
)
def test_a_woonplaats_is_read_as_its_municipality(env: ParseEnv, typed: str, code: str) -> None:
    assert parse_municipality(typed, env) == code


def test_the_answer_says_which_municipality_the_place_is_in(env: ParseEnv) -> None:
    assert parse_municipality("Nieuwleusen", env) == DALFSEN
    assert env.notes == ["Nieuwleusen is in the municipality of Dalfsen."]
    env.notes.clear()
    assert parse_municipality("Dalfsen", env) == DALFSEN
    assert env.notes == []  # a municipality needs no note


def test_the_regions_own_place_goes_before_one_elsewhere(env: ParseEnv) -> None:
    # Broekhuizen is a place in Meppel (the region's) and in Horst aan de Maas (Limburg)
    assert {p.municipality for p in nl_places.named("Broekhuizen")} == {MEPPEL, "GM1507"}
    assert parse_municipality("Broekhuizen", env) == MEPPEL


def test_a_place_in_two_municipalities_asks_which(env: ParseEnv) -> None:
    with pytest.raises(FieldError) as problem:
        parse_municipality("Mastenbroek", env)  # Kampen and Zwartewaterland, both the region's
    assert problem.value.suggestions == ["Kampen", "Zwartewaterland"]
    assert problem.value.message == (
        "Mastenbroek is a place in more than one municipality: Kampen and Zwartewaterland. "
        'Which one? Write for example "Mastenbroek (Kampen)".'
    )
    assert parse_municipality("Mastenbroek (Kampen)", env) == KAMPEN
    assert parse_municipality("Mastenbroek, Zwartewaterland", env) == ZWARTEWATERLAND
    assert parse_municipality("Zwartewaterland", env) == ZWARTEWATERLAND  # the button

    with pytest.raises(FieldError) as problem:
        parse_municipality("Haarle", env)  # neither of them the region's
    assert problem.value.suggestions == ["Hellendoorn", "Tubbergen"]


def test_a_typo_suggests_the_regions_places_first(env: ParseEnv) -> None:
    with pytest.raises(FieldError) as problem:
        parse_municipality("Nieuwleuse", env)
    assert problem.value.suggestions == ["Nieuwleusen"]
    assert problem.value.message == (
        "I don't know Nieuwleuse as a Dutch municipality or place. Did you mean: Nieuwleusen?"
    )
    with pytest.raises(FieldError) as problem:
        parse_municipality("Genemuide", env)
    assert problem.value.suggestions == ["Genemuiden"]


# --- the guided intake -------------------------------------------------------------------------


def test_the_intake_says_nieuwleusen_is_dalfsen_and_asks_about_mastenbroek(nl: Core) -> None:
    out = chat(nl, "/as sara\n/leaver\nDB-70\nNieuwleusen\nannuleren\n")
    assert "In welke gemeente of woonplaats woont de jongere?" in out
    assert "Nieuwleusen ligt in de gemeente Dalfsen.\nWelk onderwijs volgt de jongere?" in out
    assert "ken ik niet" not in out

    out = chat(nl, "/as sara\n/leaver\nDB-71\nMastenbroek\n")
    assert (
        "Mastenbroek ligt in meer dan één gemeente: Kampen en Zwartewaterland. Welke bedoel "
        'je? Schrijf bijvoorbeeld "Mastenbroek (Kampen)".'
    ) in out
    assert "] Kampen  [" in out and "] Zwartewaterland  [" in out
    out = chat(nl, "/as sara\nMastenbroek (Kampen)\n")
    assert "Mastenbroek ligt in de gemeente Kampen." in out


# --- a file ------------------------------------------------------------------------------------


def test_a_file_with_the_villages_of_the_region_imports_and_says_so(nl: Core) -> None:
    data = (
        "Leerlingnummer;Woonplaats;Onderwijs;Einddatum\n"
        "W-1;Nieuwleusen;pro;31-7-2027\n"
        "W-2;IJsselmuiden;pro;31-7-2027\n"
        "W-3;Genemuiden;pro;31-7-2027\n"
        "W-4;Lemelerveld;pro;31-7-2027\n"
        "W-5;Dedemsvaart;pro;31-7-2027\n"
        "W-6;Nieuwleusen;pro;31-7-2027\n"
        "W-7;Zwolle;pro;31-7-2027\n"
    )
    result = run_import(nl, data)
    assert result.ok, result.problems
    found = {ref: c.home_municipality_code for ref, c in cases_of(nl).items()}
    assert found == {
        "W-1": DALFSEN,
        "W-2": KAMPEN,
        "W-3": ZWARTEWATERLAND,
        "W-4": DALFSEN,
        "W-5": HARDENBERG,
        "W-6": DALFSEN,
        "W-7": "GM0193",
    }
    reply = text_of(result_reply(translator("nl"), result))
    assert (
        "Woonplaatsen gelezen als hun gemeente: Nieuwleusen → Dalfsen (2×), IJsselmuiden → "
        "Kampen, Genemuiden → Zwartewaterland, Lemelerveld → Dalfsen, Dedemsvaart → Hardenberg."
    ) in reply


def test_a_place_in_two_municipalities_is_a_row_error_naming_both(nl: Core) -> None:
    data = (
        "Leerlingnummer;Woonplaats;Onderwijs;Einddatum\n"
        "M-1;Mastenbroek;pro;31-7-2027\n"
        "M-2;Nieuwleusen;pro;31-7-2027\n"
        "M-3;Mastenbroek;pro;31-7-2027\n"
        "M-4;Mastenbroek (Kampen);pro;31-7-2027\n"
    )
    result = run_import(nl, data)
    assert where(result.problems) == [(2, "Woonplaats"), (4, "Woonplaats")]
    reply = result_reply(translator("nl"), result)
    assert reply.lines[0] == (
        "2 regels (2, 4), Woonplaats: Mastenbroek ligt in meer dan één gemeente: Kampen en "
        'Zwartewaterland. Welke bedoel je? Schrijf bijvoorbeeld "Mastenbroek (Kampen)".'
    )
    assert cases_of(nl) == {}  # all or nothing


def test_a_column_of_unknown_names_is_answered_without_ranking_every_row(nl: Core) -> None:
    """A shifted column has a new unknown name on every row: close names are looked for in
    the first hundred only (ranking 2,502 places takes milliseconds a name)."""
    rows = "".join(f"U-{n};Nieuwleuse {n};pro;31-7-2027\n" for n in range(1, 103))
    result = run_import(nl, "Leerlingnummer;Woonplaats;Onderwijs;Einddatum\n" + rows)
    assert len(result.problems) == 102
    assert result.problems[0].message.endswith("Bedoel je: Nieuwleusen?")
    assert result.problems[101].message == (
        "Nieuwleuse 102 ken ik niet als Nederlandse gemeente of woonplaats. Geef de gemeente of "
        "de woonplaats waar de jongere woont."
    )
