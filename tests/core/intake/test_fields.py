"""How answers people really type are understood (and refused), for every leaver field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import Session

from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.intake.fields import (
    FieldError,
    ParseEnv,
    parse_birth_year,
    parse_choice,
    parse_month,
    parse_municipality,
    parse_text,
    parse_yes_no,
)

TODAY = date(2026, 11, 23)


@pytest.fixture
def env(core: Core) -> Iterator[ParseEnv]:
    with Session(core.engine) as session:
        yield ParseEnv(t=translator("en"), today=TODAY, session=session)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-06", date(2027, 6, 1)),
        ("06-2027", date(2027, 6, 1)),
        ("6/2027", date(2027, 6, 1)),
        ("juni 2027", date(2027, 6, 1)),
        ("June 2027", date(2027, 6, 1)),
        ("jun 2027", date(2027, 6, 1)),
        ("eind juni", date(2027, 6, 1)),  # the next June
        ("end of June", date(2027, 6, 1)),
        ("december", date(2026, 12, 1)),  # this year's December is still to come
        ("november", date(2026, 11, 1)),  # the current month counts
        ("2027-06-30", date(2027, 6, 30)),
        ("30-06-2027", date(2027, 6, 30)),
        ("  Juli 2028 ", date(2028, 7, 1)),
    ],
)
def test_expected_exit_understands_what_people_type(
    env: ParseEnv, typed: str, expected: date
) -> None:
    assert parse_month(typed, env) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("volgend jaar", "understand"),
        ("13-2027", "understand"),
        ("2027-02-30", "understand"),
        ("2026-10", "past"),
        ("2028-12", "24 months"),
        ("", "understand"),
    ],
)
def test_expected_exit_refusals_say_why(env: ParseEnv, typed: str, reason: str) -> None:
    with pytest.raises(FieldError) as problem:
        parse_month(typed, env)
    assert reason in problem.value.message


def test_an_early_leaver_may_have_left_recently(env: ParseEnv) -> None:
    assert parse_month("2026-09", env, early_leaver=True) == date(2026, 9, 1)
    with pytest.raises(FieldError):
        parse_month("2025-09", env, early_leaver=True)


@pytest.mark.parametrize("typed", ["2009", "1996", "2015"])
def test_birth_year_within_bounds(env: ParseEnv, typed: str) -> None:
    assert parse_birth_year(typed, env) == int(typed)


@pytest.mark.parametrize("typed", ["1995", "2016", "09", "twee", "20O9"])
def test_birth_year_refused(env: ParseEnv, typed: str) -> None:
    with pytest.raises(FieldError):
        parse_birth_year(typed, env)


@pytest.mark.parametrize("typed", ["Zwolle", "zwolle", "GM0193", "gm0193", " Zwolle "])
def test_municipality_by_name_or_code(env: ParseEnv, typed: str) -> None:
    assert parse_municipality(typed, env) == "GM0193"


def test_a_misspelt_municipality_is_never_guessed_but_suggested(env: ParseEnv) -> None:
    with pytest.raises(FieldError) as problem:
        parse_municipality("Zwole", env)
    assert problem.value.suggestions == ["Zwolle"]
    with pytest.raises(FieldError) as problem:
        parse_municipality("Amsterdm", env)
    assert problem.value.suggestions == ["Amsterdam"]  # outside the region, but Dutch
    with pytest.raises(FieldError) as problem:
        parse_municipality("Brussel", env)
    assert problem.value.suggestions == []
    assert problem.value.message == (
        "I don't know Brussel as a Dutch municipality or place. Give the municipality or the "
        "place where the young person lives."
    )


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Amsterdam", "GM0363"),
        ("GM0363", "GM0363"),
        ("Den Haag", "GM0518"),
        ("'s-Gravenhage", "GM0518"),
        ("Hengelo", "GM0164"),
        ("Súdwest-Fryslân", "GM1900"),
    ],
)
def test_a_dutch_municipality_outside_the_region_is_accepted(
    env: ParseEnv, typed: str, code: str
) -> None:
    assert parse_municipality(typed, env) == code


def test_a_name_two_municipalities_share_is_asked_about(env: ParseEnv) -> None:
    with pytest.raises(FieldError) as problem:
        parse_municipality("Bergen", env)
    assert problem.value.suggestions == ["Bergen (NH.)", "Bergen (L.)"]
    assert problem.value.message == (
        "There is more than one municipality called Bergen: Bergen (NH.), Bergen (L.). Which one?"
    )
    assert parse_municipality("Bergen (L.)", env) == "GM0893"


@pytest.mark.parametrize(
    ("kind", "typed", "value"),
    [
        ("programme", "Praktijkonderwijs", "pro"),
        ("programme", "VSO", "vso"),
        ("programme", "mbo entree", "entree"),
        ("vso_profile", "dagbesteding", "day_activities"),
        ("destination_wish", "beschut werk", "sheltered_work"),
        ("destination_wish", "sheltered work", "sheltered_work"),
        ("consent", "ja", "given"),
        ("consent", "not_asked", "not_asked"),
    ],
)
def test_choices_in_dutch_english_and_codes(
    env: ParseEnv, kind: str, typed: str, value: str
) -> None:
    assert parse_choice(kind, typed, env) == value


def test_a_wrong_choice_lists_the_options(env: ParseEnv) -> None:
    with pytest.raises(FieldError) as problem:
        parse_choice("programme", "havo", env)
    assert "Praktijkonderwijs" in problem.value.message


def test_yes_no_and_text(env: ParseEnv) -> None:
    assert parse_yes_no("Ja", env) is True and parse_yes_no("no", env) is False
    with pytest.raises(FieldError):
        parse_yes_no("misschien", env)
    assert parse_text(40)("  AB   12 ", env) == "AB 12"
    with pytest.raises(FieldError):
        parse_text(40)("x" * 41, env)
