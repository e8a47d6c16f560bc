"""The Telegram transport end to end: python-telegram-bot's Application, served by
`serve(...)`, against the fake Bot API."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.handlers.common.files import MAX_CSV_BYTES
from bot.handlers.telegram.server import WEBHOOK_PATH
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Invite, OutboxMessage, Person
from tests.factories import make_leaver
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually, post_webhook
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts

SARA, HENK, ANNA, STRANGER = 1003, 1004, 1001, 777
GROUP = -1001234


async def test_start_registers_commands_and_a_stranger_gets_only_the_refusal(
    polling: FakeTelegram,
) -> None:
    fake = polling
    assert any(c["command"] == "claim" for c in fake.commands[next(iter(fake.commands))])
    fake.push_update(tg.private_message(STRANGER, "/cases"))
    await bot_said(fake, STRANGER, "niet in het adresboek")
    fake.push_update(tg.callback_query(STRANGER, "claim:ABC"))
    await eventually(lambda: len(fake.callback_answers()) == 1)
    assert len(texts(fake, STRANGER)) == 2  # the refusal, once for each; nothing else


async def test_start_welcomes_with_help_and_injection_text_shows_literally(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.push_update(tg.private_message(SARA, "/start"))
    await bot_said(fake, SARA, "Welkom bij Vangnet, Sara Smit.")
    await bot_said(fake, SARA, "/leaver")
    make_leaver(live_core, name="<b>Bold</b> & Co", consent="given")
    ref = _only_ref(live_core)
    fake.push_update(tg.private_message(SARA, f"/case {ref}"))
    card = await bot_said(fake, SARA, "<b>Bold</b> & Co")  # visible text: shown literally
    assert ref in card


async def test_claim_by_button_edits_the_card_and_claim_by_command(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_private_chat(HENK)
    first = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    second = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    fake.push_update(tg.private_message(HENK, f"/case {first.ref}"))
    await eventually(lambda: any(m.buttons for m in fake.chat_view(HENK) if m.from_bot))
    card = next(m for m in fake.chat_view(HENK) if m.from_bot and m.buttons)
    claim = next(b for row in card.buttons for b in row if b["callback_data"].startswith("claim:"))
    fake.push_update(tg.callback_query(HENK, claim["callback_data"], message=card.message))
    await eventually(lambda: len(fake.callback_answers()) == 1)
    await eventually(lambda: bool(fake.edits(HENK)))
    edited = fake.chat_view(HENK)[
        [m.message_id for m in fake.chat_view(HENK)].index(card.message_id)
    ]
    assert "Henk Mulder" in edited.text
    assert not any(
        b.get("callback_data", "").startswith("claim:") for row in edited.buttons for b in row
    )
    fake.push_update(tg.private_message(HENK, f"/claim {second.ref}"))
    await bot_said(fake, HENK, f"Je bent nu casushouder van casus {second.ref}")


async def test_a_claim_on_a_card_the_outbox_sent_edits_that_card_once(
    live_core: Core, polling: FakeTelegram
) -> None:
    """Issue 26 item 2: the outbox brings the claimed card up to date; the transport does
    not edit it as well."""
    fake = polling
    fake.add_private_chat(HENK)
    case = make_leaver(live_core, home_municipality="Hardenberg", early_leaver="yes")
    await eventually(lambda: any(m.buttons for m in fake.chat_view(HENK) if m.from_bot))
    card = next(m for m in fake.chat_view(HENK) if m.from_bot and m.buttons)
    claim = next(b for row in card.buttons for b in row if b["callback_data"].startswith("claim:"))
    fake.push_update(tg.callback_query(HENK, claim["callback_data"], message=card.message))
    await bot_said(fake, HENK, f"Je bent nu casushouder van casus {case.ref}")

    def edit_sent() -> bool:
        with session_scope(live_core.engine) as session:
            edits = session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.kind == "edit", OutboxMessage.person_id == "henk"
                )
            ).all()
            return bool(edits) and all(e.sent_at is not None for e in edits)

    await eventually(edit_sent)
    of_card = [e for e in fake.edits(HENK) if int(e.params["message_id"]) == card.message_id]
    assert len(of_card) == 1
    edited = next(m for m in fake.chat_view(HENK) if m.message_id == card.message_id)
    assert "Henk Mulder" in edited.text or f"casushouder van casus {case.ref}" in edited.text
    assert not any(
        b.get("callback_data", "").startswith("claim:") for row in edited.buttons for b in row
    )


async def test_while_the_database_is_away_a_request_is_told_so_as_on_slack(
    polling: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 26 item 2: the same words as Slack's, in the chat, the group, a button's answer."""
    from sqlalchemy.exc import OperationalError

    from bot.handlers.telegram import app as telegram_app

    def away(*_args: object) -> None:
        raise OperationalError("SELECT person", {}, Exception("connection refused"))

    fake = polling
    fake.add_private_chat(SARA)
    fake.add_group(GROUP)
    monkeypatch.setattr(telegram_app, "who_by_telegram", away)
    said = translator("nl")(
        "Vangnet cannot reach its data right now. Please try again in a minute."
    )
    assert said != "Vangnet cannot reach its data right now. Please try again in a minute."
    fake.push_update(tg.private_message(SARA, "/cases"))
    await bot_said(fake, SARA, said)
    fake.push_update(tg.group_message(GROUP, SARA, "/help"))
    await bot_said(fake, GROUP, said)
    fake.push_update(tg.callback_query(SARA, "cases:1"))
    await eventually(lambda: len(fake.callback_answers()) == 1)
    assert fake.callback_answers()[0].params.get("text") == said


def _only_ref(core: Core) -> str:
    from bot.store.models import Case

    with session_scope(core.engine) as session:
        return session.exec(select(Case.ref)).one()


async def test_a_group_command_with_personal_details_goes_privately(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_group(GROUP)
    case = make_leaver(live_core, name="Sam Geheim", consent="given")
    fake.push_update(tg.group_message(GROUP, SARA, f"/case {case.ref}"))  # never started: 403
    await bot_said(fake, GROUP, "Begin een privégesprek")
    assert not any("Sam Geheim" in t for t in texts(fake, GROUP) + texts(fake, SARA))
    fake.add_private_chat(SARA)
    fake.push_update(tg.group_message(GROUP, SARA, f"/case {case.ref}"))
    await bot_said(fake, SARA, f"Casus {case.ref}")
    await bot_said(fake, GROUP, "privébericht")
    assert not any("Sam Geheim" in t for t in texts(fake, GROUP))


async def test_an_invite_binds_once_and_a_used_or_expired_one_says_so(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_private_chat(ANNA)
    fake.push_update(tg.private_message(ANNA, "/admin invite wim"))
    link = await bot_said(fake, ANNA, "https://t.me/vangnet_test_bot?start=")
    token = link.rsplit("start=", 1)[1].split()[0]
    newcomer = 5555
    fake.push_update(tg.start_with_payload(newcomer, token))
    await bot_said(fake, newcomer, "Welkom bij Vangnet, Wim Jansen")
    with session_scope(live_core.engine) as session:
        wim = session.get(Person, "wim")
        assert wim is not None and wim.telegram_id == newcomer
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "invite_used")).one()
    fake.push_update(tg.start_with_payload(6666, token))
    await bot_said(fake, 6666, "al gebruikt")
    with session_scope(live_core.engine) as session:
        session.add(
            Invite(
                token="old-token",
                person_id="lotte",
                created_by="anna",
                created_at=clock.now() - timedelta(days=20),
                expires_at=clock.now() - timedelta(days=6),
            )
        )
    fake.push_update(tg.start_with_payload(7777, "old-token"))
    await bot_said(fake, 7777, "verlopen")
    fake.push_update(tg.private_message(ANNA, "/admin purge"))
    await bot_said(fake, ANNA, "invite PERSOON")  # the usage of /admin


async def test_a_csv_document_is_imported_and_a_wrong_one_is_refused(
    live_core: Core, polling: FakeTelegram
) -> None:
    from tests.core.intake.test_csv_import import GOOD

    fake = polling
    fake.add_file("f1", GOOD.encode(), "documents/leavers.csv")
    fake.push_update(tg.document_message(SARA, "f1", "leavers.csv", file_size=len(GOOD)))
    await bot_said(fake, SARA, "3")
    fake.add_file("f2", b"\x89PNG\r\n\x1a\n\x00\x00", "documents/photo.png")
    fetched = len(fake.calls_to("getFile"))
    fake.push_update(tg.document_message(SARA, "f2", "photo.png", "image/png", 10))
    await bot_said(fake, SARA, "Dit bestand is een afbeelding. Ik kan een CSV-bestand")
    assert len(fake.calls_to("getFile")) == fetched  # judged by its name, not fetched
    fake.push_update(tg.document_message(SARA, "f3", "big.csv", file_size=MAX_CSV_BYTES + 1))
    await bot_said(fake, SARA, "te groot")


async def test_a_workbook_is_imported_from_the_sheet_its_caption_names(
    live_core: Core, polling: FakeTelegram
) -> None:
    from tests.core.intake.test_school_files import workbook
    from tests.handlers.slack.scenario import month

    fake = polling
    rows: list[list[object]] = [
        ["Leerlingnummer", "Woonplaats", "Onderwijs", "Uitstroomdatum", "Klas"],
        ["TG-1", "Zwolle", "pro", month(6), "4A"],
    ]
    book = workbook(("Voorblad", [["Uitstroom"]]), ("Uitstroom", rows))
    fake.add_file("x1", book, "documents/lijst.xlsx")
    fake.push_update(
        tg.document_message(
            SARA,
            "x1",
            "lijst.xlsx",
            "application/vnd.ms-excel",
            len(book),
            caption="blad Uitstroom",
        )
    )
    await bot_said(fake, SARA, "Tabblad Uitstroom van de Excel-werkmap gelezen.")
    await bot_said(fake, SARA, "1 kolom overgeslagen die ik niet ken: Klas.")


async def test_outbox_pings_survive_a_429_storm_sent_once_each(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_private_chat(HENK)
    fake.fail("sendMessage", times=4, retry_after=1)
    with session_scope(live_core.engine) as session:
        for n in range(3):
            outbox.enqueue(session, person_id="henk", kind="test", reply=Reply(text=f"ping {n}"))
    await eventually(lambda: len(texts(fake, HENK)) == 3, timeout=60)
    assert sorted(texts(fake, HENK)) == ["ping 0", "ping 1", "ping 2"]

    def recorded() -> bool:  # the last post is seen a moment before it is recorded as sent
        with session_scope(live_core.engine) as session:
            rows = session.exec(select(OutboxMessage)).all()
            return all(r.sent_at is not None and r.sent_via == "telegram" for r in rows)

    await eventually(recorded)


async def test_the_webhook_refuses_a_missing_or_wrong_secret(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    settings = telegram_settings(
        fake_telegram,
        telegram_webhook_url="http://127.0.0.1:1/unused",
        telegram_webhook_secret="right-secret",
    )
    url = f"http://127.0.0.1:{settings.port}{WEBHOOK_PATH}"
    async with running(live_core, settings, fake_telegram), httpx.AsyncClient() as http:
        assert fake_telegram.webhook["secret_token"] == "right-secret"
        update = tg.private_message(STRANGER, "/help")
        fake_telegram.add_private_chat(STRANGER)
        assert (await post_webhook(url, update, None, http=http)).status_code == 401
        assert (await post_webhook(url, update, "wrong", http=http)).status_code == 401
        assert (await http.get(url.replace(WEBHOOK_PATH, "/healthz"))).status_code == 200
        assert not texts(fake_telegram, STRANGER)
        assert (await post_webhook(url, update, "right-secret", http=http)).status_code == 200
        assert (await post_webhook(url, update, "right-secret", http=http)).status_code == 200
        await bot_said(fake_telegram, STRANGER, "niet in het adresboek")
        await eventually(lambda: len(texts(fake_telegram, STRANGER)) == 1)
    assert len(texts(fake_telegram, STRANGER)) == 1  # the retried update was handled once
