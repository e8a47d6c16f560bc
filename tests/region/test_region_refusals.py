"""The region file refused: every mistake gets one line naming the file, the line, the entry
and the reason (tests of bot.region's loading and validation; the good files are in
test_region.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.region import RegionFileError
from bot.region_file import load_region
from tests.region.test_region import HEAD, assert_refused

# -- refusals: the file itself ---------------------------------------------------------------


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(RegionFileError) as info:
        load_region(path)
    assert str(info.value) == f"{path}: region file: the file does not exist"


def test_invalid_yaml_is_refused_with_the_yaml_error_line(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        """\
        region: Testregio
        municipalities:
          - {code: GM0193, name: Zwolle}
        schools:
            - {id: brug
        people: []
        """,
        line=6,
        entry="region file",
        reason="invalid YAML",
    )


def test_tab_indentation_is_refused_as_invalid_yaml(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities:\n\t- {code: GM0193, name: Zwolle}\n",
        line=3,
        entry="region file",
        reason="invalid YAML",
    )


def test_empty_file_is_refused(tmp_path: Path) -> None:
    assert_refused(tmp_path, "# nothing\n", line=1, entry="region file", reason="empty")


def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path, "- region\n- municipalities\n", line=1, entry="region file", reason="a list"
    )


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "region: Another\n",
        line=7,
        entry="region file",
        reason="key 'region' appears twice",
    )


# -- refusals: keys and types ----------------------------------------------------------------


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "colour: blue\n",
        line=7,
        entry="region file",
        reason="unknown key 'colour'",
    )


def test_unknown_key_inside_a_person_is_refused(tmp_path: Path) -> None:
    message = assert_refused(
        tmp_path,
        HEAD
        + """\
people:
  - {id: anna, name: Anna, roles: [coordinator]}
  - id: bram
    name: Bram
    roles: [broker]
    municipality: Kampen
    phone: "0612345678"
""",
        line=13,
        entry="people[1] (id: bram)",
        reason="unknown key 'phone'",
    )
    assert message.endswith("people[1] (id: bram): unknown key 'phone'")


def test_an_email_address_is_refused_like_any_unknown_key(tmp_path: Path) -> None:
    """Vangnet never stores e-mail addresses, so the region file has no place for them."""
    assert_refused(
        tmp_path,
        HEAD + "people:\n  - {id: anna, name: Anna, roles: [coordinator], email: a@example.org}\n",
        line=8,
        entry="people[0] (id: anna)",
        reason="unknown key 'email'",
    )


def test_unknown_key_inside_a_school_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "  - {id: haven, name: H, type: vso, municipality: Kampen, brin: 00AA}\n",
        line=7,
        entry="schools[1] (id: haven)",
        reason="unknown key 'brin'",
    )


def test_unknown_key_inside_schedule_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "schedule:\n  digest: MON 08:30\n  digest_channel: general\n",
        line=9,
        entry="schedule",
        reason="unknown key 'digest_channel'",
    )


def test_missing_top_level_key_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "timezone: Europe/Amsterdam\nmunicipalities:\n  - {code: GM0193, name: Zwolle}\n",
        line=1,
        entry="region file",
        reason="missing required key 'region'",
    )


def test_missing_key_in_a_person_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "people:\n  - {id: anna, name: Anna}\n",
        line=8,
        entry="people[0] (id: anna)",
        reason="missing required key 'roles'",
    )


def test_missing_municipalities_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\n",
        line=1,
        entry="region file",
        reason="missing required key 'municipalities'",
    )


def test_wrong_type_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "people:\n  - {id: anna, name: Anna, roles: [coordinator], telegram: abc}\n",
        line=8,
        entry="people[0] (id: anna)",
        reason="telegram: input should be a valid integer, got 'abc'",
    )


def test_unknown_role_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n  - id: anna\n    name: Anna\n    roles:\n"
        + "      - coordinator\n      - boss\n",
        line=12,
        entry="people[0] (id: anna)",
        reason="roles[1]: input should be 'coordinator', 'broker', 'school_contact' or "
        "'doorstroompunt', got 'boss'",
    )


def test_unknown_school_type_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "  - {id: haven, name: H, type: havo, municipality: Kampen}\n",
        line=7,
        entry="schools[1] (id: haven)",
        reason="type: input should be 'pro', 'vso' or 'entree', got 'havo'",
    )


def test_entry_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "people:\n  - anna\n",
        line=8,
        entry="people[0]",
        reason="expected a mapping",
    )


def test_bad_municipality_code_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities:\n  - {code: GM0193, name: Zwolle}\n"
        "  - {code: GM166, name: Kampen}\n",
        line=4,
        entry="municipalities[1] (code: GM166)",
        reason="code: string should match pattern",
    )


def test_unquoted_number_where_text_is_expected_names_the_text_as_written(
    tmp_path: Path,
) -> None:
    # YAML 1.1 reads 0166 as the octal number 118; the message shows what was written.
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities:\n  - {code: GM0193, name: Zwolle}\n"
        "  - {code: 0166, name: Kampen}\n",
        line=4,
        entry="municipalities[1] (code: 0166)",
        reason="code: input should be a valid string, got 0166 (YAML does not read it as text; "
        "put it in quotes)",
    )


def test_bad_language_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "people:\n  - {id: anna, name: Anna, roles: [coordinator], language: de}\n",
        line=8,
        entry="people[0] (id: anna)",
        reason="language: input should be 'nl' or 'en', got 'de'",
    )


def test_bad_time_zone_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\ntimezone: Europe/Amsterdm\nmunicipalities:\n"
        "  - {code: GM0193, name: Zwolle}\n",
        line=2,
        entry="timezone",
        reason="unknown time zone 'Europe/Amsterdm'",
    )


# -- refusals: references --------------------------------------------------------------------


def test_school_in_unknown_municipality_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "  - id: haven\n    name: De Haven\n    type: vso\n    municipality: Deventer\n",
        line=10,
        entry="schools[1] (id: haven)",
        reason="municipality 'Deventer' is not one of the region's municipalities",
    )


def test_broker_without_municipality_is_refused(tmp_path: Path) -> None:
    message = assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: anna, name: Anna, roles: [coordinator]}\n"
        + "  - {id: wim, name: Wim, roles: [broker], municipality: Zwolle}\n"
        + "  - {id: bram, name: Bram, roles: [broker], slack: U01BRAM}\n",
        line=10,
        entry="people[2] (id: bram)",
        reason="role broker needs a municipality",
    )
    assert message.endswith(":10: people[2] (id: bram): role broker needs a municipality")


def test_school_contact_without_school_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: sara, name: Sara, roles: [school_contact], municipality: Zwolle}\n",
        line=8,
        entry="people[0] (id: sara)",
        reason="role school_contact needs a school",
    )


def test_person_in_unknown_municipality_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n  - id: bram\n    name: Bram\n    roles: [broker]\n"
        + "    municipality: Deventer\n",
        line=11,
        entry="people[0] (id: bram)",
        reason="municipality 'Deventer' is not one of the region's municipalities",
    )


def test_person_with_unknown_school_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n  - id: sara\n    name: Sara\n    roles: [school_contact]\n"
        + "    school: dijk\n",
        line=11,
        entry="people[0] (id: sara)",
        reason="school 'dijk' is not in the schools list",
    )


def test_empty_municipalities_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities: []\n",
        line=2,
        entry="municipalities",
        reason="at least one municipality is needed",
    )


# -- refusals: duplicates --------------------------------------------------------------------


def test_duplicate_school_id_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "  - {id: brug, name: Andere Brug, type: vso, municipality: Kampen}\n",
        line=7,
        entry="schools[1] (id: brug)",
        reason="school id 'brug' is used twice",
    )


def test_duplicate_person_id_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: anna, name: Anna, roles: [coordinator]}\n"
        + "  - {id: anna, name: Anna Bis, roles: [coordinator]}\n",
        line=9,
        entry="people[1] (id: anna)",
        reason="person id 'anna' is used twice",
    )


def test_duplicate_municipality_code_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities:\n  - {code: GM0193, name: Zwolle}\n"
        "  - {code: GM0193, name: Kampen}\n",
        line=4,
        entry="municipalities[1] (code: GM0193)",
        reason="municipality code GM0193 is listed twice",
    )


def test_duplicate_municipality_name_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        "region: Testregio\nmunicipalities:\n  - {code: GM0193, name: Zwolle}\n"
        "  - {code: GM0166, name: ZWOLLE}\n",
        line=4,
        entry="municipalities[1] (code: GM0166)",
        reason="municipality name 'ZWOLLE' is listed twice",
    )


def test_duplicate_slack_id_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: anna, name: Anna, roles: [coordinator], slack: U01ANNA}\n"
        + "  - {id: dirk, name: Dirk, roles: [doorstroompunt], slack: U01ANNA}\n",
        line=9,
        entry="people[1] (id: dirk)",
        reason="slack id U01ANNA is already used by 'anna'",
    )


def test_duplicate_telegram_id_is_refused(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: anna, name: Anna, roles: [coordinator], telegram: 1001}\n"
        + "  - id: dirk\n"
        + "    name: Dirk\n"
        + "    roles: [doorstroompunt]\n"
        + "    telegram: 1001\n",
        line=12,
        entry="people[1] (id: dirk)",
        reason="telegram id 1001 is already used by 'anna'",
    )


# -- refusals: schedule ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "line", "reason"),
    [
        ('forecast_rounds: ["10-01", "13-01"]', 8, "forecast_rounds[1]: '13-01' is not a date"),
        ('forecast_rounds: ["02-29"]', 8, "forecast_rounds[0]: '02-29' is not a date"),
        ('forecast_rounds: ["1 oct"]', 8, "forecast_rounds[0]: '1 oct' is not a month-day"),
        ('forecast_rounds: ["10-01", "10-01"]', 8, "forecast_rounds[1]: '10-01' is listed twice"),
        ('digest: "MON 25:00"', 8, "digest: 'MON 25:00' is not a day and time"),
        ('digest: "MAA 08:30"', 8, "digest: 'MAA 08:30' is not a day and time"),
        ('digest: "08:30"', 8, "digest: '08:30' is not a day and time"),
        ("handover_window_weeks: 0", 8, "handover_window_weeks: input should be greater than 0"),
        ("retention_months: -1", 8, "retention_months: input should be greater than 0"),
        ("round_answer_workdays: ten", 8, "round_answer_workdays: input should be a valid integer"),
        (
            "remind_after_workdays: 7",
            7,
            "escalate_after_workdays (7) must be greater than remind_after_workdays (7)",
        ),
        ("followup_days: [30, 30]", 8, "followup_days[1]: 30 must be greater than"),
        ("followup_days: [0, 30]", 8, "followup_days[0]: 0 is not a positive number"),
    ],
)
def test_invalid_schedule_values_are_refused(
    tmp_path: Path, schedule: str, line: int, reason: str
) -> None:
    assert_refused(
        tmp_path,
        HEAD + f"schedule:\n  {schedule}\n",
        line=line,
        entry="schedule",
        reason=reason,
    )


def test_escalation_before_reminder_points_at_the_escalation_line(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD + "schedule:\n  escalate_after_workdays: 2\n  remind_after_workdays: 3\n",
        line=8,
        entry="schedule",
        reason="escalate_after_workdays (2) must be greater than remind_after_workdays (3)",
    )


def test_earliest_error_in_the_file_is_reported(tmp_path: Path) -> None:
    assert_refused(
        tmp_path,
        HEAD
        + "people:\n"
        + "  - {id: anna, name: Anna, roles: [coordinator], telegram: abc}\n"
        + "schedule: {digest: nope}\n"
        + "colour: blue\n",
        line=8,
        entry="people[0] (id: anna)",
        reason="telegram",
    )
