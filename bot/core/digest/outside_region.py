"""The digest's count of leavers who live outside the region, and of those handed over to
their own region (a count, never a name)."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from bot.core.i18n import Translator
from bot.core.vocab import CaseState
from bot.store.models import Case, Municipality


def counts(session: Session, outside: Collection[str] | None = None) -> tuple[int, int]:
    """(leavers living outside the region, not withdrawn; of them, handed over).

    `outside`: the home municipality codes of cases that are not the region's, when the
    caller knows them already (the digest counts the cases per home municipality first):
    their cases are then found by the index instead of by reading every case.

    The closing reason is encrypted (a free text elsewhere), so it is read and compared here,
    for the few cases of leavers living outside the region, not in SQL."""
    query = select(Case.closed_reason).where(col(Case.state) != CaseState.withdrawn)
    if outside is None:
        query = (
            query.select_from(Case)
            .outerjoin(Municipality, col(Municipality.code) == col(Case.home_municipality_code))
            .where(col(Municipality.code).is_(None))
        )
    elif not outside:
        return 0, 0
    else:
        query = query.where(col(Case.home_municipality_code).in_(sorted(outside)))
    reasons = session.exec(query).all()
    return len(reasons), sum(1 for reason in reasons if reason == "other_region")


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
