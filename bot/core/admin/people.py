"""The people of the directory, from the chat: add and change (product.md 5.6).

`/admin add` and `/admin change PERSON` are one guided form (the conversation engine): name,
roles, municipality (brokers, RMC doorstroompunt) or school (school contacts), language,
Slack member and Teams account (an Entra object id, or a UPN resolved once when they first
write: bot/core/teams_identity.py). A person added with neither gets an invite at once
(a Telegram link, or `/start TOKEN` to send the bot in Teams).
Deactivating and reactivating are in `standing.py`.

Every change is audited by id, with the names of the fields that changed (never values).

```mermaid
flowchart LR
    add["/admin add"] --> form
    change["/admin change PERSON"] --> summary
    form["name, roles, municipality or school, language, Slack, Teams"] --> summary
    summary -- confirm --> saved["person saved, audited; no Slack nor Teams: invite"]
```
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlmodel import select

from bot.core import conversation, invites
from bot.core.admin.fields import (
    ROLE_CHOICES,
    parse_language,
    parse_municipality,
    parse_roles,
    parse_school,
    parse_slack,
    parse_teams,
    roles_of,
    school_options,
)
from bot.core.cases import unreachable
from bot.core.cases.audit import record
from bot.core.context import Ctx
from bot.core.directory import find_person, free_person_id, teams_columns
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.intake.fields import parse_text
from bot.core.messaging import verdicts
from bot.core.replies import Reply
from bot.core.teams_identity import parse_teams_identity
from bot.core.vocab import Role, role_labels
from bot.store import queries
from bot.store.models import Person, School

# the roles that work for a municipality, and the one that must have one
MUNICIPAL_ROLES = frozenset({Role.broker.value, Role.doorstroompunt.value})


def one_person(ctx: Ctx, query: str, usage: str) -> Person:
    """The one active person `query` names (id or name), or a refusal that says why."""
    query = query.strip()
    if not query:
        raise Refused(ctx.t("Whom? Use: {usage}", usage=usage))
    found = find_person(ctx.session, query)
    if not found:
        raise Refused(ctx.t('Nobody in the directory matches "{query}".', query=query[:60]))
    if len(found) > 1:
        names = ", ".join(p.id for p in found[:10])
        raise Refused(ctx.t("Several people match; which one?") + " " + names)
    return found[0]


def _show_roles(ctx: Ctx, raw: str) -> str:
    return role_labels(ctx.t, roles_of(raw))


def _show_school(ctx: Ctx, raw: str) -> str:
    school = ctx.session.get(School, raw)
    return school.name if school else raw


def _municipal(values: dict[str, Any]) -> bool:
    return bool(MUNICIPAL_ROLES & set(roles_of(values.get("roles", ""))))


def _is_broker(values: dict[str, Any]) -> bool:
    return Role.broker.value in roles_of(values.get("roles", ""))


def _no_slack(values: dict[str, Any]) -> bool:
    """Teams is asked of someone not on Slack: a person is reached on one chat."""
    return not values.get("slack")


def _is_school_contact(values: dict[str, Any]) -> bool:
    return Role.school_contact.value in roles_of(values.get("roles", ""))


PERSON_FIELDS = (
    conversation.FormField(
        name="name",
        label=N_("Name"),
        question=N_("What is the person's name?"),
        parse=parse_text(200),
        required=True,
    ),
    conversation.FormField(
        name="roles",
        label=N_("Roles"),
        question=N_("Which role does the person have? Several: type them with commas."),
        parse=parse_roles,
        required=True,
        choices=ROLE_CHOICES,
        show=_show_roles,
    ),
    conversation.FormField(
        name="municipality",
        label=N_("Municipality"),
        question=N_("For which municipality does the person work?"),
        parse=parse_municipality,
        ask_if=_municipal,
        required_if=_is_broker,
    ),
    conversation.FormField(
        name="school",
        label=N_("School"),
        question=N_("At which school? Choose it, or type a word of its name."),
        parse=parse_school,
        options=school_options,
        ask_if=_is_school_contact,
        required_if=_is_school_contact,
        show=_show_school,
    ),
    conversation.FormField(
        name="language",
        label=N_("Language"),
        question=N_("In which language does the bot write to them?"),
        parse=parse_language,
        choices=("nl", "en"),
    ),
    conversation.FormField(
        name="slack",
        label=N_("Slack member"),
        question=N_(
            "Their Slack member id (profile, ⋮, Copy member ID), or @mention them. "
            "Skip for Teams or Telegram."
        ),
        parse=parse_slack,
    ),
    conversation.FormField(
        name="teams",
        label=N_("Teams account"),
        question=N_(
            "The address they sign in to Microsoft Teams with (name@domain), or their Entra "
            "object id. Skip for Telegram: they get an invite link."
        ),
        parse=parse_teams,
        ask_if=_no_slack,
    ),
)


def _new_id(ctx: Ctx, name: str) -> str:
    """A short id from the first name ("Jan de Vries" → "jan", else "jan2", "jan3" …)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", plain)
    return free_person_id(ctx.session, (words[0] if words else "person")[:30])


def _check_slack(ctx: Ctx, slack: str | None, person_id: str | None) -> None:
    if slack is None:
        return
    other = ctx.session.exec(select(Person).where(Person.slack_id == slack)).first()
    if other is not None and other.id != person_id:
        raise Refused(
            ctx.t(
                "That Slack member belongs to {name} ({id}) already.", name=other.name, id=other.id
            )
        )


def _check_teams(ctx: Ctx, teams: str | None, person_id: str | None) -> None:
    identity = parse_teams_identity(teams) if teams else None
    if identity is None:
        return
    column = Person.teams_id if identity.object_id is not None else Person.teams_upn
    other = ctx.session.exec(select(Person).where(column == identity.text)).first()
    if other is not None and other.id != person_id:
        raise Refused(
            ctx.t(
                "That Teams account belongs to {name} ({id}) already.", name=other.name, id=other.id
            )
        )


def _teams_text(person: Person) -> str:
    """The Teams account as the form shows it: the UPN the coordinator gave, else the id."""
    return person.teams_upn or person.teams_id or ""


def _fill(person: Person, values: dict[str, Any]) -> list[str]:
    """The form's answers into the person; the names of the fields that changed."""
    roles = roles_of(values["roles"])
    want: dict[str, Any] = {
        "name": values["name"],
        "roles": roles,
        "municipality_code": values.get("municipality") if MUNICIPAL_ROLES & set(roles) else None,
        "school_id": values.get("school") if Role.school_contact.value in roles else None,
        "language": values.get("language"),
        "slack_id": values.get("slack"),
    }
    if _no_slack(values):  # asked: what it says; else (on Slack) their Teams account stays
        teams = values.get("teams")
        want.update(teams_columns(person, parse_teams_identity(teams) if teams else None))
    changed = [k for k, v in want.items() if getattr(person, k) != v]
    for key, value in want.items():
        setattr(person, key, value)
    return changed


def _confirm_add(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    _check_slack(ctx, values.get("slack"), None)
    _check_teams(ctx, values.get("teams"), None)
    person = Person(id=_new_id(ctx, values["name"]), name=values["name"])
    fields = _fill(person, values)
    ctx.session.add(person)
    ctx.session.flush()
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="person_added",
        id=person.id,
        fields=fields,
    )
    done = Reply(
        text=ctx.t(
            "{name} is in the directory now, as {roles} (id {id}).",
            name=person.name,
            roles=role_labels(ctx.t, person.roles),
            id=person.id,
        )
    )
    if person.slack_id is not None or person.teams_id is not None or person.teams_upn:
        return [done]
    return [done, invites.invite(ctx, person.id)]


def _confirm_change(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    person = ctx.session.get(Person, context["person"])
    if person is None or not person.active:
        raise Refused(ctx.t("{id} is no longer in the directory.", id=context["person"]))
    _check_slack(ctx, values.get("slack"), person.id)
    _check_teams(ctx, values.get("teams"), person.id)
    was_coordinator = Role.coordinator.value in person.roles
    fields = _fill(person, values)
    if was_coordinator and Role.coordinator.value not in person.roles:
        keep_a_coordinator(ctx, person)
    if verdicts.clear(person):  # changed by the coordinator: tried again on every transport
        unreachable.release(ctx.session, person)
        fields.append("unreachable")
    if not fields:
        return [Reply(text=ctx.t("Nothing changed."))]
    ctx.session.add(person)
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="person_changed",
        id=person.id,
        fields=fields,
    )
    return [Reply(text=ctx.t("{name} is changed.", name=person.name))]


def _about_change(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> str:
    person = ctx.session.get(Person, context["person"])
    return ctx.t(
        "Change {name} ({id}): press Edit to change an answer, then Confirm.",
        name=person.name if person else context["person"],
        id=context["person"],
    )


ADD_PERSON = conversation.register(
    conversation.Form(
        name="admin_person_add",
        title=N_("Add a person"),
        fields=PERSON_FIELDS,
        on_confirm=_confirm_add,
    )
)
CHANGE_PERSON = conversation.register(
    conversation.Form(
        name="admin_person_change",
        title=N_("Change a person"),
        fields=PERSON_FIELDS,
        on_confirm=_confirm_change,
        summary_note=_about_change,
    )
)


def add(ctx: Ctx, args: str) -> list[Reply]:
    """`/admin add` (on Slack a modal opens instead; `/admin add chat` is this there too)."""
    return conversation.start(ctx, ADD_PERSON)


def change(ctx: Ctx, args: str) -> list[Reply]:
    person = one_person(ctx, args, "/admin change PERSON")
    answers = {
        "name": person.name,
        "roles": ",".join(r for r in ROLE_CHOICES if r in person.roles),
        "municipality": person.municipality_code or "",
        "school": person.school_id or "",
        "language": person.language or "",
        "slack": person.slack_id or "",
        "teams": _teams_text(person),
    }
    return conversation.start(
        ctx,
        CHANGE_PERSON,
        {"person": person.id},
        answers=answers,
        asked=[f.name for f in CHANGE_PERSON.fields],  # only what changes is typed
    )


def keep_a_coordinator(ctx: Ctx, person: Person) -> None:
    others = [
        p for p in queries.people_with_role(ctx.session, role=Role.coordinator) if p.id != person.id
    ]
    if not others:
        raise Refused(
            ctx.t(
                "{name} is the last coordinator. Make someone else coordinator first.",
                name=person.name,
            )
        )
