"""Files on Teams (issue 27 item 6), end to end with the real Agents SDK: a school contact's
file of leavers sent in the personal chat is judged before it is downloaded from OneDrive,
then imported; a file in a channel is answered with where to send it; `/admin export` is
offered with a consent card, put into the coordinator's OneDrive once accepted and shown with
a file card; the digest's chart is an inline image, or, too large, said to be left out."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.core.admin.requests import YES
from bot.core.app import Core
from bot.core.intake.csv_read import MAX_FILE_BYTES
from bot.handlers.teams import render
from bot.handlers.teams.offers import FILE_OFFER
from bot.store.db import session_scope
from bot.store.models import Case, OutboxMessage
from tests.factories import make_leaver
from tests.handlers.slack.scenario import nl
from tests.handlers.teams.conftest import ANNA, SARA, WIM, Served
from tests.handlers.teams.rig import APP_ID, activity, texts

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "school_files"
BRUG_CSV = FIXTURES / "brug_uitstroom.csv"  # Praktijkschool De Brug: Sara's school
WORD_CSV = FIXTURES / "uitstroom_word.csv"  # a Word document named .csv
SARAS_CHAT = "a:personal-sara"
ANNAS_CHAT = "a:personal-anna"
DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


def file_sent(
    served: Served, name: str, *, text: str | None = None, **where: Any
) -> dict[str, Any]:
    """Sara sends the file `name` (on the fake OneDrive) as Teams delivers it to the bot."""
    suffix = name.rsplit(".", 1)[-1]
    attachment = {
        "contentType": DOWNLOAD_INFO,
        "contentUrl": f"https://contoso-my.sharepoint.com/personal/sara/Documents/{name}",
        "name": name,
        "content": {
            "downloadUrl": served.rig.file_url(name),
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": suffix,
        },
    }
    where.setdefault("conversation", SARAS_CHAT)
    return activity(served.rig, object_id=SARA, text=text, attachments=[attachment], **where)


def said_in(served: Served, conversation: str) -> str:
    return "\n".join(texts(a) for a in served.rig.posted(conversation))


def cases(core: Core) -> list[Case]:
    with session_scope(core.engine) as session:
        return list(session.exec(select(Case)).all())


async def test_a_school_contacts_excel_made_csv_is_imported_and_the_answer_says_how_many(
    teams: Served,
) -> None:
    teams.rig.files["brug_uitstroom.csv"] = BRUG_CSV.read_bytes()
    assert await teams.send(file_sent(teams, "brug_uitstroom.csv")) in (200, 202)
    said = said_in(teams, SARAS_CHAT)
    assert "7 uitstromers toegevoegd" in said, said
    assert "De kolomnamen staan op regel 3" in said
    assert len(cases(teams.core)) == 7
    # its size asked first (HEAD), then downloaded once, with no token of the bot's
    requests = teams.rig.file_requests
    assert [r.method for r in requests] == ["HEAD", "GET"]
    assert "Authorization" not in requests[1].headers


async def test_a_file_over_five_mb_is_refused_before_any_download(teams: Served) -> None:
    teams.rig.files["alles.csv"] = b"leerling;naam\r\n" + b"1;x\r\n" * (6 * 1024 * 1024 // 5)
    assert len(teams.rig.files["alles.csv"]) > MAX_FILE_BYTES
    assert await teams.send(file_sent(teams, "alles.csv")) in (200, 202)
    expected = nl(
        "That file is too large for me: at most {mb} MB. Send the list of this year's leavers "
        "only.",
        mb=5,
    )
    assert expected in said_in(teams, SARAS_CHAT)
    assert teams.rig.downloads() == []
    assert cases(teams.core) == []


async def test_a_word_document_named_csv_is_called_what_it_is(teams: Served) -> None:
    teams.rig.files["uitstroom.csv"] = WORD_CSV.read_bytes()
    assert await teams.send(file_sent(teams, "uitstroom.csv")) in (200, 202)
    said = said_in(teams, SARAS_CHAT)
    assert "Dit bestand is een Word-document, al eindigt de naam op .csv." in said, said
    assert cases(teams.core) == []


async def test_a_picture_sent_as_a_file_is_refused_by_its_name_without_downloading(
    teams: Served,
) -> None:
    assert await teams.send(file_sent(teams, "foto.png")) in (200, 202)
    assert nl("This file is {what}.", what=nl("an image")) in said_in(teams, SARAS_CHAT)
    assert teams.rig.file_requests == []


async def test_a_picture_pasted_in_the_chat_gets_what_the_bot_reads(teams: Served) -> None:
    pasted = {"contentType": "image/*", "contentUrl": f"{teams.rig.service_url}v3/attachments/1"}
    body = activity(teams.rig, object_id=SARA, conversation=SARAS_CHAT, attachments=[pasted])
    assert await teams.send(body) in (200, 202)
    assert "Excel (.xlsx)" in said_in(teams, SARAS_CHAT)
    assert teams.rig.file_requests == []


async def test_a_file_in_a_channel_is_not_read_and_its_sender_is_told_where_to_send_it(
    teams: Served,
) -> None:
    teams.rig.files["brug_uitstroom.csv"] = BRUG_CSV.read_bytes()
    channel = "19:team-channel@thread.tacv2"
    mention = {
        "type": "mention",
        "text": "<at>Vangnet</at>",
        "mentioned": {"id": "28:" + APP_ID, "name": "Vangnet"},
    }
    shared = file_sent(
        teams,
        "brug_uitstroom.csv",
        text="<at>Vangnet</at> hier de lijst",
        conversation=channel + ";messageid=7",
        conversation_type="channel",
        entities=[mention],
    )
    shared["attachments"][0]["contentType"] = "reference"  # as a channel's file comes
    assert await teams.send(shared) in (200, 202)
    said = said_in(teams, channel)
    assert (
        nl(
            "Files of leavers hold personal details: send them to me in our personal chat, and "
            "remove this one here."
        )
        in said
    )
    assert teams.rig.file_requests == []
    assert cases(teams.core) == []


def consent_cards(served: Served) -> list[dict[str, Any]]:
    return [
        attachment
        for posted in served.rig.posted(ANNAS_CHAT)
        for attachment in posted.get("attachments") or []
        if attachment["contentType"] == render.CONSENT_CARD
    ]


def consent_answer(
    served: Served,
    card: dict[str, Any],
    action: str,
    name: str = "",
    *,
    object_id: str = ANNA,
    conversation: str = ANNAS_CHAT,
) -> dict[str, Any]:
    """Anna's answer to a consent card, as Teams sends it (an invoke)."""
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": action,
        "context": card["content"]["acceptContext" if action == "accept" else "declineContext"],
    }
    if action == "accept":
        value["uploadInfo"] = {
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/anna/Documents/{name}",
            "name": name,
            "uploadUrl": served.rig.upload_url(name),
            "uniqueId": "4A1F2C3D-0000-4000-8000-00000000F11E",
            "fileType": name.rsplit(".", 1)[-1],
        }
    return activity(
        served.rig,
        object_id=object_id,
        kind="invoke",
        name="fileConsent/invoke",
        value=value,
        conversation=conversation,
    )


def offers_kept(core: Core) -> int:
    with session_scope(core.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == FILE_OFFER)).all()
        return len(rows)


async def test_admin_export_is_offered_and_put_into_onedrive_once_accepted(
    teams: Served, live_core: Core
) -> None:
    case = make_leaver(live_core, early_leaver="yes")
    body = activity(
        teams.rig, object_id=ANNA, text=f"/admin export {case.ref}", conversation=ANNAS_CHAT
    )
    assert await teams.send(body) in (200, 202)
    (card,) = consent_cards(teams)
    name = f"vangnet-{case.ref}.json"
    assert card["name"] == name
    assert card["content"]["sizeInBytes"] > 0
    assert case.ref in said_in(teams, ANNAS_CHAT)  # the summary, beside the file
    assert offers_kept(live_core) == 1
    assert teams.rig.uploads() == []

    assert await teams.send(consent_answer(teams, card, "accept", name)) == 200
    (put,) = teams.rig.uploads()
    exported = json.loads(put.body)
    assert exported["ref"] == case.ref
    assert len(put.body) == card["content"]["sizeInBytes"]
    assert put.headers["Content-Range"] == f"bytes 0-{len(put.body) - 1}/{len(put.body)}"
    assert "Authorization" not in put.headers
    shown = [
        attachment
        for posted in teams.rig.posted(ANNAS_CHAT)
        for attachment in posted.get("attachments") or []
        if attachment["contentType"] == render.FILE_INFO_CARD
    ]
    assert [(a["name"], a["content"]["fileType"]) for a in shown] == [(name, "json")]
    assert offers_kept(live_core) == 0  # the bytes are not kept once given

    # accepted again (the card pressed twice): nothing is put anywhere a second time
    assert await teams.send(consent_answer(teams, card, "accept", name)) == 200
    assert len(teams.rig.uploads()) == 1
    assert nl("That file is no longer waiting for you. Ask for it again.") in said_in(
        teams, ANNAS_CHAT
    )


async def test_a_declined_file_is_not_sent_and_not_kept(teams: Served, live_core: Core) -> None:
    case = make_leaver(live_core)
    body = activity(
        teams.rig, object_id=ANNA, text=f"/admin export {case.ref}", conversation=ANNAS_CHAT
    )
    assert await teams.send(body) in (200, 202)
    (card,) = consent_cards(teams)
    assert await teams.send(consent_answer(teams, card, "decline")) == 200
    assert nl("All right: I did not send the file.") in said_in(teams, ANNAS_CHAT)
    assert teams.rig.uploads() == []
    assert offers_kept(live_core) == 0


async def test_someone_elses_file_cannot_be_had_by_its_offer(
    teams: Served, live_core: Core
) -> None:
    case = make_leaver(live_core)
    body = activity(
        teams.rig, object_id=ANNA, text=f"/admin export {case.ref}", conversation=ANNAS_CHAT
    )
    assert await teams.send(body) in (200, 202)
    (card,) = consent_cards(teams)
    for action in ("accept", "decline"):
        other = consent_answer(
            teams, card, action, "x.json", object_id=WIM, conversation="a:personal-wim"
        )
        assert await teams.send(other) == 200
    assert teams.rig.uploads() == []
    assert offers_kept(live_core) == 1  # still Anna's to accept


async def test_an_export_waiting_for_consent_is_erased_with_the_case(
    teams: Served, live_core: Core
) -> None:
    """The file of `/admin export` holds the young person's details: when the case's personal
    details are erased before Anna accepted it, the copy kept for her goes too."""
    case = make_leaver(live_core)
    exporting = activity(
        teams.rig, object_id=ANNA, text=f"/admin export {case.ref}", conversation=ANNAS_CHAT
    )
    assert await teams.send(exporting) in (200, 202)
    (card,) = consent_cards(teams)
    name = f"vangnet-{case.ref}.json"
    erasing = activity(
        teams.rig, object_id=ANNA, text=f"/admin erase {case.ref} {YES}", conversation=ANNAS_CHAT
    )
    assert await teams.send(erasing) in (200, 202)
    with session_scope(live_core.engine) as session:
        assert session.get(Case, case.id).personal_data_erased_at is not None  # type: ignore[union-attr]
    assert await teams.send(consent_answer(teams, card, "accept", name)) == 200
    assert teams.rig.uploads() == []
    assert nl("That file is no longer waiting for you. Ask for it again.") in said_in(
        teams, ANNAS_CHAT
    )


def images(served: Served) -> list[dict[str, Any]]:
    return [
        attachment
        for posted in served.rig.posted(ANNAS_CHAT)
        for attachment in posted.get("attachments") or []
        if attachment["contentType"] == "image/png"
    ]


async def test_the_digest_shows_its_chart_as_an_image(teams: Served, live_core: Core) -> None:
    make_leaver(live_core, early_leaver="yes")
    body = activity(teams.rig, object_id=ANNA, text="/digest", conversation=ANNAS_CHAT)
    assert await teams.send(body) in (200, 202)
    (image,) = images(teams)
    prefix = "data:image/png;base64,"
    assert image["contentUrl"].startswith(prefix)
    png = base64.b64decode(image["contentUrl"].removeprefix(prefix))
    assert png.startswith(b"\x89PNG")
    # the chart in a message of its own, after the digest's card
    posted = teams.rig.posted(ANNAS_CHAT)
    assert len(posted[-1]["attachments"]) == 1 and posted[-1] is not posted[0]


async def test_a_chart_too_large_for_a_teams_message_is_said_to_be_left_out(
    teams: Served, live_core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "MAX_IMAGE_BYTES", 100)
    make_leaver(live_core, early_leaver="yes")
    body = activity(teams.rig, object_id=ANNA, text="/digest", conversation=ANNAS_CHAT)
    assert await teams.send(body) in (200, 202)
    assert images(teams) == []
    expected = nl("The chart is too large to show here; the numbers above say the same.")
    assert expected in said_in(teams, ANNAS_CHAT)
