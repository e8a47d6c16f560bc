"""Issue 22 on Telegram: a school contact's own view (names in /leavers, /help naming the
file upload), the forecasting round answered for the whole school, and the school buttons of
`/admin add`."""

from __future__ import annotations

from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person, RoundRequest
from tests.factories import make_leaver
from tests.handlers.slack.scenario import nl
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import FakeTelegram, eventually
from tests.handlers.telegram.rig import bot_said, running, telegram_settings, texts
from tests.handlers.telegram.test_telegram_journeys import (
    ANNA,
    SARA,
    answer,
    last_with_buttons,
    press,
)

KEES = 1010


async def test_a_school_contact_sees_own_names_and_how_to_send_a_file(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    named = make_leaver(live_core, consent="given", name="Sam de Boer")
    async with running(live_core, telegram_settings(fake), fake):
        await answer(fake, SARA, "/leavers", named.ref)
        assert "Sam de Boer" in texts(fake, SARA)[-1]
        await answer(fake, SARA, "/help", "/leaver")
        shown = texts(fake, SARA)[-1]
        upload = nl("a file of leavers (CSV or Excel), sent to me in this chat: all are registered")
        assert upload in shown and "/scan" not in shown


async def test_one_contact_confirming_tells_the_other_contact_of_the_school(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    today = clock.today(live_core.region.tz)
    with session_scope(live_core.engine) as session:
        session.add(
            Person(
                id="kees",
                name="Kees Mol",
                roles=["school_contact"],
                school_id="brug",
                telegram_id=KEES,
            )
        )
        for person in ("sara", "kees"):
            session.add(
                RoundRequest(
                    round_date=today, person_id=person, school_id="brug", asked_at=clock.now()
                )
            )
    async with running(live_core, telegram_settings(fake), fake):
        for chat in (SARA, KEES):  # both have started the bot
            await answer(fake, chat, "/help", "/leaver")
        answered = len(fake.callback_answers())
        fake.push_update(tg.callback_query(SARA, f"round:complete:{today.isoformat()}"))
        await eventually(lambda: len(fake.callback_answers()) > answered)
        told = nl(
            "{name} confirmed that the list of expected leavers of {school} is complete. You get "
            "no more reminders in this round.",
            name="Sara Smit",
            school="Praktijkschool De Brug",
        )
        await bot_said(fake, KEES, told)
    with session_scope(live_core.engine) as session:
        kinds = session.exec(
            select(OutboxMessage.kind).where(OutboxMessage.person_id == "sara")
        ).all()
    assert "round_answered" not in kinds  # Sara pressed it herself


async def test_admin_add_offers_the_schools_as_buttons(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    async with running(live_core, telegram_settings(fake), fake):
        await answer(fake, ANNA, "/admin add", nl("What is the person's name?"))
        await answer(fake, ANNA, "Kees Mol", "Welke rol heeft deze persoon?")
        await answer(fake, ANNA, "schoolcontactpersoon", "Op welke school?")
        labels = [b["text"] for row in last_with_buttons(fake, ANNA).buttons for b in row]
        assert "Praktijkschool De Brug" in labels and "VSO De Vlinderboom" in labels
        await press(fake, ANNA, "VSO De Vlinderboom")
        await bot_said(fake, ANNA, nl("In which language does the bot write to them?"))
