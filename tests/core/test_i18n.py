"""The Dutch catalogue is complete and keeps every placeholder; the translator falls back to Dutch.

Extraction uses the same keywords as `make i18n` (Babel's defaults plus t, N_ and tn:1,2), so a
string that `make i18n` would put in the catalogue is also checked here.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, Translator

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
KEYWORDS = {**DEFAULT_KEYWORDS, "t": None, "N_": None, "tn": (1, 2)}
METHOD_MAP = [("**.py", "python")]

MsgId = str | tuple[str, ...]


def _catalogue(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


def _key(message: Message) -> MsgId:
    return message.id if isinstance(message.id, str) else tuple(message.id)


def _strings(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(message.string or ())


def _placeholders(text: str) -> set[str]:
    """`{ref}` and `{diff:+d}` as written, so a changed name or format spec is caught."""
    found = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is not None:
            suffix = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            found.add(name + suffix)
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[MsgId, list[str]]:
    """Every msgid in bot/, with where it occurs."""
    found: dict[MsgId, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(BOT_DIR), METHOD_MAP, keywords=KEYWORDS
    ):
        key: MsgId = message if isinstance(message, str) else tuple(message[:2])
        found.setdefault(key, []).append(f"bot/{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def dutch() -> Catalog:
    return _catalogue("nl")


def test_extraction_finds_the_strings(extracted: dict[MsgId, list[str]]) -> None:
    assert "Claim" in extracted
    assert len(extracted) > 100


def test_every_message_has_a_dutch_translation(
    extracted: dict[MsgId, list[str]], dutch: Catalog
) -> None:
    translated = {
        _key(m): m for m in dutch if m.id and not m.fuzzy and all(s.strip() for s in _strings(m))
    }
    missing = sorted(
        f"{key!r} ({', '.join(where)})" for key, where in extracted.items() if key not in translated
    )
    assert not missing, (
        f"{len(missing)} msgid(s) without a Dutch translation in "
        "bot/locale/nl/LC_MESSAGES/messages.po (run `make i18n` and translate them):\n"
        + "\n".join(missing)
    )


def test_translations_keep_the_placeholders(dutch: Catalog) -> None:
    wrong = []
    for m in dutch:
        if not m.id:
            continue
        ids = (m.id,) if isinstance(m.id, str) else tuple(m.id)
        expected = set().union(*(_placeholders(i) for i in ids))
        for s in _strings(m):
            if s and _placeholders(s) != expected:
                wrong.append(f"{ids[0]!r}: {sorted(_placeholders(s))} != {sorted(expected)}")
    assert not wrong, "placeholders differ from the msgid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogues_are_valid(language: str) -> None:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:  # a msgid without its msgstr (a merge's slip) is an error
        read_po(fh, abort_invalid=True)
    catalogue = _catalogue(language)
    assert len(catalogue) > 1
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check() if errors]
    assert not problems


def test_dutch_and_english_differ() -> None:
    assert Translator("nl")("Claim") != Translator("en")("Claim")
    assert Translator("en")("Claim") == "Claim"
    assert Translator("nl")("Case {ref}", ref="K7F2") == "Casus K7F2"


@pytest.mark.parametrize("language", ["de", "", None])
def test_unknown_language_falls_back_to_dutch(language: str | None) -> None:
    assert DEFAULT_LANGUAGE == "nl"
    fallback = Translator(language)
    assert fallback.language == "nl"
    assert fallback("Claim") == Translator("nl")("Claim")


def test_a_person_without_a_language_gets_dutch_and_bram_english(engine, region) -> None:  # type: ignore[no-untyped-def]
    """Per person, on every reply: no language is installed for the whole process."""
    from bot.core.app import Core
    from bot.core.directory import sync_region
    from bot.store.db import session_scope

    with session_scope(engine) as session:
        sync_region(session, region)
    core = Core(engine=engine, region=region, default_language="nl")
    sara = core.handle_text(person_id="sara", text="/frobnicate", transport="test")[0].text
    bram = core.handle_text(person_id="bram", text="/frobnicate", transport="test")[0].text
    assert "/frobnicate" in sara and "/frobnicate" in bram
    assert sara != bram
    assert bram == "I don't know the command /frobnicate. Type /help."
