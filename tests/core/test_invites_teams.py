"""Invites on Teams: someone added without any chat account sends `/start TOKEN` to the bot
in Teams, and their Entra object id is bound to them, once."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.core.app import Core
from bot.core.invites import redeem_teams, remember_bot_username, remember_teams_app
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Invite, Person
from tests.factories import one, press, say

APP_ID = "11111111-2222-4333-8444-555555555555"
GUID = "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc"


def add_without_chat(core: Core, name: str) -> str:
    """/admin add of a coordinator with no Slack member and no Teams account; the invite."""
    say(core, "anna", "/admin add")
    for answer in (name, "coordinator", "en", "skip", "skip"):
        say(core, "anna", answer)
    _done, invite = press(core, "anna", "form:confirm")
    return invite.text


def token_in(text: str) -> str:
    found = re.search(r"/start (\S+)", text)
    assert found is not None, text
    return found[1]


def test_the_invite_says_how_to_link_a_teams_account(core: Core) -> None:
    remember_teams_app(core.engine, APP_ID)
    text = add_without_chat(core, "Kees Mol")
    link = f"https://teams.microsoft.com/l/chat/0/0?users=28:{APP_ID}"
    assert text.startswith("In Microsoft Teams: Kees Mol opens the chat with the bot")
    assert link in text and "within 14 days" in text
    assert "Telegram" not in text  # Teams only: no Telegram bot to speak of

    remember_bot_username(core.engine, "vangnet_bot")  # both run: both ways are offered
    both = one(say(core, "anna", "/admin invite kees")).text
    assert "https://t.me/vangnet_bot?start=" in both and link in both


def test_sending_the_token_in_teams_binds_the_account_once(core: Core) -> None:
    remember_teams_app(core.engine, APP_ID)
    token = token_in(add_without_chat(core, "Kees Mol"))
    (welcome,) = redeem_teams(core.engine, token=token, object_id=GUID.upper(), language="en")
    assert not welcome.error
    assert welcome.text == (
        "Welcome to Vangnet, Kees Mol. Your Teams account is linked; type /help to see what "
        "you can do."
    )
    with session_scope(core.engine) as session:
        kees = session.get(Person, "kees")
        assert kees is not None and kees.teams_id == GUID
        invite = session.get(Invite, token)
        assert invite is not None and invite.used_by_teams_id == GUID
        assert invite.used_by_telegram_id is None
        used = session.exec(select(AuditEvent).where(AuditEvent.action == "invite_used")).one()
        assert (used.actor_id, used.transport) == ("kees", "teams")
    (again,) = redeem_teams(core.engine, token=token, object_id=GUID, language="en")
    assert again.error and "used already" in again.text


def test_a_teams_account_of_someone_else_is_not_bound_again(core: Core) -> None:
    remember_teams_app(core.engine, APP_ID)
    first = token_in(add_without_chat(core, "Kees Mol"))
    second = token_in(add_without_chat(core, "Lies Bos"))
    redeem_teams(core.engine, token=first, object_id=GUID, language="en")
    (refused,) = redeem_teams(core.engine, token=second, object_id=GUID, language="nl")
    assert refused.error
    assert refused.text == "Dit Teams-account hoort al bij iemand anders in het adresboek."
    with session_scope(core.engine) as session:
        lies = session.get(Person, "lies")
        assert lies is not None and lies.teams_id is None
        assert session.get(Invite, second).used_at is None  # type: ignore[union-attr]
