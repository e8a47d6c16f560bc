"""Who may use Vangnet: `/admin deactivate PERSON` and `/admin reactivate PERSON`.

Deactivating refuses while the person still has open cases (listed, with a Transfer button
each), so nothing is lost, and offers to hand them all to one broker in one step
(`/admin deactivate PERSON to PERSON`, confirmed; each case keeps its state and follow-ups:
`cases.reassign`); it never deactivates the last coordinator. A deactivated person
is treated like someone who is not in the directory; their history stays, and their chats
are unlinked so that the Slack member or Telegram account is free for someone else.
Reactivating undoes a deactivation made by mistake (or someone coming back): the same
person, roles and history, active again; their chats are linked again with
`/admin change` (Slack) or `/admin invite` (Telegram). Both are audited by id.

```mermaid
flowchart LR
    deactivate["/admin deactivate PERSON"] -- open cases --> listed["cases listed with Transfer"]
    listed -- "All to a broker, Confirm" --> handed["cases handed over, state kept"] --> inactive
    deactivate -- none, not the last coordinator --> inactive
    inactive -- "/admin reactivate PERSON" --> active["active, chats to link again"]
```
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.core.admin.people import keep_a_coordinator, one_person
from bot.core.admin.requests import NO, YES
from bot.core.cases import actions, reassign
from bot.core.cases.audit import record
from bot.core.cases.cards import case_line
from bot.core.context import Ctx
from bot.core.directory import find_person
from bot.core.errors import Refused
from bot.core.replies import Button, Reply
from bot.core.vocab import OPEN_STATES, CaseState, Role
from bot.store import queries
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


# "/admin deactivate bram to wim": hand all of Bram's cases to Wim first (asked to confirm)
TO_WORDS = ("to", "aan")


def _split_receiver(args: str) -> tuple[str, str, str]:
    """'bram to wim yes' → ('bram', 'wim', 'yes'); ('bram', '', '') when no one is named."""
    words = args.split()
    for i, word in enumerate(words):
        if word.casefold() in TO_WORDS and 0 < i < len(words) - 1:
            rest = words[i + 1 :]
            answer = rest[-1].casefold() if rest[-1].casefold() in (YES, NO) else ""
            receiver = rest[:-1] if answer else rest
            return " ".join(words[:i]), " ".join(receiver), answer
    return args, "", ""


def deactivate(ctx: Ctx, args: str) -> list[Reply]:
    query, receiver_query, answer = _split_receiver(args.strip())
    person = one_person(ctx, query, "/admin deactivate PERSON")
    if Role.coordinator.value in person.roles:
        keep_a_coordinator(ctx, person)
    stranded = open_cases(ctx, person)
    if stranded and receiver_query:
        receiver = one_person(ctx, receiver_query, "/admin deactivate PERSON to PERSON")
        if receiver.id == person.id or Role.broker not in receiver.roles:
            raise Refused(
                ctx.t("{name} is not a broker who can take these cases.", name=receiver.name)
            )
        if answer == NO:
            return [Reply(text=ctx.t("Nothing changed."))]
        if answer != YES:
            return [_confirm_handover(ctx, person, receiver, stranded)]
        for case in stranded:
            _hand_over(ctx, case, receiver)
        done = _deactivate(ctx, person)
        text = ctx.t.tn(
            "{n} case is handed over to {name}.",
            "{n} cases are handed over to {name}.",
            len(stranded),
            name=receiver.name,
        )
        return [done.model_copy(update={"text": text + " " + done.text})]
    if stranded:
        return [_stranded(ctx, person, stranded)]
    return [_deactivate(ctx, person)]


def _stranded(ctx: Ctx, person: Person, stranded: list[Case]) -> Reply:
    """The person's open cases, with a button per broker to hand them all over in one step
    (those of the person's municipality first), and one per case to transfer it alone."""
    t = ctx.t
    brokers = [
        p
        for p in queries.people_with_role(ctx.session, role=Role.broker)
        if p.id != person.id and p.municipality_code
    ]
    brokers.sort(key=lambda p: (p.municipality_code != person.municipality_code, p.name))
    return Reply(
        title=t("{name} still has open cases", name=person.name),
        text=t(
            "Hand them all over to one broker in one step (choose below), or transfer them one "
            "by one (/transfer REF MUNICIPALITY-or-@person) and then /admin deactivate {id} "
            "again. Nothing was changed.",
            id=person.id,
        ),
        lines=[case_line(ctx.session, t, c) for c in stranded],
        buttons=[
            Button(
                label=t("All to {name}", name=p.name),
                action=f"cmd:admin deactivate {person.id} to {p.id}",
            )
            for p in brokers
        ]
        + [
            Button(label=t("Transfer {ref}", ref=c.ref), action=f"transfer:{c.ref}")
            for c in stranded
        ],
        personal=True,
        error=True,
    )


def _confirm_handover(ctx: Ctx, person: Person, receiver: Person, stranded: list[Case]) -> Reply:
    t = ctx.t
    action = f"cmd:admin deactivate {person.id} to {receiver.id}"
    return Reply(
        text=t.tn(
            "Hand {n} case of {name} over to {receiver}, and then deactivate {name}? Each case "
            "keeps its state and follow-ups; {receiver} and {name} are told.",
            "Hand {n} cases of {name} over to {receiver}, and then deactivate {name}? Each case "
            "keeps its state and follow-ups; {receiver} and {name} are told.",
            len(stranded),
            name=person.name,
            receiver=receiver.name,
        ),
        lines=[case_line(ctx.session, t, c) for c in stranded],
        buttons=[
            Button(label=t("Confirm"), action=f"{action} {YES}", style="primary"),
            Button(label=t("Cancel"), action=f"{action} {NO}"),
        ],
        personal=True,
    )


def _hand_over(ctx: Ctx, case: Case, receiver: Person) -> None:
    """One case of a leaving broker to `receiver`: an owned one keeps its state; one that
    waits for them to claim it waits for the receiver instead."""
    if case.state in reassign.KEEPS_STATE:
        reassign.reassign(ctx, case, receiver)
    else:
        actions.transfer(ctx, case.ref, f"@{receiver.id}")


def _deactivate(ctx: Ctx, person: Person) -> Reply:
    person.active = False
    person.slack_id = None  # free for someone else; the person is kept for the audit trail
    person.telegram_id = None
    person.teams_id = None
    person.teams_upn = None
    ctx.session.add(person)
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="person_deactivated",
        id=person.id,
    )
    return Reply(
        text=ctx.t(
            "{name} is deactivated: they can no longer use Vangnet. Their history stays.",
            name=person.name,
        )
    )


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
