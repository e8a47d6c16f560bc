"""`/admin` on Telegram: an export arrives as a JSON document in the coordinator's private
chat; a broker is refused."""

from __future__ import annotations

import json

from bot.core.app import Core
from tests.factories import make_leaver
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually
from tests.handlers.telegram.rig import bot_said

ANNA, HENK = 1001, 1004


async def test_export_is_a_document_and_a_broker_is_refused(
    live_core: Core, polling: FakeTelegram
) -> None:
    fake = polling
    fake.add_private_chat(ANNA)
    fake.add_private_chat(HENK)
    ref = make_leaver(live_core, consent="given", name="Jesse Voorbeeld").ref
    fake.push_update(tg.private_message(HENK, f"/admin export {ref}"))
    await bot_said(fake, HENK, "/admin")
    assert all(m.kind == "text" for m in fake.sent_messages(HENK))
    fake.push_update(tg.private_message(ANNA, f"/admin export {ref}"))
    await eventually(lambda: any(m.kind == "document" for m in fake.sent_messages(ANNA)))
    [document] = [m for m in fake.sent_messages(ANNA) if m.kind == "document"]
    assert document.message["document"]["file_name"] == f"vangnet-{ref}.json"
    assert document.content is not None
    data = json.loads(document.content)
    assert (data["ref"], data["name"]) == (ref, "Jesse Voorbeeld")
    summary = await bot_said(fake, ANNA, f"Export van casus {ref}")
    assert "Naam: Jesse Voorbeeld" in summary
