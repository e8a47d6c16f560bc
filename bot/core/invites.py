"""Invites: a one-time link that binds a Telegram account (or a token that binds a Teams
account) to a person of the directory.

The coordinator types `/admin invite PERSON` (on any transport) and gets a link
`https://t.me/<bot>?start=<token>`; the person opens it, Telegram sends `/start <token>`, and
their Telegram account is bound to them (Person.telegram_id), once. A token is single-use and
expires (`INVITE_DAYS`); a used or expired one gets a clear message. The binding is audited.

The bot's username is only known to the Telegram transport (getMe): it stores it at start
(`remember_bot_username`), and the link is made from it. When Telegram has not run yet, the
reply gives the token and says to send `/start TOKEN` to the bot instead.

On Teams a person is usually known before they write: the coordinator gives their Entra
object id or sign-in address (bot/core/teams_identity.py), and no invite is needed. For
someone added without any chat account, the same token works in Teams: they send
`/start TOKEN` to the bot in a personal chat, and the Teams transport calls `redeem_teams`
with their object id. The Teams transport stores its app id at start (`remember_teams_app`),
so that the invite can link to the chat with the bot.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from bot.core import clock
from bot.core.cases.audit import record
from bot.core.context import Ctx
from bot.core.directory import find_person, person_by_teams, person_by_telegram
from bot.core.errors import Refused
from bot.core.i18n import translator
from bot.core.replies import Reply
from bot.core.vocab import Role
from bot.store.db import session_scope
from bot.store.models import BotSetting, Invite, Person

INVITE_DAYS = 14
USERNAME_KEY = "telegram_username"
TEAMS_APP_KEY = "teams_app_id"
TRANSPORT = "telegram"
TEAMS = "teams"


def _remember(engine: Engine, key: str, value: str) -> None:
    with session_scope(engine) as session:
        row = session.get(BotSetting, key) or BotSetting(key=key, value="")
        row.value = value
        session.add(row)


def _setting(session: Session, key: str) -> str | None:
    row = session.get(BotSetting, key)
    return row.value if row is not None and row.value else None


def remember_bot_username(engine: Engine, username: str) -> None:
    _remember(engine, USERNAME_KEY, username)


def bot_username(session: Session) -> str | None:
    return _setting(session, USERNAME_KEY)


def remember_teams_app(engine: Engine, app_id: str) -> None:
    """The Teams bot's app id (TEAMS_APP_ID), stored by the Teams transport at start."""
    _remember(engine, TEAMS_APP_KEY, app_id)


def teams_chat_link(session: Session) -> str | None:
    """The deep link that opens a personal chat with the Teams bot; None before Teams ran."""
    app_id = _setting(session, TEAMS_APP_KEY)
    return f"https://teams.microsoft.com/l/chat/0/0?users=28:{app_id}" if app_id else None


def invite(ctx: Ctx, query: str) -> Reply:
    """A new invite for the person `query` names (the coordinator's `/admin invite PERSON`)."""
    t = ctx.t
    found = find_person(ctx.session, query) if query.strip() else []
    if len(found) != 1:
        if not found:
            raise Refused(t('Nobody in the directory matches "{query}".', query=query or "…"))
        names = ", ".join(p.id for p in found[:10])
        raise Refused(t("Several people match; which one?") + " " + names)
    return invite_person(ctx, found[0])


def invite_person(ctx: Ctx, person: Person, *, scan_only: bool = False) -> Reply:
    """A new invite for `person`; `scan_only`: a scan's guest, whom it joins to the scan."""
    t = ctx.t
    now = clock.now()
    token = secrets.token_urlsafe(24)
    ctx.session.add(
        Invite(
            token=token,
            person_id=person.id,
            created_by=ctx.actor.id,
            created_at=now,
            expires_at=now + timedelta(days=INVITE_DAYS),
        )
    )
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="invite",
        person=person.id,
    )
    username = bot_username(ctx.session)
    teams_link = teams_chat_link(ctx.session)
    texts: list[str] = []
    if scan_only:
        text = t(
            "Send {name} this link: it joins their Telegram account to this scan as a guest "
            "(once, within {days} days), and to nothing else: {link}",
            name=person.name,
            days=INVITE_DAYS,
            link=f"https://t.me/{username}?start={token}" if username else f"/start {token}",
        )
    elif username is not None:
        text = t(
            "Send {name} this link; it binds their Telegram account to them, once, within "
            "{days} days: {link}",
            name=person.name,
            days=INVITE_DAYS,
            link=f"https://t.me/{username}?start={token}",
        )
    elif teams_link is None:
        text = t(
            "The Telegram bot has not started yet, so I do not know its link. Ask {name} to "
            "send the bot this message within {days} days: /start {token}",
            name=person.name,
            days=INVITE_DAYS,
            token=token,
        )
    else:  # Teams only: no Telegram link to give
        text = ""
    if text:
        texts.append(text)
    if teams_link is not None:
        texts.append(
            t(
                "In Microsoft Teams: {name} opens the chat with the bot ({link}) and sends it, "
                "within {days} days: /start {token}",
                name=person.name,
                days=INVITE_DAYS,
                link=teams_link,
                token=token,
            )
        )
    return Reply(text="\n".join(texts))


def redeem(engine: Engine, *, token: str, telegram_id: int, language: str) -> list[Reply]:
    """Someone opened an invite link: bind their Telegram account to the invited person."""
    return _redeem(engine, token=token, via=TRANSPORT, account=telegram_id, language=language)


def redeem_teams(engine: Engine, *, token: str, object_id: str, language: str) -> list[Reply]:
    """Someone sent `/start TOKEN` to the bot in Teams: bind their Entra object id (the
    activity's `from.aadObjectId`) to the invited person."""
    return _redeem(
        engine, token=token, via=TEAMS, account=object_id.strip().casefold(), language=language
    )


def _redeem(
    engine: Engine, *, token: str, via: str, account: int | str, language: str
) -> list[Reply]:
    t = translator(language)
    with session_scope(engine) as session:
        found = session.get(Invite, token)
        now = clock.now()
        if found is None or found.used_at is not None:
            return [
                Reply(
                    text=t(
                        "This invite link was used already or does not exist. Ask "
                        "your coordinator for a new one."
                    ),
                    error=True,
                )
            ]
        if found.expires_at <= now:
            return [
                Reply(
                    text=t("This invite link has expired. Ask your coordinator for a new one."),
                    error=True,
                )
            ]
        person = session.get(Person, found.person_id)
        if person is None or not person.active:
            return [
                Reply(text=t("This invite is for someone no longer in the directory."), error=True)
            ]
        if via == TEAMS:
            other = person_by_teams(session, str(account))
        else:
            other = person_by_telegram(session, int(account))
        if other is not None and other.id != person.id:
            taken_text = (
                t("This Teams account belongs to someone else in the directory already.")
                if via == TEAMS
                else t("This Telegram account belongs to someone else in the directory already.")
            )
            return [Reply(text=taken_text, error=True)]
        # single use, also when the link is opened twice at the same moment: whoever's
        # conditional update marks it used binds the account
        taken = session.execute(
            update(Invite)
            .where(col(Invite.token) == token, col(Invite.used_at).is_(None))
            .values(
                used_at=now,
                used_by_telegram_id=account if via == TRANSPORT else None,
                used_by_teams_id=account if via == TEAMS else None,
            )
            .returning(col(Invite.token))
        ).first()
        if taken is None:
            return [
                Reply(
                    text=t(
                        "This invite link was used already or does not exist. Ask "
                        "your coordinator for a new one."
                    ),
                    error=True,
                )
            ]
        if via == TEAMS:
            person.teams_id = str(account)
        else:
            person.telegram_id = int(account)
        session.add(person)
        record(
            session,
            actor_id=person.id,
            transport=via,
            action="invite_used",
            invited_by=found.created_by,
        )
        t = translator(person.language or language)
        if Role.scan_guest.value in person.roles:
            welcome = t(
                "Welcome, {name}. You take part in the Participatiescan as a guest: give your "
                "marks with the buttons in the group.",
                name=person.name,
            )
            return [Reply(text=welcome)]
        if via == TEAMS:
            linked = t(
                "Welcome to Vangnet, {name}. Your Teams account is linked; "
                "type /help to see what you can do.",
                name=person.name,
            )
        else:
            linked = t(
                "Welcome to Vangnet, {name}. Your Telegram account is linked; "
                "type /help to see what you can do.",
                name=person.name,
            )
        return [Reply(text=linked)]
