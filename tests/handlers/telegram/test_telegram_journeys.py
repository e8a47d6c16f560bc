"""Journeys of product.md on Telegram, end to end: python-telegram-bot's Application served by
`serve(...)` against the fake Bot API (guided intake, transfer, digest, a long /leavers)."""

from __future__ import annotations

from sqlmodel import select

from bot.core.app import Core
from bot.core.vocab import CaseState
from bot.store import queries
from bot.store.db import make_engine, session_scope
from bot.store.models import Case
from tests.factories import make_leaver
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, Shown, eventually, utf16_len
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts

SARA, HENK, ANNA, FATIMA, RUBEN = 1003, 1004, 1001, 1002, 1005


def last_with_buttons(fake: FakeTelegram, chat_id: int) -> Shown:
    return [m for m in fake.chat_view(chat_id) if m.from_bot and m.buttons][-1]


async def press(fake: FakeTelegram, chat_id: int, label: str) -> None:
    """The user presses the button labelled `label` on the bot's latest message with buttons;
    Telegram answers the callback query (at once, before the work), and the bot says what
    the press did."""
    shown = last_with_buttons(fake, chat_id)
    data = shown.button(label)["callback_data"]
    answered = len(fake.callback_answers())

    def said() -> int:
        return len(fake.sent_messages(chat_id)) + len(fake.edits(chat_id))

    before = said()
    fake.push_update(tg.callback_query(chat_id, data, message=shown.message))
    await eventually(lambda: len(fake.callback_answers()) > answered)
    await eventually(lambda: said() > before)


async def answer(fake: FakeTelegram, chat_id: int, text: str, then: str) -> None:
    """The user types `text`; wait until the bot says `then`."""
    before = len(texts(fake, chat_id))
    fake.push_update(tg.private_message(chat_id, text))
    await eventually(lambda: len(texts(fake, chat_id)) > before)
    await bot_said(fake, chat_id, then)


async def test_the_guided_intake_with_typed_answers_and_buttons_survives_a_restart(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    settings = telegram_settings(fake)
    async with running(live_core, settings, fake):
        await answer(fake, SARA, "/leaver", "eigen kenmerk")
        await answer(fake, SARA, "AB12", "In welke gemeente")
        await answer(fake, SARA, "Zwolle", "Welk onderwijs")
        await press(fake, SARA, "Praktijkonderwijs")
        await bot_said(fake, SARA, "tussentijdse uitvaller")
    # the bot restarts: a new Application and core on the same database
    restarted = Core(
        engine=make_engine(live_core.engine.url.render_as_string(hide_password=False)),
        region=live_core.region,
        default_language="nl",
    )
    try:
        async with running(restarted, telegram_settings(fake), fake):
            await press(fake, SARA, "Nee")
            await answer(fake, SARA, "juni 2027", "geboortejaar")
            await press(fake, SARA, "Overslaan")
            await press(fake, SARA, "Werk")
            await press(fake, SARA, "Geweigerd")
            summary = last_with_buttons(fake, SARA)
            assert "AB12" in summary.text and "Zwolle" in summary.text
            await press(fake, SARA, "Bevestigen")
            done = await bot_said(fake, SARA, "aangemeld als casus")
        with session_scope(restarted.engine) as session:
            (case,) = session.exec(select(Case)).all()
            assert (case.student_ref, case.school_id) == ("AB12", "brug")
            assert case.ref in done
    finally:
        restarted.engine.dispose()
    assert not refused(fake)


def refused(fake: FakeTelegram) -> list[str]:
    """What Telegram refused, but for the long poll an old Application left waiting when it
    stopped, ended by the next one's getUpdates (409 Conflict)."""
    return [f"{c.method}: {c.description}" for c in fake.failed() if c.method != "getUpdates"]


def cards_for(fake: FakeTelegram, chat_id: int, ref: str) -> list[Shown]:
    """The bot's messages in the chat about case `ref` that offer to claim it."""
    return [
        m
        for m in fake.chat_view(chat_id)
        if m.from_bot and ref in m.text and any("Claimen" in b for b in m.button_texts)
    ]


async def test_a_transfer_by_command_and_by_buttons_reaches_the_receiving_brokers(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    for chat in (HENK, FATIMA, RUBEN, SARA):
        fake.add_private_chat(chat)
    first = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    second = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    await answer(fake, HENK, f"/transfer {first.ref} Zwolle", f"Casus {first.ref} is overgedragen")
    await eventually(lambda: bool(cards_for(fake, FATIMA, first.ref)))  # Wim is on Slack only

    await answer(fake, HENK, f"/case {second.ref}", second.ref)
    await press(fake, HENK, "Overdragen")
    await bot_said(fake, HENK, "Naar welke gemeente")
    await press(fake, HENK, "Raalte")
    await bot_said(fake, HENK, f"Casus {second.ref} is overgedragen")
    await eventually(lambda: bool(cards_for(fake, RUBEN, second.ref)))
    assert not cards_for(fake, RUBEN, first.ref) and not cards_for(fake, FATIMA, second.ref)
    with session_scope(live_core.engine) as session:
        moved = {c.ref: c.responsible_municipality_code for c in session.exec(select(Case))}
    assert moved == {first.ref: "GM0193", second.ref: "GM0177"}
    assert not refused(fake)


async def test_the_digest_comes_as_a_photo_with_a_short_caption_and_its_text(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_private_chat(ANNA)
    places = [m.name for m in live_core.region.municipalities]
    states = [CaseState.forecast, CaseState.due, CaseState.claimed, CaseState.lost]
    for place in places:  # four states in every municipality: more than a caption holds
        refs = [make_leaver(live_core, home_municipality=place).ref for _ in states]
        with session_scope(live_core.engine) as session:
            for ref, state in zip(refs, states, strict=True):
                case = queries.case_by_ref(session, ref=ref)
                assert case is not None
                case.state = state
    fake.push_update(tg.private_message(ANNA, "/digest"))
    await bot_said(fake, ANNA, "Verbeteragenda")
    photo, *after = fake.sent_messages(ANNA)
    assert photo.kind == "photo" and photo.content and photo.content.startswith(b"\x89PNG")
    assert 0 < utf16_len(photo.text) <= 1024  # the chart's title
    assert after and all(m.kind == "text" for m in after)
    text = "\n".join(m.text for m in after)
    assert "Weekoverzicht Regio Zwolle (demo)" in text
    assert all(f"{place}: 1 verwacht · 1 te claimen · 1 " in text for place in places), text
    assert not refused(fake)


async def test_sixty_leavers_come_in_pages_each_ref_once_and_more_pages_by_button(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    student_refs = [f"<i>&amp; 😀 {n:02d} " + "x" * 20 for n in range(60)]  # 40 characters
    refs = [make_leaver(live_core, student_ref=s).ref for s in student_refs]
    fake.push_update(tg.private_message(SARA, "/leavers"))
    await bot_said(fake, SARA, "Pagina 1 van 4")
    for page in (2, 3, 4):
        await press(fake, SARA, "Meer")
        await bot_said(fake, SARA, f"Pagina {page} van 4")
    pages = [m for m in fake.sent_messages(SARA) if "Uitstromers in jouw overzicht" in m.text]
    assert len(pages) == 4
    assert all(utf16_len(m.text) <= 4096 for m in pages)
    assert [m.button_texts[-1] == "Meer" for m in pages] == [True, True, True, False]
    shown = "\n".join(m.text for m in pages)
    assert all(shown.count(f"{ref} · ") == 1 for ref in refs)
    assert all(shown.count(s.strip()) == 1 for s in student_refs)  # literally, escaped
    assert not refused(fake)


async def test_bevestigen_on_an_old_summary_shows_the_changed_answers_and_saves_nothing(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    async with running(live_core, telegram_settings(fake), fake):
        await answer(fake, SARA, "/leaver", "eigen kenmerk")
        await answer(fake, SARA, "AB12", "In welke gemeente")
        await answer(fake, SARA, "Zwolle", "Welk onderwijs")
        await press(fake, SARA, "Praktijkonderwijs")
        await press(fake, SARA, "Nee")
        await answer(fake, SARA, "juni 2027", "geboortejaar")
        await press(fake, SARA, "Overslaan")
        await press(fake, SARA, "Werk")
        await press(fake, SARA, "Geweigerd")
        old = last_with_buttons(fake, SARA)
        assert "Zwolle" in old.text
        await press(fake, SARA, "Wijzigen")
        await press(fake, SARA, "Woongemeente")
        await answer(fake, SARA, "Kampen", "Klopt dit?")
        answered = len(fake.callback_answers())
        data = old.button("Bevestigen")["callback_data"]
        fake.push_update(tg.callback_query(SARA, data, message=old.message))
        await eventually(lambda: len(fake.callback_answers()) > answered)
        again = await bot_said(fake, SARA, "na die samenvatting")
        assert "Kampen" in again
        with session_scope(live_core.engine) as session:
            assert session.exec(select(Case)).all() == []
        await press(fake, SARA, "Bevestigen")
        await bot_said(fake, SARA, "aangemeld als casus")
        with session_scope(live_core.engine) as session:
            (case,) = session.exec(select(Case)).all()
            assert case.home_municipality_code == "GM0166"  # Kampen
    assert not refused(fake)
