"""POST /api/messages: the real Agents SDK served by the product, every request's token
checked by the product before anything is processed or stored (`bot/handlers/teams/trust`)."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import select

from bot.store.db import session_scope
from bot.store.models import TeamsConversation
from tests.handlers.teams.conftest import STRANGER, WIM, Served
from tests.handlers.teams.rig import KID, TENANT, activity, texts


def stored_conversations(served: Served) -> list[str]:
    with session_scope(served.core.engine) as session:
        return [row.key for row in session.exec(select(TeamsConversation)).all()]


def install(served: Served, object_id: str = WIM) -> dict[str, object]:
    body = activity(served.rig, object_id=object_id, kind="conversationUpdate")
    body["membersAdded"] = [{"id": "28:" + "11111111-2222-3333-4444-555555555555"}]
    return body


async def test_installing_the_app_welcomes_a_known_person_with_help(teams: Served) -> None:
    assert await teams.send(install(teams)) in (200, 202)
    posted = teams.rig.posted("a:personal-chat")
    assert "Welkom bij Vangnet, Wim Jansen." in posted[0]["text"]
    assert any("/claim" in texts(a) for a in posted[1:])  # the /help card lists the commands
    assert stored_conversations(teams) == [f"user:{WIM}"]
    # the outgoing calls carried the token Entra ID (the local issuer) handed out
    assert teams.rig.token_requests >= 1


async def test_help_typed_in_the_personal_chat_is_answered_there_as_a_card(teams: Served) -> None:
    assert await teams.send(activity(teams.rig, object_id=WIM, text="/help")) in (200, 202)
    posted = teams.rig.posted("a:personal-chat")
    cards = [a["attachments"][0] for a in posted if a.get("attachments")]
    assert cards and cards[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert cards[0]["content"]["version"] == "1.5"


async def test_someone_not_in_the_directory_gets_the_refusal_only(teams: Served) -> None:
    assert await teams.send(activity(teams.rig, object_id=STRANGER, text="/cases")) in (200, 202)
    posted = teams.rig.posted()
    assert len(posted) == 1 and "niet in het adresboek" in posted[0]["text"]


async def refused(served: Served, token: str | None) -> None:
    body = activity(served.rig, object_id=WIM, text="/help")
    assert await served.send(body, token) == 401
    assert served.rig.posted() == []
    assert stored_conversations(served) == []


async def test_a_request_without_a_token_is_refused(teams: Served) -> None:
    await refused(teams, None)
    await refused(teams, "not-a-jwt")


async def test_a_forged_token_is_refused(teams: Served) -> None:
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await refused(teams, teams.rig.token(key=forger))


async def test_a_token_expired_two_minutes_ago_is_refused(teams: Served) -> None:
    await refused(teams, teams.rig.token(expires_in=-120))


async def test_a_token_for_another_bot_is_refused(teams: Served) -> None:
    await refused(teams, teams.rig.token(audience="99999999-2222-3333-4444-555555555555"))


async def test_a_token_of_another_issuer_is_refused(teams: Served) -> None:
    await refused(teams, teams.rig.token(issuer="https://login.example.org"))
    other_tenant = "https://sts.windows.net/bbbbbbbb-bbbb-cccc-dddd-eeeeeeeeeeee/"
    await refused(teams, teams.rig.token(issuer=other_tenant))


async def test_a_token_without_a_key_id_is_refused_not_an_error(teams: Served) -> None:
    await refused(teams, teams.rig.token(kid=None))
    await refused(teams, teams.rig.token(kid="a-key-nobody-published"))


async def test_a_token_for_another_service_url_is_refused(teams: Served) -> None:
    await refused(teams, teams.rig.token(service_url="https://evil.example.org/teams/"))
    await refused(teams, teams.rig.token(claims={"serviceurl": None}))


async def test_a_token_of_the_bots_own_tenant_is_accepted(teams: Served) -> None:
    token = teams.rig.token(issuer=f"https://sts.windows.net/{TENANT}/")
    assert await teams.send(activity(teams.rig, object_id=WIM, text="/help"), token) in (200, 202)
    assert teams.rig.posted()


async def test_a_malformed_activity_is_a_bad_request_not_an_error(teams: Served) -> None:
    body = activity(teams.rig, object_id=WIM, text="/help", timestamp="not a time")
    assert await teams.send(body) == 400
    assert await teams.send(None, raw=b"{not json") == 401  # no serviceUrl to check the token
    no_conversation = activity(teams.rig, object_id=WIM, text="/help")
    del no_conversation["conversation"]
    assert await teams.send(no_conversation) == 400
    assert teams.rig.posted() == []


async def test_an_activity_delivered_again_is_processed_once(teams: Served) -> None:
    body = activity(teams.rig, object_id=WIM, text="/help", activity_id="1700000000001")
    assert await teams.send(body) in (200, 202)
    first = len(teams.rig.posted())
    assert first > 0
    assert await teams.send(body) == 200
    assert len(teams.rig.posted()) == first


async def test_an_unsigned_token_is_refused(teams: Served) -> None:
    claims = jwt.decode(teams.rig.token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, key=None, algorithm="none", headers={"kid": KID})
    await refused(teams, unsigned)


async def test_a_key_that_does_not_endorse_the_channel_is_refused(teams: Served) -> None:
    body = activity(teams.rig, object_id=WIM, text="/help", channelId="webchat")
    assert await teams.send(body) == 401
    assert teams.rig.posted() == []
