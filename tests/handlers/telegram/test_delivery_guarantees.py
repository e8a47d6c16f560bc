"""What holds when Telegram or Vangnet stumbles, through the real python-telegram-bot against
the fake Bot API: an update is recorded before Telegram is told it arrived (so a kill -9
right after loses nothing, and a restart handles it once); a send whose answer came too late
is sent again at most once; long polling is back soon after the Bot API is."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.handlers.telegram import app as telegram_app
from bot.handlers.telegram import inbox
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, TelegramUpdate
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts

ANNA, SARA, HENK = 1001, 1003, 1004


def recorded(core: Core, update_ids: list[int]) -> bool:
    with session_scope(core.engine, write=False) as session:
        found = session.exec(
            select(TelegramUpdate.id).where(TelegramUpdate.id.in_(update_ids))  # type: ignore[attr-defined]
        ).all()
    return sorted(found) == sorted(update_ids)


async def test_polling_records_an_update_before_its_offset_moves_past_it(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    confirmed_unrecorded: list[int] = []

    def check(update_ids: list[int]) -> None:  # Telegram forgets them from here on
        if not recorded(live_core, update_ids):
            confirmed_unrecorded.extend(update_ids)

    fake.on_confirm = check
    for person in (ANNA, SARA):
        fake.push_update(tg.private_message(person, "/help"))
    await bot_said(fake, SARA, "/leavers")
    await eventually(lambda: not fake.pending_updates())
    assert confirmed_unrecorded == []


async def test_an_update_recorded_before_a_kill_is_handled_once_after_the_restart(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    """What a kill -9 right after the webhook's 200 (or right after the offset moved) leaves:
    the update in the database, not handled, and Telegram not sending it again."""
    fake = fake_telegram
    fake.add_private_chat(ANNA)
    fake.add_private_chat(SARA)
    left = tg.private_message(ANNA, "/help")
    inbox.record(live_core.engine, [left])

    def helped(person: int) -> int:
        return sum(1 for t in texts(fake, person) if "/leavers" in t)

    for round_ in (1, 2):  # the restart, and one more
        async with running(live_core, telegram_settings(fake), fake):
            fake.push_update(tg.private_message(SARA, "/help"))
            await eventually(lambda n=round_: helped(SARA) == n)  # type: ignore[misc]
            await bot_said(fake, ANNA, "/leavers")
    assert helped(ANNA) == 1  # handled at the restart, not again at the next one
    with session_scope(live_core.engine, write=False) as session:
        row = session.get(TelegramUpdate, left["update_id"])
    assert row is not None and row.handled_at is not None


async def test_a_send_answered_too_late_is_sent_again_at_most_once(
    live_core: Core, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram accepts each message but answers after the bot stopped waiting, three times
    in a row: the notice reaches Henk twice at most (it was four times)."""
    monkeypatch.setattr(telegram_app, "SEND_READ_TIMEOUT", 0.5)
    fake = fake_telegram
    fake.add_private_chat(HENK)
    fake.slow("sendMessage", seconds=1.5, times=3)
    async with running(live_core, telegram_settings(fake), fake):
        with session_scope(live_core.engine) as session:
            outbox.enqueue(session, person_id="henk", kind="test", reply=Reply(text="ping"))

        def sent() -> bool:
            with session_scope(live_core.engine, write=False) as session:
                rows = session.exec(select(OutboxMessage)).all()
                return all(r.sent_at is not None for r in rows)

        await eventually(sent, timeout=30)
    assert 1 <= texts(fake, HENK).count("ping") <= 2


async def test_long_polling_is_back_soon_after_the_bot_api_is(polling: FakeTelegram) -> None:
    """Six failed polls in a row: python-telegram-bot's own loop would now wait 7.6 seconds
    before the next (1.5 times longer after each failure, up to 30); here it is two."""
    fake = polling

    def failed_polls() -> int:
        calls = fake.calls_to("getUpdates", ok_only=False)
        return sum(1 for c in calls if c.answered and c.status == 502)

    fake.outage = True
    await eventually(lambda: failed_polls() >= 6, timeout=30)
    fake.outage = False
    fake.push_update(tg.private_message(ANNA, "/help"))
    await eventually(lambda: any("/leavers" in t for t in texts(fake, ANNA)), timeout=6)


async def test_the_webhook_answers_503_while_the_update_cannot_be_recorded(
    live_core: Core, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its record an update is not acknowledged: Telegram sends it again, and it is
    handled once the database takes it."""
    from tests.handlers.telegram.test_real_groups import webhook_settings

    fake = fake_telegram
    failures = [RuntimeError("database away")] * 2
    record = inbox.record

    def flaky(engine: object, updates: object) -> None:
        if failures:
            raise failures.pop()
        record(engine, updates)  # type: ignore[arg-type]

    monkeypatch.setattr(inbox, "record", flaky)
    async with running(live_core, webhook_settings(fake), fake):
        update = fake.push_update(tg.private_message(ANNA, "/help"))
        await bot_said(fake, ANNA, "/leavers")
    statuses = [
        status for update_id, status in fake.webhook_deliveries if update_id == update["update_id"]
    ]
    assert statuses == [503, 503, 200]
    assert sum(1 for t in texts(fake, ANNA) if "/leavers" in t) == 1


async def test_updates_are_handled_at_once_each_chats_in_order(
    live_core: Core, polling: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anna's command is slow (a big import, say): Sara is answered meanwhile, and Anna's
    next command waits for her first, so her answers come in the order she asked."""
    import threading

    fake = polling
    gate = threading.Event()
    handle_text = live_core.handle_text

    def slow_for_anna(**kwargs: object) -> list[Reply]:
        if kwargs.get("person_id") == "anna" and kwargs.get("text") == "/help":
            gate.wait(20)
        return handle_text(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(live_core, "handle_text", slow_for_anna)
    fake.push_update(tg.private_message(ANNA, "/help"))
    fake.push_update(tg.private_message(ANNA, "/digest"))
    fake.push_update(tg.private_message(SARA, "/help"))
    await bot_said(fake, SARA, "/leavers")
    assert texts(fake, ANNA) == []  # still busy with her first
    gate.set()
    await eventually(lambda: len(texts(fake, ANNA)) >= 2)
    assert "/leavers" in texts(fake, ANNA)[0]  # her /help first, then the digest


async def test_a_pressed_button_is_answered_before_the_work_is_done(
    live_core: Core, polling: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The presser's button stops spinning at once; what the work says follows."""
    import threading

    fake = polling
    gate = threading.Event()
    handle_action = live_core.handle_action

    def slow(**kwargs: object) -> list[Reply]:
        gate.wait(20)
        return handle_action(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(live_core, "handle_action", slow)
    fake.add_private_chat(ANNA)
    fake.push_update(tg.callback_query(ANNA, "help"))
    await eventually(lambda: len(fake.callback_answers()) == 1)
    assert texts(fake, ANNA) == []  # answered while the work had not even started
    gate.set()
    await eventually(lambda: bool(texts(fake, ANNA)))


async def test_a_press_is_answered_while_an_earlier_update_of_its_chat_is_worked_on(
    live_core: Core, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Henk asks for help, which is slow this time, and presses Claim on a card meanwhile
    (webhook mode): his button stops spinning at once, and what the Claim does (the card
    edited, his reply) still comes after the help, in the order he asked."""
    import threading

    from tests.factories import make_leaver
    from tests.handlers.telegram.test_real_groups import webhook_settings

    fake = fake_telegram
    fake.add_private_chat(HENK)
    case = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    gate = threading.Event()
    handle_text = live_core.handle_text

    def slow_help(**kwargs: object) -> list[Reply]:
        if kwargs.get("text") == "/help":
            gate.wait(20)
        return handle_text(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(live_core, "handle_text", slow_help)
    async with running(live_core, webhook_settings(fake), fake):
        fake.push_update(tg.private_message(HENK, f"/case {case.ref}"))
        await eventually(lambda: any(m.buttons for m in fake.chat_view(HENK) if m.from_bot))
        card = next(m for m in fake.chat_view(HENK) if m.from_bot and m.buttons)
        claim = next(
            b["callback_data"]
            for row in card.buttons
            for b in row
            if b["callback_data"].startswith("claim:")
        )
        fake.push_update(tg.private_message(HENK, "/help"))
        press = fake.push_update(tg.callback_query(HENK, claim, message=card.message))
        await eventually(lambda: len(fake.callback_answers()) == 1)
        answer = fake.callback_answers()[0]
        assert answer.params["callback_query_id"] == press["callback_query"]["id"]
        assert "text" not in answer.params  # nothing to say: the work says it
        help_title, claimed = "Wat je kunt doen", f"Je bent nu casushouder van casus {case.ref}"
        assert not any(help_title in t for t in texts(fake, HENK))  # help still worked on
        assert fake.edits(HENK) == []
        gate.set()
        await bot_said(fake, HENK, claimed)
        shown = texts(fake, HENK)
    helped = next(i for i, t in enumerate(shown) if help_title in t)
    assert helped < shown.index(claimed + ".")  # the help first, then the Claim's reply
    edited = next(m for m in fake.chat_view(HENK) if m.message_id == card.message_id)
    assert not any(b["callback_data"].startswith("claim:") for row in edited.buttons for b in row)
    assert fake.edits(HENK)[0].at > answer.at
    assert len(fake.callback_answers()) == 1  # answered once


async def test_a_press_whose_answer_has_something_to_say_says_it(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    """A button that no longer works, and a stranger's press: their answers carry the words
    (a stranger is told why; a stale button says so), each answered once."""
    from tests.handlers.telegram.test_real_groups import webhook_settings

    fake = fake_telegram
    stranger = 9_999_001
    for person in (ANNA, stranger):
        fake.add_private_chat(person)
    async with running(live_core, webhook_settings(fake), fake):
        fake.push_update(tg.callback_query(ANNA, "~unknownunknown1"))
        fake.push_update(tg.callback_query(stranger, "help"))
        await eventually(lambda: len(fake.callback_answers()) == 2)
        await bot_said(fake, stranger, "adresboek")
    said = sorted(str(c.params.get("text")) for c in fake.callback_answers())
    assert said[0] == "Die knop werkt niet meer. Typ /help."
    assert "je staat niet in het adresboek" in said[1]


async def test_a_press_answered_before_a_kill_is_worked_on_after_the_restart(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    """What a kill -9 right after a press was answered first leaves: its update recorded and
    not handled, its query answered (Telegram refuses a second answer). After the restart
    the Claim is done all the same."""
    from tests.factories import make_leaver
    from tests.handlers.telegram.conftest import telegram_bot

    fake = fake_telegram
    fake.add_private_chat(HENK)
    case = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    async with telegram_bot(fake) as earlier:  # the card the process before showed him
        await earlier.send_message(HENK, f"Casus {case.ref}")
    card = fake.chat_view(HENK)[-1]
    press = tg.callback_query(HENK, f"claim:{case.ref}", message=card.message)
    press["update_id"] = 990_001
    inbox.record(live_core.engine, [press])  # (never pushed: its query is closed to the fake)
    async with running(live_core, telegram_settings(fake), fake):
        await bot_said(fake, HENK, f"Je bent nu casushouder van casus {case.ref}")
    assert fake.callback_answers() == []  # (the answer before the kill counted)
