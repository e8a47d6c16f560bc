"""Activities in the shape Teams sends them (fixtures/, see its README for the sources),
replayed against the product: each is taken, and does what a person would see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.core.app import Core
from bot.store.db import session_scope
from bot.store.models import TeamsConversation
from tests.factories import make_leaver
from tests.handlers.teams.conftest import ANNA, SARA, WIM, Served
from tests.handlers.teams.rig import APP_ID, TENANT, activity, texts

FIXTURES = Path(__file__).parent / "fixtures"
BRUG_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "school_files" / "brug_uitstroom.csv"
TEAM = "conv:19:5c1e2b7a9d0f4e3a8b6c7d2e1f0a9b8c@thread.tacv2"


def load(served: Served, name: str, **fill: str) -> dict[str, Any]:
    text = (FIXTURES / f"{name}.json").read_text(encoding="utf-8")
    values = {
        "serviceUrl": served.rig.service_url,
        "botId": APP_ID,
        "tenantId": TENANT,
        "objectId": WIM,
    } | fill
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def stored(served: Served) -> set[str]:
    with session_scope(served.core.engine) as session:
        return {row.key for row in session.exec(select(TeamsConversation)).all()}


async def test_the_app_added_to_a_team_and_removed_again(teams: Served) -> None:
    assert await teams.send(load(teams, "team_bot_added")) in (200, 202)
    assert TEAM in stored(teams)
    assert teams.rig.posted() == []  # nothing said in the team's channel
    assert await teams.send(load(teams, "team_bot_removed")) in (200, 202)
    assert TEAM not in stored(teams)


async def test_the_app_installed_for_a_person_welcomes_them(teams: Served) -> None:
    assert await teams.send(load(teams, "personal_installed")) in (200, 202)
    posted = teams.rig.posted()
    assert posted[0]["text"] == "Welkom bij Vangnet, Wim Jansen."
    assert f"user:{WIM}" in stored(teams)


async def test_a_message_in_the_personal_chat_is_answered(teams: Served) -> None:
    assert await teams.send(load(teams, "personal_message")) in (200, 202)
    assert any("/claim" in texts(a) for a in teams.rig.posted())


async def test_a_mention_in_a_channel_with_teams_html_is_read_as_the_command(
    teams: Served,
) -> None:
    assert await teams.send(load(teams, "channel_mention")) in (200, 202)
    said = [texts(a) for a in teams.rig.posted("19:5c1e2b7a9d0f4e3a8b6c7d2e1f0a9b8c")]
    assert said and any("/claim" in s for s in said)  # /help, with the mention stripped


async def test_a_card_submit_presses_the_button(teams: Served, live_core: Core) -> None:
    case = make_leaver(live_core, early_leaver="yes")
    body = load(teams, "card_submit", action=f"case:{case.ref}")
    assert await teams.send(body) in (200, 202)
    assert any(case.ref in texts(a) for a in teams.rig.posted())


async def test_a_file_sent_in_the_personal_chat_is_downloaded_and_imported(
    teams: Served,
) -> None:
    teams.rig.files["brug_uitstroom.csv"] = BRUG_CSV.read_bytes()
    body = load(
        teams,
        "personal_file",
        objectId=SARA,
        downloadUrl=teams.rig.file_url("brug_uitstroom.csv"),
    )
    assert await teams.send(body) in (200, 202)
    assert any("7 uitstromers toegevoegd" in texts(a) for a in teams.rig.posted())


async def test_a_file_consent_accepted_puts_the_file_and_shows_it(
    teams: Served, live_core: Core
) -> None:
    case = make_leaver(live_core)
    chat = "a:1Hc5Tq9Lw3Mx7Nb1Vr5Kp9Zd3Fs7Jg1Ye5Ua9Io3Pe7Wt1Rn5Cb9Xm3Qk7Dl1Sh5Gv9Az3Ej7Ty1Ow5Ui9"
    asked = activity(teams.rig, object_id=ANNA, text=f"/admin export {case.ref}", conversation=chat)
    assert await teams.send(asked) in (200, 202)
    (card,) = [
        a
        for posted in teams.rig.posted(chat)
        for a in posted.get("attachments") or []
        if a["contentType"].endswith("file.consent")
    ]
    name = card["name"]
    body = load(
        teams,
        "file_consent_accept",
        objectId=ANNA,
        offerId=str(card["content"]["acceptContext"]["vangnet_file"]),
        fileName=name,
        uploadUrl=teams.rig.upload_url(name),
    )
    assert await teams.send(body) == 200
    (put,) = teams.rig.uploads()
    assert json.loads(put.body)["ref"] == case.ref
    assert any(name in texts(a) for a in teams.rig.posted(chat))
