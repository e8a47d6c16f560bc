"""`vangnet privacy report`: the answers a privacy officer needs for the DPIA, from one command.

Nothing in it is typed by hand where the code knows it: the personal fields are the columns
whose type encrypts (`bot/store/types.py: Encrypted`), who may see a case's fields is the scope
rule itself (`permissions.scope_condition`, the same condition /leavers, /cases and every case
card use) applied to each person in the directory, and the retention period is the region's.
What is said about each field (what it holds, where it is shown) is in `FIELDS` below; a test
keeps it complete.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from bot.core.cases.permissions import scope_condition
from bot.core.context import Ctx
from bot.core.i18n import N_, Translator
from bot.core.privacy import due_for_erasure
from bot.core.vocab import Role, label
from bot.store import crypto, queries
from bot.store.models import BotSetting, Case
from bot.store.types import encrypted_columns

# who may see a field: everyone whose scope holds the case, or one person only
SCOPE, ADDRESSEE, AUTHOR = "scope", "addressee", "author"

# (table, column) → what it holds, where it is shown, who may see it
FIELDS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("cases", "name"): (
        N_("the leaver's name"),
        N_("the case card, /leavers and /cases, in private places only"),
        SCOPE,
    ),
    ("cases", "contact"): (
        N_("the leaver's contact details"),
        N_("the case card, in private places only"),
        SCOPE,
    ),
    ("cases", "notes"): (
        N_("notes about the leaver"),
        N_("the case card, in private places only"),
        SCOPE,
    ),
    ("cases", "placement_org"): (
        N_("where the leaver went (organisation, free text)"),
        N_("the case card, in private places only"),
        SCOPE,
    ),
    ("cases", "closed_reason"): (
        N_("why a case was withdrawn or closed (free text)"),
        N_("the case card, and the message to the people who worked on the case"),
        SCOPE,
    ),
    ("cases", "handed_over_to"): (
        N_("who in another region took over a leaver living outside the region (free text)"),
        N_("the case card, in private places only"),
        SCOPE,
    ),
    ("conversation", "answers"): (
        N_("the answers of a form being filled in (a leaver's details, a reason)"),
        N_("only to the person filling in the form, in their private chat"),
        AUTHOR,
    ),
    ("outbox", "payload"): (
        N_("messages waiting to be sent or sent (a case card holds the name)"),
        N_("the direct message to the person it is for; blanked when the case is erased"),
        ADDRESSEE,
    ),
    ("telegram_update", "payload"): (
        N_("a Telegram message as it arrived (what someone typed), until it is handled"),
        N_("nowhere: emptied as soon as the message is handled"),
        AUTHOR,
    ),
}


def report(ctx: Ctx, t: Translator) -> list[str]:
    """The report, line by line, in the language of `t`."""
    session = ctx.session
    order = list(FIELDS)
    fields = sorted(
        encrypted_columns(SQLModel.metadata),
        key=lambda f: order.index(f) if f in FIELDS else len(order),
    )
    with_data, cases_total = _with_personal_data(session)
    months = ctx.region.schedule.retention_months
    due = session.exec(select(func.count()).select_from(Case).where(due_for_erasure(months))).one()
    lines = [
        t("Privacy report of Vangnet, region {region}", region=ctx.region.region),
        "",
        t("Personal fields"),
        t(
            "Stored encrypted in the database (Fernet: AES-128 and HMAC-SHA256) with the key in "
            "VANGNET_SECRET_KEY, which is never stored in the database or written to the log. "
            "A copy or backup of the database without the key shows none of them."
        ),
    ]
    for table, column in fields:
        holds, shown, who = FIELDS[(table, column)]
        lines += [
            f"- {table}.{column}: {t(holds)}",
            "  "
            + t("stored: table {table}, column {column}, encrypted", table=table, column=column),
            "  " + t("shown: {where}", where=t(shown)),
            "  " + t("seen by: {who}", who=_who(t, who)),
        ]
    lines += ["", t("Who may see a case's personal fields")]
    lines += _scope_lines(session, t)
    lines += [
        "",
        t("Retention"),
        t(
            "Personal fields are erased {months} months after a case is closed or withdrawn "
            "(every night), or at once on request (vangnet erase). The case's figures and its "
            "pseudonymous audit trail stay.",
            months=months,
        ),
        t("Cases now: {total}; with personal data: {count}", total=cases_total, count=with_data),
        t("Due for erasure now: {count}", count=due),
        "",
        t("Key"),
        _rotated(t, session),
    ]
    return lines


def _who(t: Translator, who: str) -> str:
    if who == SCOPE:
        return t("the people whose scope holds the case (below)")
    if who == AUTHOR:
        return t("the person filling in the form")
    return t("the person the message is for")


def _with_personal_data(session: Session) -> tuple[int, int]:
    """How many cases hold any personal field now, and how many cases there are."""
    personal = [
        col(getattr(Case, c)).is_not(None)
        for table, c in encrypted_columns(SQLModel.metadata)
        if table == Case.__tablename__
    ]
    holding = session.exec(
        select(func.count())
        .select_from(Case)
        .where(col(Case.personal_data_erased_at).is_(None), or_(*personal))
    ).one()
    total = session.exec(select(func.count()).select_from(Case)).one()
    return int(holding), int(total)


def _scope_lines(session: Session, t: Translator) -> list[str]:
    """Per role, each person holding it and how many cases with personal data they may see,
    by the scope rule itself."""
    personal = [
        col(getattr(Case, c)).is_not(None)
        for table, c in encrypted_columns(SQLModel.metadata)
        if table == Case.__tablename__
    ]
    lines = [
        t(
            "By the scope rule that also decides /leavers, /cases and every case card "
            "(bot/core/cases/permissions.py); only in private places, and each showing is in "
            "the audit trail. Nobody else sees them."
        )
    ]
    people = queries.active_people(session)
    for role in Role:
        holders = [p for p in people if role in p.roles]
        if not holders:
            continue
        lines.append(f"- {label(t, role)}:")
        for person in holders:
            seen = session.exec(
                select(func.count())
                .select_from(Case)
                .where(scope_condition(person), or_(*personal))
            ).one()
            lines.append(
                "  " + t.tn("{person}: {n} case", "{person}: {n} cases", seen, person=person.name)
            )
    return lines


def _rotated(t: Translator, session: Session) -> str:
    found = session.get(BotSetting, crypto.ROTATED_KEY)
    if found is None:
        return t("The key was never rotated (vangnet keys rotate).")
    return t(
        "The key was last rotated on {moment} (UTC).", moment=found.value[:16].replace("T", " ")
    )
