"""A place's scans after they ended: `/scan list`, the scan a command means, `/scan compare`.

The number of a scan is its id, the same number `vangnet scan export N` and
`vangnet scan report N` take. In a channel or group a command means the scan open there, else
the latest one held there, or scan N when a number is given; only the place's own scans are
shown there. In a private chat (no place) every scan of the region may be named.
"""

from __future__ import annotations

from babel.dates import format_date
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import drawing
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan import results, votes
from bot.store.models import ScanAction, ScanSession


def _of_place(ctx: Ctx) -> list[ScanSession]:
    """The scans held here (every scan in a private chat), newest first."""
    query = select(ScanSession).order_by(col(ScanSession.id).desc())
    if ctx.place is not None:
        query = query.where(ScanSession.place == ctx.place)
    return list(ctx.session.exec(query).all())


def by_number(ctx: Ctx, number: str) -> ScanSession:
    """Scan N, when it was held here; refused otherwise."""
    scan = ctx.session.get(ScanSession, int(number)) if number.strip().isdigit() else None
    if scan is None or (ctx.place is not None and scan.place != ctx.place):
        raise Refused(
            ctx.t("There is no scan {n} here. /scan list shows this place's scans.", n=number[:12])
        )
    return scan


def meant(ctx: Ctx, args: str) -> ScanSession:
    """Scan N; without a number the scan open here, or else the latest one held here."""
    if args.strip():
        return by_number(ctx, args.strip())
    held = _of_place(ctx)
    open_here = [s for s in held if s.state == "open"]
    if open_here:
        return open_here[0]
    if not held:
        raise Refused(
            ctx.t("No scan has been held here yet. The facilitator starts one with /scan start.")
        )
    return held[0]


def _none_here(ctx: Ctx) -> Refused:
    return Refused(
        ctx.t("No scan has been held here yet. The facilitator starts one with /scan start.")
    )


def date_of(t: Translator, scan: ScanSession, tz: object) -> str:
    return format_date(scan.opened_at.astimezone(tz), "d MMMM yyyy", locale=t.language)  # type: ignore[arg-type]


def list_scans(ctx: Ctx) -> list[Reply]:
    """/scan list: the place's scans, newest first, with their numbers, dates and agendas."""
    held = _of_place(ctx)
    if not held:
        raise Refused(
            ctx.t("No scan has been held here yet. The facilitator starts one with /scan start.")
        )
    t = ctx.t
    ids = [s.id for s in held if s.id is not None]
    counts = dict(
        ctx.session.exec(
            select(ScanAction.session_id, func.count())
            .where(col(ScanAction.session_id).in_(ids))
            .group_by(col(ScanAction.session_id))
        ).all()
    )
    still_open = dict(
        ctx.session.exec(
            select(ScanAction.session_id, func.count())
            .where(col(ScanAction.session_id).in_(ids), ScanAction.status != "done")
            .group_by(col(ScanAction.session_id))
        ).all()
    )
    lines = []
    for scan in held:
        when = date_of(t, scan, ctx.region.tz)
        if scan.state == "open":
            state = t("open now")
        else:
            state = t.tn(
                "{n} action, {open} not done",
                "{n} actions, {open} not done",
                counts.get(scan.id or 0, 0),
                open=still_open.get(scan.id or 0, 0),
            )
        lines.append(t("Scan {n} — {date} — {state}", n=scan.id, date=when, state=state))
    return [
        Reply(
            title=t("Participatiescans held here"),
            text=t(
                "/scan results N, /scan agenda N and /scan report N show scan N; "
                "/scan compare N M compares two."
            ),
            lines=lines,
        )
    ]


def compare(ctx: Ctx, args: str) -> list[Reply]:
    """/scan compare N M: per factor the marks of scan N beside those of scan M, with a chart."""
    words = args.split()
    if len(words) != 2 or not all(w.isdigit() for w in words) or words[0] == words[1]:
        raise Refused(ctx.t("Use: /scan compare N M, with two scan numbers from /scan list."))
    earlier, later = sorted(
        (by_number(ctx, w) for w in words), key=lambda s: (s.opened_at, s.id or 0)
    )
    return [comparison(ctx.session, votes.channel_t(later), later, earlier, ctx.region.tz)]


def comparison(
    session: Session, t: Translator, later: ScanSession, earlier: ScanSession, tz: object
) -> Reply:
    """The results of `later` with the change since `earlier`, factor by factor."""
    assert later.id is not None and earlier.id is not None
    content = votes.content_of(later)
    now, before = results.results_of(session, later.id), results.results_of(session, earlier.id)
    lines: list[str] = []
    shown: list[tuple[str, results.Result]] = []
    for number in [0, *[f.number for f in content.factors]]:
        if number not in now and number not in before:
            continue
        name = t("Warm-up") if number == 0 else results.factor_title(content, number)
        lines.append(f"{name}: " + change_line(t, now.get(number), before.get(number)))
        if number and number in now:
            shown.append((name, now[number]))
    title = t(
        "Scan {m} ({date_m}) compared with scan {n} ({date_n})",
        m=later.id,
        date_m=date_of(t, later, tz),
        n=earlier.id,
        date_n=date_of(t, earlier, tz),
    )
    return Reply(
        title=title,
        text=t("Per factor: the average mark then → now, and the change."),
        lines=lines,
        image_png=drawing.png(results.chart, t, shown, title=title, previous=before)
        if shown
        else None,
        image_title=title,
        to_place=True,
    )


def change_line(t: Translator, now: results.Result | None, before: results.Result | None) -> str:
    def avg(r: results.Result | None) -> str:
        return results.number(t, r.average) if r is not None else t("no votes")

    line = f"{avg(before)} → {avg(now)}"
    if now is not None and before is not None:
        line += " (" + results.signed(t, now.average - before.average) + ")"
    return line
