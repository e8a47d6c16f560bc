"""The Participatiescan in a Slack channel, against the fake Web API: the facilitator's
commands and the voters' buttons in the channel, the voting message edited in place with the
count (never a new message per vote, never who voted what), each voter's own answer ephemeral,
the results with their chart and the agenda in the channel, the form and the owners' actions
in direct messages."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import select

from bot.core import clock
from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.core.scan.content import load_scan_content
from bot.handlers.slack.sending import SlackSender
from bot.handlers.slack.services import SlackServices
from bot.store.db import session_scope
from bot.store.models import Person
from tests.handlers.slack.conftest import BOT_TOKEN, SlackRig, running_slack, slack_settings
from tests.handlers.slack.factories import make_block_action, make_dm, make_slash_command
from tests.handlers.slack.fake_slack import Call, FakeSlack, eventually
from tests.handlers.slack.scenario import buttons_of, nl, nl_n, text_of

CHANNEL = "C0SCAN"
ANNA = "U01ANNA"  # the coordinator: facilitates
WIM, FATIMA, SARA, BRAM = "U01WIM", "U01FATIMA", "U01SARA", "U01BRAM"
VOTER_NAMES = ("Wim Jansen", "Fatima El Amrani", "Sara Smit", "Bram Bakker")
_names = itertools.count(1)

# marks of theme 1 (factors 1–5), in the order wim, fatima, sara, bram
THEME_1 = {1: [7, 8, 6, 7], 2: [4, 5, 6, 4], 3: [5, 5, 5, 5], 4: [3, 8, 2, 9], 5: [9, 9, 8, 9]}
# counted by hand: the average and the population standard deviation, one decimal
HAND_COUNT = {
    0: ("6,5", "1,1"),  # 8 (wim changed 6 to 8), 7, 5, 6
    1: ("7,0", "0,7"),
    2: ("4,8", "0,8"),  # 4.75
    3: ("5,0", "0,0"),
    4: ("5,5", "3,0"),
    5: ("8,8", "0,4"),  # 8.75
}


@pytest.fixture(autouse=True)
def sara_on_slack(live_core: Core) -> None:
    """Sara of the demo region is on Telegram only; here she has a Slack account too."""
    with session_scope(live_core.engine) as session:
        sara = session.exec(select(Person).where(Person.id == "sara")).one()
        sara.slack_id = SARA
        session.add(sara)


class Room:
    """A channel where a scan runs: typing commands, pressing buttons, reading messages."""

    def __init__(self, rig: SlackRig, channel: str = CHANNEL) -> None:
        self.rig = rig
        self.fake = rig.fake
        self.channel = channel

    async def command(self, line: str, user: str = ANNA) -> str:
        name = f"cmd{next(_names)}"
        url = self.fake.response_url(name)
        response = await self.rig.post(
            make_slash_command(line, user=user, channel=self.channel, response_url=url)
        )
        assert response.status_code == 200
        return name

    async def press(self, value: str, user: str, *, answered: bool = True) -> list[Call]:
        """Press the button `value` of a message in the channel; its ephemeral answers."""
        name = f"press{next(_names)}"
        action_id = self.action_ids()[value]
        response = await self.rig.post(
            make_block_action(
                value,
                user=user,
                channel=self.channel,
                action_id=action_id,
                response_url=self.fake.response_url(name),
            )
        )
        assert response.status_code == 200
        if answered:
            await eventually(lambda: bool(self.fake.responses(name)))
        return self.fake.responses(name)

    async def stop(self) -> None:
        """/scan stop, and "Stoppen" pressed in the question it asks first."""
        await self.confirmed("/scan stop")

    async def confirmed(self, line: str) -> None:
        """/scan stop, next or close, and its question to the facilitator answered with a yes
        when one is asked (the stop's, or "nobody voted yet")."""
        posted = len(self.posts())
        name = await self.command(line)
        await eventually(lambda: bool(self.fake.responses(name)) or len(self.posts()) > posted)
        what = line.split()[-1]
        asked = [v for r in self.fake.responses(name) for v in buttons_of(r) if v.startswith("sk:")]
        value = next((v for v in asked if v.endswith(f":{what}")), None)
        if value is None:  # nothing was asked: it was done
            return
        question = next(r for r in self.fake.responses(name) if value in buttons_of(r))
        response = await self.rig.post(
            make_block_action(
                value,
                user=ANNA,
                channel=self.channel,
                action_id=buttons_of(question)[value],
                response_url=self.fake.response_url(f"{name}-{what}"),
                ephemeral=True,
            )
        )
        assert response.status_code == 200

    def action_ids(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for call in self.posts() + self.fake.updated(self.channel):
            found |= buttons_of(call)
        return found

    def posts(self) -> list[Call]:
        return self.fake.posted(self.channel)

    def with_buttons(self, kind: str) -> list[Call]:
        return [p for p in self.posts() if any(v.startswith(kind) for v in buttons_of(p))]

    def shown(self, post: Call) -> Call:
        """What the message `post` shows now: its last edit, or itself."""
        ts = post_ts(self.fake, post)
        edits = [u for u in self.fake.updated(self.channel) if u.body.get("ts") == ts]
        return edits[-1] if edits else post

    async def vote(self, message: Call, user: str, mark: int) -> Call:
        value = next(
            v for v in buttons_of(message) if v.startswith("sv:") and v.endswith(f":{mark}")
        )
        answers = await self.press(value, user)  # (a voter not seated is asked for a group)
        return answers[0]


def post_ts(fake: FakeSlack, post: Call) -> str:
    """The ts Slack gave a posted message: its id in the channel."""
    return str(post.answer["ts"])


def said_to(user: str, message: str, **params: object) -> str:
    """What `user` reads: Bram of the demo region speaks English, the others Dutch."""
    return translator("en" if user == BRAM else "nl")(message, **params)


def is_ephemeral_answer(call: Call) -> bool:
    return call.body.get("response_type") == "ephemeral" and call.body.get("replace_original") in (
        False,
        "false",
    )


def votes_so_far(n: int) -> str:
    return nl("Votes so far: {n}. You can change your mark until the factor is closed.", n=n)


def result_line(number: int) -> str:
    avg, spread = HAND_COUNT[number]
    return nl_n(
        "average {avg} · spread {spread} · {n} vote",
        "average {avg} · spread {spread} · {n} votes",
        4,
        avg=avg,
        spread=spread,
    )


async def start(room: Room) -> Call:
    """/scan start: the welcome, who is at the table, the warm-up; the warm-up's message."""
    await room.command("/scan start")
    await eventually(lambda: len(room.with_buttons("sv:")) == 1)
    return room.with_buttons("sv:")[0]


async def next_factor(room: Room) -> Call:
    before = len(room.with_buttons("sv:"))
    await room.confirmed("/scan next")
    await eventually(lambda: len(room.with_buttons("sv:")) == before + 1)
    return room.with_buttons("sv:")[-1]


async def test_a_whole_scan_in_a_channel(slack: SlackRig) -> None:
    room = Room(slack)
    fake = slack.fake
    warmup = await start(room)
    assert len(room.posts()) == 3  # welcome, who is at the table, the warm-up
    assert nl("Warm-up question") in text_of(warmup)

    # four marks, each answered to the voter alone; wim changes his
    for user, mark in ((WIM, 6), (FATIMA, 7), (SARA, 5), (BRAM, 6)):
        answer = await room.vote(warmup, user, mark)
        assert is_ephemeral_answer(answer)
        recorded = said_to(user, "Your mark {mark} is recorded. Only you see this.", mark=mark)
        assert recorded in text_of(answer)
    changed = await room.vote(warmup, WIM, 8)
    assert nl("Your mark is now {mark}. Only you see this.", mark=8) in text_of(changed)
    await eventually(lambda: votes_so_far(4) in text_of(room.shown(warmup)))
    assert len(room.posts()) == 3  # edited in place: never a new message per vote
    assert 1 <= len(fake.updated(CHANNEL)) <= 5

    # closed: the message loses its buttons; a late vote is refused to the voter alone
    await room.command("/scan close")
    closed = nl_n("Voting closed: {n} vote.", "Voting closed: {n} votes.", 4)
    await eventually(lambda: closed in text_of(room.shown(warmup)))
    assert buttons_of(room.shown(warmup)) == {}
    edits = len(fake.updated(CHANNEL))
    late = await room.vote(warmup, BRAM, 3)
    assert is_ephemeral_answer(late)
    refused = said_to(BRAM, "Voting on this question is closed; your mark was not recorded.")
    assert refused in text_of(late)
    assert (len(room.posts()), len(fake.updated(CHANNEL))) == (3, edits)

    # theme 1: five factors
    for number, marks in THEME_1.items():
        message = await next_factor(room)
        assert f"{number} " in text_of(message)
        for user, mark in zip((WIM, FATIMA, SARA, BRAM), marks, strict=True):
            await room.vote(message, user, mark)
        await eventually(lambda m=message: votes_so_far(4) in text_of(room.shown(m)))  # type: ignore[misc]
    votes_shown = [text_of(c) for c in room.posts() + fake.updated(CHANNEL)]
    for name in VOTER_NAMES:  # never who voted what
        assert not any(name in shown for shown in votes_shown)

    # the theme's end: its results with a chart, and the points to vote on
    await room.command("/scan next")
    await eventually(lambda: bool(room.with_buttons("sp:")))
    results = next(p for p in room.posts() if nl("Results: {theme}", theme="") in text_of(p))
    for number in range(1, 6):
        assert result_line(number) in text_of(results)
    await eventually(lambda: bool(fake.calls_to("files.completeUploadExternal")))
    assert fake.calls_to("files.completeUploadExternal")[-1].body["channel_id"] == CHANNEL

    points = room.with_buttons("sp:")[0]
    point_4 = next(v for v in buttons_of(points) if v.startswith("sp:") and v.endswith(":4"))
    for user in (WIM, FATIMA):
        (answer,) = await room.press(point_4, user)
        assert is_ephemeral_answer(answer)
        assert nl("Your vote for point {n} is recorded.", n=4) in text_of(answer)
    posted = len(room.posts())
    title = load_scan_content("nl").factor(4).title  # type: ignore[union-attr]
    counted = nl_n(
        "{number}. {title}: {n} vote", "{number}. {title}: {n} votes", 2, number=4, title=title
    )
    await eventually(lambda: counted in text_of(room.shown(points)))

    # the facilitator chooses point 4; the form comes in her direct message
    choose = next(
        v for v in buttons_of(room.shown(points)) if v.startswith("sc:") and v.endswith(":4")
    )
    await room.press(choose, ANNA, answered=False)
    chosen = nl(
        "Point {n} is chosen. {name} fills in its action, owner and date in a private chat.",
        n=4,
        name="Anna de Vries",
    )
    await eventually(lambda: any(chosen in text_of(p) for p in room.posts()))
    assert len(room.posts()) == posted + 1  # the notice; the points message was edited
    question = nl("What will be done about this point? One or two sentences.")
    await eventually(lambda: any(question in text_of(p) for p in fake.posted("D01ANNA")))
    assert not any(question in text_of(p) for p in room.posts())
    due = (clock.today(ZoneInfo("Europe/Amsterdam")) + timedelta(days=90)).isoformat()
    for answer_text in ("Werkgevers één loket geven", "wim", due, "confirm"):
        seen = len(fake.posted("D01ANNA"))
        await slack.post(make_dm(answer_text, user=ANNA))
        await eventually(lambda n=seen: len(fake.posted("D01ANNA")) > n)  # type: ignore[misc]

    # the end (asked first): results, the agenda and a closing line in the channel
    await room.stop()
    agenda = nl("Improvement agenda")
    await eventually(lambda: any(agenda in text_of(p) for p in room.posts()))
    final = next(p for p in room.posts() if nl("Results of the scan") in text_of(p))
    for number in range(6):
        assert result_line(number) in text_of(final)
    shown_agenda = next(p for p in room.posts() if agenda in text_of(p))
    assert "Werkgevers één loket geven" in text_of(shown_agenda)
    await eventually(
        lambda: any("Werkgevers één loket geven" in text_of(p) for p in fake.posted("D01WIM"))
    )
    assert fake.invalid == []


async def test_two_scans_in_two_channels_keep_their_votes_and_messages_apart(
    slack: SlackRig,
) -> None:
    first, second = Room(slack, "C0SCAN"), Room(slack, "C0OTHER")
    one, two = await start(first), await start(second)
    await first.vote(one, WIM, 3)
    await second.vote(two, WIM, 9)
    await second.vote(two, FATIMA, 9)
    await eventually(lambda: votes_so_far(1) in text_of(first.shown(one)))
    await eventually(lambda: votes_so_far(2) in text_of(second.shown(two)))
    assert all(u.body["ts"] == post_ts(slack.fake, one) for u in slack.fake.updated("C0SCAN"))
    assert all(u.body["ts"] == post_ts(slack.fake, two) for u in slack.fake.updated("C0OTHER"))
    for room, message, average, votes in ((first, one, "3,0", 1), (second, two, "9,0", 2)):
        await room.command("/scan close")  # open, a question shows its count only
        closed = nl_n("Voting closed: {n} vote.", "Voting closed: {n} votes.", votes)
        await eventually(lambda r=room, m=message, c=closed: c in text_of(r.shown(m)))  # type: ignore[misc]
        await room.command("/scan results")
        line = nl_n(
            "average {avg} · spread {spread} · {n} vote",
            "average {avg} · spread {spread} · {n} votes",
            votes,
            avg=average,
            spread="0,0",
        )
        await eventually(lambda r=room, x=line: any(x in text_of(p) for p in r.posts()))  # type: ignore[misc]


async def test_a_restart_mid_session_still_edits_the_same_message(
    live_core: Core, fake: FakeSlack
) -> None:
    async with httpx.AsyncClient(timeout=10.0) as http:
        async with running_slack(live_core, slack_settings(fake)) as url:
            room = Room(SlackRig(core=live_core, fake=fake, url=url, http=http))
            warmup = await start(room)
            await room.vote(warmup, WIM, 7)
            await eventually(lambda: votes_so_far(1) in text_of(room.shown(warmup)))
        # a new server (a new instance) on the same database
        async with running_slack(live_core, slack_settings(fake)) as url:
            room = Room(SlackRig(core=live_core, fake=fake, url=url, http=http))
            await room.vote(warmup, FATIMA, 8)
            await eventually(lambda: votes_so_far(2) in text_of(room.shown(warmup)))
            assert len(room.posts()) == 3
            assert {u.body["ts"] for u in fake.updated(CHANNEL)} == {post_ts(fake, warmup)}


async def test_a_channel_the_bot_is_not_in_gets_the_invitation_asked_ephemerally(
    slack: SlackRig,
) -> None:
    slack.fake.not_member.add("C0CLOSED")
    room = Room(slack, "C0CLOSED")
    name = await room.command("/scan start")
    invite = nl(
        "I am not a member of this channel, so I cannot post here. "
        "Invite me with /invite @Vangnet, then try again."
    )
    await eventually(lambda: any(invite in text_of(r) for r in slack.fake.responses(name)))
    assert all(is_ephemeral_answer(r) for r in slack.fake.responses(name))
    assert room.posts() == []
    # invited, the facilitator tries again: the voting message is shown in the channel
    slack.fake.not_member.discard("C0CLOSED")
    await room.command("/scan start")
    await eventually(lambda: any(nl("Warm-up question") in text_of(p) for p in room.posts()))


@pytest.fixture
async def sender(live_core: Core, fake: FakeSlack) -> AsyncIterator[SlackSender]:
    from slack_sdk.web.async_client import AsyncWebClient

    services = await SlackServices.open()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url, session=services.session)
    yield SlackSender(client, services, live_core.engine)
    await services.aclose()


async def test_many_counts_at_once_become_few_edits_showing_the_last(
    sender: SlackSender, fake: FakeSlack
) -> None:
    def count(n: int) -> Reply:
        return Reply(text=f"votes: {n}", to_place=True, updates="scan:1:f0")

    await sender.to_place(CHANNEL, [count(0)], user=ANNA, t=translator("nl"))
    for n in range(1, 11):
        await sender.to_place(CHANNEL, [count(n)], user=ANNA, t=translator("nl"))
    await sender.flush()
    assert len(fake.posted(CHANNEL)) == 1
    edits = fake.updated(CHANNEL)
    assert 1 <= len(edits) <= 2  # coalesced: not one edit per count
    assert "votes: 10" in text_of(edits[-1])


async def test_a_personal_reply_for_the_place_is_never_posted_in_the_channel(
    sender: SlackSender, fake: FakeSlack
) -> None:
    secret = Reply(text="Jongere: Sam de Vries", personal=True, to_place=True)
    await sender.to_place(CHANNEL, [secret], user=ANNA, t=translator("nl"))
    assert not any("Sam de Vries" in text_of(p) for p in fake.posted(CHANNEL))
    assert any("Sam de Vries" in text_of(p) for p in fake.posted("D01ANNA"))


def button_labels(call: Call) -> list[str]:
    return [
        e["text"]["text"]
        for b in call.body.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    ]


async def test_after_the_scan_its_list_report_and_the_owners_progress_buttons(
    slack: SlackRig,
) -> None:
    """After /scan stop: /scan list to the asker, /scan report as a PDF in the channel, the
    action's summary in the facilitator's words ("Trekker", "Uiterlijk: 1 maart 2027"), and
    the owner's progress buttons capitalised."""
    from babel.dates import format_date

    from bot.core.sweeps import run_sweep
    from bot.store.models import Task

    room = Room(slack)
    fake = slack.fake
    await start(room)
    factor_1 = await next_factor(room)
    await room.vote(factor_1, WIM, 5)
    for _ in range(4):
        await next_factor(room)
    await room.confirmed("/scan next")  # theme 1 ends: factor 1, the only one marked, proposed
    await eventually(lambda: bool(room.with_buttons("sp:")))
    await room.command("/scan choose 1")
    question = nl("What will be done about this point? One or two sentences.")
    await eventually(lambda: any(question in text_of(p) for p in fake.posted("D01ANNA")))
    due = clock.today(ZoneInfo("Europe/Amsterdam")) + timedelta(days=400)
    for answer_text in ("Stageplekken bundelen", "wim", due.isoformat()):
        seen = len(fake.posted("D01ANNA"))
        await slack.post(make_dm(answer_text, user=ANNA))
        await eventually(lambda n=seen: len(fake.posted("D01ANNA")) > n)  # type: ignore[misc]
    summary = text_of(fake.posted("D01ANNA")[-1])
    assert "Trekker" in summary and "Casushouder" not in summary
    assert "Uiterlijk" in summary and format_date(due, "d MMMM yyyy", locale="nl") in summary
    seen = len(fake.posted("D01ANNA"))
    await slack.post(make_dm("confirm", user=ANNA))
    await eventually(lambda: len(fake.posted("D01ANNA")) > seen)
    await room.stop()
    await eventually(lambda: any(nl("Improvement agenda") in text_of(p) for p in room.posts()))

    listed = await room.command("/scan list", user=SARA)
    await eventually(lambda: bool(fake.responses(listed)))
    shown = text_of(fake.responses(listed)[0])
    assert nl("Participatiescans held here") in shown and "Scan 1 — " in shown
    assert not any(nl("Participatiescans held here") in text_of(p) for p in room.posts())

    await room.command("/scan report", user=SARA)
    await eventually(
        lambda: any(
            str(c.body.get("filename", "")).endswith(".pdf")
            for c in fake.calls_to("files.getUploadURLExternal")
        )
    )
    await eventually(lambda: bool(fake.calls_to("files.completeUploadExternal")))
    assert fake.calls_to("files.completeUploadExternal")[-1].body["channel_id"] == CHANNEL
    said = nl("The report of scan {n} as a PDF, for the minutes and the board.", n=1)
    await eventually(lambda: any(said in text_of(p) for p in room.posts()))

    # the follow-up falls due: the owner's question has capitalised buttons
    with session_scope(slack.core.engine) as session:
        task = session.exec(select(Task).where(Task.kind == "scan_followup")).one()
        task.due_at = clock.now()
        session.add(task)
    run_sweep(slack.core)
    asked = nl("How is this action going?")
    await eventually(lambda: any(asked in text_of(p) for p in fake.posted("D01WIM")))
    question_call = next(p for p in fake.posted("D01WIM") if asked in text_of(p))
    assert button_labels(question_call) == ["Klaar", "Onderweg", "Vastgelopen"]
    assert fake.invalid == []


async def test_a_second_scan_in_the_channel_offers_the_previous_table_and_compares(
    slack: SlackRig,
) -> None:
    room = Room(slack)
    fake = slack.fake
    warmup = await start(room)
    await room.command("/scan group wim scholen")
    await room.vote(warmup, WIM, 4)
    await room.stop()
    closed = nl("The scan is closed. There are no actions on the agenda.")
    await eventually(lambda: any(closed in text_of(p) for p in room.posts()))

    second = len(room.posts())
    await room.command("/scan start")
    await eventually(lambda: len(room.with_buttons("sv:")) == 2)
    offer = next(p for p in room.posts()[second:] if buttons_of(p).keys() & {"st:2:same"})
    assert nl("Last time at the table (scan {n})", n=1) in text_of(offer)
    assert "Wim Jansen" in text_of(offer)
    from babel.dates import format_date

    today = format_date(clock.today(ZoneInfo("Europe/Amsterdam")), "d MMMM yyyy", locale="nl")
    review = nl("Where the agenda of scan {n} ({date}) stands", n=1, date=today)
    ended = nl("That scan ended without actions on its agenda.")
    assert any(review in text_of(p) and ended in text_of(p) for p in room.posts()[second:])
    await room.press("st:2:same", ANNA, answered=False)
    same = nl("The same table as scan {n}.", n=1)
    await eventually(lambda: same in text_of(room.shown(offer)))
    assert buttons_of(room.shown(offer)) == {}  # the offer is answered in place
    table = nl("Who is at the table")
    seated = next(p for p in room.posts()[second:] if table in text_of(p))
    await eventually(lambda: "Wim Jansen" in text_of(room.shown(seated)))  # edited in place

    await room.vote(room.with_buttons("sv:")[-1], WIM, 8)
    uploads = len(fake.calls_to("files.completeUploadExternal"))
    await room.command("/scan compare 1 2")
    title = "Scan 2 ("
    await eventually(lambda: any(title in text_of(p) for p in room.posts()))
    compared = next(p for p in room.posts() if title in text_of(p))
    assert "4,0 → 8,0 (+4,0)" in text_of(compared)
    assert len(fake.calls_to("files.completeUploadExternal")) == uploads  # no factor: no chart
    assert fake.invalid == []
