"""`/admin`: the coordinator runs the network from the chat (product.md 5.6, 5.7 and 6).

The directory (people, schools, municipalities), facilitators of the Participatiescan,
invites, and privacy requests (export, erase, audit trail). The command table gives `/admin`
to the coordinator only; this module reads the sub-command and hands it to its journey.
What is typed after the sub-command is checked there, and a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core import invites
from bot.core.admin import listing, people, places, requests, standing
from bot.core.audit import record
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.replies import Reply
from bot.core.scan import session as scan_session
from bot.core.text import visible

USAGE = N_(
    "/admin people [role or municipality] | add | change PERSON | deactivate PERSON | "
    "reactivate PERSON | facilitator PERSON | invite PERSON | schools | municipalities | "
    "export REF | erase REF | audit REF"
)
MAX_REF = 64


def _ref(ctx: Ctx, args: str, usage: str) -> str:
    ref, _, rest = args.strip().partition(" ")
    ref = visible(ref).strip().upper().lstrip("#")
    if not ref:
        raise Refused(ctx.t("Which case? Use: {usage}", usage=usage))
    if len(ref) > MAX_REF:
        raise Refused(ctx.t("That is not a case reference: it is far too long."))
    return f"{ref} {rest.strip()}".strip()


def _invite(ctx: Ctx, args: str) -> list[Reply]:
    person = people.one_person(ctx, args, "/admin invite PERSON")
    return [invites.invite(ctx, person.id)]


def _facilitator(ctx: Ctx, args: str) -> list[Reply]:
    person = people.one_person(ctx, args, "/admin facilitator PERSON")
    replies = scan_session.name_facilitator(ctx, person.id)
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="facilitator_named",
        id=person.id,
    )
    return replies


def _export(ctx: Ctx, args: str) -> list[Reply]:
    return requests.export(ctx, _ref(ctx, args, "/admin export REF").split(" ", 1)[0])


def _erase(ctx: Ctx, args: str) -> list[Reply]:
    return requests.erase(ctx, _ref(ctx, args, "/admin erase REF"))


def _audit(ctx: Ctx, args: str) -> list[Reply]:
    return requests.trail(ctx, _ref(ctx, args, "/admin audit REF"))


SUBCOMMANDS: dict[str, Callable[[Ctx, str], list[Reply]]] = {
    "people": listing.people,
    "add": people.add,
    "change": people.change,
    "deactivate": standing.deactivate,
    "reactivate": standing.reactivate,
    "facilitator": _facilitator,
    "invite": _invite,
    "schools": places.schools,
    "municipalities": places.municipalities,
    "export": _export,
    "erase": _erase,
    "audit": _audit,
}


def run(ctx: Ctx, args: str) -> list[Reply]:
    sub, _, rest = args.strip().partition(" ")
    found = SUBCOMMANDS.get(sub.casefold())
    if found is None:
        raise Refused(ctx.t("Use: {usage}", usage=ctx.t(USAGE)))
    return found(ctx, rest.strip())
