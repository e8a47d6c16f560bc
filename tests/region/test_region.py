"""Tests for bot.region: loading and validating the region file."""

from __future__ import annotations

import textwrap
from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.core.vocab import Programme
from bot.region import (
    MunicipalityEntry,
    PersonEntry,
    Region,
    RegionFileError,
    Role,
    ScheduleEntry,
    SchoolEntry,
)
from bot.region_file import DEMO_REGION_PATH, load_demo_region, load_region

ZWOLLE_REGION_CODES = {
    "Dalfsen": "GM0148",
    "Hardenberg": "GM0160",
    "Hattem": "GM0244",
    "Heerde": "GM0246",
    "Kampen": "GM0166",
    "Meppel": "GM0119",
    "Oldebroek": "GM0269",
    "Ommen": "GM0175",
    "Raalte": "GM0177",
    "Staphorst": "GM0180",
    "Steenwijkerland": "GM1708",
    "Westerveld": "GM1701",
    "Zwartewaterland": "GM1896",
    "Zwolle": "GM0193",
}

# Line 1-5 of most snippets below; people or schools follow from line 6 on.
HEAD = """\
region: Testregio
municipalities:
  - {code: GM0193, name: Zwolle}
  - {code: GM0166, name: Kampen}
schools:
  - {id: brug, name: Praktijkschool De Brug, type: pro, municipality: Zwolle}
"""


def person(region: Region, person_id: str) -> PersonEntry:
    return next(p for p in region.people if p.id == person_id)


def write(tmp_path: Path, text: str, name: str = "regio.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> tuple[str, str]:
    """Load a snippet that must be refused; return (file prefix, message)."""
    path = write(tmp_path, text)
    with pytest.raises(RegionFileError) as info:
        load_region(path)
    return str(path), str(info.value)


def assert_refused(tmp_path: Path, text: str, line: int, entry: str, reason: str) -> str:
    file, message = refused(tmp_path, text)
    assert message.startswith(f"{file}:{line}: {entry}: "), message
    assert reason in message, message
    assert "\n" not in message
    return message


# -- the demo region -------------------------------------------------------------------------


def test_demo_region_loads_with_the_fourteen_municipalities_of_regio_zwolle() -> None:
    region = load_demo_region()
    assert DEMO_REGION_PATH.is_file()
    assert region.region == "Regio Zwolle (demo)"
    assert region.timezone == "Europe/Amsterdam"
    assert region.tz == ZoneInfo("Europe/Amsterdam")
    assert region.language == "nl"
    assert len(region.municipalities) == 14
    assert {m.name: m.code for m in region.municipalities} == ZWOLLE_REGION_CODES


def test_demo_region_content() -> None:
    region = load_demo_region()
    types = [s.type for s in region.schools]
    assert sorted(types) == sorted([Programme.pro, Programme.vso, Programme.entree] * 2)
    codes = {m.code for m in region.municipalities}
    assert all(s.municipality in codes for s in region.schools)
    # every school has a school contact
    for school in region.schools:
        assert any(
            Role.school_contact in p.roles and p.school == school.id for p in region.people
        ), school.id
    brokers = {p.municipality for p in region.people if Role.broker in p.roles}
    for name in ("Zwolle", "Kampen", "Hardenberg", "Meppel", "Raalte", "Dalfsen"):
        assert ZWOLLE_REGION_CODES[name] in brokers, name
    assert [p.id for p in region.people if Role.coordinator in p.roles] == ["anna"]
    dirk = person(region, "dirk")
    assert Role.doorstroompunt in dirk.roles and dirk.municipality is None
    bram = person(region, "bram")
    assert bram.language == "en" and bram.municipality == "GM0166"
    anna = person(region, "anna")
    assert anna.language is None and (anna.slack, anna.telegram) == ("U01ANNA", 1001)
    assert region.schedule == ScheduleEntry()


def test_demo_region_schedule_block_holds_the_defaults() -> None:
    schedule = load_demo_region().schedule
    assert schedule.forecast_rounds == ["10-01", "03-01"]
    assert schedule.forecast_round_dates == [(10, 1), (3, 1)]
    assert schedule.handover_window_weeks == 13
    assert schedule.remind_after_workdays == 3
    assert schedule.escalate_after_workdays == 7
    assert schedule.followup_days == [30, 91, 182, 365]
    assert schedule.digest == "MON 08:30"
    assert schedule.digest_weekday == 0
    assert schedule.digest_time == time(8, 30)
    assert schedule.retention_months == 24
    assert schedule.conversation_timeout_days == 7
    assert schedule.round_answer_workdays == 10


# -- municipalities by code or name ----------------------------------------------------------


def test_school_and_person_municipality_by_name_or_code_resolve_to_the_code(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        """\
        region: Testregio
        municipalities:
          - {code: GM0193, name: Zwolle}
          - {code: GM0166, name: Kampen}
        schools:
          - {id: brug, name: De Brug, type: pro, municipality: Zwolle}
          - {id: haven, name: De Haven, type: vso, municipality: GM0166}
          - {id: dijk, name: De Dijk, type: entree, municipality: kampen}
          - {id: kade, name: De Kade, type: entree, municipality: gm0193}
        people:
          - {id: wim, name: Wim, roles: [broker], municipality: ZWOLLE}
          - {id: bram, name: Bram, roles: [broker], municipality: GM0166}
        """,
    )
    region = load_region(path)
    assert [s.municipality for s in region.schools] == ["GM0193", "GM0166", "GM0166", "GM0193"]
    assert [p.municipality for p in region.people] == ["GM0193", "GM0166"]


def test_lookups(tmp_path: Path) -> None:
    region = load_region(write(tmp_path, HEAD))
    zwolle = region.find_municipality("Zwolle")
    assert zwolle == MunicipalityEntry(code="GM0193", name="Zwolle")
    assert region.find_municipality("  zWoLLe ") == zwolle
    assert region.find_municipality("GM0193") == zwolle
    assert region.find_municipality("gm0166") == MunicipalityEntry(code="GM0166", name="Kampen")
    assert region.find_municipality("Amsterdam") is None
    assert [(s.id, s.type) for s in region.schools] == [("brug", Programme.pro)]
    assert region.schedule == ScheduleEntry()
    assert region.timezone == "Europe/Amsterdam"


def test_region_built_in_code_is_validated_and_normalised_too() -> None:
    region = Region(
        region="R",
        municipalities=[MunicipalityEntry(code="GM0193", name="Zwolle")],
        schools=[SchoolEntry(id="brug", name="B", type=Programme.pro, municipality="Zwolle")],
        people=[PersonEntry(id="wim", name="W", roles=[Role.broker], municipality="zwolle")],
    )
    assert region.schools[0].municipality == "GM0193"
    assert region.people[0].municipality == "GM0193"
    with pytest.raises(ValidationError, match="role broker needs a municipality"):
        Region(
            region="R",
            municipalities=[MunicipalityEntry(code="GM0193", name="Zwolle")],
            people=[PersonEntry(id="wim", name="W", roles=[Role.broker])],
        )


def test_models_are_frozen() -> None:
    region = load_demo_region()
    with pytest.raises(ValidationError):
        region.region = "Other"  # type: ignore[misc]


def test_doorstroompunt_without_municipality_is_allowed(tmp_path: Path) -> None:
    region = load_region(
        write(tmp_path, HEAD + "people:\n  - {id: dirk, name: Dirk, roles: [doorstroompunt]}\n")
    )
    assert person(region, "dirk").municipality is None


def test_person_with_several_roles(tmp_path: Path) -> None:
    region = load_region(
        write(
            tmp_path,
            HEAD
            + "people:\n"
            + "  - {id: anna, name: Anna, roles: [coordinator, broker], municipality: Kampen}\n",
        )
    )
    assert person(region, "anna").roles == [Role.coordinator, Role.broker]


def test_digest_is_normalised() -> None:
    schedule = ScheduleEntry(digest="fri 7:05")
    assert schedule.digest == "FRI 07:05"
    assert schedule.digest_weekday == 4
    assert schedule.digest_time == time(7, 5)
