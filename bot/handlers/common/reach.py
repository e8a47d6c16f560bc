"""Which transport reaches a person: one, so that a ping is never sent twice.

A person with a Slack id is reached on Slack when Slack runs; otherwise on Telegram when they
have a Telegram id and Telegram runs; otherwise on Teams when they have a Teams identity (an
Entra object id) and Teams runs; otherwise the outbox keeps their messages. Each
transport's delivery loop asks `address_on` for its own addresses, and since the rule gives
every person at most one transport, no message goes out on both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from bot.core.app import Core
from bot.core.messaging.verdicts import Judge, Reach
from bot.store.models import Person

SLACK = "slack"
TELEGRAM = "telegram"
TEAMS = "teams"


def transport_of(person: Person, running: Collection[str]) -> str | None:
    """The one transport `person` is reached on, of those `running` (None: none of them).
    A transport that found them unreachable (`messaging.verdicts`) is passed over."""
    marked = person.unreachable or {}
    if SLACK in running and person.slack_id and SLACK not in marked:
        return SLACK
    if TELEGRAM in running and person.telegram_id is not None and TELEGRAM not in marked:
        return TELEGRAM
    if TEAMS in running and person.teams_id is not None and TEAMS not in marked:
        return TEAMS
    return None


def reach_of(core: Core, running: Collection[str], judge: Judge, health: dict[str, str]) -> Reach:
    """What a transport's courier does about failures (`verdicts.Reach`), with the core."""
    chosen = frozenset(running)
    return Reach(
        judge=judge,
        unreachable=core.unreachable,
        hold=lambda ids: core.hold_unreached(ids, lambda p: transport_of(p, chosen) is not None),
        lasting=core.lasting_failure,
        health=health,
    )


def address_on(transport: str, running: Collection[str]) -> Callable[[Person], str | None]:
    """`address_of` for `transport`'s delivery loop: the person's id there, or None when
    they are reached elsewhere (or not at all)."""
    chosen = frozenset(running)

    def address_of(person: Person) -> str | None:
        if transport_of(person, chosen) != transport:
            return None
        if transport == SLACK:
            return person.slack_id
        if transport == TEAMS:
            return person.teams_id
        return None if person.telegram_id is None else str(person.telegram_id)

    return address_of


def running_transports(*, slack: bool, telegram: bool, teams: bool = False) -> frozenset[str]:
    """The transports this process runs (from the settings: which tokens are set)."""
    chosen = ((SLACK, slack), (TELEGRAM, telegram), (TEAMS, teams))
    return frozenset(name for name, on in chosen if on)
