"""The commands of product.md section 6: one table, and the way in for typed lines and buttons.

A command is a row of `COMMANDS`: its name, how to type it (translated, placeholders
included), what it does (for /help), the roles that may use it, the function that runs it,
the kinds of button that lead to it, and where it belongs (whether it starts a conversation,
which must then happen in the private chat; whether it makes sense in a group or channel).
/help, the permission check of every command and every button, the Slack registration and
manifest test, and Telegram's command lists all read this one table.

A transport hands over the text a person typed (or the action of a button they pressed);
this module finds the command, checks the role, runs it and returns typed replies. The data
path is one straight line: transport → here → store → replies → transport.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core import admin, conversation, digest
from bot.core.cases import actions, elsewhere, lifecycle, listings, withdrawal
from bot.core.cases.cards import case_card
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.followup import followups
from bot.core.i18n import N_
from bot.core.intake import correct, leaver_form, rounds
from bot.core.replies import Reply
from bot.core.scan import again as scan_again
from bot.core.scan import agenda as scan_agenda
from bot.core.scan import session as scan_session
from bot.core.scan import table as scan_table
from bot.core.scan import votes as scan_votes
from bot.core.text import visible
from bot.core.vocab import Role
from bot.store.models import Person

Handler = Callable[[Ctx, str], Sequence[Reply]]

EVERYONE = frozenset(Role)
# everyone with a role in the network: not a scan's guest, who sees nothing of the cases
MEMBERS = EVERYONE - {Role.scan_guest}


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # msgid: "/transfer REF MUNICIPALITY-or-@person [reason]"
    help: str  # msgid: what it does, for /help and the platforms' command lists
    roles: frozenset[Role]
    run: Handler
    # the kinds of button ("claim" in "claim:K7F2") that do what this command does: pressing
    # one needs the same role as typing the command
    buttons: tuple[str, ...] = ()
    # starts a guided conversation: its questions belong in the private chat
    conversation: bool = False
    # answers without personal details, so it makes sense in a group or channel too
    in_groups: bool = False


def may_use(person: Person, command: str) -> bool:
    found = COMMANDS.get(command)
    return found is not None and bool(found.roles & set(person.roles))


def split_command(text: str) -> tuple[str, str]:
    """'/claim k7f2' → ('claim', 'k7f2'); also strips a Telegram '@botname' suffix."""
    head, _, rest = text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].casefold()
    return name, rest.strip()


# Commands (and their buttons) that nearly always write: run as a writer at once, not first
# as a reader that is rolled back and run again once it writes (`store.db.run_unit`)
WRITES = frozenset({"claim"})


def writes(text: str) -> bool:
    """Whether the typed command `text` is one of WRITES."""
    return split_command(text)[0] in WRITES


def action_writes(action: str) -> bool:
    """Whether pressing the button `action` does what a command of WRITES does."""
    found = BUTTONS.get(action.partition(":")[0])
    return found is not None and found.name in WRITES


def run_command(ctx: Ctx, text: str) -> list[Reply]:
    name, args = split_command(text)
    command = COMMANDS.get(name)
    if command is None and name == "clock":  # the terminal demo's own: answered there
        refusal = ctx.t(
            "/clock only works in the terminal demo: a real network's clock cannot be moved."
        )
        return [Reply(text=refusal, error=True)]
    # "/cancel", "/stop", "/terug" typed in the middle of a guided conversation (the habit
    # of Telegram bots) mean what the word alone means there
    control = any(name in words for words in conversation.WORDS.values())
    if command is None and control and not args and conversation.active(ctx):
        return conversation.answer(ctx, name) or []
    if command is None:
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
    return list(command.run(ctx, args))


def run_action(ctx: Ctx, action: str) -> list[Reply]:
    """A pressed button: 'claim:K7F2', 'transfer:K7F2:GM0166', 'leavers:2' …

    Every kind of button belongs to a command of the table and needs its role; "form"
    buttons belong to the person's own conversation, which a command of theirs started."""
    kind, _, rest = action.partition(":")
    if kind == "cmd":
        return run_command(ctx, f"/{rest}")
    if kind == "form":
        return conversation.press(ctx, action)
    command = BUTTONS.get(kind)
    if command is None:
        return [Reply(text=ctx.t("That button no longer works. Type /help."), error=True)]
    if not may_use(ctx.actor, command.name):
        return [
            Reply(
                text=ctx.t("/{name} is not for your role. Type /help.", name=command.name),
                error=True,
            )
        ]
    return PRESS[kind](ctx, rest)


TERMINAL = "terminal"  # the terminal chat, where a file is sent with /upload
UPLOAD_TERMINAL = N_("/upload FILE — send a file of leavers (CSV or Excel): all are registered")
UPLOAD_CHAT = N_("a file of leavers (CSV or Excel), sent to me in this chat: all are registered")


def _help(ctx: Ctx, args: str) -> list[Reply]:
    """The commands of the caller's roles; the Participatiescan only for whoever may run one
    and for a scan's guest (it is all they have), and for a school contact how to send a file
    of leavers (no command of the table)."""
    t = ctx.t
    lines = []
    for c in COMMANDS.values():
        if not may_use(ctx.actor, c.name):
            continue
        guest = Role.scan_guest.value in ctx.actor.roles
        if c.name == "scan" and not guest and not scan_session.may_facilitate(ctx):
            continue
        lines.append(f"{t(c.usage)} — {t(c.help)}")
        if c.name == "leaver":
            upload = UPLOAD_TERMINAL if ctx.transport == TERMINAL else UPLOAD_CHAT
            lines.append(t(upload))
    return [Reply(title=t("What you can do, {name}", name=ctx.actor.name), lines=lines)]


MAX_REF = 64  # longer than any case or student reference: refused without echoing it


def _need_ref(ctx: Ctx, args: str, command: str) -> tuple[str, str]:
    ref, _, rest = args.strip().partition(" ")
    ref = visible(ref).strip()
    if not ref:
        raise Refused(ctx.t("Which case? Use: {usage}", usage=ctx.t(COMMANDS[command].usage)))
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
        return [actions.transfer_choices(ctx, ref)]
    word, _, contact = rest.partition(" ")
    if word.casefold() in elsewhere.OUTSIDE_WORDS:
        return [elsewhere.hand_over_outside(ctx, ref, contact)]
    if rest.startswith("@"):
        target, _, reason = rest.partition(" ")
    else:
        target, reason = actions.split_target(ctx, rest)
    return [actions.transfer(ctx, ref, target, reason.strip())]


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


def _edit(ctx: Ctx, args: str) -> list[Reply]:
    ref, _ = _need_ref(ctx, args, "edit")
    return correct.start(ctx, ref)


def _press_transfer(ctx: Ctx, rest: str) -> list[Reply]:
    ref, _, target = rest.partition(":")
    if target:
        return run_command(ctx, f"/transfer {ref} {target}")
    return [actions.transfer_choices(ctx, ref)]


def _press_round(ctx: Ctx, rest: str) -> list[Reply]:
    what, _, arg = rest.partition(":")
    return rounds.confirm(ctx, arg) if what == "complete" else rounds.upload_help(ctx)


def _press_followup(ctx: Ctx, rest: str) -> list[Reply]:
    ref, n, what = [*rest.split(":"), "", "", ""][:3]
    if not n.isdigit():
        return [Reply(text=ctx.t("That button no longer works. Type /help."), error=True)]
    return followups.answer(ctx, ref, int(n), what)


def _again(name: str) -> Callable[[Ctx, str], list[Reply]]:
    """A button that does what typing `/name REST` does."""
    return lambda ctx, rest: run_command(ctx, f"/{name} {rest}")


_TABLE = (
    Command("help", "/help", N_("what you can do"), EVERYONE, _help, in_groups=True),
    Command(
        "leaver",
        "/leaver",
        N_("register one expected leaver, step by step"),
        frozenset({Role.school_contact}),
        _leaver,
        buttons=("round",),
        conversation=True,
    ),
    Command(
        "leavers",
        N_("/leavers [state|open] [overdue] [mine] [municipality] [school] [page]"),
        N_("the leavers in your view, with state and owner; for example /leavers open Zwolle"),
        MEMBERS,
        listings.leavers,
        buttons=("leavers",),
    ),
    Command(
        "find",
        N_("/find TEXT"),
        N_("find a case by its reference, the student reference or the name"),
        MEMBERS,
        listings.find,
    ),
    Command(
        "edit",
        "/edit REF",
        N_("correct a leaver's details (the school until a broker claims it; the coordinator)"),
        frozenset({Role.school_contact, Role.coordinator}),
        _edit,
        buttons=("edit",),
        conversation=True,
    ),
    Command(
        "case",
        "/case REF",
        N_("show a case card"),
        MEMBERS,
        _case,
        buttons=("case", "details"),
    ),
    Command("claim", "/claim REF", N_("take a case"), frozenset({Role.broker}), _claim, ("claim",)),
    Command(
        "transfer",
        N_("/transfer REF MUNICIPALITY-or-@person [reason]"),
        N_("hand a case over; to another region: /transfer REF outside WHO-TAKES-IT-OVER"),
        frozenset({Role.broker, Role.coordinator}),
        _transfer,
        buttons=("transfer", "outside"),
    ),
    Command(
        "placed",
        "/placed REF",
        N_("record the placement of your case"),
        frozenset({Role.broker}),
        _placed,
        buttons=("placed", "fu"),
        conversation=True,
    ),
    Command(
        "cases",
        N_("/cases [state] [overdue] [mine] [municipality] [school] [page]"),
        N_("your queue, most urgent first; for example /cases overdue"),
        frozenset({Role.broker}),
        listings.queue,
        buttons=("cases",),
    ),
    Command(
        "withdraw",
        N_("/withdraw REF [reason]"),
        N_("withdraw a case (the student stays at school, or it was a mistake)"),
        frozenset({Role.school_contact, Role.coordinator}),
        _withdraw,
        conversation=True,
    ),
    Command(
        "reopen",
        "/reopen REF",
        N_("reopen a withdrawn case"),
        frozenset({Role.coordinator}),
        _reopen,
    ),
    Command(
        "close",
        N_("/close REF REASON"),
        N_("close your case: no support needed"),
        frozenset({Role.broker, Role.coordinator}),
        _close,
    ),
    Command(
        "lost",
        "/lost REF",
        N_("contact with the young person is lost"),
        frozenset({Role.broker, Role.coordinator}),
        _lost,
    ),
    Command(
        "digest", "/digest", N_("the weekly digest, now"), frozenset({Role.coordinator}), _digest
    ),
    Command(
        "admin",
        admin.USAGE,
        N_("the directory, invites and privacy requests (export, erase, audit trail)"),
        frozenset({Role.coordinator}),
        admin.run,
        conversation=True,
    ),
    Command(
        "scan",
        N_(
            "/scan start [async DAYS] | next | close | results | agenda | stop | resume | "
            "guest | list | compare | report | plan"
        ),
        N_("the Participatiescan, run in a channel or group by its facilitator"),
        EVERYONE,
        scan_session.run,
        buttons=("sv", "sp", "sc", "sa", "st", "sg", "sk"),
        in_groups=True,
    ),
)
COMMANDS: dict[str, Command] = {c.name: c for c in _TABLE}
# the command each kind of button belongs to
BUTTONS: dict[str, Command] = {kind: c for c in _TABLE for kind in c.buttons}
# what pressing each kind of button does (the part after "kind:" is its argument)
PRESS: dict[str, Callable[[Ctx, str], list[Reply]]] = {
    "claim": _again("claim"),
    "case": _again("case"),
    "details": lambda ctx, ref: [_card(ctx, ref, details=True)],
    "transfer": _press_transfer,
    "outside": lambda ctx, ref: [elsewhere.outside_help(ctx, ref)],
    "leavers": _again("leavers"),
    "cases": _again("cases"),
    "edit": _again("edit"),
    "round": _press_round,
    "placed": _again("placed"),
    "fu": _press_followup,
    "sv": scan_votes.cast,  # a mark: sv:<session>:<factor>:<mark>
    "sp": scan_votes.vote_point,  # a vote for an improvement point: sp:<session>:<factor>
    "sc": scan_session.press_choose,  # the facilitator chooses a point: sc:<session>:<factor>
    "sa": scan_agenda.report,  # an owner's progress: sa:<action>:done|underway|stuck
    "st": scan_again.press,  # the previous seating again, or anew: st:<session>:same|new
    "sg": scan_table.press_seat,  # a voter's own group: sg:<session>:<group>
    "sk": scan_session.press_confirm,  # the facilitator's answer: sk:<session>:<factor>:<what>
}
