"""The Participatiescan in a Telegram group, against the fake Bot API: the facilitator's
commands in the group, the voters' buttons pressed there, the voting message edited in place
with the count (never a new message per vote, never who voted what), each voter's own answer
in the callback query's answer (seen by them alone), the results with their chart in the
group, and the same message edited after a restart."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine
from telegram import Bot

from bot.core.app import Core
from bot.core.directory import sync_region
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.handlers.telegram.sending import TelegramSender
from bot.region import Region
from bot.store.db import session_scope
from tests.handlers.telegram import factories as tg
from tests.handlers.telegram.fake_telegram import Call, FakeTelegram, Shown, eventually
from tests.handlers.telegram.rig import running, telegram_settings

GROUP = -1005550001
ANNA, SARA, HENK, DIRK = 1001, 1003, 1004, 1009  # anna coordinates: she facilitates
VOTER_NAMES = ("Sara Smit", "Henk Mulder", "Dirk Meijer")
nl = translator("nl")
nl_n = nl.tn


@pytest.fixture
def live_core(engine: Engine, region: Region) -> Core:
    with session_scope(engine) as session:
        sync_region(session, region)
    return Core(engine=engine, region=region, default_language="nl")


@pytest.fixture
async def polling(live_core: Core, fake_telegram: FakeTelegram) -> AsyncIterator[FakeTelegram]:
    async with running(live_core, telegram_settings(fake_telegram), fake_telegram):
        yield fake_telegram


def in_group(fake: FakeTelegram) -> list[Shown]:
    """The bot's messages in the group as they show now."""
    return [m for m in fake.chat_view(GROUP) if m.from_bot]


def shown(fake: FakeTelegram, message_id: int) -> Shown:
    return next(m for m in fake.chat_view(GROUP) if m.message_id == message_id)


def with_marks(fake: FakeTelegram) -> list[Shown]:
    return [m for m in in_group(fake) if any(d.startswith("sv:") for d in data_of(m))]


def data_of(message: Shown) -> list[str]:
    return [b.get("callback_data", "") for row in message.buttons for b in row]


def mark_button(message: Shown, mark: int) -> str:
    return next(d for d in data_of(message) if d.startswith("sv:") and d.endswith(f":{mark}"))


def votes_so_far(n: int) -> str:
    return nl("Votes so far: {n}. You can change your mark until the factor is closed.", n=n)


async def command(fake: FakeTelegram, line: str) -> None:
    fake.push_update(tg.group_message(GROUP, ANNA, line))


async def press(fake: FakeTelegram, user: int, data: str, message: Shown) -> Call:
    """Press a button of a message in the group; the callback query's answer."""
    query = fake.push_update(tg.callback_query(user, data, message=message.message))
    query_id = query["callback_query"]["id"]

    def answered() -> list[Call]:
        return [c for c in fake.callback_answers() if c.params.get("callback_query_id") == query_id]

    await eventually(lambda: bool(answered()))
    return answered()[0]


async def vote(fake: FakeTelegram, user: int, message: Shown, mark: int) -> str:
    answer = await press(fake, user, mark_button(message, mark), message)
    assert answer.params.get("show_alert") in (None, False, "false")
    return str(answer.params.get("text") or "")


async def start(fake: FakeTelegram) -> Shown:
    """/scan start in the group: the welcome, who is at the table, the warm-up's message."""
    await command(fake, "/scan start")
    await eventually(lambda: len(with_marks(fake)) == 1)
    return with_marks(fake)[0]


async def test_a_scan_in_a_group_edits_one_message_and_answers_each_voter_alone(
    polling: FakeTelegram,
) -> None:
    fake = polling
    warmup = await start(fake)
    assert len(in_group(fake)) == 3  # welcome, who is at the table, the warm-up
    assert nl("Warm-up question") in warmup.text

    for user, mark in ((SARA, 6), (HENK, 7), (DIRK, 5)):
        answer = await vote(fake, user, warmup, mark)
        assert answer == nl("Your mark {mark} is recorded. Only you see this.", mark=mark)
    changed = await vote(fake, SARA, warmup, 8)
    assert changed == nl("Your mark is now {mark}. Only you see this.", mark=8)
    await eventually(lambda: votes_so_far(3) in shown(fake, warmup.message_id).text)
    assert len(in_group(fake)) == 3  # edited in place: never a new message per vote
    assert 1 <= len(fake.edits(GROUP)) <= 4
    assert {c.params["message_id"] for c in fake.edits(GROUP)} == {warmup.message_id}
    for voter in (SARA, HENK, DIRK):  # their marks went nowhere but the callback answer;
        # not seated yet, each is asked privately for their group once, where the bot can
        asked = [m.text for m in fake.sent_messages(voter)]
        assert asked in ([], [nl("For which group do you sit at the table?")])

    # closed: the message loses its buttons; a late vote is refused to the voter alone
    before_closing = copy.deepcopy(warmup)  # `warmup` shows the message as edited
    await command(fake, "/scan close")
    closed = nl_n("Voting closed: {n} vote.", "Voting closed: {n} votes.", 3)
    await eventually(lambda: closed in shown(fake, warmup.message_id).text)
    assert shown(fake, warmup.message_id).buttons == []
    edits = len(fake.edits(GROUP))
    late = await vote(fake, HENK, before_closing, 3)
    assert late == nl("Voting on this question is closed; your mark was not recorded.")
    assert (len(in_group(fake)), len(fake.edits(GROUP))) == (3, edits)

    # the next factor: a new message, counted in place too
    await command(fake, "/scan next")
    await eventually(lambda: len(in_group(fake)) == 4 and bool(with_marks(fake)))
    factor = with_marks(fake)[0]
    assert len(in_group(fake)) == 4
    for user, mark in ((SARA, 4), (HENK, 6), (DIRK, 8)):
        await vote(fake, user, factor, mark)
    await eventually(lambda: votes_so_far(3) in shown(fake, factor.message_id).text)
    assert len(in_group(fake)) == 4

    # closed, the results with their chart: a photo in the group (while a factor is open
    # only its count shows)
    await command(fake, "/scan close")
    await eventually(lambda: closed in shown(fake, factor.message_id).text)
    await command(fake, "/scan results")
    await eventually(lambda: any(m.kind == "photo" for m in in_group(fake)))
    photo = next(m for m in in_group(fake) if m.kind == "photo")
    assert nl("Results so far") in photo.text
    average = nl_n(
        "average {avg} · spread {spread} · {n} vote",
        "average {avg} · spread {spread} · {n} votes",
        3,
        avg="6,0",
        spread="1,6",
    )
    assert average in photo.text
    assert photo.content

    said = [m.text for m in in_group(fake)] + [str(c.params.get("text")) for c in fake.edits()]
    for name in VOTER_NAMES:  # never who voted what
        assert not any(name in text for text in said)
    # only the group questions to voters without a private chat with the bot were refused
    asked = nl("For which group do you sit at the table?")
    assert all(c.params.get("text") == asked for c in fake.failed())


async def test_a_restart_mid_session_still_edits_the_same_message(
    live_core: Core, fake_telegram: FakeTelegram
) -> None:
    fake = fake_telegram
    async with running(live_core, telegram_settings(fake), fake):
        warmup = await start(fake)
        await vote(fake, SARA, warmup, 7)
        await eventually(lambda: votes_so_far(1) in shown(fake, warmup.message_id).text)
    # a new Application (a new instance) on the same database
    async with running(live_core, telegram_settings(fake), fake):
        await vote(fake, HENK, warmup, 8)
        await eventually(lambda: votes_so_far(2) in shown(fake, warmup.message_id).text)
        assert len(in_group(fake)) == 3
        assert {c.params["message_id"] for c in fake.edits(GROUP)} == {warmup.message_id}


async def test_many_counts_at_once_become_few_edits_showing_the_last(
    live_core: Core, bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_group(GROUP)
    sender = TelegramSender(bot, live_core.engine)

    def count(n: int) -> Reply:
        return Reply(text=f"votes: {n}", to_place=True, updates="scan:1:f0")

    for n in range(11):
        await sender.in_group(GROUP, [count(n)])
    await sender.flush()
    assert len(in_group(fake_telegram)) == 1
    edits = fake_telegram.edits(GROUP)
    assert 1 <= len(edits) <= 2  # coalesced: not one edit per count
    assert in_group(fake_telegram)[0].text == "votes: 10"


async def test_after_the_scan_its_agenda_and_its_pdf_report_come_in_the_group(
    polling: FakeTelegram,
) -> None:
    fake = polling
    warmup = await start(fake)
    await command(fake, "/scan group sara scholen")  # seated: not asked privately
    await vote(fake, SARA, warmup, 7)
    await command(fake, "/scan stop")
    left = "Je stopt voor de eerste factor; nog 15 factoren en geen agenda."
    await eventually(lambda: any(left in m.text for m in in_group(fake)))
    question = next(m for m in in_group(fake) if left in m.text)
    await press(fake, ANNA, question.buttons[0][0]["callback_data"], question)
    closed = nl("The scan is closed. There are no actions on the agenda.")
    await eventually(lambda: any(closed in m.text for m in in_group(fake)))
    # ended: the agenda and the report are of the latest scan here
    agendas = len([m for m in in_group(fake) if nl("Improvement agenda") in m.text])
    await command(fake, "/scan agenda")
    await eventually(
        lambda: len([m for m in in_group(fake) if nl("Improvement agenda") in m.text]) > agendas
    )
    await command(fake, "/scan report")
    await eventually(lambda: any(m.kind == "document" for m in in_group(fake)))
    report = next(m for m in in_group(fake) if m.kind == "document")
    assert report.message["document"]["file_name"].startswith("participatiescan-1-")
    assert report.message["document"]["file_name"].endswith(".pdf")
    said = nl("The report of scan {n} as a PDF, for the minutes and the board.", n=1)
    assert any(said in m.text for m in in_group(fake))
    assert fake.failed() == []


async def test_a_guest_joins_by_link_votes_in_the_group_and_the_stop_asks_first(
    polling: FakeTelegram,
) -> None:
    import re

    fake = polling
    fake.push_update(tg.private_message(ANNA, "/start"))  # the facilitator has a private chat
    await eventually(lambda: bool(fake.sent_messages(ANNA)))
    warmup = await start(fake)
    await command(fake, "/scan guest Karin Bos zorg")
    # the link goes to the facilitator alone, in her private chat
    link = nl(
        "Send {name} this link: it joins their Telegram account to this scan as a guest "
        "(once, within {days} days), and to nothing else: {link}",
        name="Karin Bos",
        days=14,
        link="",
    )
    await eventually(lambda: any(link in m.text for m in fake.sent_messages(ANNA)))
    assert not any(link in m.text for m in in_group(fake))
    sent = next(m.text for m in fake.sent_messages(ANNA) if link in m.text)
    found = re.search(r"start=(\S+)", sent)
    assert found is not None
    karin = 1077
    fake.push_update(tg.start_with_payload(karin, found[1]))
    welcome = nl(
        "Welcome, {name}. You take part in the Participatiescan as a guest: give your marks "
        "with the buttons in the group.",
        name="Karin Bos",
    )
    await eventually(lambda: any(welcome in m.text for m in fake.sent_messages(karin)))
    answer = await vote(fake, karin, warmup, 6)
    assert answer == nl("Your mark {mark} is recorded. Only you see this.", mark=6)
    await eventually(lambda: "Zorg: Karin Bos" in "\n".join(m.text for m in in_group(fake)))

    # a voter not seated is asked in their private chat; one tap there seats them, and the
    # group's "who is at the table" shows it (edited in place)
    fake.push_update(tg.private_message(HENK, "/help"))
    await eventually(lambda: bool(fake.sent_messages(HENK)))
    await vote(fake, HENK, warmup, 8)
    asked = nl("For which group do you sit at the table?")
    await eventually(lambda: any(asked in m.text for m in fake.sent_messages(HENK)))
    question = next(m for m in fake.sent_messages(HENK) if asked in m.text)
    scholen = next(b for row in question.buttons for b in row if b["text"] == "Scholen")
    fake.push_update(tg.callback_query(HENK, scholen["callback_data"], message=question.message))
    tables = [m for m in in_group(fake) if nl("Who is at the table") in m.text]
    await eventually(lambda: "Scholen: Henk Mulder" in shown(fake, tables[0].message_id).text)
    assert len([m for m in in_group(fake) if nl("Who is at the table") in m.text]) == 1

    # the stop asks first (Nog ... en geen agenda), and Stoppen stops
    await command(fake, "/scan stop")
    left = "Je stopt voor de eerste factor; nog 15 factoren en geen agenda."
    await eventually(lambda: any(left in m.text for m in in_group(fake)))
    question = next(m for m in in_group(fake) if left in m.text)
    labels = [b["text"] for row in question.buttons for b in row]
    assert labels == ["Stoppen", "Doorgaan"]
    stop_data = question.buttons[0][0]["callback_data"]
    await press(fake, ANNA, stop_data, question)
    await eventually(lambda: any(nl("Results of the scan") in m.text for m in in_group(fake)))
