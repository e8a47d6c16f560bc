"""The commands of product.md section 6, as core functions that return replies.

A transport hands over the text a person typed (or the action of a button they pressed);
this module finds the command, checks the role, runs it and returns typed replies. The data
path is one straight line: transport → here → store → replies → transport.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import case as sql_case
from sqlmodel import col, func, select

from bot.core import conversation, digest
from bot.core.cases import actions, lifecycle, withdrawal
from bot.core.cases.cards import case_card, case_line
from bot.core.cases.permissions import may_transfer, may_use, scope_condition
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.followup import followups
from bot.core.i18n import N_
from bot.core.intake import leaver_form, rounds
from bot.core.replies import Button, Reply
from bot.core.text import visible
from bot.core.vocab import CaseState
from bot.store import queries
from bot.store.models import Case

PAGE_SIZE = 15

Handler = Callable[[Ctx, str], Sequence[Reply]]

# What /help says per command, in the order shown: how to type it (the command name stays
# English, the placeholders are translated) and what it does.
HELP: dict[str, tuple[str, str]] = {
    "help": ("/help", N_("what you can do")),
    "leaver": ("/leaver", N_("register one expected leaver, step by step")),
    "leavers": ("/leavers", N_("the leavers in your view, with state and owner")),
    "case": ("/case REF", N_("show a case card")),
    "claim": ("/claim REF", N_("take a case")),
    "transfer": (N_("/transfer REF MUNICIPALITY-or-@person [reason]"), N_("hand a case over")),
    "placed": ("/placed REF", N_("record the placement of your case")),
    "cases": ("/cases", N_("your queue, most urgent first")),
    "withdraw": (
        N_("/withdraw REF [reason]"),
        N_("withdraw a case (the student stays at school, or it was a mistake)"),
    ),
    "reopen": ("/reopen REF", N_("reopen a withdrawn case")),
    "close": (N_("/close REF REASON"), N_("close your case: no support needed")),
    "lost": ("/lost REF", N_("contact with the young person is lost")),
    "digest": ("/digest", N_("the weekly digest, now")),
    "scan": ("/scan start|next|close|results|agenda", N_("run the Participatiescan here")),
    "admin": ("/admin ...", N_("directory, invites, privacy requests")),
}


def split_command(text: str) -> tuple[str, str]:
    """'/claim k7f2' → ('claim', 'k7f2'); also strips a Telegram '@botname' suffix."""
    head, _, rest = text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].casefold()
    return name, rest.strip()


def run_command(ctx: Ctx, text: str) -> list[Reply]:
    name, args = split_command(text)
    handler = COMMANDS.get(name)
    if handler is None:
        name = name if len(name) <= 32 else name[:31] + "…"
        return [
            Reply(
                text=ctx.t("I don't know the command /{name}. Type /help.", name=name), error=True
            )
        ]
    if not may_use(ctx.actor, name):
        return [
            Reply(text=ctx.t("/{name} is not for your role. Type /help.", name=name), error=True)
        ]
    return list(handler(ctx, args))


# The command each kind of button belongs to: pressing it needs the same role as typing it.
# "form" buttons belong to the person's own conversation, which a command of theirs started.
ACTION_COMMANDS: dict[str, str | None] = {
    "claim": "claim",
    "details": "case",
    "case": "case",
    "transfer": "transfer",
    "leavers": "leavers",
    "cases": "cases",
    "form": None,
    "round": "leaver",
    "placed": "placed",
    "fu": "placed",
}


def run_action(ctx: Ctx, action: str) -> list[Reply]:
    """A pressed button: 'claim:K7F2', 'transfer:K7F2:GM0166', 'leavers:2' …"""
    kind, _, rest = action.partition(":")
    if kind == "cmd":
        return run_command(ctx, f"/{rest}")
    if kind not in ACTION_COMMANDS:
        return [Reply(text=ctx.t("That button no longer works. Type /help."), error=True)]
    command = ACTION_COMMANDS[kind]
    if command is not None and not may_use(ctx.actor, command):
        return [
            Reply(text=ctx.t("/{name} is not for your role. Type /help.", name=command), error=True)
        ]
    match kind:
        case "claim":
            return run_command(ctx, f"/claim {rest}")
        case "details":
            return [_card(ctx, rest, details=True)]
        case "case":
            return run_command(ctx, f"/case {rest}")
        case "transfer":
            ref, _, target = rest.partition(":")
            if target:
                return run_command(ctx, f"/transfer {ref} {target}")
            return [transfer_choices(ctx, ref)]
        case "leavers" | "cases":
            return run_command(ctx, f"/{kind} {rest}")
        case "form":
            return conversation.press(ctx, action)
        case "round":
            what, _, arg = rest.partition(":")
            return rounds.confirm(ctx, arg) if what == "complete" else rounds.upload_help(ctx)
        case "placed":
            return run_command(ctx, f"/placed {rest}")
        case _:  # "fu": a follow-up answer
            ref, n, what = [*rest.split(":"), "", "", ""][:3]
            if not n.isdigit():
                return [Reply(text=ctx.t("That button no longer works. Type /help."), error=True)]
            return followups.answer(ctx, ref, int(n), what)


def _help(ctx: Ctx, args: str) -> list[Reply]:
    t = ctx.t
    lines = [
        f"{t(usage)} — {t(what)}"
        for name, (usage, what) in HELP.items()
        if name in COMMANDS and may_use(ctx.actor, name)
    ]
    return [Reply(title=t("What you can do, {name}", name=ctx.actor.name), lines=lines)]


MAX_REF = 64  # longer than any case or student reference: refused without echoing it


def _need_ref(ctx: Ctx, args: str, command: str) -> tuple[str, str]:
    ref, _, rest = args.strip().partition(" ")
    ref = visible(ref).strip()
    if not ref:
        raise Refused(ctx.t("Which case? Use: {usage}", usage=ctx.t(HELP[command][0])))
    if len(ref) > MAX_REF:
        raise Refused(ctx.t("That is not a case reference: it is far too long."))
    return ref.upper().lstrip("#"), rest.strip()


def _card(ctx: Ctx, ref: str, *, details: bool = False) -> Reply:
    case = lifecycle.get_in_scope(ctx, ref)
    return case_card(
        ctx.session,
        case,
        viewer=ctx.actor,
        t=ctx.t,
        private=ctx.private,
        transport=ctx.transport,
        details=details,
    )


def _digest(ctx: Ctx, args: str) -> list[Reply]:
    return [digest.on_demand(ctx.session, ctx.region, ctx.t)]


def _placed(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "placed")
    return followups.start_placement(ctx, ref)


def _leaver(ctx: Ctx, args: str) -> list[Reply]:
    return leaver_form.start(ctx)


def answer_text(ctx: Ctx, text: str) -> list[Reply]:
    """A line that is not a command: the answer in a conversation, if one is going on."""
    replies = conversation.answer(ctx, text)
    if replies is None:
        return [Reply(text=ctx.t("Type /help to see what you can do."))]
    return replies


def _case(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "case")
    return [_card(ctx, ref)]


def _claim(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "claim")
    return [actions.claim(ctx, ref)]


def _transfer(ctx: Ctx, args: str) -> list[Reply]:
    ref, rest = _need_ref(ctx, args, "transfer")
    if not rest:
        return [transfer_choices(ctx, ref)]
    if rest.startswith("@"):
        target, _, reason = rest.partition(" ")
    else:
        target, reason = _split_target(ctx, rest)
    return [actions.transfer(ctx, ref, target, reason.strip())]


def _split_target(ctx: Ctx, rest: str) -> tuple[str, str]:
    """A municipality name may have spaces; take the longest known prefix, else one word."""
    words = rest.split()
    names = {m.name.casefold() for m in queries.municipalities(ctx.session)}
    for n in range(len(words), 0, -1):
        if " ".join(words[:n]).casefold() in names:
            return " ".join(words[:n]), " ".join(words[n:])
    return words[0], " ".join(words[1:])


def transfer_choices(ctx: Ctx, ref: str) -> Reply:
    case = lifecycle.get_in_scope(ctx, ref)
    if not may_transfer(ctx.actor, case):
        raise Refused(actions.not_yours(ctx, case))
    lifecycle.check(ctx.t, case, "transfer")
    buttons = [
        Button(label=m.name, action=f"transfer:{case.ref}:{m.code}")
        for m in queries.municipalities(ctx.session)
        if m.code != case.responsible_municipality_code
    ]
    return Reply(
        text=ctx.t(
            "To which municipality should case {ref} go? Or type /transfer {ref} @person [reason].",
            ref=case.ref,
        ),
        buttons=buttons,
    )


def _withdraw(ctx: Ctx, args: str) -> list[Reply]:
    ref, reason = _need_ref(ctx, args, "withdraw")
    return withdrawal.start(ctx, ref, reason)


def _reopen(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "reopen")
    return [actions.reopen(ctx, ref)]


def _close(ctx: Ctx, args: str) -> list[Reply]:
    ref, reason = _need_ref(ctx, args, "close")
    return [actions.close_no_support(ctx, ref, reason)]


def _lost(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "lost")
    return [actions.lose_contact(ctx, ref)]


_STATE_ORDER = [
    CaseState.due,
    CaseState.claimed,
    CaseState.forecast,
    CaseState.placed,
    CaseState.lost,
    CaseState.closed,
    CaseState.withdrawn,
]


def _page(ctx: Ctx, args: str) -> int:
    try:
        return max(1, int(args.strip() or "1"))
    except ValueError:
        raise Refused(ctx.t("Give a page number, for example 2.")) from None


def _leavers(ctx: Ctx, args: str) -> list[Reply]:
    page = _page(ctx, args)
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
    return [_listing(ctx, "leavers", rows, total, page, ctx.t("Leavers in your view"))]


def _cases(ctx: Ctx, args: str) -> list[Reply]:
    """The broker's queue: what they own, and what waits for them to claim."""
    page = _page(ctx, args)
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
    return [_listing(ctx, "cases", rows, total, page, ctx.t("Your queue"))]


def _listing(ctx: Ctx, kind: str, rows: Sequence[Case], total: int, page: int, title: str) -> Reply:
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


COMMANDS: dict[str, Handler] = {
    "help": _help,
    "leaver": _leaver,
    "leavers": _leavers,
    "case": _case,
    "claim": _claim,
    "transfer": _transfer,
    "cases": _cases,
    "placed": _placed,
    "digest": _digest,
    "withdraw": _withdraw,
    "reopen": _reopen,
    "close": _close,
    "lost": _lost,
}
