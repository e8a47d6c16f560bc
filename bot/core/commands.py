"""The commands of product.md section 6: one table, and the way in for typed lines and buttons.

A command is a row of `COMMANDS`, and the row is all there is to know about it: its name,
how to type it (translated, placeholders included), what it does (for /help), the roles that
may use it, the function that runs it, whether it writes, where it belongs (whether it
starts a conversation, which must then happen in the private chat; whether it makes sense in
a group or channel; whether its replies are for the place it was typed in), the form a
platform may show whole (Slack's modal) and submit at once, and the kinds of button that do
what it does (`Press`: what pressing one runs, whether it speaks to the place, whether it
opens the form, whether the card it sat on is shown anew). /help, the permission check of
every command and every button, the Slack registration, modals and manifest test,
Telegram's command lists, the places and the terminal all read this one table; there is no
other list of commands or buttons. Adding a command is adding one row.

One thing: the table and the small functions its rows name are the commands themselves; the
way in below only looks a row up and runs it, so splitting them would put a row's behaviour
in one file and its name in another.

A transport hands over the text a person typed (or the action of a button they pressed);
this module finds the command, checks the role, runs it and returns typed replies. The data
path is one straight line: transport → here → store → replies → transport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core import admin, conversation, digest
from bot.core.admin.people import ADD_PERSON
from bot.core.cases import actions, elsewhere, lifecycle, listings, withdrawal
from bot.core.cases.cards import case_card
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.followup import followups
from bot.core.followup.followups import PLACEMENT_FORM
from bot.core.i18n import N_
from bot.core.intake import correct, leaver_form, rounds
from bot.core.intake.fields import ParseEnv
from bot.core.intake.register import check_leaver
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
Check = Callable[
    [conversation.Form, Mapping[str, str], ParseEnv], tuple[dict[str, Any], dict[str, str]]
]

EVERYONE = frozenset(Role)
# everyone with a role in the network: not a scan's guest, who sees nothing of the cases
MEMBERS = EVERYONE - {Role.scan_guest}


@dataclass(frozen=True)
class Press:
    """A kind of button ("claim" in "claim:K7F2"; the part after "kind:" is its argument)
    that does what its command does: pressing one needs the same role as typing it."""

    kind: str
    # what pressing it runs; None: what typing "/COMMAND ARGUMENT" does
    run: Callable[[Ctx, str], list[Reply]] | None = None
    # pressed in a channel or group, it is handled for that place (a vote of the scan)
    for_the_place: bool = False
    # on a platform with forms of its own (Slack), pressing it opens the command's form for
    # the argument (the Placement button) instead of asking the first question
    opens_form: bool = False
    # pressed in a private chat and done, the card it sat on is shown anew (Claim: who has it)
    refreshes_card: bool = False


@dataclass(frozen=True)
class Submit:
    """The form a platform with forms of its own (Slack's modals) shows whole and submits at
    once (`Core.submit_form`): checked with `check`, confirmed like the conversation."""

    name: str  # the form's name in `conversation.FORMS`, and the Slack modal's callback id
    check: Check = conversation.check_all
    # about the actor's own school: only for someone with a school, whose id goes in the
    # context (the leaver form)
    own_school: bool = False
    # the arguments with which typing the command opens the form; None: any arguments
    args: str | None = None


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # msgid: "/transfer REF MUNICIPALITY-or-@person [reason]"
    help: str  # msgid: what it does, for /help and the platforms' command lists
    roles: frozenset[Role]
    run: Handler
    # the kinds of button that do what this command does
    buttons: tuple[Press, ...] = ()
    # starts a guided conversation: its questions belong in the private chat
    conversation: bool = False
    # answers without personal details, so it makes sense in a group or channel too
    in_groups: bool = False
    # typed in a channel or group, it is handled for that place (the scan), not answered to
    # the caller alone
    for_the_place: bool = False
    # nearly always writes (it and its buttons): run as a writer at once, not first as a
    # reader that is rolled back and run again once it writes (`store.db.run_unit`)
    writes: bool = False
    # the form a platform may show whole for it (Slack's modal)
    form: Submit | None = None
    # in the short command menu of a platform that limits it (Teams shows ten a scope): the
    # daily work of each role; the commands about one case that its card's buttons start
    # (transfer, edit, withdraw, close, lost), the rare ones (reopen) and the channel's own
    # (scan) are left to /help, which lists every command
    in_menu: bool = False


# the two kinds of button that belong to no one row: "cmd:NAME ARGS" does what typing
# "/NAME ARGS" does (and needs that command's role); "form:…" answers the person's own
# conversation in progress, which a command of theirs started
COMMAND_BUTTON = "cmd"
FORM_BUTTON = "form"


def may_use(person: Person, command: str) -> bool:
    found = COMMANDS.get(command)
    return found is not None and bool(found.roles & set(person.roles))


def split_command(text: str) -> tuple[str, str]:
    """'/claim k7f2' → ('claim', 'k7f2'); also strips a Telegram '@botname' suffix."""
    head, _, rest = text.strip().partition(" ")
    name = head.lstrip("/").split("@", 1)[0].casefold()
    return name, rest.strip()


def writes(text: str) -> bool:
    """Whether the typed command `text` is one whose row says it writes."""
    found = COMMANDS.get(split_command(text)[0])
    return found is not None and found.writes


def action_writes(action: str) -> bool:
    """Whether pressing the button `action` does what a command that writes does."""
    found = BUTTONS.get(action.partition(":")[0])
    return found is not None and found.writes


def press_of(action: str) -> Press | None:
    """The row's entry for the kind of button `action` ("claim:K7F2"), if it has one."""
    found = BUTTONS.get(action.partition(":")[0])
    kind = action.partition(":")[0]
    return next((p for p in found.buttons if p.kind == kind), None) if found else None


def for_the_place(*, command: str | None = None, action: str | None = None) -> bool:
    """Whether the command (its name) or the button (its action), typed or pressed in a
    channel or group, is handled for that place (the table's `for_the_place`)."""
    if command is not None:
        found = COMMANDS.get(command.casefold())
        return found is not None and found.for_the_place
    press = press_of(action) if action is not None else None
    return press is not None and press.for_the_place


def form_opened_by(action: str) -> tuple[Command, str] | None:
    """The command whose form the button `action` opens on a platform with forms of its own,
    and the arguments to open it with: "cmd:NAME ARGS" for a command with a form, or a
    button whose row says it opens the form ("placed:K7F2")."""
    kind, _, rest = action.partition(":")
    if kind == COMMAND_BUTTON:
        name, args = split_command(f"/{rest}")
        found = COMMANDS.get(name)
        return (found, args) if found is not None and found.form is not None else None
    press = press_of(action)
    command = BUTTONS.get(kind)
    if press is None or command is None or not press.opens_form or command.form is None:
        return None
    return command, rest


def submittable(form_name: str) -> Command | None:
    """The command whose form `form_name` a platform may submit whole."""
    return next((c for c in COMMANDS.values() if c.form and c.form.name == form_name), None)


def forms() -> list[str]:
    """The names of every form a platform may show whole, in the table's order."""
    return [c.form.name for c in COMMANDS.values() if c.form is not None]


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
    if kind == COMMAND_BUTTON:
        return run_command(ctx, f"/{rest}")
    if kind == FORM_BUTTON:
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
    press = next(p for p in command.buttons if p.kind == kind)
    if press.run is None:
        return list(command.run(ctx, rest.strip()))
    return press.run(ctx, rest)


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
        return _transfer(ctx, f"{ref} {target}")
    return [actions.transfer_choices(ctx, ref)]


def _press_round(ctx: Ctx, rest: str) -> list[Reply]:
    what, _, arg = rest.partition(":")
    return rounds.confirm(ctx, arg) if what == "complete" else rounds.upload_help(ctx)


def _press_followup(ctx: Ctx, rest: str) -> list[Reply]:
    ref, n, what = [*rest.split(":"), "", "", ""][:3]
    if not n.isdigit():
        return [Reply(text=ctx.t("That button no longer works. Type /help."), error=True)]
    return followups.answer(ctx, ref, int(n), what)


def _check_leaver(
    _form: conversation.Form, raw: Mapping[str, str], env: ParseEnv
) -> tuple[dict[str, Any], dict[str, str]]:
    """The leaver form whole: every field and the rules across fields, as the CSV import."""
    checked = check_leaver(dict(raw), env)
    return checked.values, {name: problem.message for name, problem in checked.errors.items()}


_TABLE = (
    Command("help", "/help", N_("what you can do"), EVERYONE, _help, in_groups=True, in_menu=True),
    Command(
        "leaver",
        "/leaver",
        N_("register one expected leaver, step by step"),
        frozenset({Role.school_contact}),
        _leaver,
        buttons=(Press("round", _press_round),),
        conversation=True,
        form=Submit(leaver_form.LEAVER_FORM.name, _check_leaver, own_school=True),
        in_menu=True,
    ),
    Command(
        "leavers",
        N_("/leavers [state|open] [overdue] [mine] [municipality] [school] [page]"),
        N_("the leavers in your view, with state and owner; for example /leavers open Zwolle"),
        MEMBERS,
        listings.leavers,
        buttons=(Press("leavers"),),
        in_menu=True,
    ),
    Command(
        "find",
        N_("/find TEXT"),
        N_("find a case by its reference, the student reference or the name"),
        MEMBERS,
        listings.find,
        in_menu=True,
    ),
    Command(
        "edit",
        "/edit REF",
        N_("correct a leaver's details (the school until a broker claims it; the coordinator)"),
        frozenset({Role.school_contact, Role.coordinator}),
        _edit,
        buttons=(Press("edit"),),
        conversation=True,
        # a correction: the same checks as the intake; the case travels in the context
        form=Submit(correct.EDIT_FORM.name, _check_leaver),
    ),
    Command(
        "case",
        "/case REF",
        N_("show a case card"),
        MEMBERS,
        _case,
        buttons=(
            Press("case"),
            Press("details", lambda ctx, ref: [_card(ctx, ref, details=True)]),
        ),
        in_menu=True,
    ),
    Command(
        "claim",
        "/claim REF",
        N_("take a case"),
        frozenset({Role.broker}),
        _claim,
        buttons=(Press("claim", refreshes_card=True),),
        writes=True,
        in_menu=True,
    ),
    Command(
        "transfer",
        N_("/transfer REF MUNICIPALITY-or-@person [reason]"),
        N_("hand a case over; to another region: /transfer REF outside WHO-TAKES-IT-OVER"),
        frozenset({Role.broker, Role.coordinator}),
        _transfer,
        buttons=(
            Press("transfer", _press_transfer),
            Press("outside", lambda ctx, ref: [elsewhere.outside_help(ctx, ref)]),
        ),
    ),
    Command(
        "placed",
        "/placed REF",
        N_("record the placement of your case"),
        frozenset({Role.broker}),
        _placed,
        buttons=(Press("placed", opens_form=True), Press("fu", _press_followup)),
        conversation=True,
        form=Submit(PLACEMENT_FORM.name),
        in_menu=True,
    ),
    Command(
        "cases",
        N_("/cases [state] [overdue] [mine] [municipality] [school] [page]"),
        N_("your queue, most urgent first; for example /cases overdue"),
        frozenset({Role.broker}),
        listings.queue,
        buttons=(Press("cases"),),
        in_menu=True,
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
        "digest",
        "/digest",
        N_("the weekly digest, now"),
        frozenset({Role.coordinator}),
        _digest,
        in_menu=True,
    ),
    Command(
        "admin",
        admin.USAGE,
        N_("the directory, invites and privacy requests (export, erase, audit trail)"),
        frozenset({Role.coordinator}),
        admin.run,
        conversation=True,
        form=Submit(ADD_PERSON.name, args="add"),
        in_menu=True,
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
        buttons=(
            # a mark: sv:<session>:<factor>:<mark>
            Press("sv", scan_votes.cast, for_the_place=True),
            # a vote for an improvement point: sp:<session>:<factor>
            Press("sp", scan_votes.vote_point, for_the_place=True),
            # the facilitator chooses a point: sc:<session>:<factor>
            Press("sc", scan_session.press_choose, for_the_place=True),
            # an owner's progress: sa:<action>:done|underway|stuck
            Press("sa", scan_agenda.report),
            # the previous seating again, or anew: st:<session>:same|new
            Press("st", scan_again.press),
            # a voter's own group: sg:<session>:<group>
            Press("sg", scan_table.press_seat, for_the_place=True),
            # the facilitator's answer to a question: sk:<session>:<factor>:<what>
            Press("sk", scan_session.press_confirm, for_the_place=True),
        ),
        in_groups=True,
        for_the_place=True,
    ),
)
# The table: every command, by name, in the order /help, Slack and Telegram list them
COMMANDS: dict[str, Command] = {c.name: c for c in _TABLE}


class _Buttons(Mapping[str, Command]):
    """The command each kind of button belongs to, read from the rows of `COMMANDS` each
    time (a row added is seen at once; a kind in two rows is one kind too many, and a test
    says so)."""

    def __getitem__(self, kind: str) -> Command:
        found = next((c for c in COMMANDS.values() for p in c.buttons if p.kind == kind), None)
        if found is None:
            raise KeyError(kind)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter([p.kind for c in COMMANDS.values() for p in c.buttons])

    def __len__(self) -> int:
        return sum(len(c.buttons) for c in COMMANDS.values())


BUTTONS: Mapping[str, Command] = _Buttons()
