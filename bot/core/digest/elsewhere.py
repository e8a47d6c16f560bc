"""The digest's count of leavers who live outside the region, and of those handed over to
their own region (a count, never a name)."""

from __future__ import annotations

from sqlalchemy import case as when
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from bot.core.vocab import CaseState
from bot.store.models import Case, Municipality


def counts(session: Session) -> tuple[int, int]:
    """(leavers living outside the region, not withdrawn; of them, handed over)."""
    outside, handed = session.exec(
        select(
            func.count(),
            func.coalesce(
                func.sum(when((col(Case.closed_reason) == "other_region", 1), else_=0)), 0
            ),
        )
        .select_from(Case)
        .outerjoin(Municipality, col(Municipality.code) == col(Case.home_municipality_code))
        .where(col(Municipality.code).is_(None), col(Case.state) != CaseState.withdrawn)
    ).one()
    return outside, int(handed)


def lines(t: Translator, outside: int, handed: int) -> list[str]:
    """The digest's line about them; none when no leaver lives outside the region."""
    if not outside:
        return []
    return [
        t.tn(
            "{n} leaver lives outside the region (handed over to other regions: {handed})",
            "{n} leavers live outside the region (handed over to other regions: {handed})",
            outside,
            handed=handed,
        )
    ]
