"""Who may use Vangnet: `/admin deactivate PERSON` and `/admin reactivate PERSON`.

Deactivating refuses while the person still has open cases (listed, with a Transfer button
each), so nothing is lost, and never deactivates the last coordinator. A deactivated person
is treated like someone who is not in the directory; their history stays, and their chats
are unlinked so that the Slack member or Telegram account is free for someone else.
Reactivating undoes a deactivation made by mistake (or someone coming back): the same
person, roles and history, active again; their chats are linked again with
`/admin change` (Slack) or `/admin invite` (Telegram). Both are audited by id.

```mermaid
flowchart LR
    deactivate["/admin deactivate PERSON"] -- open cases --> listed["cases listed with Transfer"]
    deactivate -- none, not the last coordinator --> inactive
    inactive -- "/admin reactivate PERSON" --> active["active, chats to link again"]
```
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.core.admin.people import keep_a_coordinator, one_person
from bot.core.cases.audit import record
from bot.core.cases.cards import case_line
from bot.core.context import Ctx
from bot.core.directory import find_person
from bot.core.errors import Refused
from bot.core.replies import Button, Reply
from bot.core.vocab import OPEN_STATES, CaseState, Role
from bot.store.models import Case, Person


def open_cases(ctx: Ctx, person: Person) -> list[Case]:
    """The cases that would be stranded: owned and not finished, or waiting for them."""
    owned = col(Case.owner_id) == person.id
    waiting = (col(Case.assigned_person_id) == person.id) & (col(Case.state) == CaseState.due)
    return list(
        ctx.session.exec(
            select(Case)
            .where((owned & col(Case.state).in_([*OPEN_STATES, CaseState.lost])) | waiting)
            .order_by(col(Case.ref))
        ).all()
    )


def deactivate(ctx: Ctx, args: str) -> list[Reply]:
    person = one_person(ctx, args, "/admin deactivate PERSON")
    if Role.coordinator.value in person.roles:
        keep_a_coordinator(ctx, person)
    stranded = open_cases(ctx, person)
    if stranded:
        return [
            Reply(
                title=ctx.t("{name} still has open cases", name=person.name),
                text=ctx.t(
                    "Transfer these first (/transfer REF MUNICIPALITY-or-@person), then "
                    "/admin deactivate {id} again. Nothing was changed.",
                    id=person.id,
                ),
                lines=[case_line(ctx.session, ctx.t, c) for c in stranded],
                buttons=[
                    Button(label=ctx.t("Transfer {ref}", ref=c.ref), action=f"transfer:{c.ref}")
                    for c in stranded
                ],
                personal=True,
                error=True,
            )
        ]
    person.active = False
    person.slack_id = None  # free for someone else; the person is kept for the audit trail
    person.telegram_id = None
    ctx.session.add(person)
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="person_deactivated",
        id=person.id,
    )
    return [
        Reply(
            text=ctx.t(
                "{name} is deactivated: they can no longer use Vangnet. Their history stays.",
                name=person.name,
            )
        )
    ]


def _names(people: list[Person]) -> str:
    return ", ".join(f"{p.name} ({p.id})" for p in people[:20])


def reactivate(ctx: Ctx, args: str) -> list[Reply]:
    query = args.strip()
    everyone = find_person(ctx.session, "", active=False)
    listed = " " + ctx.t("Deactivated: {names}", names=_names(everyone)) if everyone else ""
    if not query:
        if not everyone:
            raise Refused(ctx.t("Nobody is deactivated."))
        raise Refused(ctx.t("Whom? Use: {usage}", usage="/admin reactivate PERSON") + listed)
    inactive = find_person(ctx.session, query, active=False)
    if not inactive:
        if find_person(ctx.session, query):
            raise Refused(ctx.t("{query} is active already.", query=query[:60]))
        raise Refused(ctx.t('Nobody deactivated matches "{query}".', query=query[:60]) + listed)
    if len(inactive) > 1:
        raise Refused(ctx.t("Several people match; which one?") + " " + _names(inactive))
    person = inactive[0]
    person.active = True
    ctx.session.add(person)
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="person_reactivated",
        id=person.id,
    )
    return [
        Reply(
            text=ctx.t(
                "{name} can use Vangnet again, with the same roles and history. Their chats"
                " were unlinked when they were deactivated: link Slack with /admin change {id},"
                " or send a Telegram link with /admin invite {id}.",
                name=person.name,
                id=person.id,
            )
        )
    ]
