"""Lists of cases: /leavers (everything in the caller's view) and /cases (a broker's queue),
paged, most urgent first. What a person may see is the one scope condition of permissions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case as sql_case
from sqlmodel import col, func, select

from bot.core.cases.cards import case_line
from bot.core.cases.permissions import scope_condition
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.replies import Button, Reply
from bot.core.vocab import CaseState
from bot.store.models import Case

PAGE_SIZE = 15

_STATE_ORDER = [
    CaseState.due,
    CaseState.claimed,
    CaseState.forecast,
    CaseState.placed,
    CaseState.lost,
    CaseState.closed,
    CaseState.withdrawn,
]


def page_of(ctx: Ctx, args: str) -> int:
    try:
        return max(1, int(args.strip() or "1"))
    except ValueError:
        raise Refused(ctx.t("Give a page number, for example 2.")) from None


def leavers(ctx: Ctx, args: str) -> list[Reply]:
    page = page_of(ctx, args)
    order = sql_case({s.value: i for i, s in enumerate(_STATE_ORDER)}, value=col(Case.state))
    where = scope_condition(ctx.actor)
    total = ctx.session.exec(select(func.count()).select_from(Case).where(where)).one()
    rows = ctx.session.exec(
        select(Case)
        .where(where)
        .order_by(order, col(Case.urgent).desc(), col(Case.expected_exit), col(Case.ref))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return [listing(ctx, "leavers", rows, total, page, ctx.t("Leavers in your view"))]


def queue(ctx: Ctx, args: str) -> list[Reply]:
    """The broker's queue: what they own, and what waits for them to claim."""
    page = page_of(ctx, args)
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
    where = waiting | mine
    urgency = sql_case(
        (col(Case.urgent) & (col(Case.state) == CaseState.due), 0),
        (col(Case.state) == CaseState.due, 1),
        (col(Case.state) == CaseState.claimed, 2),
        else_=3,
    )
    total = ctx.session.exec(select(func.count()).select_from(Case).where(where)).one()
    rows = ctx.session.exec(
        select(Case)
        .where(where)
        .order_by(urgency, col(Case.due_at), col(Case.expected_exit), col(Case.ref))
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return [listing(ctx, "cases", rows, total, page, ctx.t("Your queue"))]


def listing(ctx: Ctx, kind: str, rows: Sequence[Case], total: int, page: int, title: str) -> Reply:
    t = ctx.t
    if total == 0:
        return Reply(title=title, text=t("Nothing here."))
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if not rows:
        raise Refused(t.tn("There is only {n} page.", "There are only {n} pages.", pages))
    buttons = [Button(label=c.ref, action=f"case:{c.ref}") for c in rows]
    if page < pages:
        buttons.append(Button(label=t("More"), action=f"{kind}:{page + 1}"))
    text = t("Page {page} of {pages}", page=page, pages=pages) if pages > 1 else ""
    return Reply(
        title=title,
        text=text,
        lines=[case_line(ctx.session, t, c) for c in rows],
        buttons=buttons,
        personal=True,
    )
