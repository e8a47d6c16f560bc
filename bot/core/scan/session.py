"""/scan: a facilitated Participatiescan in one place (a channel, a group, the terminal).

The facilitator (the coordinator, or someone the coordinator named with /scan facilitator)
opens a session with `/scan start`: the warm-up question, then the factors theme by theme
(`/scan next`, `/scan close`). After each theme come its results and its weakest factors as
improvement points; the facilitator chooses points (`/scan choose N`) and fills in an action
for each in a short private form. `/scan stop` publishes the agenda, sends each owner their
actions and schedules the follow-up; it asks first, saying what is left, and `/scan resume`
goes on where a stopped or interrupted scan was. Replies with `to_place` are for everyone in
the place.

One thing: the flow of one session through its stages (start, close, next, a theme's end,
choose, stop, resume) and the facilitator's say over it; who sits at the table (`table`),
the votes (`votes`), the results and the agenda are modules of their own.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.core import clock
from bot.core.context import Ctx
from bot.core.directory import find_person
from bot.core.errors import Refused
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.scan import (
    again,
    agenda,
    figures,
    history,
    knowledge,
    marking_ahead,
    meeting,
    report,
    results,
    table,
    votes,
)
from bot.core.scan.model import ScanContent
from bot.core.vocab import Role
from bot.store.models import ScanFacilitator, ScanPoint, ScanSession
from bot.store.rows import insert_once


def open_session(ctx: Ctx) -> ScanSession | None:
    if ctx.place is None:
        return None
    return ctx.session.exec(select(ScanSession).where(ScanSession.open_place == ctx.place)).first()


def _need_session(ctx: Ctx) -> ScanSession:
    scan = open_session(ctx)
    if scan is None:
        raise Refused(ctx.t("No scan is open here. The facilitator starts one with /scan start."))
    return scan


def may_facilitate(ctx: Ctx) -> bool:
    if Role.coordinator.value in ctx.actor.roles:
        return True
    return ctx.session.get(ScanFacilitator, ctx.actor.id) is not None


def _need_facilitator(ctx: Ctx, scan: ScanSession) -> None:
    if scan.facilitator_id != ctx.actor.id and Role.coordinator.value not in ctx.actor.roles:
        raise Refused(ctx.t("Only the facilitator of this scan can do that."))


def run(ctx: Ctx, args: str) -> list[Reply]:
    what, _, rest = args.strip().partition(" ")
    what = what.casefold()
    rest = rest.strip()
    if what == "start":
        return start(ctx, rest)
    if what == "facilitator":
        return name_facilitator(ctx, rest)
    if what == "resume":
        return resume(ctx)
    after = {  # these work after the scan too: the latest one here, or scan N
        "results": show_results,
        "agenda": show_agenda,
        "list": lambda ctx, _rest: history.list_scans(ctx),
        "compare": history.compare,
        "report": report.report,
        "plan": meeting.plan,
    }
    if what in after:
        return after[what](ctx, rest)
    commands = {"next": next_step, "close": close, "stop": ask_stop}
    if what in commands:
        return commands[what](ctx, _need_session(ctx))
    seating = {"group": table.name_participant, "guest": table.add_guest}
    if what in seating:
        scan = _need_session(ctx)
        _need_facilitator(ctx, scan)
        return seating[what](ctx, scan, rest)
    if what == "choose":
        return choose(ctx, _need_session(ctx), rest)
    return [
        Reply(
            text=ctx.t(
                "Use: /scan start | next | close | results [N] | agenda [N] | stop | resume | "
                "list, /scan group PERSON GROUP, /scan guest NAME GROUP, /scan choose FACTOR, "
                "/scan facilitator PERSON, /scan compare N M, /scan report [N], "
                "/scan plan DATE TIME."
            ),
            error=True,
        )
    ]


def name_facilitator(ctx: Ctx, query: str) -> list[Reply]:
    if Role.coordinator.value not in ctx.actor.roles:
        raise Refused(ctx.t("Only the coordinator can name a facilitator."))
    found = find_person(ctx.session, query) if query else []
    if len(found) != 1:
        raise Refused(ctx.t("Name one person of the directory: /scan facilitator PERSON."))
    person = found[0]
    if ctx.session.get(ScanFacilitator, person.id) is None:
        ctx.session.add(
            ScanFacilitator(person_id=person.id, named_by=ctx.actor.id, named_at=clock.now())
        )
    return [Reply(text=ctx.t("{name} may now run a scan.", name=person.name))]


def start(ctx: Ctx, args: str) -> list[Reply]:
    if ctx.place is None:
        raise Refused(ctx.t("Start a scan in the channel or group where it takes place."))
    if not may_facilitate(ctx):
        raise Refused(ctx.t("Only the coordinator, or a facilitator they named, can start a scan."))
    days = marking_ahead.days_of(ctx, args) if args else None
    scan = ScanSession(
        place=ctx.place,
        open_place=ctx.place,
        language=ctx.default_language,
        facilitator_id=ctx.actor.id,
        opened_at=clock.now(),
    )
    if days is not None:
        scan.mode, scan.stage = "async", "ahead"
        scan.deadline = scan.opened_at + timedelta(days=days)
    new_id = insert_once(ctx.session, scan, unique=["open_place"])
    if new_id is None:
        return _already_open(ctx)
    opened = ctx.session.get(ScanSession, new_id)
    assert opened is not None
    if days is not None:
        return _start_ahead(ctx, opened)
    t = votes.channel_t(opened)
    welcome = Reply(
        title=t("Participatiescan — {region}", region=ctx.region.region),
        text=t(
            "{name} opens the scan. Everyone gives each factor a mark with the buttons; "
            "nobody sees who gave which mark, only how many voted.",
            name=ctx.actor.name,
        ),
        to_place=True,
    )
    before = again.opening(ctx, opened)  # a second scan here: the previous table and agenda
    return [welcome, *before, table.table_reply(ctx, opened), votes.voting_message(ctx, opened)]


def _already_open(ctx: Ctx) -> list[Reply]:
    """`/scan start` where a scan is open: while voting, where it stands is shown again (after
    the bot was invited to a channel where it could not post, say)."""
    scan = open_session(ctx)
    if scan is None or scan.stage != "vote":
        raise Refused(
            ctx.t("A scan is already open here. /scan stop ends it before a new one starts.")
        )
    where = ctx.t(
        "A scan is already open here; this is where it stands. "
        "/scan stop ends it before a new one starts."
    )
    return [Reply(text=where), table.table_reply(ctx, scan), votes.voting_message(ctx, scan)]


def _start_ahead(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    marking_ahead.schedule_end(ctx, scan)
    t = votes.channel_t(scan)
    welcome = Reply(
        title=t("Participatiescan — {region}", region=ctx.region.region),
        text=t(
            "{name} opens the scan with marking ahead until {deadline}: the participants give "
            "their marks in a direct message, and the meeting starts from the results. Nobody "
            "sees who gave which mark.",
            name=ctx.actor.name,
            deadline=marking_ahead.when(t, ctx, scan),
        ),
        to_place=True,
    )
    to_facilitator = Reply(
        text=ctx.t(
            "No participants are named for this scan yet. Name them now with "
            "/scan group PERSON GROUP: each gets the questions in a direct message as soon as "
            "they are named. At the deadline, or when you type /scan next, the meeting "
            "continues here."
        )
    )
    return [welcome, *again.opening(ctx, scan), table.table_reply(ctx, scan), to_facilitator]


def close(ctx: Ctx, scan: ScanSession, *, sure: bool = False) -> list[Reply]:
    """Voting on the question ends (a question nobody voted on: asked first). The marks that
    arrived before the close still count when they are worked on after it (`mark_button.press`)."""
    _need_facilitator(ctx, scan)
    if scan.stage != "vote":
        raise Refused(ctx.t("Voting on this question is closed already. /scan next moves on."))
    if not sure and _nobody_voted(ctx, scan):
        return [_ask(ctx, scan, ctx.t("Nobody has voted yet — go on anyway?"), "close")]
    scan.stage = "closed"
    ctx.session.add(scan)
    votes.record_close(ctx, scan)
    return [votes.voting_message(ctx, scan)]


def _nobody_voted(ctx: Ctx, scan: ScanSession) -> bool:
    assert scan.id is not None
    return votes.vote_count(ctx.session, scan.id, scan.factor) == 0


def _ask(ctx: Ctx, scan: ScanSession, question: str, what: str) -> Reply:
    """A question to the facilitator alone, with a button to do `what` and one to go on as
    before (`sk:<session>:<factor>:<what>|keep`)."""
    yes = ctx.t("Stop the scan") if what == "stop" else ctx.t("Go on anyway")
    no = ctx.t("Carry on") if what == "stop" else ctx.t("Wait")
    key = f"sk:{scan.id}:{scan.factor}"
    return Reply(
        text=question,
        buttons=[
            Button(label=yes, action=f"{key}:{what}", style="danger" if what == "stop" else None),
            Button(label=no, action=f"{key}:keep"),
        ],
    )


def press_confirm(ctx: Ctx, rest: str) -> list[Reply]:
    """The facilitator's answer to `_ask`: 'sk:<session>:<factor>:close|next|stop|keep'."""
    scan_id, factor, what = [*rest.split(":"), "", "", ""][:3]
    scan = ctx.session.get(ScanSession, int(scan_id)) if scan_id.isdigit() else None
    if scan is None or scan.state != "open":
        raise Refused(ctx.t("This scan has ended."))
    _need_facilitator(ctx, scan)
    if factor != str(scan.factor):
        raise Refused(ctx.t("The scan has moved on since; nothing was done."))
    if what == "close":
        return close(ctx, scan, sure=True)
    if what == "next":
        return next_step(ctx, scan, sure=True)
    if what == "stop":
        return stop(ctx, scan)
    return [Reply(text=ctx.t("The scan goes on."))]


def next_step(ctx: Ctx, scan: ScanSession, *, sure: bool = False) -> list[Reply]:
    _need_facilitator(ctx, scan)
    replies: list[Reply] = []
    if scan.stage == "vote":
        if not sure and _nobody_voted(ctx, scan):
            return [_ask(ctx, scan, ctx.t("Nobody has voted yet — go on anyway?"), "next")]
        replies += close(ctx, scan, sure=True)
    if scan.mode == "async" and scan.factor == 0 and scan.stage in ("ahead", "closed"):
        replies += marking_ahead.end(ctx, scan)  # the meeting starts from the marks given ahead
    content = votes.content_of(scan)
    theme = content.theme_of(scan.factor) if scan.factor else None
    if theme is not None and scan.stage == "closed" and theme.factors[-1].number == scan.factor:
        return replies + _theme_end(ctx, scan, content, theme.id)
    if scan.factor >= len(content.factors):
        t = votes.channel_t(scan)
        last = t("That was the last factor. /scan stop ends the scan and shows the agenda.")
        return [*replies, Reply(text=last, to_place=True)]
    scan.factor += 1
    scan.stage = "vote"
    ctx.session.add(scan)
    return [*replies, *figures.replies(ctx, scan), votes.voting_message(ctx, scan)]


def _theme_end(ctx: Ctx, scan: ScanSession, content: ScanContent, theme_id: str) -> list[Reply]:
    """The theme's results, and its weakest factors proposed as improvement points."""
    assert scan.id is not None
    t = votes.channel_t(scan)
    theme = content.theme(theme_id)
    assert theme is not None
    numbers = [f.number for f in theme.factors]
    found = results.results_of(ctx.session, scan.id)
    for number in results.weakest(found, numbers, content.improvement_points):
        insert_once(
            ctx.session,
            ScanPoint(session_id=scan.id, factor=number, proposed_at=clock.now()),
            unique=["session_id", "factor"],
        )
    scan.stage = "points"
    ctx.session.add(scan)
    ctx.session.flush()
    shown = results.results_reply(
        ctx.session,
        t,
        scan,
        content,
        numbers,
        title=t("Results: {theme}", theme=theme.title),
    )
    proposed = [p.factor for p in votes.points_of(ctx.session, scan.id, numbers)]
    practices = knowledge.practices_replies(t, content, proposed)
    return [shown, *practices, votes.points_message(ctx, scan, theme_id)]


def choose(ctx: Ctx, scan: ScanSession, number: str) -> list[Reply]:
    _need_facilitator(ctx, scan)
    point = (
        ctx.session.exec(
            select(ScanPoint).where(
                ScanPoint.session_id == scan.id, ScanPoint.factor == int(number)
            )
        ).first()
        if number.strip().isdigit()
        else None
    )
    if point is None:
        raise Refused(ctx.t("That factor is not one of the proposed improvement points."))
    point.chosen = True
    ctx.session.add(point)
    ctx.session.flush()
    content = votes.content_of(scan)
    theme = content.theme_of(point.factor)
    assert theme is not None
    t = votes.channel_t(scan)
    notice = Reply(
        text=t(
            "Point {n} is chosen. {name} fills in its action, owner and date in a private chat.",
            n=point.factor,
            name=ctx.actor.name,
        ),
        to_place=True,
    )
    form = agenda.start_form(ctx, scan, point.factor)
    if not ctx.private:  # the questions belong in the facilitator's private chat
        for reply in form:
            outbox.enqueue(ctx.session, person_id=ctx.actor.id, kind="scan_form", reply=reply)
        form = []
    return [votes.points_message(ctx, scan, theme.id), notice, *form]


def press_choose(ctx: Ctx, rest: str) -> list[Reply]:
    """A 'choose' button: 'sc:<session>:<factor>'."""
    scan_id, _, factor = rest.partition(":")
    scan = ctx.session.get(ScanSession, int(scan_id)) if scan_id.isdigit() else None
    if scan is None or scan.state != "open":
        raise Refused(ctx.t("This scan has ended."))
    return choose(ctx, scan, factor)


def _shown(scan: ScanSession, content: ScanContent) -> list[int]:
    """The questions with results: those scanned so far, every one when marked ahead; never
    one still open (only its number of votes shows until it closes)."""
    live = scan.state == "open"
    if scan.mode == "async" and live and scan.stage == "ahead":
        return []
    if scan.mode == "async":
        numbers = marking_ahead.questions(content)
    else:
        numbers = [0, *[f.number for f in content.factors if f.number <= scan.factor]]
    return [n for n in numbers if not (live and scan.stage == "vote" and n == scan.factor)]


def show_results(ctx: Ctx, args: str) -> list[Reply]:
    scan = history.meant(ctx, args)
    t = votes.channel_t(scan)
    content = votes.content_of(scan)
    numbers = _shown(scan, content)
    title = t("Results so far") if scan.state == "open" else t("Results of scan {n}", n=scan.id)
    shown = results.results_reply(ctx.session, t, scan, content, numbers, title=title)
    assert scan.id is not None
    if scan.state == "open" and scan.stage == "vote":
        n = votes.vote_count(ctx.session, scan.id, scan.factor)
        still = t.tn(
            "The question being voted on has {n} vote so far; its result follows when it closes.",
            "The question being voted on has {n} votes so far; its result follows when it closes.",
            n,
        )
        shown = shown.model_copy(update={"lines": [*shown.lines, still]})
    elif scan.state == "open" and scan.stage == "ahead":
        still = t("Marking ahead is still open; the results follow when it ends.")
        shown = shown.model_copy(update={"lines": [*shown.lines, still]})
    return [shown]


def show_agenda(ctx: Ctx, args: str) -> list[Reply]:
    return [
        agenda.agenda_reply(ctx.session, votes.channel_t(scan := history.meant(ctx, args)), scan)
    ]


def ask_stop(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    """`/scan stop` asks first, saying what is left."""
    _need_facilitator(ctx, scan)
    return [_ask(ctx, scan, _what_is_left(ctx, scan), "stop")]


def _what_is_left(ctx: Ctx, scan: ScanSession) -> str:
    """What is left, for the stop's question: "You stop at factor 1 of 15; 14 more factors and
    no agenda."."""
    assert scan.id is not None
    total = len(votes.content_of(scan).factors)
    if scan.factor == 0:
        where = ctx.t.tn(
            "You stop before the first factor; {n} factor to go",
            "You stop before the first factor; {n} factors to go",
            total,
        )
    elif scan.factor >= total and scan.stage != "vote":
        where = ctx.t("You stop after the last factor")
    else:
        where = ctx.t.tn(
            "You stop at factor {factor} of {total}; {n} more factor",
            "You stop at factor {factor} of {total}; {n} more factors",
            total - scan.factor,
            factor=scan.factor,
            total=total,
        )
    actions = len(agenda.actions_of(ctx.session, scan.id))
    on_agenda = (
        ctx.t.tn("and {n} action on the agenda.", "and {n} actions on the agenda.", actions)
        if actions
        else ctx.t("and no agenda.")
    )
    return f"{where} {on_agenda}"


def resume(ctx: Ctx) -> list[Reply]:
    """`/scan resume`: the scan of this place goes on where it was — a stopped one is opened
    again; an open one (a meeting that was interrupted) shows where it stands."""
    if ctx.place is None:
        raise Refused(ctx.t("Start a scan in the channel or group where it takes place."))
    scan = (
        open_session(ctx)
        or ctx.session.exec(
            select(ScanSession)
            .where(ScanSession.place == ctx.place)
            .order_by(col(ScanSession.id).desc())
        ).first()
    )
    if scan is None:
        raise Refused(
            ctx.t("No scan was held here yet. The facilitator starts one with /scan start.")
        )
    _need_facilitator(ctx, scan)
    t = votes.channel_t(scan)
    if scan.state != "open":
        scan.state, scan.open_place, scan.closed_at = "open", ctx.place, None
        ctx.session.add(scan)
        ctx.session.flush()
        votes.reopen(ctx, scan)
    said = Reply(text=t("The scan goes on where it was."), to_place=True)
    replies = [said, table.table_reply(ctx, scan)]
    theme = votes.content_of(scan).theme_of(scan.factor) if scan.factor else None
    if scan.stage == "points" and theme is not None:
        return [*replies, votes.points_message(ctx, scan, theme.id)]
    if scan.stage in ("vote", "closed"):
        replies.append(votes.voting_message(ctx, scan))
    return replies


def stop(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    """The end: the results and the agenda in the place, the owners' messages, the follow-up.
    Its stage stays as it was, so that `/scan resume` goes on from there."""
    _need_facilitator(ctx, scan)
    t = votes.channel_t(scan)
    content = votes.content_of(scan)
    replies: list[Reply] = []
    scan.state = "closed"
    scan.open_place = None
    scan.closed_at = clock.now()
    ctx.session.add(scan)
    ctx.session.flush()
    if scan.stage == "vote":
        votes.record_close(ctx, scan)
        replies.append(votes.voting_message(ctx, scan))
    numbers = _shown(scan, content)
    replies.append(
        results.results_reply(
            ctx.session, t, scan, content, numbers, title=t("Results of the scan")
        )
    )
    replies.append(agenda.agenda_reply(ctx.session, t, scan))
    owners, day = agenda.send_to_owners(ctx, scan)
    if day is not None:
        when = agenda.long_date(t, day)
        text = t.tn(
            "The scan is closed. {n} owner got their actions by direct message; "
            "I will ask them about their progress on {date}.",
            "The scan is closed. {n} owners got their actions by direct message; "
            "I will ask them about their progress on {date}.",
            owners,
            date=when,
        )
    else:
        text = t("The scan is closed. There are no actions on the agenda.")
    text += "\n" + t(
        "This was scan {n}. /scan report makes its report as a PDF; the facilitator plans the "
        "follow-up meeting with /scan plan DATE TIME.",
        n=scan.id,
    )
    replies.append(Reply(text=text, to_place=True))
    return replies
