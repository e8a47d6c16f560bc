"""Marks and point votes of a scan: stored per session, factor and voter, shown only as counts.

A vote's answer goes to the voter alone; the message everyone sees is the voting message,
shown again with the new number of votes (`Reply.updates`), never with who voted what.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator, translator
from bot.core.replies import Button, Reply
from bot.core.scan import knowledge
from bot.core.scan.content import load_scan_content
from bot.core.scan.model import ScanContent
from bot.core.scan.results import result_line, results_of
from bot.store.models import ScanClose, ScanPoint, ScanPointVote, ScanSession, ScanVote
from bot.store.rows import insert_once


def channel_t(scan: ScanSession) -> Translator:
    """Messages for everyone in the place: in the language the session was opened in."""
    return translator(scan.language)


def content_of(scan: ScanSession) -> ScanContent:
    return load_scan_content(scan.language)


def vote_count(session: Session, scan_id: int, factor: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ScanVote)
        .where(ScanVote.session_id == scan_id, ScanVote.factor == factor)
    ).one()


def message_key(scan: ScanSession, factor: int) -> str:
    return f"scan:{scan.id}:f{factor}"


def voting_message(ctx: Ctx, scan: ScanSession, factor: int | None = None) -> Reply:
    """The message everyone votes in: the question, the marks as buttons, how many voted
    (never the marks while it is open; the warm-up's result once it is closed)."""
    assert scan.id is not None
    number = scan.factor if factor is None else factor
    t = channel_t(scan)
    content = content_of(scan)
    n = vote_count(ctx.session, scan.id, number)
    is_open = scan.state == "open" and scan.stage == "vote" and number == scan.factor
    if number == 0:
        title = t("Warm-up question")
        text = knowledge.warmup_text(content)
    else:
        shown = content.factor(number)
        assert shown is not None
        title = t(
            "Factor {n} of {total}: {title}",
            n=shown.number,
            total=len(content.factors),
            title=shown.title,
        )
        text = knowledge.question_text(t, content, shown)
    lines: list[str] = []
    if is_open:
        lines.append(
            t("Votes so far: {n}. You can change your mark until the factor is closed.", n=n)
        )
        buttons = [
            Button(label=str(mark), action=f"sv:{scan.id}:{number}:{mark}")
            for mark in content.scale.marks
        ]
    else:
        lines.append(t.tn("Voting closed: {n} vote.", "Voting closed: {n} votes.", n))
        buttons = []
        if number == 0 and n and scan.stage != "ahead":  # the warm-up's result, once closed
            lines.append(
                t("Result: {line}", line=result_line(t, results_of(ctx.session, scan.id)[0], None))
            )
    return Reply(
        title=title,
        text=text,
        lines=lines,
        buttons=buttons,
        to_place=True,
        updates=message_key(scan, number),
    )


def record_close(ctx: Ctx, scan: ScanSession) -> None:
    """Voting on the scan's question closed at the moment the close arrived."""
    assert scan.id is not None
    if ctx.session.get(ScanClose, (scan.id, scan.factor)) is None:
        ctx.session.add(ScanClose(session_id=scan.id, factor=scan.factor, closed_at=ctx.arrival))
        ctx.session.flush()


def reopen(ctx: Ctx, scan: ScanSession) -> None:
    """A resumed scan: voting on the question the stop interrupted is open again."""
    if scan.stage == "vote":
        found = ctx.session.get(ScanClose, (scan.id, scan.factor))
        if found is not None:
            ctx.session.delete(found)
            ctx.session.flush()


def arrived_in_time(ctx: Ctx, scan: ScanSession, factor: int) -> bool:
    """Whether a mark for `factor` counts: voting on it is open, or the mark arrived before
    its close (acknowledged first, it is worked on after the close)."""
    if scan.state == "open" and scan.factor == factor and scan.stage == "vote":
        return True
    closed = ctx.session.get(ScanClose, (scan.id, factor))
    return closed is not None and ctx.arrival < closed.closed_at


def record(ctx: Ctx, scan_id: int, factor: int, mark: int) -> bool:
    """The actor's mark for a factor, new (True) or changed (False)."""
    now = clock.now()
    vote = ScanVote(
        session_id=scan_id, factor=factor, person_id=ctx.actor.id, mark=mark, updated_at=now
    )
    if insert_once(ctx.session, vote, unique=["session_id", "factor", "person_id"]) is None:
        existing = ctx.session.exec(
            select(ScanVote).where(
                ScanVote.session_id == scan_id,
                ScanVote.factor == factor,
                ScanVote.person_id == ctx.actor.id,
            )
        ).one()
        existing.mark = mark
        existing.updated_at = now
        ctx.session.add(existing)
        ctx.session.flush()
        return False
    return True


# --- improvement points ------------------------------------------------------------------------


def points_of(session: Session, scan_id: int, factors: list[int]) -> list[ScanPoint]:
    return list(
        session.exec(
            select(ScanPoint)
            .where(ScanPoint.session_id == scan_id, col(ScanPoint.factor).in_(factors))
            .order_by(col(ScanPoint.id))
        ).all()
    )


def point_votes(session: Session, point_id: int) -> int:
    return session.exec(
        select(func.count()).select_from(ScanPointVote).where(ScanPointVote.point_id == point_id)
    ).one()


def points_message(ctx: Ctx, scan: ScanSession, theme_id: str) -> Reply:
    """The theme's proposed improvement points with their good practices and vote counts."""
    assert scan.id is not None
    t = channel_t(scan)
    content = content_of(scan)
    numbers = [f.number for f in content.factors_of(theme_id)]
    lines: list[str] = []
    buttons: list[Button] = []
    for point in points_of(ctx.session, scan.id, numbers):
        factor = content.factor(point.factor)
        assert factor is not None and point.id is not None
        votes = point_votes(ctx.session, point.id)
        chosen = " ✓ " + t("chosen") if point.chosen else ""
        lines.append(
            t.tn(
                "{number}. {title}: {n} vote",
                "{number}. {title}: {n} votes",
                votes,
                number=factor.number,
                title=factor.title,
            )
            + chosen
        )
        if scan.state == "open" and scan.stage == "points":
            buttons.append(
                Button(label=t("Vote {n}", n=factor.number), action=f"sp:{scan.id}:{factor.number}")
            )
            if not point.chosen:
                buttons.append(
                    Button(
                        label=t("Choose {n}", n=factor.number),
                        action=f"sc:{scan.id}:{factor.number}",
                        style="primary",
                    )
                )
    theme = content.theme(theme_id)
    return Reply(
        title=t("Improvement points: {theme}", theme=theme.title if theme else theme_id),
        text=t(
            "The weakest factors of this theme. Vote for the points you want to work on "
            "(press again to take your vote back); the facilitator chooses."
        ),
        lines=lines,
        buttons=buttons,
        to_place=True,
        updates=f"scan:{scan.id}:p:{theme_id}"[:64],
    )


def vote_point(ctx: Ctx, rest: str) -> list[Reply]:
    """A point button: 'sp:<session>:<factor>' — a vote for it, or taken back."""
    scan_id_s, _, factor_s = rest.partition(":")
    if not (scan_id_s.isdigit() and factor_s.isdigit()):
        raise Refused(ctx.t("That button no longer works. Type /help."))
    scan = ctx.session.get(ScanSession, int(scan_id_s))
    if scan is None or scan.state != "open" or scan.stage != "points":
        raise Refused(ctx.t("Voting on the improvement points is closed."))
    point = ctx.session.exec(
        select(ScanPoint).where(ScanPoint.session_id == scan.id, ScanPoint.factor == int(factor_s))
    ).first()
    if point is None or point.id is None:
        raise Refused(ctx.t("That button no longer works. Type /help."))
    mine = ctx.session.exec(
        select(ScanPointVote).where(
            ScanPointVote.point_id == point.id, ScanPointVote.person_id == ctx.actor.id
        )
    ).first()
    if mine is not None:
        ctx.session.delete(mine)
        ctx.session.flush()
        answer = ctx.t("Your vote for point {n} is taken back.", n=point.factor)
    else:
        insert_once(
            ctx.session,
            ScanPointVote(point_id=point.id, person_id=ctx.actor.id),
            unique=["point_id", "person_id"],
        )
        answer = ctx.t("Your vote for point {n} is recorded.", n=point.factor)
    content = content_of(scan)
    theme = content.theme_of(point.factor)
    assert theme is not None
    return [Reply(text=answer), points_message(ctx, scan, theme.id)]
