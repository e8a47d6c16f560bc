"""`/admin people [ROLE|MUNICIPALITY|SCHOOL] [page]`: who is in the directory, with their
roles, municipality or school, which chat they are linked to, and where they cannot be
reached (`messaging.verdicts`); paged."""

from __future__ import annotations

from sqlmodel import select

from bot.core.admin.fields import ROLE_CHOICES
from bot.core.cases.unreachable import PLATFORMS
from bot.core.context import Ctx
from bot.core.directory import match_municipality
from bot.core.errors import Refused
from bot.core.messaging import verdicts
from bot.core.replies import Button, Reply
from bot.core.vocab import label, role_labels
from bot.store import queries
from bot.store.models import Person, School

PAGE_SIZE = 15


def people(ctx: Ctx, args: str) -> list[Reply]:
    """`/admin people [ROLE|MUNICIPALITY|SCHOOL] [page]`."""
    t = ctx.t
    words = args.split()
    page = 1
    if words and words[-1].isdigit():
        page = max(1, int(words.pop()))
    what = " ".join(words)
    found = list(queries.active_people(ctx.session))
    if what:
        found = _filtered(ctx, found, what)
    pages = max(1, (len(found) + PAGE_SIZE - 1) // PAGE_SIZE)
    if page > pages:
        raise Refused(t.tn("There is only {n} page.", "There are only {n} pages.", pages))
    shown = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    buttons: list[Button] = []
    if page < pages:
        more = f"cmd:admin people {what} {page + 1}".replace("  ", " ")
        if len(more.encode()) <= 64:
            buttons.append(Button(label=t("More"), action=more))
    return [
        Reply(
            title=t("People ({n})", n=len(found)),
            text=t("Page {page} of {pages}", page=page, pages=pages) if pages > 1 else "",
            lines=[_person_line(ctx, p) for p in shown] or [t("Nobody.")],
            buttons=buttons,
            personal=True,
        )
    ]


def _filtered(ctx: Ctx, people: list[Person], what: str) -> list[Person]:
    q = what.strip().casefold()
    for role in ROLE_CHOICES:
        if q in (role, role.replace("_", " "), label(ctx.t, role).casefold()):
            return [p for p in people if role in p.roles]
    found, _ = match_municipality(ctx.session, what)
    if found is not None:
        return [p for p in people if p.municipality_code == found.code]
    for school in ctx.session.exec(select(School)).all():
        if q in (school.id.casefold(), school.name.casefold()):
            return [p for p in people if p.school_id == school.id]
    raise Refused(
        ctx.t(
            "{what} is not a role, municipality or school. Use: /admin people [role or "
            "municipality]",
            what=what[:60],
        )
    )


def _person_line(ctx: Ctx, person: Person) -> str:
    t = ctx.t
    parts = [f"{person.name} ({person.id})", role_labels(t, person.roles)]
    if person.municipality_code:
        parts.append(queries.municipality_name(ctx.session, code=person.municipality_code))
    if person.school_id:
        school = ctx.session.get(School, person.school_id)
        parts.append(school.name if school else person.school_id)
    linked = [
        name
        for name, on in (
            ("Slack", person.slack_id),
            ("Telegram", person.telegram_id),
            ("Teams", person.teams_id),
        )
        if on
    ]
    if person.teams_upn and person.teams_id is None:
        linked.append(t("Teams (not resolved yet: when they first write to the bot)"))
    parts.append(", ".join(linked) if linked else t("not linked to a chat yet"))
    for via, reason in verdicts.unreachable_on(person).items():
        parts.append(
            t(
                "cannot be reached on {platform} ({reason})",
                platform=PLATFORMS.get(via, via),
                reason=reason,
            )
        )
    return " · ".join(parts)
