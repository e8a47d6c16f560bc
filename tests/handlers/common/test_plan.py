"""The reply plan, without a platform: given what a person asked and where, where each reply
goes, what the core is told, and what a failure says (`common.plan`)."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import OperationalError

from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.handlers.common import plan
from bot.handlers.common.plan import Asked, CannotWritePrivately, Delivery, Way, plan_for, route
from bot.handlers.common.who import Who
from bot.store.crypto import WrongKey

T = translator("nl")
SENT_PRIVATELY = T("I sent you the details in a private message.")
START_PRIVATE_CHAT = T(
    "That answer holds personal details, so I only give it in a private chat. "
    "Start a private chat with me, then ask again."
)
GROUP = "telegram:-100123"
CHANNEL = "slack:C0SCAN"
CARD = Reply(title="Casus K7F2", text="Jan Jansen, 06-12345678", personal=True)
COUNT = Reply(text="3 casussen wachten op een makelaar.")
VOTES = Reply(text="2 stemmen", to_place=True, updates="scan:1:warmup")
MARK = Reply(text="Je cijfer 7 is genoteerd.")
REFUSED = Reply(text="Dat mag je niet.", error=True)
SARA = Who(
    id="sara",
    name="Sara Smit",
    language="nl",
    roles=("school_contact",),
    school_id="vlinder",
    commands=frozenset({"help", "case", "cases", "leaver", "scan"}),
)


def test_in_the_private_chat_everything_is_answered_there_and_the_core_knows_it() -> None:
    asked = plan_for(Asked(line="/case K7F2"), SARA, ephemeral=False)
    assert (asked.private, asked.place) == (True, None)
    assert route(asked, [CARD, COUNT], t=T) == [Delivery(Way.HERE, [CARD, COUNT])]


def test_a_conversation_goes_privately_from_anywhere_but_an_error_stays_where_asked() -> None:
    for where, ephemeral in ((None, False), (CHANNEL, True)):
        asked = plan_for(Asked(line="/leaver", place=where), SARA, ephemeral=ephemeral)
        question = Reply(text="Wat is de naam?", asks_text=True)
        assert route(asked, [question], t=T) == [Delivery(Way.PRIVATELY, [question])]
    # in a group everyone reads: the question privately, a note in the group
    in_group = plan_for(Asked(line="/leaver", place=GROUP), SARA, ephemeral=False)
    (privately, note) = route(in_group, [Reply(text="Wat is de naam?")], t=T)
    assert privately.way is Way.PRIVATELY and privately.replies[0].text == "Wat is de naam?"
    assert note == Delivery(Way.PLACE, [Reply(text=SENT_PRIVATELY)], place=GROUP)
    assert route(in_group, [REFUSED], t=T) == [Delivery(Way.PLACE, [REFUSED], place=GROUP)]
    # a command the person may not use starts nothing: answered where asked
    guest = Who("karin", "Karin", "nl", ("scan_guest",), None, frozenset({"help", "scan"}))
    refused = plan_for(Asked(line="/leaver"), guest, ephemeral=False)
    assert route(refused, [REFUSED], t=T) == [Delivery(Way.HERE, [REFUSED])]


def test_a_command_in_a_group_shows_personal_data_only_privately_with_a_note_there() -> None:
    asked = plan_for(Asked(line="/case K7F2", place=GROUP), SARA, ephemeral=False)
    assert (asked.private, asked.place) == (False, GROUP)
    assert route(asked, [COUNT, CARD], t=T) == [
        Delivery(Way.PRIVATELY, [CARD]),
        Delivery(Way.PLACE, [COUNT, Reply(text=SENT_PRIVATELY)], place=GROUP),
    ]
    # the bot may not write to them privately yet: the note asks them to start a chat
    assert route(asked, [COUNT, CARD], t=T, can_write_privately=False) == [
        Delivery(Way.PLACE, [COUNT, Reply(text=START_PRIVATE_CHAT)], place=GROUP)
    ]


def test_where_answers_can_be_ephemeral_own_replies_stay_with_the_asker() -> None:
    asked = plan_for(Asked(line="/case K7F2", place=CHANNEL), SARA, ephemeral=True)
    assert (asked.private, asked.place) == (True, CHANNEL)  # only the asker sees the answer
    assert route(asked, [CARD, COUNT], t=T) == [Delivery(Way.HERE, [CARD, COUNT])]
    # the scan typed in the channel is for the place: what is for everyone is posted there
    scan = plan_for(Asked(line="/scan start", place=CHANNEL), SARA, ephemeral=True)
    assert (scan.private, scan.place) == (False, CHANNEL)
    assert route(scan, [VOTES, MARK], t=T) == [
        Delivery(Way.HERE, [MARK]),
        Delivery(Way.PLACE, [VOTES], place=CHANNEL),
    ]


def test_a_vote_pressed_in_a_group_answers_the_presser_alone_and_the_group_the_count() -> None:
    asked = plan_for(Asked(action="sv:1:warmup:7", place=GROUP), SARA, ephemeral=False)
    assert (asked.private, asked.place, asked.acknowledge_first) == (False, GROUP, False)
    assert route(asked, [VOTES, MARK], t=T) == [
        Delivery(Way.ALONE, [MARK]),
        Delivery(Way.PLACE, [VOTES], place=GROUP),
    ]
    # any other button is acknowledged at once
    assert plan_for(Asked(action="claim:K7F2"), SARA, ephemeral=False).acknowledge_first


def test_a_button_pressed_privately_updates_the_message_of_its_place_there() -> None:
    asked = plan_for(Asked(action="sg:1:zorg"), SARA, ephemeral=False)
    table = Reply(text="Zorg: Sara Smit", to_place=True, updates="scan:1:table")
    shown = {"scan:1:table": GROUP}
    assert route(asked, [MARK, table], t=T, shown_in=shown) == [
        Delivery(Way.PLACE, [table], place=GROUP),
        Delivery(Way.HERE, [MARK]),
    ]
    # a message shown nowhere (yet): here
    assert route(asked, [MARK, table], t=T) == [Delivery(Way.HERE, [MARK, table])]


def test_a_claim_pressed_privately_refreshes_its_card_and_nowhere_else() -> None:
    assert plan_for(Asked(action="claim:K7F2"), SARA, ephemeral=False).refreshes_card
    in_group = plan_for(Asked(action="claim:K7F2", place=GROUP), SARA, ephemeral=False)
    assert not in_group.refreshes_card
    assert not plan_for(Asked(action="case:K7F2"), SARA, ephemeral=False).refreshes_card


def test_a_failure_says_the_same_everywhere() -> None:
    away = OperationalError("SELECT 1", {}, ConnectionError("gone"))
    said = {
        plan.failure_reply(T, exc).text for exc in (away, WrongKey("old"), RuntimeError("boom"))
    }
    assert said == {
        T("Vangnet cannot reach its data right now. Please try again in a minute."),
        T(
            "Vangnet cannot read its data with the key it runs on: the key was changed. Ask "
            "whoever runs Vangnet to restart it with the new key."
        ),
        T("Something went wrong. Please try again later."),
    }
    assert plan.failure_reply(T, away).error


class Recorder:
    """A transport that records what the plan asked of it."""

    ephemeral = False
    card = None

    def __init__(self, *, can_write_privately: bool = True) -> None:
        self.can_write_privately = can_write_privately
        self.done: list[tuple[str, list[Reply]]] = []
        self.acknowledged = False

    async def here(self, replies: list[Reply]) -> None:
        self.done.append(("here", replies))

    async def privately(self, replies: list[Reply]) -> None:
        if not self.can_write_privately:
            raise CannotWritePrivately
        self.done.append(("privately", replies))

    async def in_place(self, place: str, replies: list[Reply]) -> None:
        self.done.append((place, replies))

    async def alone(self, replies: list[Reply]) -> None:
        self.done.append(("alone", replies))

    async def open_form(self, command: str, args: str, who: Who) -> bool:
        return False

    async def edit_card(self, reply: Reply) -> None:
        self.done.append(("card", [reply]))

    async def acknowledge(self, text: str | None = None) -> None:
        self.acknowledged = True
        self.done.append(("acknowledged", [Reply(text=text or "")]))


def test_carried_out_when_the_person_cannot_be_written_to_privately() -> None:
    asked = plan_for(Asked(line="/case K7F2", place=GROUP), SARA, ephemeral=False)
    refused = Recorder(can_write_privately=False)
    asyncio.run(plan.carry_out(asked, [COUNT, CARD], refused, t=T))
    assert refused.done == [(GROUP, [COUNT, Reply(text=START_PRIVATE_CHAT)])]
    welcome = Recorder()
    asyncio.run(plan.carry_out(asked, [COUNT, CARD], welcome, t=T))
    assert welcome.done == [("privately", [CARD]), (GROUP, [COUNT, Reply(text=SENT_PRIVATELY)])]


def test_a_failure_is_the_press_answer_while_it_is_open_else_said_here() -> None:
    away = OperationalError("SELECT 1", {}, ConnectionError("gone"))
    pressed = Recorder()
    asyncio.run(plan.tell_failure(pressed, T, away))
    unavailable = T("Vangnet cannot reach its data right now. Please try again in a minute.")
    assert pressed.done == [("acknowledged", [Reply(text=unavailable)])]
    asyncio.run(plan.tell_failure(pressed, T, away))  # answered already: said here
    assert pressed.done[-1] == ("here", [Reply(text=unavailable, error=True)])
