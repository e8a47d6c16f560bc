"""One reply plan: where each reply goes and what a failure says, decided once for every
transport. A transport translates what happened into an `Asked`, provides a `Carrier` (a few
primitives), and calls `answer`; it has no "where does this go" of its own.

What the plan decides (`plan_for`, `route`):

- in the person's private chat with the bot (a direct message), or somewhere only they see
  (Slack's App Home, an ephemeral answer): everything is answered `here`;
- a command that starts a guided conversation, or a button of one: every reply goes
  `privately`, to the person's private chat, since only there the platform sends the bot
  what they type; an error is answered where they asked instead;
- in a place (a channel, a group): a reply for everyone there (`Reply.to_place`) goes to the
  place (`in_place`; one with `updates` edits the message showing it); the person's own
  replies are answered to them alone (`here`) on a transport whose answer in a place only
  the asker sees (`Carrier.ephemeral`: Slack), else in the place by the privacy rule
  (`common.privacy`): a personal reply goes `privately` and a note in the place says so, or,
  when the platform will not let the bot write to them yet, asks them to start a private
  chat; a button of the place (a vote of the scan) is answered to the presser `alone`;
- a button pressed in the private chat whose reply updates a message shown in one of the
  transport's places (who is at the scan's table) edits it there;
- a Claim pressed on a card (the row's `refreshes_card`) shows that card anew, once: a card
  the outbox sent is brought up to date by the outbox (`notify.refresh_cards`), so the
  transport edits only a card the outbox does not know (one shown by `/case`);
- a failure says that Vangnet cannot reach its data, that it runs on an old key, or that
  something went wrong (`common.failures`), as the press's answer while that is open, else
  `here`; when even who is asking cannot be read, the same, in the region's language.

What a transport provides (`Carrier`), and nothing more:

- `ephemeral`: whether `here`, in a place, is seen by the asker alone;
- `here(replies)`: answer where the person asked;
- `privately(replies)`: to the person's private chat with the bot; raises
  `CannotWritePrivately` when the platform refuses (they never started one);
- `in_place(place, replies)`: for everyone in `place` (the core's name of it, always
  "TRANSPORT:…"): posted, or for a reply with `updates`, the message showing it edited;
- `alone(replies)`: a button of the place answered to the presser alone (Slack: ephemeral;
  Telegram: the press's answer when it is short text, else privately);
- `open_form(command, args, who)`: show the command's form whole (a Slack modal); False when
  the platform has none, or not for this (the core then answers as typed);
- `card`: the platform's reference of the message a pressed button sat on, as the outbox
  records it (None: never edited), and `edit_card(reply)` to show it anew;
- `acknowledge(text)`: answer the press (Telegram's callback query; a no-op where the
  listener acknowledged already); `acknowledged` says whether that was done.

A third transport implements these, names its places "NAME:…", and calls `identify` and
`answer` from its listeners (`slack/carrier.py` and `telegram/carrier.py` show how). The
terminal needs no carrier: it is always one person's private chat, where everything is shown
as it is typed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from bot.core.app import Core
from bot.core.commands import COMMANDS, for_the_place, form_opened_by, press_of, split_command
from bot.core.i18n import Translator, translator
from bot.core.messaging.notify import kept_by_outbox
from bot.core.replies import Reply
from bot.handlers.common import calls, places
from bot.handlers.common.conversation import continues_in_private, starts_conversation
from bot.handlers.common.failures import failure_text
from bot.handlers.common.privacy import place as by_privacy
from bot.handlers.common.who import Who
from bot.logs import log_failure
from bot.store.db import session_scope

log = logging.getLogger(__name__)


class CannotWritePrivately(Exception):
    """The platform will not let the bot write to the person privately (yet)."""


class Way(Enum):
    HERE = "here"
    PRIVATELY = "privately"
    PLACE = "place"
    ALONE = "alone"


@dataclass(frozen=True)
class Delivery:
    way: Way
    replies: list[Reply]
    place: str | None = None  # Way.PLACE: which


@dataclass(frozen=True)
class Asked:
    """What a person did, as a transport translated it."""

    line: str | None = None  # a typed line: a command ("/case K7F2") or an answer
    action: str | None = None  # a button pressed: the core's action ("claim:K7F2")
    place: str | None = None  # the channel or group it was done in; None: a private place


@dataclass(frozen=True)
class Plan:
    """What the core is told, and how the replies are sent."""

    private: bool  # the core's `private`: the replies are seen by the person alone
    place: str | None  # the core's `place`
    ephemeral: bool  # the transport answers in the place to the asker alone
    conversation: bool = False  # a guided conversation: privately, unless one is an error
    place_button: bool = False  # a button of the place pressed there: answered `alone`
    pressed: bool = False  # a button, not a typed line
    acknowledge_first: bool = True  # the press answered before the work
    refreshes_card: bool = False  # a Claim: the card it sat on shown anew


def command_of(line: str | None) -> str | None:
    """The command's name in a typed line ("case"), None when it is not a command."""
    if line is None or not line.strip().startswith("/"):
        return None
    return split_command(line)[0]


def plan_for(asked: Asked, who: Who, *, ephemeral: bool) -> Plan:
    """The plan for what `who` asked, on a transport with (or without) ephemeral answers."""
    in_place = asked.place is not None
    if asked.action is not None:
        of_place = for_the_place(action=asked.action)
        press = press_of(asked.action)
        return Plan(
            private=not in_place or (ephemeral and not of_place),
            place=asked.place,
            ephemeral=ephemeral,
            conversation=continues_in_private(asked.action),
            place_button=in_place and of_place,
            pressed=True,
            acknowledge_first=not (in_place and of_place),
            refreshes_card=not in_place and press is not None and press.refreshes_card,
        )
    command = command_of(asked.line)
    of_place = command is not None and for_the_place(command=command)
    return Plan(
        private=not in_place or (ephemeral and not of_place),
        place=asked.place,
        ephemeral=ephemeral,
        conversation=command is not None
        and starts_conversation(command)
        and command in who.commands,
    )


def route(
    plan: Plan,
    replies: Sequence[Reply],
    *,
    t: Translator,
    can_write_privately: bool = True,
    shown_in: Mapping[str, str] | None = None,
) -> list[Delivery]:
    """Where each reply goes, in the order to send them (`privately` first, so that a note
    in the place can say whether it went). `shown_in`: the place of the transport where the
    message a reply `updates` is shown, by its key (for a button pressed privately)."""
    replies = list(replies)
    failed = any(r.error for r in replies)
    public_place = plan.place is not None and not plan.ephemeral
    if plan.conversation and not failed:
        if not public_place:
            return [Delivery(Way.PRIVATELY, replies)]
        replies = [r.model_copy(update={"personal": True}) for r in replies]
    if plan.place is None:
        shown = shown_in or {}
        elsewhere: list[Delivery] = []
        here: list[Reply] = []
        for reply in replies:
            where = shown.get(reply.updates) if plan.pressed and reply.updates else None
            if reply.to_place and where is not None:
                elsewhere.append(Delivery(Way.PLACE, [reply], place=where))
            else:
                here.append(reply)
        return _nonempty([*elsewhere, Delivery(Way.HERE, here)])
    own = [r for r in replies if not r.to_place]
    public = [r for r in replies if r.to_place]
    if plan.place_button:
        first = [Delivery(Way.ALONE, own)]
        shown_publicly = public
    elif plan.ephemeral:
        first = [Delivery(Way.HERE, own)]
        shown_publicly = public
    else:
        first, shown_publicly = [], replies  # all in the place, in their order
    placed = by_privacy(
        shown_publicly, private_here=False, t=t, can_write_privately=can_write_privately
    )
    return _nonempty(
        [
            Delivery(Way.PRIVATELY, placed.private),
            *first,
            Delivery(Way.PLACE, placed.here, place=plan.place),
        ]
    )


def _nonempty(deliveries: list[Delivery]) -> list[Delivery]:
    return [d for d in deliveries if d.replies]


def failure_reply(t: Translator, exc: BaseException) -> Reply:
    """What a person is told when their request failed (`common.failures`)."""
    return Reply(text=t(failure_text(exc)), error=True)


class Carrier(Protocol):
    """What a transport provides to carry a plan out (see the module's docstring)."""

    @property
    def ephemeral(self) -> bool: ...

    @property
    def card(self) -> str | None: ...

    @property
    def acknowledged(self) -> bool: ...

    async def here(self, replies: list[Reply]) -> None: ...

    async def privately(self, replies: list[Reply]) -> None: ...

    async def in_place(self, place: str, replies: list[Reply]) -> None: ...

    async def alone(self, replies: list[Reply]) -> None: ...

    async def open_form(self, command: str, args: str, who: Who) -> bool: ...

    async def edit_card(self, reply: Reply) -> None: ...

    async def acknowledge(self, text: str | None = None) -> None: ...


async def carry_out(
    plan: Plan,
    replies: Sequence[Reply],
    carrier: Carrier,
    *,
    t: Translator,
    shown_in: Mapping[str, str] | None = None,
) -> None:
    """Send `replies` where the plan says; when the person cannot be written to privately,
    the place is told so instead (and what was personal is not shown)."""
    deliveries = route(plan, replies, t=t, shown_in=shown_in)
    if deliveries and deliveries[0].way is Way.PRIVATELY:
        try:
            await carrier.privately(deliveries[0].replies)
            deliveries = deliveries[1:]
        except CannotWritePrivately:
            fallback = route(plan, replies, t=t, can_write_privately=False, shown_in=shown_in)
            if any(d.way is Way.PRIVATELY for d in fallback):
                raise
            log.info("cannot write privately to a person; asked to start a chat")
            deliveries = fallback
    for delivery in deliveries:
        if delivery.way is Way.HERE:
            await carrier.here(delivery.replies)
        elif delivery.way is Way.PRIVATELY:
            await carrier.privately(delivery.replies)
        elif delivery.way is Way.ALONE:
            await carrier.alone(delivery.replies)
        else:
            assert delivery.place is not None
            await carrier.in_place(delivery.place, delivery.replies)


async def identify(
    look_up: Callable[[], Awaitable[Who | None]], carrier: Carrier, t: Translator, *, kind: str
) -> tuple[bool, Who | None]:
    """Who is asking; (False, None) when the directory cannot be read right now: they have
    been told so (the press's answer, or here), in the region's language (`t`)."""
    try:
        return True, await look_up()
    except Exception as exc:
        log_failure(log, "%s: the directory could not be read", kind, exc=exc)
        await tell_failure(carrier, t, exc)
        return False, None


async def tell_failure(carrier: Carrier, t: Translator, exc: BaseException) -> None:
    """Say briefly that the request failed: as the press's answer while it is open, else
    here. If even that fails, log it: there is nobody else to tell."""
    failure = failure_reply(t, exc)
    try:
        if carrier.acknowledged:
            await carrier.here([failure])
        else:
            await carrier.acknowledge(failure.text)
    except Exception as again:
        log.error("could not tell about a failure: %s", type(again).__name__)


async def answer(
    core: Core,
    who: Who | None,
    asked: Asked,
    carrier: Carrier,
    *,
    transport: str,
    arrived: datetime | None = None,
) -> None:
    """Carry out the plan for what `who` asked; a failure is logged and said briefly. A
    press is acknowledged once, before the work or with what it says."""
    t = who.t if who else None
    try:
        await _answer(core, who, asked, carrier, transport=transport, arrived=arrived)
    except Exception as exc:
        log_failure(
            log, "%s: %s failed", transport, "a button" if asked.action else "a request", exc=exc
        )
        await tell_failure(carrier, t or _region_t(core), exc)
    finally:
        if not carrier.acknowledged:
            await carrier.acknowledge(None)


def _region_t(core: Core) -> Translator:
    return translator(core.default_language)


async def _answer(
    core: Core,
    who: Who | None,
    asked: Asked,
    carrier: Carrier,
    *,
    transport: str,
    arrived: datetime | None,
) -> None:
    if who is None:
        refusal = core.not_registered()
        await carrier.here([refusal])
        if asked.action is not None:
            await carrier.acknowledge(refusal.text)
        return
    if await _opened_form(asked, who, carrier):
        return
    plan = plan_for(asked, who, ephemeral=carrier.ephemeral)
    if asked.action is not None and plan.acknowledge_first:
        await carrier.acknowledge(None)
    if asked.action is not None:
        replies = await calls.pressed(
            core,
            who,
            asked.action,
            transport=transport,
            private=plan.private,
            place=plan.place,
            arrived=arrived,
        )
    else:
        replies = await calls.typed(
            core,
            who,
            asked.line or "",
            transport=transport,
            private=plan.private,
            place=plan.place,
            arrived=arrived,
        )
    failed = next((r for r in replies if r.error), None)
    if plan.refreshes_card and failed is None and asked.action is not None:
        await _refresh_card(core, who, asked.action, carrier, transport=transport)
    shown = await _shown_in(core, plan, replies, transport=transport)
    await carry_out(plan, replies, carrier, t=who.t, shown_in=shown)
    if failed is not None and not plan.place_button and not carrier.acknowledged:
        await carrier.acknowledge(failed.text)


async def _opened_form(asked: Asked, who: Who, carrier: Carrier) -> bool:
    """Whether what was asked opens a form of the platform's own instead (and it did)."""
    if asked.action is not None:
        opens = form_opened_by(asked.action)  # "Add a leaver", the Placement button
        if opens is None:
            return False
        command, args = opens
        return await carrier.open_form(command.name, args, who)
    name = command_of(asked.line)
    found = COMMANDS.get(name) if name else None
    if found is None or found.form is None or asked.line is None:
        return False
    return await carrier.open_form(found.name, split_command(asked.line)[1], who)


async def _refresh_card(
    core: Core, who: Who, action: str, carrier: Carrier, *, transport: str
) -> None:
    """The card the button sat on, shown as the case is now (who has it, no Claim) — unless
    the outbox sent it, which brings it up to date itself: one edit per claim."""
    ref = carrier.card
    if ref is None:
        return
    if await asyncio.to_thread(_kept_by_outbox, core, transport, ref):
        return
    card = await calls.pressed(core, who, f"case:{action.split(':', 1)[1]}", transport=transport)
    if card and not card[0].error:
        await carrier.edit_card(card[0])


def _kept_by_outbox(core: Core, transport: str, ref: str) -> bool:
    with session_scope(core.engine, write=False) as session:
        return kept_by_outbox(session, via=transport, platform_ref=ref)


async def _shown_in(
    core: Core, plan: Plan, replies: Sequence[Reply], *, transport: str
) -> dict[str, str]:
    """For a button pressed privately: where this transport shows the messages its replies
    update (a reply for the place about who sits at the scan's table)."""
    keys = [r.updates for r in replies if r.to_place and r.updates] if plan.pressed else []
    if plan.place is not None or not keys:
        return {}

    def look() -> dict[str, str]:
        found = {key: places.place_of(core.engine, key) for key in keys}
        mine = transport + ":"
        return {key: where for key, where in found.items() if where and where.startswith(mine)}

    return await asyncio.to_thread(look)
