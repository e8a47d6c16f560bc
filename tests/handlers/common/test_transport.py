"""The shared transport layer: who, where a reply may be shown, conversations, paging, pacing,
dedupe, and a whole form submitted at once (`Core.submit_form`)."""

from __future__ import annotations

import asyncio
import io

from sqlalchemy import Engine

from bot.core.app import Core
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.handlers.common.conversation import continues_in_private, starts_conversation
from bot.handlers.common.dedupe import SharedSeenEvents
from bot.handlers.common.pacing import Pacer
from bot.handlers.common.paging import pages
from bot.handlers.common.privacy import place
from bot.handlers.common.who import who_by_id, who_by_slack
from bot.handlers.terminal import TerminalChat
from tests.factories import case, make_leaver

T = translator("nl")
SENT_PRIVATELY = T("I sent you the details in a private message.")
START_PRIVATE_CHAT = T(
    "That answer holds personal details, so I only give it in a private chat. "
    "Start a private chat with me, then ask again."
)
CARD = Reply(title="Casus K7F2", text="Jan Jansen, 06-12345678", personal=True)
COUNT = Reply(text="3 casussen wachten op een makelaar.")


# --- where a reply may be shown ------------------------------------------------------------------


def test_a_personal_reply_in_a_public_place_goes_privately_with_a_note_there() -> None:
    placed = place([COUNT, CARD], private_here=False, t=T)
    assert placed.here == [COUNT, Reply(text=SENT_PRIVATELY)]
    assert placed.private == [CARD]
    assert not any(r.personal for r in placed.here)


def test_replies_without_personal_details_stay_in_the_public_place() -> None:
    placed = place([COUNT], private_here=False, t=T)
    assert placed.here == [COUNT] and placed.private == []


def test_in_a_private_place_everything_is_shown_where_it_was_asked() -> None:
    placed = place([CARD, COUNT], private_here=True, t=T)
    assert placed.here == [CARD, COUNT] and placed.private == []


def test_when_the_bot_cannot_write_privately_the_person_is_asked_to_start_a_chat() -> None:
    placed = place([CARD, COUNT, CARD], private_here=False, t=T, can_write_privately=False)
    assert placed.here == [Reply(text=START_PRIVATE_CHAT), COUNT]  # one note, nothing personal
    assert placed.private == []


def test_the_terminal_is_a_private_place_and_shows_personal_replies_whole(core: Core) -> None:
    out = io.StringIO()
    TerminalChat(core, io.StringIO(), out, interactive=False).show([CARD])
    assert "Jan Jansen, 06-12345678" in out.getvalue()
    assert SENT_PRIVATELY not in out.getvalue()


# --- who, and what continues in the private chat ------------------------------------------


def test_who_comes_from_the_directory_and_the_command_table(core: Core) -> None:
    sara = who_by_id(core.engine, "sara", "nl")
    assert sara is not None and sara.may_register and "leaver" in sara.commands
    assert "claim" not in sara.commands
    wim = who_by_slack(core.engine, "U01WIM", "nl")
    assert wim is not None and wim.id == "wim" and "claim" in wim.commands
    assert not wim.may_register
    assert who_by_slack(core.engine, "U0NOBODY", "nl") is None


def test_conversations_continue_in_the_private_chat() -> None:
    assert starts_conversation("leaver") and starts_conversation("placed")
    assert not starts_conversation("cases") and not starts_conversation("nonsense")
    assert continues_in_private("form:leaver:confirm")
    assert continues_in_private("cmd:leaver")
    assert not continues_in_private("cmd:cases")
    assert not continues_in_private("claim:K7F2")


# --- paging and pacing ----------------------------------------------------------------------------


def test_pages_hold_at_most_so_many_items_and_characters_never_cutting_one() -> None:
    lines = ["aaaa", "bbbb", "cccc", "dd", "e" * 20, "f"]
    assert pages(lines, max_items=2) == [["aaaa", "bbbb"], ["cccc", "dd"], ["e" * 20, "f"]]
    assert pages(lines, max_items=10, max_chars=10, separator=1) == [
        ["aaaa", "bbbb"],  # 4 + 1 + 4
        ["cccc", "dd"],
        ["e" * 20],  # too long on its own: a page of its own, whole
        ["f"],
    ]
    assert pages([], max_items=3) == []


async def test_the_pacer_keeps_the_order_per_chat_and_lets_other_chats_go() -> None:
    pacer = Pacer(interval=0.001)
    order: list[str] = []
    first_in, release = asyncio.Event(), asyncio.Event()

    async def slow_first() -> None:
        async with pacer.slot("D1"):
            order.append("D1 first")
            first_in.set()
            await release.wait()  # a slow send, say a 429 waited out

    async def send(chat: str, what: str) -> None:
        async with pacer.slot(chat):
            order.append(what)

    first = asyncio.create_task(slow_first())
    await first_in.wait()
    second = asyncio.create_task(send("D1", "D1 second"))
    await send("D2", "D2 meanwhile")  # another chat does not wait for D1
    assert order == ["D1 first", "D2 meanwhile"]  # D1's second waits for its first
    release.set()
    await asyncio.gather(first, second)
    assert order == ["D1 first", "D2 meanwhile", "D1 second"]


# --- dedupe -------------------------------------------------------------------------------------


def test_two_instances_on_one_database_take_an_event_once_per_platform(engine: Engine) -> None:
    slack_one, slack_two = SharedSeenEvents(engine), SharedSeenEvents(engine)
    telegram = SharedSeenEvents(engine, namespace="telegram:")
    assert slack_one.first_time("1234") is True
    assert slack_two.first_time("1234") is False  # the other instance took it
    assert telegram.first_time("1234") is True  # another platform's id 1234 is another event
    assert SharedSeenEvents(engine, namespace="telegram:").first_time("1234") is False


# --- a whole form at once ------------------------------------------------------------------------


def test_a_whole_leaver_form_is_checked_field_by_field_and_saves_nothing_when_wrong(
    core: Core,
) -> None:
    outcome = core.submit_form(
        person_id="sara",
        form_name="leaver",
        values={"student_ref": "W-1", "home_municipality": "Zwolle", "programme": "vso"},
        context={},
        transport="test",
    )
    assert set(outcome.errors) == {"expected_exit", "vso_profile"}
    assert outcome.replies == []


def test_a_whole_leaver_form_that_is_right_registers_the_leaver_at_the_own_school(
    core: Core,
) -> None:
    outcome = core.submit_form(
        person_id="sara",
        form_name="leaver",
        values={
            "student_ref": "W-2",
            "home_municipality": "Zwolle",
            "programme": "pro",
            "expected_exit": "2027-06",
        },
        context={"school_id": "kompas"},  # not hers: the form is about her own school
        transport="test",
    )
    assert outcome.errors == {}
    (reply,) = outcome.replies
    ref = reply.text.split(" ")[-1].rstrip(".")
    assert case(core, ref).school_id == "brug"


def test_a_whole_form_needs_the_role_of_its_command(core: Core) -> None:
    outcome = core.submit_form(
        person_id="wim",
        form_name="leaver",
        values={"student_ref": "W-3"},
        context={},
        transport="test",
    )
    assert outcome.errors == {}
    t = translator(core.default_language)
    assert [r.text for r in outcome.replies] == [
        t("/{name} is not for your role. Type /help.", name="leaver")
    ]


def test_a_refused_placement_form_changes_nothing_and_says_why(core: Core) -> None:
    leaver = make_leaver(core)  # not claimed: nobody may record its placement yet
    outcome = core.submit_form(
        person_id="wim",
        form_name="placement",
        values={"destination": "work", "organisation": "Bakkerij", "start": "2026-12-01"},
        context={"ref": leaver.ref, "mode": "place"},
        transport="test",
    )
    assert outcome.errors == {}
    assert len(outcome.replies) == 1 and outcome.replies[0].error
    assert case(core, leaver.ref).state == leaver.state
