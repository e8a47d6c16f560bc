"""Lists of cases: /leavers (everything in the caller's view), /cases (a broker's queue) and
/find, paged, most urgent first. What a person may see is the one scope condition of
permissions; what they typed after the command narrows it (`filters`).

The queries are kept plain on purpose: a list is the scope, the filter, an order and a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date
from sqlalchemy import ColumnElement, insert
from sqlalchemy import case as sql_case
from sqlalchemy import select as sa_select
from sqlalchemy.orm import defer
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core import audit, clock
from bot.core.calendar import working_days_between
from bot.core.cases.cards import case_line
from bot.core.cases.filters import FILTER_HELP, Filter, fold, overdue_line, parse
from bot.core.cases.permissions import scope_condition
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.replies import Button, Reply
from bot.core.vocab import OPEN_STATES, CaseState, Consent, Role, label
from bot.store import queries
from bot.store.db import write_after_read
from bot.store.models import AuditEvent, Case, Municipality, Person, Task
from bot.store.types import Encrypted

PAGE_SIZE = 15
FIND_LIMIT = 10

_STATE_ORDER = [
    CaseState.due,
    CaseState.claimed,
    CaseState.forecast,
    CaseState.placed,
    CaseState.lost,
    CaseState.closed,
    CaseState.withdrawn,
]


# --- /leavers ----------------------------------------------------------------------------


def leavers(ctx: Ctx, args: str) -> list[Reply]:
    """The leavers in view, filtered as typed; a coordinator's bare /leavers first shows how
    many there are per municipality, with a button for each."""
    wanted = parse(ctx, args, command="/leavers")
    if not args.strip() and Role.coordinator in ctx.actor.roles:
        return [per_municipality(ctx)]
    order = sql_case({s.value: i for i, s in enumerate(_STATE_ORDER)}, value=col(Case.state))
    where = scope_condition(ctx.actor) & wanted.condition(ctx)
    total = _count(ctx, where)
    rows = ctx.session.exec(
        listed()
        .where(where)
        .order_by(order, col(Case.urgent).desc(), col(Case.expected_exit), col(Case.ref))
        .offset((wanted.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    owners = owners_of(ctx, rows)  # noqa: F841 (kept: the session holds them only weakly)
    names = _own_names(ctx, rows)
    lines = [
        " · ".join(filter(None, (case_line(ctx.session, ctx.t, c), names.get(c.ref)))) for c in rows
    ]
    title = _title(ctx, ctx.t("Leavers in your view"), wanted)
    return [listing(ctx, "leavers", rows, lines, total, wanted, title)]


def _own_names(ctx: Ctx, rows: Sequence[Case]) -> dict[str, str]:
    """A school contact's own leavers by name (with consent), in a private chat only: the
    names of the listed cases of their school, read for them alone; each showing audited."""
    me = ctx.actor
    if not ctx.private or Role.school_contact not in me.roles or not me.school_id:
        return {}
    refs = [c.ref for c in rows if c.school_id == me.school_id and c.consent == Consent.given]
    if not refs:
        return {}
    found = ctx.session.exec(
        select(Case.ref, Case.name).where(
            col(Case.ref).in_(refs),
            col(Case.personal_data_erased_at).is_(None),
            col(Case.name).is_not(None),
        )
    ).all()
    names = {ref: name for ref, name in found if name}
    if names:  # one statement for the page, however many names it shows
        events = [
            audit.row(actor_id=me.id, transport=ctx.transport, action="view_personal", case_ref=ref)
            for ref in sorted(names)
        ]
        # (on SQLite the listing stays a reader's: the rows are written just after it, in a
        # short write with those of other lists that ended meanwhile, before it is shown)
        write_after_read(
            ctx.session,
            lambda session: session.execute(insert(AuditEvent.__table__), events),  # type: ignore[attr-defined]
        )
    return names


def per_municipality(ctx: Ctx) -> Reply:
    """Per municipality where cases are handled: how many, how many open, due and overdue."""
    t = ctx.t
    is_open = col(Case.state).in_([CaseState.forecast, CaseState.due, CaseState.claimed])
    is_due = col(Case.state) == CaseState.due
    late = is_due & (col(Case.due_at) <= overdue_line(ctx))
    rows = ctx.session.execute(
        sa_select(
            col(Case.responsible_municipality_code),
            func.count(),
            func.sum(sql_case((is_open, 1), else_=0)),
            func.sum(sql_case((is_due, 1), else_=0)),
            func.sum(sql_case((late, 1), else_=0)),
        ).group_by(col(Case.responsible_municipality_code))
    ).all()
    names = {m.code: m.name for m in ctx.session.exec(select(Municipality)).all()}
    for code, *_ in rows:  # a municipality outside the region: by its name too
        if code not in names:
            names[code] = queries.municipality_name(ctx.session, code=code)
    counts = sorted(rows, key=lambda r: fold(names.get(r[0], r[0])))
    if not counts:
        return Reply(title=t("Leavers per municipality"), text=t("Nothing here."))
    lines = []
    for code, total, still_open, due, overdue in counts:
        parts = [
            f"{names.get(code, code)}: " + t.tn("{n} leaver", "{n} leavers", int(total)),
            t.tn("{n} open", "{n} open", int(still_open or 0)),
            t.tn("{n} due", "{n} due", int(due or 0)),
        ]
        if overdue:
            parts.append(t.tn("{n} overdue", "{n} overdue", int(overdue)))
        lines.append(" · ".join(parts))
    return Reply(
        title=t("Leavers per municipality"),
        text=t("Press a municipality to see its leavers, or type /leavers 1 for all of them.")
        + "\n"
        + t(FILTER_HELP, command="/leavers"),
        lines=lines,
        buttons=[Button(label=names.get(c[0], c[0]), action=f"leavers:{c[0]}") for c in counts],
        personal=True,
    )


# --- /cases ------------------------------------------------------------------------------


def queue(ctx: Ctx, args: str) -> list[Reply]:
    """The broker's queue: what waits for them to claim and what they own, most urgent first
    (due and urgent, due longest waiting, an unanswered follow-up, claimed, placed)."""
    wanted = parse(ctx, args, command="/cases")
    me = ctx.actor
    waiting = (col(Case.state) == CaseState.due) & (
        (col(Case.assigned_person_id) == me.id)
        | (
            col(Case.assigned_person_id).is_(None)
            & (col(Case.responsible_municipality_code) == me.municipality_code)
        )
    )
    mine = (col(Case.owner_id) == me.id) & col(Case.state).in_(
        [CaseState.claimed, CaseState.placed]
    )
    where = (waiting | mine) & wanted.condition(ctx)
    urgency = sql_case(
        (col(Case.urgent) & (col(Case.state) == CaseState.due), 0),
        (col(Case.state) == CaseState.due, 1),
        (col(Case.followup_open).is_not(None), 2),
        (col(Case.state) == CaseState.claimed, 3),
        else_=4,
    )
    total = _count(ctx, where)
    rows = ctx.session.exec(
        listed()
        .where(where)
        .order_by(urgency, col(Case.due_at), col(Case.expected_exit), col(Case.ref))
        .offset((wanted.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    lines = queue_lines(ctx, rows)
    title = _title(ctx, ctx.t("Your queue"), wanted)
    return [listing(ctx, "cases", rows, lines, total, wanted, title)]


@dataclass(frozen=True)
class _FollowUp:
    n: int
    due: str  # the date, formatted


def queue_lines(ctx: Ctx, rows: Sequence[Case]) -> list[str]:
    """A case line with what a broker needs at a glance: working days waited (overdue marked),
    whether it came by transfer, and its open follow-ups with their dates."""
    t = ctx.t
    today = clock.today(ctx.region.tz)
    refs = [c.ref for c in rows]
    transferred = set(
        ctx.session.exec(
            select(AuditEvent.case_ref).where(
                col(AuditEvent.case_ref).in_(refs), AuditEvent.action == "transfer"
            )
        ).all()
    )
    followups = _followups(ctx, rows)
    owners = owners_of(ctx, rows)  # noqa: F841 (kept: the session holds them only weakly)
    limit = ctx.region.schedule.escalate_after_workdays
    lines = []
    for c in rows:
        parts = [case_line(ctx.session, t, c)]
        if c.state == CaseState.due and c.due_at is not None:
            waited = working_days_between(c.due_at.astimezone(ctx.region.tz).date(), today)
            parts.append(t.tn("waited {n} working day", "waited {n} working days", waited))
            if waited >= limit:
                parts.append("⚠ " + t("OVERDUE"))
        if c.ref in transferred:
            if c.state != CaseState.due:
                parts.append(t("came by transfer"))
            elif c.assigned_person_id == ctx.actor.id:
                parts.append(t("transferred to you"))
            else:
                where = queries.municipality_name(ctx.session, code=c.responsible_municipality_code)
                parts.append(t("transferred to {municipality}", municipality=where))
        for f in followups.get(c.ref, []):
            if f.n == c.followup_open:
                parts.append(
                    t("follow-up {n} asked on {date}, not answered", n=f.n + 1, date=f.due)
                )
            else:
                parts.append(t("follow-up {n} due {date}", n=f.n + 1, date=f.due))
        lines.append(" · ".join(parts))
    return lines


def _followups(ctx: Ctx, rows: Sequence[Case]) -> dict[str, list[_FollowUp]]:
    """Per placed case: the follow-up asked and not answered yet, and the next one planned."""
    placed = {c.ref: c for c in rows if c.state == CaseState.placed}
    if not placed:
        return {}
    tasks = ctx.session.exec(
        select(Task)
        .where(col(Task.case_ref).in_(list(placed)), Task.kind == "followup")
        .order_by(col(Task.due_at))
    ).all()
    out: dict[str, list[_FollowUp]] = {}
    for task in tasks:
        case = placed[task.case_ref or ""]
        n = int(task.payload.get("n", -1))
        asked = n == case.followup_open
        planned = task.done_at is None and n >= case.followups_done
        if not (asked or planned) or any(f.n == n for f in out.get(case.ref, [])):
            continue
        day = task.due_at.astimezone(ctx.region.tz).date()
        out.setdefault(case.ref, []).append(
            _FollowUp(n=n, due=format_date(day, "d MMM yyyy", locale=ctx.t.language))
        )
    return out


# --- /find -------------------------------------------------------------------------------


def find(ctx: Ctx, args: str) -> list[Reply]:
    """A case by its reference, a student reference, or (for whoever may see names, in a
    private place) the young person's name. Only cases in the caller's view are searched.

    Names are matched here in Python, not in SQL: they may be stored encrypted."""
    t = ctx.t
    text = " ".join(args.split())
    if not text:
        raise Refused(t("What are you looking for? Use: {usage}", usage=t(FIND_USAGE)))
    if len(text) > 100:
        raise Refused(t("That is too long to look for: at most 100 characters, please."))
    wanted = fold(text)
    scope = scope_condition(ctx.actor)
    ref = text.upper().lstrip("#")
    found: dict[int | None, str] = {}  # case id → what matched
    exact = ctx.session.exec(select(Case.id).where(scope, Case.ref == ref)).all()
    for case_id in exact:
        found[case_id] = t("found by case reference")
    key = _compact(wanted)
    for case_id, student_ref in ctx.session.exec(select(Case.id, Case.student_ref).where(scope)):
        if case_id not in found and key and key in _compact(fold(student_ref)):
            found[case_id] = t("found by student reference")
    names_searched = ctx.private
    if names_searched:
        words = wanted.split()
        named = ctx.session.exec(
            select(Case.id, Case.name).where(
                scope,
                Case.consent == Consent.given,
                col(Case.personal_data_erased_at).is_(None),
                col(Case.name).is_not(None),
            )
        ).all()
        for case_id, name in named:
            if case_id in found or not name:
                continue
            parts = fold(name).split()
            if all(any(p.startswith(w) for p in parts) for w in words):
                found[case_id] = t("found by name")
    if not found:
        text_shown = text if len(text) <= 40 else text[:39] + "…"
        note = "" if names_searched else " " + t("Names are only searched in a private chat.")
        return [Reply(text=t('Nothing found for "{text}".', text=text_shown) + note)]
    ids = list(found)
    rows = ctx.session.exec(
        listed().where(col(Case.id).in_(ids)).order_by(col(Case.ref)).limit(FIND_LIMIT)
    ).all()
    owners = owners_of(ctx, rows)  # noqa: F841 (kept: the session holds them only weakly)
    lines = [f"{case_line(ctx.session, t, c)} · {found[c.id]}" for c in rows]
    text_out = ""
    if len(ids) > FIND_LIMIT:
        text_out = t(
            "{n} cases match; the first {shown} are shown. Type more to narrow it down.",
            n=len(ids),
            shown=FIND_LIMIT,
        )
    return [
        Reply(
            title=t.tn("{n} case found", "{n} cases found", len(ids)),
            text=text_out,
            lines=lines,
            buttons=[Button(label=c.ref, action=f"case:{c.ref}") for c in rows],
            personal=True,
        )
    ]


FIND_USAGE = "/find TEXT"


def _compact(text: str) -> str:
    """A student reference without spaces, dashes and dots: 'jv-12' finds 'JV 12'."""
    return "".join(ch for ch in text if ch.isalnum())


# --- shared ------------------------------------------------------------------------------

# The personal columns (encrypted): a list line shows none of them, so a list does not load
# them, and nothing is decrypted for it. (Read anyway, one would be loaded on first use.)
_NOT_LISTED = [
    defer(getattr(Case, c.name))
    for c in Case.__table__.columns  # type: ignore[attr-defined]
    if isinstance(c.type, Encrypted)
]


def listed() -> SelectOfScalar[Case]:
    """The cases of a list: without their personal columns."""
    return select(Case).options(*_NOT_LISTED)


def owners_of(ctx: Ctx, rows: Sequence[Case]) -> list[Person]:
    """The owners of the listed cases, in one query, so that each line finds its owner in the
    session (`case_line`) instead of asking the database once per line. The caller keeps the
    list while it writes the lines: the session holds what it loaded only weakly."""
    known = ctx.session.identity_map
    wanted = {
        c.owner_id for c in rows if c.owner_id and identity_key(Person, c.owner_id) not in known
    }
    if not wanted:
        return []
    return list(ctx.session.exec(select(Person).where(col(Person.id).in_(sorted(wanted)))).all())


def _count(ctx: Ctx, where: ColumnElement[bool]) -> int:
    return int(ctx.session.exec(select(func.count()).select_from(Case).where(where)).one())


def _title(ctx: Ctx, title: str, wanted: Filter) -> str:
    """The list's title, with the filter as it was understood."""
    if not wanted.narrowed:
        return title
    return f"{title} — {describe(ctx.t, ctx, wanted)}"


def describe(t: Translator, ctx: Ctx, wanted: Filter) -> str:
    if wanted.states == {s.value for s in OPEN_STATES}:
        parts = [t("open")]
    else:
        parts = [label(t, s) for s in _STATE_ORDER if s.value in wanted.states]
    if wanted.municipality:
        parts.append(queries.municipality_name(ctx.session, code=wanted.municipality))
    if wanted.school:
        school = queries.school_by_id(ctx.session, school_id=wanted.school)
        parts.append(school.name if school else wanted.school)
    if wanted.overdue:
        parts.append(t("overdue"))
    if wanted.mine:
        parts.append(t("mine"))
    return ", ".join(parts)


def listing(
    ctx: Ctx,
    kind: str,
    rows: Sequence[Case],
    lines: list[str],
    total: int,
    wanted: Filter,
    title: str,
) -> Reply:
    t = ctx.t
    page = wanted.page
    if total == 0:
        text = t("Nothing here.")
        if not wanted.narrowed:
            text += "\n" + t(FILTER_HELP, command=f"/{kind}")
        return Reply(title=title, text=text)
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if not rows:
        raise Refused(t.tn("There is only {n} page.", "There are only {n} pages.", pages))
    buttons = [Button(label=c.ref, action=f"case:{c.ref}") for c in rows]
    if page < pages:
        more = f"{wanted.canonical()} {page + 1}".strip()
        buttons.append(Button(label=t("More"), action=f"{kind}:{more}"))
    text = t("Page {page} of {pages}", page=page, pages=pages) if pages > 1 else ""
    return Reply(title=title, text=text, lines=lines, buttons=buttons, personal=True)
