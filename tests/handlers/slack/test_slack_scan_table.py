"""The scan's table and the facilitator's say in a Slack channel, with the real slack-bolt
against the fake Web API: votes acknowledged before the close count though bolt works on them
after it, a guest added by mentioning a Slack member, the group asked at a first vote, and a
stop that asks first and a scan resumed where it was."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.store.db import session_scope
from bot.store.models import Person, ScanVote
from tests.handlers.slack.conftest import SlackRig
from tests.handlers.slack.factories import make_block_action
from tests.handlers.slack.fake_slack import Call, eventually
from tests.handlers.slack.scenario import buttons_of, nl, nl_n, text_of
from tests.handlers.slack.test_slack_scan import ANNA, BRAM, FATIMA, SARA, WIM, Room, start
from tests.handlers.slack.test_slack_scan import (
    sara_on_slack as sara_on_slack,  # autouse: Sara on Slack
)

KARIN = "U0KARIN"  # not in the directory: a guest


async def press_in(room: Room, call: Call, value: str, user: str) -> list[Call]:
    """Press a button of an ephemeral answer `call` (only `user` saw it); its answers."""
    name = f"eph{id(call)}{value}"
    response = await room.rig.post(
        make_block_action(
            value,
            user=user,
            channel=room.channel,
            action_id=buttons_of(call)[value],
            response_url=room.fake.response_url(name),
            ephemeral=True,
        )
    )
    assert response.status_code == 200
    return room.fake.responses(name)


def button(call: Call, label: str) -> str:
    """The value of the button labelled `label` in a message."""
    for block in call.body.get("blocks") or []:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                return str(element["value"])
    raise AssertionError(f"no button {label!r} in {text_of(call)}")


async def test_votes_acknowledged_before_the_close_count_though_worked_on_after_it(
    slack: SlackRig, live_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Room(slack)
    warmup = await start(room)
    await room.vote(warmup, WIM, 6)
    # the next three presses are acknowledged at once, and held before the core works on them
    # until the facilitator's close (typed after them) has been worked on
    gate = threading.Semaphore(0)
    work = live_core.handle_action

    def held(**kwargs: Any) -> Any:
        gate.acquire(timeout=10)
        return work(**kwargs)

    monkeypatch.setattr(live_core, "handle_action", held)
    value = {mark: v for v in buttons_of(warmup) if (mark := v.rsplit(":", 1)[1])}
    pressed = []
    for user, mark in ((FATIMA, "7"), (SARA, "5"), (BRAM, "8")):
        name = f"held{user}"
        response = await room.rig.post(
            make_block_action(
                value[mark],
                user=user,
                channel=room.channel,
                action_id=buttons_of(warmup)[value[mark]],
                response_url=room.fake.response_url(name),
            )
        )
        assert response.status_code == 200  # acknowledged: the voter saw the press taken
        pressed.append((user, mark, name))
    await room.command("/scan close")
    closed_one = nl_n("Voting closed: {n} vote.", "Voting closed: {n} votes.", 1)
    await eventually(lambda: closed_one in text_of(room.shown(warmup)))

    def answered() -> int:
        return sum(bool(room.fake.responses(name)) for *_, name in pressed)

    for count in range(1, len(pressed) + 1):  # one at a time: each count shown is the last
        gate.release()
        await eventually(lambda c=count: answered() >= c)  # type: ignore[misc]
    for user, mark, name in pressed:
        said = text_of(room.fake.responses(name)[0])
        recorded = "Your mark {mark} is recorded. Only you see this."
        language = "en" if user == BRAM else "nl"
        from bot.core.i18n import translator

        assert translator(language)(recorded, mark=int(mark)) in said, said
    closed_four = nl_n("Voting closed: {n} vote.", "Voting closed: {n} votes.", 4)
    await eventually(lambda: closed_four in text_of(room.shown(warmup)))
    # the warm-up's result, shown once it is closed, with every mark that arrived in time
    result = nl_n(
        "average {avg} · spread {spread} · {n} vote",
        "average {avg} · spread {spread} · {n} votes",
        4,
        avg="6,5",
        spread="1,1",
    )
    await eventually(lambda: nl("Result: {line}", line=result) in text_of(room.shown(warmup)))
    with session_scope(live_core.engine) as session:
        assert sorted(v.mark for v in session.exec(select(ScanVote)).all()) == [5, 6, 7, 8]
    # a vote that arrives after the close is still refused
    monkeypatch.setattr(live_core, "handle_action", work)
    (late,) = await room.press(value["9"], WIM)
    assert nl("Voting on this question is closed; your mark was not recorded.") in text_of(late)


async def test_a_guest_by_mention_votes_sees_no_cases_and_the_stop_asks_then_resumes(
    slack: SlackRig, live_core: Core
) -> None:
    room = Room(slack)
    warmup = await start(room)
    await room.command("/scan guest <@U0KARIN|karin> Karin Bos werkgevers")
    table = nl("Who is at the table")
    await eventually(
        lambda: any("Werkgevers: Karin Bos" in text_of(room.shown(p)) for p in room.posts())
    )
    assert any(table in text_of(p) for p in room.posts())
    answer = await room.vote(warmup, KARIN, 7)
    assert nl("Your mark {mark} is recorded. Only you see this.", mark=7) in text_of(answer)
    assert buttons_of(answer) == {}  # seated: not asked for a group
    # a case command is not hers
    name = await room.command("/leavers", user=KARIN)
    await eventually(lambda: bool(room.fake.responses(name)))
    refused = nl("/{name} is not for your role. Type /help.", name="leavers")
    assert refused in text_of(room.fake.responses(name)[0])
    with session_scope(live_core.engine) as session:
        karin = session.exec(select(Person).where(Person.slack_id == KARIN)).one()
        assert karin.roles == ["scan_guest"]

    # a voter who is not seated is asked for the group, and taps it
    answers = await room.press(next(v for v in buttons_of(warmup) if v.endswith(":6")), WIM)
    await eventually(lambda: len(room.fake.responses(answers[0].body["__name__"])) >= 2)
    asked = next(
        a
        for a in room.fake.responses(answers[0].body["__name__"])
        if nl("For which group do you sit at the table?") in text_of(a)
    )
    await press_in(room, asked, button(asked, "Zorg"), WIM)
    await eventually(
        lambda: any("Zorg: Wim Jansen" in text_of(room.shown(p)) for p in room.posts())
    )

    # the stop asks first, saying what is left; Doorgaan keeps it, Stoppen stops
    name = await room.command("/scan stop")
    await eventually(lambda: bool(room.fake.responses(name)))
    question = room.fake.responses(name)[0]
    left = "Je stopt voor de eerste factor; nog 15 factoren en geen agenda."
    assert left in text_of(question)
    await press_in(room, question, button(question, "Stoppen"), ANNA)
    await eventually(lambda: any(nl("Results of the scan") in text_of(p) for p in room.posts()))
    await room.command("/scan resume")
    await eventually(
        lambda: any(nl("The scan goes on where it was.") in text_of(p) for p in room.posts())
    )
    reopened = room.with_buttons("sv:")[-1]
    assert nl("Warm-up question") in text_of(reopened)
