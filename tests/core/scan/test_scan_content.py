"""The Participatiescan's content: both shipped files, their checks, and the start refusing a
broken one."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.__main__ import app
from bot.core.scan import content as scan_content
from bot.core.scan.content import (
    CONTENT_DIR,
    Origin,
    ScanContentError,
    ScanFigure,
    check_languages_agree,
    check_scan_content,
    load_scan_content,
    load_scan_file,
)
from bot.region import RegionFileError

DUTCH_TITLES = {
    1: "Werkend leren",
    2: "Professionele relatie met werkgevers",
    3: "Proactieve samenwerking bij arbeidstoeleiding",
    4: "Professioneel ontzorgen van werkgevers",
    5: "Voldoende geschikte bedrijven",
    6: "Jongeren worden gestimuleerd en empowered",
    7: "Begeleiding van de jongere",
    8: "Signalering en diagnose",
    9: "Betrokkenheid ouders",
    10: "Continuïteit in begeleiding",
    11: "Gedeelde visie",
    12: "Periodiek (netwerk)overleg",
    13: "Effectief casemanagement",
    14: "Samenwerking scholen",
    15: "Samenwerking gemeenten",
}
DUTCH_THEMES = ["Focus op werk en talent", "Kwaliteit begeleiding", "Effectieve samenwerking"]

NL_SOURCE = (CONTENT_DIR / "scan_nl.yaml").read_text(encoding="utf-8")
EN_SOURCE = (CONTENT_DIR / "scan_en.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """The 1-based line where ``needle`` first appears in ``text``."""
    assert text.count(needle) >= 1, needle
    return text[: text.index(needle)].count("\n") + 1


def without(text: str, start: str, end: str) -> str:
    """``text`` without the part from ``start`` up to (not including) ``end``."""
    return text[: text.index(start)] + text[text.index(end) :]


# -- the shipped content ----------------------------------------------------------------------


def test_both_shipped_files_load_and_agree() -> None:
    contents = check_scan_content()
    nl, en = contents["nl"], contents["en"]
    assert (nl.language, en.language) == ("nl", "en")
    check_languages_agree(nl, en)
    assert [f.id for f in nl.factors] == [f.id for f in en.factors]
    assert load_scan_content("nl") is nl and load_scan_content("en") is en  # read once


def test_the_dutch_titles_are_those_the_network_knows() -> None:
    nl = load_scan_content("nl")
    assert [theme.title for theme in nl.themes] == DUTCH_THEMES
    assert {factor.number: factor.title for factor in nl.factors} == DUTCH_TITLES
    assert [f.number for f in nl.factors] == list(range(1, 16))


def test_the_english_file_speaks_english() -> None:
    nl, en = load_scan_content("nl"), load_scan_content("en")
    assert [theme.title for theme in en.themes] == [
        "Focus on work and talent",
        "Quality of guidance",
        "Effective cooperation",
    ]
    for dutch, english in zip(nl.factors, en.factors, strict=True):
        assert english.description != dutch.description
        assert english.title != dutch.title
    assert en.scale.warmup != nl.scale.warmup and "report mark" in en.scale.warmup


def test_every_factor_has_its_norm_a_description_and_practices() -> None:
    for language in ("nl", "en"):
        content = load_scan_content(language)
        for factor in content.factors:
            assert factor.norm and factor.norm != factor.description, (language, factor.number)
            assert len(factor.description.split(". ")) >= 2, (language, factor.number)
            assert len(content.practices_of(factor)) >= 3, (language, factor.number)
        for practice in content.knowledge_base:
            assert practice.title and practice.region and practice.source and practice.line
            assert "\n" not in practice.line and "http" not in practice.line


def test_the_dutch_norms_keep_the_originals_points_and_add_no_claims() -> None:
    nl = load_scan_content("nl")
    everything = NL_SOURCE.casefold()
    # claims the original does not make
    for claim in ("liefdadigheid", "één contactpersoon en snelle antwoorden", "learning by doing"):
        assert claim not in everything, claim
    # the original's points that must not get lost
    ten, seven = nl.factor(10), nl.factor(7)
    assert ten is not None and "vroege rol voor de gemeente" in ten.norm
    assert "nazorg door de school" in ten.norm
    assert seven is not None and "toerusting" in seven.description
    assert "organisatie" in seven.description
    described = [f.number for f in nl.factors if "licht verstandelijke beperking" in f.description]
    assert described == [1, 5, 11]
    assert (nl.scale.question, nl.scale.anchors) == (
        "Hoe goed voldoet onze regio hieraan?",
        "1 = heel slecht, 10 = perfect",
    )
    en = load_scan_content("en")
    assert en.scale.anchors == "1 = very poor, 10 = perfect"


def test_only_continuity_and_case_management_show_the_regions_figures() -> None:
    for language in ("nl", "en"):
        with_figures = {
            f.number: f.figures for f in load_scan_content(language).factors if f.figures
        }
        assert with_figures == {
            10: (ScanFigure.handover_on_time, ScanFigure.waiting_days),
            13: (ScanFigure.one_owner, ScanFigure.transfers, ScanFigure.time_to_claim),
        }


# -- the knowledge base is the Participatiescan's ---------------------------------------------

ORIGINAL = yaml.safe_load(
    (
        Path(__file__).resolve().parents[2] / "fixtures" / "participatiescan_kennisbank.yaml"
    ).read_text("utf-8")
)


def _similar(ours: str, theirs: str) -> bool:
    """A title of ours names the original's entry: one of its words is (nearly) in theirs."""
    words = [w for w in re.findall(r"\w+", theirs.casefold()) if len(w) > 3]
    return any(
        difflib.get_close_matches(word, words, n=1, cutoff=0.8)
        for word in re.findall(r"\w+", ours.casefold())
        if len(word) > 3
    )


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_entry_of_the_originals_kennisbank_is_there_once(language: str) -> None:
    content = load_scan_content(language)
    by_ref = {ref: p for p in content.knowledge_base for ref in p.ref}
    refs = [ref for p in content.knowledge_base for ref in p.ref]
    assert len(refs) == len(set(refs))  # no entry of the original twice
    original = {f"{e['file']}#{e['id']}": e for e in ORIGINAL["entries"]}
    assert set(by_ref) == set(original)  # every one, and nothing else claims to be from it
    for ref, entry in original.items():
        practice = by_ref[ref]
        assert practice.origin is Origin.kennisbank
        assert "Participatiescan" in practice.source
        assert practice.url in {original[r]["address"] for r in practice.ref}, ref
        if language == "nl":  # the English file translates some titles
            assert _similar(practice.title, entry["title"]), (practice.title, entry["title"])
            for region in entry.get("regions", []):
                assert region in practice.region, (ref, region, practice.region)


def test_only_the_kennisbank_is_attributed_to_the_participatiescan() -> None:
    for language in ("nl", "en"):
        for practice in load_scan_content(language).knowledge_base:
            named = "participatiescan" in (practice.source + practice.line).casefold()
            assert named == (practice.origin is Origin.kennisbank), practice.id
    nl = load_scan_content("nl")
    interviewed = {p.id: p for p in nl.knowledge_base if p.origin is Origin.interview}
    assert set(interviewed) == {"jobhunting_zeeland", "doorlopende_begeleiding_assen"}
    assert all("interview 24 januari 2018" in p.source for p in interviewed.values())


def test_each_practice_is_listed_once_and_regionaal_werkbedrijf_is_the_platform() -> None:
    nl = load_scan_content("nl")
    titles = [p.title.casefold() for p in nl.knowledge_base]
    assert len(titles) == len(set(titles))
    werkbedrijf = [p for p in nl.knowledge_base if "regionaal werkbedrijf" in p.title.casefold()]
    assert len(werkbedrijf) == 1 and werkbedrijf[0].region == "elke arbeidsmarktregio"
    assert "arbeidsmarktregio" in werkbedrijf[0].line
    for name in ("Zeeuwse Stichting Maatwerk", "Project SEARCH", "Convenant BAANWIJS", "STEUR"):
        assert sum(name in p.title for p in nl.knowledge_base) == 1, name


def test_scale_groups_follow_up_and_improvement_points() -> None:
    nl = load_scan_content("nl")
    assert (nl.scale.min, nl.scale.max) == (1, 10)
    assert list(nl.scale.marks) == list(range(1, 11))
    assert "rapportcijfer" in nl.scale.warmup and "gezamenlijke aanpak" in nl.scale.warmup
    assert nl.follow_up_weeks == 6 and nl.improvement_points == 3
    assert [g.id for g in nl.groups] == [
        "schools",
        "social_services",
        "compulsory_education",
        "employers",
        "care",
        "other",
    ]
    schools = nl.group("schools")
    assert schools is not None and schools.label == "Scholen"
    assert schools.description == "Scholen, vooral VSO, Pro en MBO"
    assert nl.group("nope") is None


def test_lookups_by_number_id_and_theme() -> None:
    nl = load_scan_content("nl")
    seven = nl.factor(7)
    assert seven is not None and seven.title == "Begeleiding van de jongere"
    assert nl.factor("7") is seven and nl.factor("begeleiding_jongere") is seven
    assert nl.factor(16) is None and nl.factor("nope") is None
    assert [f.number for f in nl.factors_of("kwaliteit_begeleiding")] == [6, 7, 8, 9, 10]
    assert nl.factors_of("nope") == ()
    theme = nl.theme_of(seven)
    assert theme is not None and theme.id == "kwaliteit_begeleiding"
    assert nl.theme_of(13) is nl.theme("samenwerking") and nl.theme_of(99) is None


def test_a_language_vangnet_lacks_gets_the_dutch_content() -> None:
    assert load_scan_content("de") is load_scan_content("nl")
    assert load_scan_content(None) is load_scan_content("nl")


# -- a broken file says where and why ---------------------------------------------------------

FACTOR_7 = "      - number: 7\n"
TITLE_7 = "        title: Begeleiding van de jongere\n"

BROKEN = [
    pytest.param(
        NL_SOURCE.replace(TITLE_7, ""),
        FACTOR_7,
        "factor 7: title is missing",
        id="missing title",
    ),
    pytest.param(
        NL_SOURCE.replace(TITLE_7, "        title: '   '\n"),
        "        title: '   '",
        "factor 7: title is empty",
        id="empty title",
    ),
    pytest.param(
        without(NL_SOURCE, "      - number: 12\n", "      - number: 13\n"),
        "    factors:\n      - number: 11\n",
        "theme samenwerking: expected 5 factors, found 4 (the scan has 15 factors, 5 per theme)",
        id="14 factors",
    ),
    pytest.param(
        NL_SOURCE.replace("number: 8\n", "number: 7\n"),
        "number: 7\n        id: signalering_diagnose",
        "factor 7: number 7 is used twice",
        id="duplicate number",
    ),
    pytest.param(
        NL_SOURCE.replace("number: 8\n", "number: 9\n"),
        "number: 9\n        id: signalering_diagnose",
        "factor 9: number 9 is out of order, expected 8",
        id="gap in the numbers",
    ),
    pytest.param(
        NL_SOURCE.replace("id: netwerkoverleg\n", "id: gedeelde_visie\n"),
        "id: gedeelde_visie\n        title: Periodiek",
        "factor 12: id 'gedeelde_visie' is used twice",
        id="duplicate id",
    ),
    pytest.param(
        NL_SOURCE.replace(
            "        id: casemanagement\n", "        id: casemanagement\n        kleur: rood\n"
        ),
        "kleur: rood",
        "factor 13: unknown key 'kleur'",
        id="unknown key",
    ),
    pytest.param(
        NL_SOURCE.replace("  min: 1\n  max: 10\n", "  min: 10\n  max: 1\n"),
        "  max: 1\n",
        "scale: max (1) must be above min (10)",
        id="scale min above max",
    ),
    pytest.param(
        NL_SOURCE.replace("  max: 10\n", "  max: tien\n"),
        "  max: tien",
        "scale: max: expected a whole number, got 'tien'",
        id="scale not a number",
    ),
    pytest.param(
        NL_SOURCE.replace("improvement_points: 3", "improvement_points: 8"),
        "improvement_points:",
        "improvement_points: must be at most 5, got 8",
        id="too many improvement points",
    ),
    pytest.param(
        NL_SOURCE.replace("follow_up_weeks: 6", "follow_up_weeks: 60"),
        "follow_up_weeks:",
        "follow_up_weeks: must be at most 52, got 60",
        id="follow-up too late",
    ),
    pytest.param(
        NL_SOURCE.replace("waiting_days]", "wachtdagen]", 1),
        "        figures: [handover_on_time, wachtdagen]",
        "factor 10: figures[1]: unknown figure 'wachtdagen' (known: handover_on_time, "
        "waiting_days, one_owner, transfers, time_to_claim)",
        id="unknown figure",
    ),
    pytest.param(
        NL_SOURCE.replace("    line: Een werkgever die", "    regel: Een werkgever die"),
        "  - id: plaatsingsbonus_nhn",
        "practice plaatsingsbonus_nhn: line is missing",
        id="practice without its line",
    ),
    pytest.param(
        NL_SOURCE.replace("    line: Een werkgever die", "    line:\n    x: Een werkgever die"),
        "    line:\n    x:",
        "practice plaatsingsbonus_nhn: line is empty",
        id="practice with an empty line",
    ),
    pytest.param(
        without(NL_SOURCE, "  - id: samenwerking\n", "knowledge_base:"),
        "themes:",
        "the scan has 3 themes, found 2",
        id="two themes",
    ),
    pytest.param(
        NL_SOURCE.replace(
            "    factors: [4]\n    line: Een werkgever", "    factors: [16]\n    line: E"
        ),
        "    factors: [16]",
        "practice plaatsingsbonus_nhn: there is no factor 16",
        id="a practice on a factor that is not there",
    ),
    pytest.param(
        NL_SOURCE.replace("  - id: immens\n    title: IMMENS", "  - id: immens\n    title: Boris"),
        "    title: Boris\n    region: landelijk",
        "practice boris: 'Boris' is listed twice",
        id="a practice listed twice",
    ),
    pytest.param(
        NL_SOURCE.replace("    ref: [praktijkvoorbeelds.csv#11]\n", ""),
        "  - id: immens",
        "practice immens: an entry of the kennisbank names the original's entry (ref)",
        id="a kennisbank entry without its ref",
    ),
    pytest.param(
        NL_SOURCE.replace("language: nl", "language: en"),
        "language: en",
        "language is 'en', but this is the file for 'nl'",
        id="the other language's file",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), BROKEN)
def test_a_broken_file_names_file_line_entry_and_reason(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = tmp_path / "scan_nl.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScanContentError) as refused:
        load_scan_file(path, "nl")
    error = refused.value
    assert isinstance(error, RegionFileError)  # the same shape as the region file's errors
    assert error.line == line_of(text, where)
    assert str(error).startswith(f"{path}:{error.line}: ")
    assert message in str(error)
    assert "\n" not in str(error)


def test_a_file_that_is_not_there_or_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(ScanContentError, match=r"scan_nl\.yaml: scan content: the file does not"):
        load_scan_file(tmp_path / "scan_nl.yaml", "nl")
    bad = tmp_path / "scan_en.yaml"
    bad.write_text("version: 1\nlanguage: [en\n", encoding="utf-8")
    with pytest.raises(ScanContentError, match=r"scan_en\.yaml:\d+: scan content: invalid YAML"):
        load_scan_file(bad, "en")


def test_languages_that_differ_are_refused_with_the_english_line(tmp_path: Path) -> None:
    nl = load_scan_content("nl")
    text = EN_SOURCE.replace("id: casemanagement\n", "id: case_management\n")
    path = tmp_path / "scan_en.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScanContentError) as refused:
        check_languages_agree(nl, load_scan_file(path, "en"))
    assert str(refused.value) == (
        f"{path}:{line_of(text, 'id: case_management')}: factor 13: id is 'case_management' "
        f"here but 'casemanagement' in {CONTENT_DIR / 'scan_nl.yaml'}"
    )

    moved = EN_SOURCE.replace(
        "    factors: [4]\n    line: >-\n      An employer",
        "    factors: [5]\n    line: >-\n      A",
    )
    path.write_text(moved, encoding="utf-8")
    with pytest.raises(
        ScanContentError, match=r"practice plaatsingsbonus_nhn: factors is \[5\] here but \[4\]"
    ):
        check_languages_agree(nl, load_scan_file(path, "en"))


# -- the start refuses broken content ---------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A clean environment in an empty directory, on a fresh SQLite file."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TELEGRAM_", "VANGNET_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/v.db")
    return CliRunner()


def test_the_start_refuses_a_broken_content_file_in_one_line(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    broken = NL_SOURCE.replace(TITLE_7, "")
    (content / "scan_nl.yaml").write_text(broken, encoding="utf-8")
    (content / "scan_en.yaml").write_text(EN_SOURCE, encoding="utf-8")
    monkeypatch.setattr(scan_content, "CONTENT_DIR", content)

    done = cli.invoke(app, ["run"], input="")
    assert done.exit_code == 1
    assert done.stderr.strip().count("\n") == 0  # one line, no traceback
    assert done.stderr.strip() == (
        "Inhoud van de Participatiescan geweigerd: "
        f"{content / 'scan_nl.yaml'}:{line_of(broken, FACTOR_7)}: factor 7: title is missing"
    )
    assert not (tmp_path / "v.db").exists()  # stopped before the database was touched
