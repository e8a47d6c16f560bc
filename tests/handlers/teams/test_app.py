"""The Teams transport end to end: cards and their buttons, the outbox's proactive messages,
Teams' pace (a 429 waited out), a conversation gone (403), channels by the privacy rule."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlmodel import select

from bot.core.app import Core
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.store.db import session_scope
from bot.store.models import Case, OutboxMessage, Person
from tests.factories import make_leaver
from tests.handlers.teams.conftest import ANNA, FATIMA, WIM, Served
from tests.handlers.teams.rig import TENANT, activity, texts


async def eventually(check: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


def card_actions(posted: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for attachment in posted.get("attachments") or []
        for action in attachment["content"].get("actions", [])
    ]


async def open_chat(
    served: Served, object_id: str = WIM, conversation: str = "a:personal-chat"
) -> None:
    """The app installed for the person: their personal chat's reference is stored."""
    body = activity(
        served.rig,
        object_id=object_id,
        kind="installationUpdate",
        action="add",
        conversation=conversation,
    )
    assert await served.send(body) in (200, 202)
    served.rig.calls.clear()


async def test_claim_by_the_cards_button_claims_and_the_card_loses_its_claim_button(
    teams: Served, live_core: Core
) -> None:
    case = make_leaver(live_core, early_leaver="yes")
    await teams.send(activity(teams.rig, object_id=WIM, text=f"/case {case.ref}"))
    card = next(a for a in teams.rig.posted() if card_actions(a))
    claim = next(a for a in card_actions(card) if a["data"]["vangnet"] == f"claim:{case.ref}")
    assert claim["type"] == "Action.Submit"
    teams.rig.calls.clear()
    # Teams sends the button's data back as the value of a message replying to the card
    pressed = activity(teams.rig, object_id=WIM, value=claim["data"], reply_to_id="card-1")
    assert await teams.send(pressed) in (200, 202)
    with session_scope(live_core.engine) as session:
        claimed = session.exec(select(Case).where(Case.ref == case.ref)).one()
        assert claimed.owner_id == "wim"
    # the card pressed on (and any ping of the case the outbox updates meanwhile)
    (card_now,) = [body for id_, body in teams.rig.updated() if id_ == "card-1"]
    assert f"claim:{case.ref}" not in json.dumps(card_now)
    assert "Wim Jansen" in texts(card_now)


async def test_an_outbox_notice_is_delivered_proactively(teams: Served, live_core: Core) -> None:
    await open_chat(teams)
    with session_scope(live_core.engine) as session:
        outbox.enqueue(session, person_id="wim", kind="test", reply=Reply(text="Een bericht"))
    await eventually(lambda: any("Een bericht" in texts(a) for a in teams.rig.posted()))

    def recorded_as_sent() -> bool:  # just after the connector took it, on a busy machine
        with session_scope(live_core.engine) as session:
            row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "test")).one()
            return row.sent_at is not None

    await eventually(recorded_as_sent)


async def test_a_429_from_the_connector_is_waited_out_and_sent(
    teams: Served, live_core: Core
) -> None:
    await open_chat(teams)
    teams.rig.fail_next(429, times=2, **{"Retry-After": "1"})
    with session_scope(live_core.engine) as session:
        outbox.enqueue(session, person_id="wim", kind="test", reply=Reply(text="Toch bezorgd"))
    await eventually(lambda: any("Toch bezorgd" in texts(a) for a in teams.rig.posted()))
    assert teams.rig.failures == []  # both 429s were answered before the send went through


async def test_a_person_whose_app_was_removed_is_marked_unreachable(
    teams: Served, live_core: Core
) -> None:
    await open_chat(teams)
    teams.rig.fail_next(403, times=5)
    with session_scope(live_core.engine) as session:
        outbox.enqueue(session, person_id="wim", kind="test", reply=Reply(text="Weg"))

    def marked() -> bool:
        with session_scope(live_core.engine) as session:
            wim = session.get(Person, "wim")
            return wim is not None and "teams" in (wim.unreachable or {})

    await eventually(marked)
    # he writes to the bot again (the app reinstalled): reachable again
    with teams.rig.lock:
        teams.rig.failures.clear()
    assert await teams.send(activity(teams.rig, object_id=WIM, text="/help")) in (200, 202)
    assert not marked()


async def test_a_429_while_answering_is_waited_out_and_the_answer_arrives(
    teams: Served,
) -> None:
    teams.rig.fail_next(429, times=1, **{"Retry-After": "1"})
    assert await teams.send(activity(teams.rig, object_id=WIM, text="/help")) == 202
    assert any("/claim" in texts(a) for a in teams.rig.posted())
    assert teams.rig.failures == []


@pytest.mark.parametrize(
    ("kind", "conversation"),
    [("channel", "19:channel@thread.tacv2;messageid=1"), ("groupChat", "19:group@thread.v2")],
)
async def test_a_mention_in_a_channel_answers_there_and_personal_details_privately(
    teams: Served, live_core: Core, kind: str, conversation: str
) -> None:
    await open_chat(teams)
    case = make_leaver(live_core, early_leaver="yes")
    mention = {
        "type": "mention",
        "text": "<at>Vangnet</at>",
        "mentioned": {"id": "28:11111111-2222-3333-4444-555555555555", "name": "Vangnet"},
    }
    body = activity(
        teams.rig,
        object_id=WIM,
        text=f"<at>Vangnet</at> /case {case.ref}",
        conversation=conversation,
        conversation_type=kind,
        entities=[mention],
    )
    assert await teams.send(body) in (200, 202)
    in_channel = teams.rig.posted(conversation.split(";")[0])
    privately = teams.rig.posted("a:personal-chat")
    assert [a["text"] for a in in_channel] == [
        "Ik heb je de gegevens in een privébericht gestuurd."
    ]
    assert any(case.ref in texts(a) for a in privately)


async def test_a_failure_is_told_in_the_products_words_without_internals(
    teams: Served, live_core: Core
) -> None:
    teams.rig.fail_next(500, times=1)  # the first reply fails at the connector
    assert await teams.send(activity(teams.rig, object_id=WIM, text="/help")) in (200, 202)
    assert [a["text"] for a in teams.rig.posted()] == [
        "⚠️ Er ging iets mis. Probeer het later nog eens."
    ]


async def test_the_sdks_error_handler_is_replaced_by_the_products_words(
    teams: Served, live_core: Core
) -> None:
    teams.rig.fail_next(500, times=1)  # the welcome on install fails at the connector
    body = activity(teams.rig, object_id=WIM, kind="installationUpdate", action="add")
    assert await teams.send(body) in (200, 202, 500)
    said = [a.get("text") for a in teams.rig.posted()]
    assert said == ["Er ging iets mis. Probeer het later nog eens."]  # no "Exception caught"


async def test_a_person_who_never_wrote_gets_a_personal_chat_opened(
    teams: Served, live_core: Core
) -> None:
    await open_chat(teams)  # Wim wrote: the tenant's service URL is known
    with session_scope(live_core.engine) as session:
        outbox.enqueue(session, person_id="anna", kind="test", reply=Reply(text="Voor Anna"))
    await eventually(lambda: any("Voor Anna" in texts(a) for a in teams.rig.posted(ANNA)))
    created = teams.rig.created()
    assert [m["id"] for m in created[0]["members"]] == [ANNA]
    assert created[0]["tenantId"] == TENANT


async def test_a_person_teams_cannot_reach_yet_is_marked_unreachable(
    teams: Served, live_core: Core
) -> None:
    # nobody ever wrote to the bot: no personal chat can be opened for Anna
    with session_scope(live_core.engine) as session:
        outbox.enqueue(session, person_id="anna", kind="test", reply=Reply(text="Voor Anna"))

    def marked() -> bool:
        with session_scope(live_core.engine) as session:
            anna = session.get(Person, "anna")
            return anna is not None and "teams" in (anna.unreachable or {})

    await eventually(marked)
    assert teams.rig.posted() == []


async def test_a_case_claimed_loses_its_claim_button_on_every_brokers_card(
    teams: Served, live_core: Core
) -> None:
    await open_chat(teams, FATIMA, "a:personal-fatima")
    await open_chat(teams, WIM, "a:personal-wim")
    case = make_leaver(live_core, early_leaver="yes")  # due at once: both brokers pinged
    claim = f"claim:{case.ref}"

    def ping(conversation: str) -> dict[str, Any] | None:
        cards = [a for a in teams.rig.posted(conversation) if claim in json.dumps(a)]
        return cards[0] if cards else None

    await eventually(lambda: ping("a:personal-fatima") is not None)
    await eventually(lambda: ping("a:personal-wim") is not None)
    pressed = activity(
        teams.rig,
        object_id=WIM,
        conversation="a:personal-wim",
        value={"vangnet": claim},
        reply_to_id="wims-ping",
    )
    assert await teams.send(pressed) in (200, 202)

    def fatimas_card_updated() -> bool:
        return any(
            "a:personal-fatima" in path and claim not in json.dumps(body)
            for path, body in teams.rig.updated_paths()
        )

    await eventually(fatimas_card_updated)


async def test_two_brokers_pressing_claim_at_once_give_the_case_one_owner(
    teams: Served, live_core: Core
) -> None:
    case = make_leaver(live_core, early_leaver="yes")
    claim = {"vangnet": f"claim:{case.ref}"}
    presses = [
        activity(teams.rig, object_id=object_id, value=claim, conversation=chat)
        for object_id, chat in ((WIM, "a:personal-wim"), (FATIMA, "a:personal-fatima"))
    ]
    statuses = await asyncio.gather(*(teams.send(body) for body in presses))
    assert all(status in (200, 202) for status in statuses)
    with session_scope(live_core.engine) as session:
        owner = session.exec(select(Case).where(Case.ref == case.ref)).one().owner_id
    assert owner in ("wim", "fatima")
    loser = "a:personal-fatima" if owner == "wim" else "a:personal-wim"
    told = " ".join(texts(a) for a in teams.rig.posted(loser))
    assert "Wim Jansen" in told or "Fatima El Amrani" in told  # who has it now
