"""Journeys of product.md on Teams, end to end: the guided intake in the personal chat, typed
and pressed on cards, surviving a restart of the bot."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import select

from bot.core.app import Core
from bot.store.db import make_engine, session_scope
from bot.store.models import Case, OutboxMessage
from tests.factories import make_leaver
from tests.handlers.teams.conftest import SARA, WIM, Served, serving, teams_settings
from tests.handlers.teams.rig import LocalMicrosoft, activity, texts

CHAT = "a:personal-sara"


async def said(served: Served, words: str, timeout: float = 10.0) -> str:
    """The latest thing the bot posted to Sara that holds `words`."""
    for _ in range(int(timeout / 0.05)):
        found = [texts(a) for a in served.rig.posted(CHAT) if words in texts(a)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot never said {words!r}")


async def answer(served: Served, text: str, expect: str) -> None:
    assert await served.send(activity(served.rig, object_id=SARA, text=text, conversation=CHAT))
    await said(served, expect)


async def press(served: Served, label: str) -> None:
    """Sara presses the button titled `label` on the bot's latest card that has it."""
    cards = [
        action
        for posted in served.rig.posted(CHAT)
        for attachment in posted.get("attachments") or []
        for action in attachment["content"].get("actions", [])
        if action["title"] == label
    ]
    assert cards, f"no button {label!r}"
    value: dict[str, Any] = cards[-1]["data"]
    body = activity(served.rig, object_id=SARA, value=value, conversation=CHAT)
    assert await served.send(body) in (200, 202)


async def test_the_intake_by_chat_goes_on_after_a_restart(
    live_core: Core, local_microsoft: LocalMicrosoft
) -> None:
    async with serving(live_core, local_microsoft, teams_settings()) as served:
        await answer(served, "/leaver chat", "eigen kenmerk")
        await answer(served, "AB12", "In welke gemeente")
        await answer(served, "Zwolle", "Welk onderwijs")
        await press(served, "Praktijkonderwijs")
        await said(served, "tussentijdse uitvaller")
    restarted = Core(
        engine=make_engine(live_core.engine.url.render_as_string(hide_password=False)),
        region=live_core.region,
        default_language="nl",
    )
    try:
        async with serving(restarted, local_microsoft, teams_settings()) as served:
            await press(served, "Nee")
            await answer(served, "juni 2027", "geboortejaar")
            await press(served, "Overslaan")
            await press(served, "Werk")
            await press(served, "Geweigerd")
            summary = await said(served, "Bevestigen")
            assert "AB12" in summary and "Zwolle" in summary
            await press(served, "Bevestigen")
            done = await said(served, "aangemeld als casus")
        with session_scope(restarted.engine) as session:
            (case,) = session.exec(select(Case)).all()
            assert (case.student_ref, case.school_id) == ("AB12", "brug")
            assert case.ref in done
    finally:
        restarted.engine.dispose()


async def test_the_intake_as_one_card_with_inputs(teams: Served) -> None:
    await answer(teams, "/leaver", "Input.Text")
    (card,) = [
        a["attachments"][0]["content"]
        for a in teams.rig.posted(CHAT)
        if a.get("attachments") and "Input.Text" in json.dumps(a)
    ]
    inputs = [item["id"] for item in card["body"] if item["type"].startswith("Input.")]
    assert inputs[:2] == ["student_ref", "home_municipality"]
    submit = card["actions"][0]["data"]
    answers = {"student_ref": "JB-17", "home_municipality": "Zwolle", "programme": "pro"}
    # Teams sends the inputs back in the message's value, beside the action's data
    wrong = submit | answers | {"expected_exit": "13-2027"}
    body = activity(teams.rig, object_id=SARA, value=wrong, conversation=CHAT)
    assert await teams.send(body) in (200, 202)
    again = await said(teams, "als maand")  # the card again, with the problem on it
    assert "JB-17" in again
    with session_scope(teams.core.engine) as session:
        assert session.exec(select(Case)).all() == []
    right = submit | answers | {"expected_exit": "2027-06"}
    body = activity(teams.rig, object_id=SARA, value=right, conversation=CHAT)
    assert await teams.send(body) in (200, 202)
    await said(teams, "aangemeld als casus")
    with session_scope(teams.core.engine) as session:
        (case,) = session.exec(select(Case)).all()
        assert (case.student_ref, case.school_id) == ("JB-17", "brug")


WIMS_CHAT = "a:personal-wim"


async def test_the_placement_as_one_card_checked_before_it_opens(teams: Served) -> None:
    case = make_leaver(teams.core, early_leaver="yes")

    async def wim_types(text: str) -> None:
        body = activity(teams.rig, object_id=WIM, text=text, conversation=WIMS_CHAT)
        assert await teams.send(body) in (200, 202)

    await wim_types(f"/placed {case.ref}")  # not his case yet: the refusal, no card
    said_to_wim = [texts(a) for a in teams.rig.posted(WIMS_CHAT)]
    assert said_to_wim and not any("Input." in s for s in said_to_wim)
    await wim_types(f"/claim {case.ref}")
    await wim_types(f"/placed {case.ref}")
    (card,) = [
        a["attachments"][0]["content"]
        for a in teams.rig.posted(WIMS_CHAT)
        if "Input.Date" in json.dumps(a)
    ]
    assert case.ref in json.dumps(card)  # what it is about: the intro, and the submit's data
    destination = next(i for i in card["body"] if i.get("id") == "destination")
    start = next(i for i in card["body"] if i.get("id") == "start")
    value = card["actions"][0]["data"] | {
        "destination": destination["choices"][0]["value"],
        "organisation": "Bakkerij De Korenschoof",
        "start": start["value"],  # today, as the card set it
    }
    body = activity(teams.rig, object_id=WIM, value=value, conversation=WIMS_CHAT)
    assert await teams.send(body) in (200, 202)
    with session_scope(teams.core.engine) as session:
        placed = session.exec(select(Case).where(Case.ref == case.ref)).one()
        assert placed.state == "placed"


async def test_add_a_leaver_button_opens_the_intake_card(teams: Served) -> None:
    pressed = activity(
        teams.rig, object_id=SARA, value={"vangnet": "cmd:leaver"}, conversation=CHAT
    )
    assert await teams.send(pressed) in (200, 202)
    card = await said(teams, "Input.Text")
    assert "student_ref" in card


async def test_a_transfer_by_the_cards_buttons_hands_the_case_to_kampen(
    live_core: Core, local_microsoft: LocalMicrosoft
) -> None:
    """Wim claims a case by typing, then hands it to Kampen with the buttons of its cards:
    Transfer, then the municipality; Kampen's broker is pinged (on his own transport)."""
    case = make_leaver(live_core, early_leaver="yes", expected_exit="2026-11")
    wims = "a:personal-wim"

    async def wim_said(words: str) -> dict[str, Any]:
        for _ in range(200):
            found = [a for a in local_microsoft.posted(wims) if words in texts(a)]
            if found:
                return found[-1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot never said {words!r} to Wim")

    def button(posted: dict[str, Any], title: str) -> dict[str, Any]:
        (found,) = [
            action["data"]
            for attachment in posted.get("attachments") or []
            for action in attachment["content"].get("actions", [])
            if action["title"] == title
        ]
        return found  # type: ignore[no-any-return]

    async with serving(live_core, local_microsoft, teams_settings()) as served:
        claim = activity(
            local_microsoft, object_id=WIM, text=f"/claim {case.ref}", conversation=wims
        )
        assert await served.send(claim) in (200, 202)
        owned = await wim_said("Overdragen")
        pressed = activity(
            local_microsoft, object_id=WIM, value=button(owned, "Overdragen"), conversation=wims
        )
        assert await served.send(pressed) in (200, 202)
        where = await wim_said("Kampen")
        to_kampen = activity(
            local_microsoft, object_id=WIM, value=button(where, "Kampen"), conversation=wims
        )
        assert await served.send(to_kampen) in (200, 202)
        await wim_said("Kampen")
    with session_scope(live_core.engine) as session:
        after = session.exec(select(Case).where(Case.ref == case.ref)).one()
        assert (after.owner_id, after.responsible_municipality_code) == (None, "GM0166")
        pinged = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.person_id == "bram", OutboxMessage.case_ref == case.ref
            )
        ).all()
        assert pinged  # Bram, Kampen's broker, is told it is due
