"""The Participatiescan in a Teams channel: the coordinator starts it where the table meets,
five people vote on the card, the card is updated in place (not posted again; updates are
coalesced, at most one a second, by `common.edits`) and each
voter's own mark goes to their personal chat, never into the channel."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.core.app import Core
from tests.handlers.slack.scenario import nl
from tests.handlers.teams.conftest import ANNA, DIRK, FATIMA, SARA, WIM, Served
from tests.handlers.teams.rig import APP_ID, activity

CHANNEL = "19:scan-table@thread.tacv2"
MENTION = {
    "type": "mention",
    "text": "<at>Vangnet</at>",
    "mentioned": {"id": "28:" + APP_ID, "name": "Vangnet"},
}
VOTERS = {WIM: "a:personal-wim", FATIMA: "a:personal-fatima", SARA: "a:personal-sara",
          ANNA: "a:personal-anna", DIRK: "a:personal-dirk"}  # fmt: skip


def in_channel(served: Served, text: str, object_id: str = ANNA) -> dict[str, Any]:
    return activity(
        served.rig,
        object_id=object_id,
        text=f"<at>Vangnet</at> {text}",
        conversation=CHANNEL,
        conversation_type="channel",
        entities=[MENTION],
    )


def marks(posted: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for attachment in posted.get("attachments") or []
        for action in attachment["content"].get("actions", [])
        if str(action["data"].get("vangnet", "")).startswith("sv:")
    ]


async def eventually(check: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    assert check()


async def test_five_voters_on_one_card_updated_in_place(teams: Served, live_core: Core) -> None:
    for object_id, chat in VOTERS.items():  # the app installed for each of them
        body = activity(
            teams.rig, object_id=object_id, kind="installationUpdate", action="add",
            conversation=chat,
        )  # fmt: skip
        assert await teams.send(body) in (200, 202)
    teams.rig.calls.clear()
    assert await teams.send(in_channel(teams, "/scan start")) in (200, 202)
    await eventually(lambda: any(marks(a) for a in teams.rig.posted(CHANNEL)))
    (card,) = [a for a in teams.rig.posted(CHANNEL) if marks(a)]
    posted_in_channel = len(teams.rig.posted(CHANNEL))
    mark = marks(card)[0]["data"]
    for object_id in VOTERS:
        pressed = activity(
            teams.rig,
            object_id=object_id,
            value=mark,
            conversation=CHANNEL,
            conversation_type="channel",
            reply_to_id="scan-card",
        )
        assert await teams.send(pressed) in (200, 202)
    votes = "Aantal stemmen: 5."

    def shown_five() -> bool:
        return any(votes in json.dumps(body, ensure_ascii=False) for _, body in teams.rig.updated())

    await eventually(shown_five)
    assert len(teams.rig.posted(CHANNEL)) == posted_in_channel  # updated, never posted again
    for chat in VOTERS.values():  # each voter's own answer went to their personal chat
        assert teams.rig.posted(chat)


async def test_the_scans_report_asked_in_the_channel_is_offered_in_the_askers_chat(
    teams: Served,
) -> None:
    """Teams gives files in a personal chat only: the report's message in the channel, its
    PDF offered to the one who asked, with a consent card in their personal chat."""
    installed = activity(
        teams.rig, object_id=ANNA, kind="installationUpdate", action="add",
        conversation=VOTERS[ANNA],
    )  # fmt: skip
    assert await teams.send(installed) in (200, 202)
    assert await teams.send(in_channel(teams, "/scan start")) in (200, 202)
    teams.rig.calls.clear()
    assert await teams.send(in_channel(teams, "/scan report")) in (200, 202)
    in_the_channel = json.dumps(teams.rig.posted(CHANNEL), ensure_ascii=False)
    assert "als pdf" in in_the_channel and "file.consent" not in in_the_channel
    assert nl("I have offered you the file in our personal chat.") in in_the_channel
    offered = [
        attachment
        for posted in teams.rig.posted(VOTERS[ANNA])
        for attachment in posted.get("attachments") or []
        if attachment["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    ]
    assert [a["name"].endswith(".pdf") for a in offered] == [True]
    assert offered[0]["name"].startswith("participatiescan-")
