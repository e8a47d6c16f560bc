"""Who is at the table of a scan: its groups, the people seated for them, and its guests.

A group is named by any word of its label or description, in the person's language or the
session's ("zorg", "MEE", "jeugdzorg", "care" all name the care group); ids are never shown.
The facilitator seats a person of the directory (`/scan group PERSON GROUP`) or adds a guest
(`/scan guest NAME GROUP`, or a Slack member by mention): someone not in the case directory,
an employer, care, UWV, who is a person with the one role `scan_guest` — no case role, no case
scope, no case command (`commands.MEMBERS`), so nothing of the cases is ever shown to them.
A guest votes and can own an action; on Telegram they get an invite link that binds their
account to the guest, and nothing more. A voter who is not seated is asked for their group at
their first vote, one tap (`sg:<session>:<group>`), so the table shows who voted.
"""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import select

from bot.core.audit import record
from bot.core.context import Ctx
from bot.core.directory import find_person, free_person_id
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.replies import Button, Reply
from bot.core.scan import marking_ahead, votes
from bot.core.scan.content import load_scan_content
from bot.core.scan.model import Group, ScanContent
from bot.core.vocab import Role
from bot.store import queries
from bot.store.models import Person, ScanParticipant, ScanSession

LANGUAGES = ("nl", "en")
# a Slack member as Slack writes a mention in a command's text: <@U0123ABC> or <@U0123ABC|jan>
MENTION = re.compile(r"<@([UW][A-Z0-9]{2,39})(?:\|([^>]*))?>")
MAX_NAME = 100


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]


def _group_words(group: Group) -> set[str]:
    return {w for w in _words(f"{group.label} {group.description}") if len(w) > 2}


def groups_for(scan: ScanSession, t: Translator) -> list[ScanContent]:
    """The content in the person's language first, then the session's, then the others."""
    order = [t.language, scan.language, *LANGUAGES]
    return [load_scan_content(lang) for lang in dict.fromkeys(order) if lang in LANGUAGES]


def match_group(contents: list[ScanContent], text: str) -> list[str]:
    """The ids of the groups `text` names: every word of it is a word of the group's label or
    description (whole words first; else the beginnings of words: "school" → "scholen")."""
    typed = _words(text)
    if not typed:
        return []
    words: dict[str, set[str]] = {}
    for content in contents:
        for group in content.groups:
            words.setdefault(group.id, set()).update(_group_words(group))
            words[group.id].add(group.id)
    whole = [g for g, known in words.items() if all(w in known for w in typed)]
    if whole:
        return whole
    return [
        g for g, known in words.items() if all(any(k.startswith(w) for k in known) for w in typed)
    ]


def group_label(scan: ScanSession, t: Translator, group_id: str) -> str:
    group = groups_for(scan, t)[0].group(group_id)
    return group.label if group else group_id


def groups_named(scan: ScanSession, t: Translator) -> str:
    return "; ".join(g.description for g in groups_for(scan, t)[0].groups)


def split_group(
    ctx: Ctx, scan: ScanSession, args: str, usage: str, *, name_optional: bool = False
) -> tuple[str, str]:
    """'Jan de Boer sociale dienst' → ('Jan de Boer', 'social_services'): the group is the
    longest tail of words that names one group ("NAME, GROUP" also works); refused with the
    groups to choose from, in the person's language, when none does."""
    contents = groups_for(scan, ctx.t)
    head, comma, tail = args.rpartition(",")
    if comma and len(match_group(contents, tail)) == 1:
        return head.strip(), match_group(contents, tail)[0]
    words = args.split()
    for i in range(0 if name_optional else 1, len(words)):
        found = match_group(contents, " ".join(words[i:]))
        if len(found) == 1:
            return " ".join(words[:i]), found[0]
    raise Refused(
        ctx.t(
            "Use: {usage}, with a group: {groups}.", usage=usage, groups=groups_named(scan, ctx.t)
        )
    )


def table_key(scan: ScanSession) -> str:
    return f"scan:{scan.id}:table"


def table_reply(ctx: Ctx, scan: ScanSession) -> Reply:
    """Who is at the table for which group, and which groups are not yet (one message in the
    place, changed as people are seated)."""
    t = votes.channel_t(scan)
    content = votes.content_of(scan)
    seated: dict[str, list[str]] = {}
    for participant in ctx.session.exec(
        select(ScanParticipant)
        .where(ScanParticipant.session_id == scan.id)
        .order_by(ScanParticipant.id)  # type: ignore[arg-type]
    ).all():
        person = queries.person_by_id(ctx.session, person_id=participant.person_id)
        seated.setdefault(participant.group_id, []).append(person.name if person else "?")
    lines = [f"{g.label}: {', '.join(seated[g.id])}" for g in content.groups if g.id in seated]
    missing = [g.description for g in content.groups if g.id not in seated]
    text = (
        t("Not yet at the table: {groups}.", groups="; ".join(missing))
        if missing
        else t("Every group is at the table.")
    )
    text += "\n" + t(
        "The facilitator seats people with /scan group PERSON GROUP and adds a guest "
        "with /scan guest NAME GROUP."
    )
    return Reply(
        title=t("Who is at the table"),
        text=text,
        lines=lines,
        to_place=True,
        updates=table_key(scan),
    )


def seated_in(ctx: Ctx, scan: ScanSession, person_id: str) -> ScanParticipant | None:
    return ctx.session.exec(
        select(ScanParticipant).where(
            ScanParticipant.session_id == scan.id, ScanParticipant.person_id == person_id
        )
    ).first()


def seat(ctx: Ctx, scan: ScanSession, person: Person, group_id: str) -> str:
    """Seat `person` for the group; what it means, in the actor's language ("Sara now sits
    at Zorg (was: Scholen)")."""
    assert scan.id is not None
    existing = seated_in(ctx, scan, person.id)
    label = group_label(scan, ctx.t, group_id)
    if existing is not None and existing.group_id == group_id:
        return ctx.t("{name} sits at the table for {group}.", name=person.name, group=label)
    before = existing.group_id if existing is not None else None
    row = existing or ScanParticipant(session_id=scan.id, person_id=person.id, group_id=group_id)
    row.group_id = group_id
    ctx.session.add(row)
    ctx.session.flush()
    if before is None:
        return ctx.t("{name} sits at the table for {group}.", name=person.name, group=label)
    return ctx.t(
        "{name} now sits at {group} (was: {before}).",
        name=person.name,
        group=label,
        before=group_label(scan, ctx.t, before),
    )


def _seated(ctx: Ctx, scan: ScanSession, person: Person, said: str) -> list[Reply]:
    replies = [table_reply(ctx, scan), Reply(text=said)]
    if marking_ahead.is_open(scan):
        marking_ahead.invite(ctx, scan, person)
        sent = ctx.t(
            "{name} gets the questions to mark ahead in a direct message.", name=person.name
        )
        replies.append(Reply(text=sent))
    return replies


def name_participant(ctx: Ctx, scan: ScanSession, args: str) -> list[Reply]:
    """`/scan group PERSON GROUP`: a person of the directory seated for a group."""
    who, group_id = split_group(ctx, scan, args, ctx.t("/scan group PERSON GROUP"))
    found = find_person(ctx.session, who) if who else []
    if len(found) != 1:
        raise Refused(ctx.t("Name one person of the directory: /scan group PERSON GROUP."))
    return _seated(ctx, scan, found[0], seat(ctx, scan, found[0], group_id))


def add_guest(ctx: Ctx, scan: ScanSession, args: str) -> list[Reply]:
    """`/scan guest NAME GROUP` (or a Slack member's mention, with or without a name)."""
    usage = ctx.t("/scan guest NAME GROUP")
    mention = MENTION.match(args.strip())
    rest = args.strip()[mention.end() :] if mention else args
    name, group_id = split_group(ctx, scan, rest, usage, name_optional=mention is not None)
    name = " ".join(name.split())[:MAX_NAME]
    slack_id = mention[1] if mention else None
    if mention and not name:
        name = (mention[2] or "").strip()[:MAX_NAME]
    if not name:
        raise Refused(ctx.t("Give the guest's name: {usage}.", usage=usage))
    person = _guest(ctx, name, slack_id)
    replies = _seated(ctx, scan, person, seat(ctx, scan, person, group_id))
    reachable = person.slack_id is not None or person.telegram_id is not None
    if Role.scan_guest.value in person.roles and not reachable and _on_telegram(ctx):
        from bot.core import invites

        link = invites.invite_person(ctx, person, scan_only=True)
        replies.append(link.model_copy(update={"personal": True}))  # the facilitator's alone
    return replies


def _on_telegram(ctx: Ctx) -> bool:
    return (ctx.place or "").startswith("telegram:")


def _guest(ctx: Ctx, name: str, slack_id: str | None) -> Person:
    """The person behind a guest: the directory's own when the Slack member or the exact name
    is one of it, a guest of an earlier scan by that name, or a new guest."""
    if slack_id is not None:
        known = ctx.session.exec(select(Person).where(Person.slack_id == slack_id)).first()
        if known is not None and not known.active:
            raise Refused(
                ctx.t(
                    "This Slack member was in the directory; the coordinator can reactivate them."
                )
            )
        if known is not None:
            return known
    same = [p for p in find_person(ctx.session, name) if p.name.casefold() == name.casefold()]
    if len(same) == 1 and (slack_id is None or same[0].slack_id is None):
        if slack_id is not None and Role.scan_guest.value in same[0].roles:
            same[0].slack_id = slack_id
            ctx.session.add(same[0])
        return same[0]
    guest = Person(
        id=_free_id(ctx, name),
        name=name,
        roles=[Role.scan_guest.value],
        slack_id=slack_id,
    )
    ctx.session.add(guest)
    ctx.session.flush()
    # a new person in the directory's table: in the audit trail by id, as /admin's changes
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="scan_guest_added",
        id=guest.id,
    )
    return guest


def _free_id(ctx: Ctx, name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.casefold()).strip("-")[:28] or "guest"
    return free_person_id(ctx.session, f"guest-{slug}", "-")


def ask_group(ctx: Ctx, scan: ScanSession) -> Reply:
    """The voter who is not seated yet: which group, one tap."""
    content = groups_for(scan, ctx.t)[0]
    return Reply(
        text=ctx.t("For which group do you sit at the table?"),
        buttons=[Button(label=g.label, action=f"sg:{scan.id}:{g.id}") for g in content.groups],
    )


def press_seat(ctx: Ctx, rest: str) -> list[Reply]:
    """A group button: 'sg:<session>:<group>' — the presser seats themselves."""
    scan_id, _, group_id = rest.partition(":")
    scan = ctx.session.get(ScanSession, int(scan_id)) if scan_id.isdigit() else None
    if scan is None or scan.state != "open":
        raise Refused(ctx.t("This scan has ended."))
    if votes.content_of(scan).group(group_id) is None:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    said = seat(ctx, scan, ctx.actor, group_id)
    return [Reply(text=said), table_reply(ctx, scan)]
