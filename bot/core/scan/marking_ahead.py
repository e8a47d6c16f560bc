"""Marking ahead: `/scan start async DAYS` lets the participants mark the factors beforehand.

While the window is open (stage "ahead", until `deadline`) every participant the facilitator
names with /scan group gets the questions in a direct message, one at a time, each with the
mark buttons of the live vote (`sv:<session>:<factor>:<mark>`), so the marks land in the same
table. A mark may be changed until the deadline. Halfway to the deadline each participant who
has not given every mark is reminded once. At the deadline (or at the facilitator's
/scan next) the window closes and the meeting continues live from the results.
"""

from __future__ import annotations

from babel.dates import format_datetime
from sqlmodel import Session, select

from bot.core import clock, tasks
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.messaging import outbox
from bot.core.replies import Button, Reply
from bot.core.scan import knowledge, results, votes
from bot.core.scan.content import load_scan_content
from bot.core.scan.model import ScanContent
from bot.store import queries
from bot.store.models import Person, ScanParticipant, ScanSession, ScanVote, Task

MIN_DAYS, MAX_DAYS = 1, 14


def days_of(ctx: Ctx, args: str) -> int:
    """The DAYS of 'async DAYS'; anything else is refused with how to write it."""
    word, _, days = args.partition(" ")
    days = days.strip()
    if word.casefold() == "async" and days.isdigit() and MIN_DAYS <= int(days) <= MAX_DAYS:
        return int(days)
    raise Refused(
        ctx.t(
            "Use: /scan start, or /scan start async DAYS to mark ahead for {min} to {max} days.",
            min=MIN_DAYS,
            max=MAX_DAYS,
        )
    )


def is_open(scan: ScanSession) -> bool:
    return (
        scan.state == "open"
        and scan.stage == "ahead"
        and scan.deadline is not None
        and clock.now() < scan.deadline
    )


def when(t: Translator, ctx: Ctx, scan: ScanSession) -> str:
    assert scan.deadline is not None
    return format_datetime(
        scan.deadline, "EEEE d MMMM, HH:mm", tzinfo=ctx.region.tz, locale=t.language
    )


def questions(content: ScanContent) -> list[int]:
    """The warm-up (0) and every factor."""
    return [0, *[f.number for f in content.factors]]


def marked(session: Session, scan_id: int, person_id: str) -> set[int]:
    return set(
        session.exec(
            select(ScanVote.factor).where(
                ScanVote.session_id == scan_id, ScanVote.person_id == person_id
            )
        ).all()
    )


def participants(session: Session, scan_id: int) -> list[str]:
    return list(
        session.exec(
            select(ScanParticipant.person_id).where(ScanParticipant.session_id == scan_id)
        ).all()
    )


def question(t: Translator, ctx: Ctx, scan: ScanSession, number: int) -> Reply:
    """One question in a participant's direct message, in their own language."""
    content = load_scan_content(t.language)
    total = len(questions(content))
    if number == 0:
        title, text = t("Warm-up question"), knowledge.warmup_text(content)
    else:
        factor = content.factor(number)
        assert factor is not None
        title = t(
            "Factor {n} of {total}: {title}",
            n=factor.number,
            total=len(content.factors),
            title=factor.title,
        )
        text = knowledge.question_text(t, content, factor)
    return Reply(
        title=title,
        text=text,
        lines=[
            t(
                "Question {n} of {total}. You can change your mark until {deadline}.",
                n=number + 1,
                total=total,
                deadline=when(t, ctx, scan),
            )
        ],
        buttons=[
            Button(label=str(mark), action=f"sv:{scan.id}:{number}:{mark}")
            for mark in content.scale.marks
        ],
    )


def next_question(ctx: Ctx, t: Translator, scan: ScanSession, person_id: str) -> Reply | None:
    assert scan.id is not None
    done = marked(ctx.session, scan.id, person_id)
    left = [n for n in questions(load_scan_content(t.language)) if n not in done]
    return question(t, ctx, scan, left[0]) if left else None


def invite(ctx: Ctx, scan: ScanSession, person: Person) -> None:
    """A newly named participant: the questions by direct message, and a reminder halfway."""
    assert scan.id is not None and scan.deadline is not None
    t = ctx.translator_for(person)
    intro = Reply(
        title=t("Participatiescan — {region}", region=ctx.region.region),
        text=t(
            "{name} invites you to give your marks for the scan before the meeting, until "
            "{deadline}. Give each factor a mark from 1 to 10; nobody sees who gave which "
            "mark. The meeting then starts from the results.",
            name=ctx.actor.name,
            deadline=when(t, ctx, scan),
        ),
    )
    outbox.enqueue(
        ctx.session, person_id=person.id, kind="scan_ahead", reply=intro, once=f"{scan.id}"
    )
    first = next_question(ctx, t, scan, person.id)
    if first is not None:
        outbox.enqueue(
            ctx.session, person_id=person.id, kind="scan_ahead", reply=first, once=f"{scan.id}:q"
        )
    now = clock.now()
    tasks.schedule(
        ctx.session,
        kind="scan_ahead_remind",
        due_at=now + (scan.deadline - now) / 2,
        person_id=person.id,
        payload={"session": scan.id},
        dedupe_key=f"scan_ahead_remind:{scan.id}:{person.id}",
    )


def schedule_end(ctx: Ctx, scan: ScanSession) -> None:
    assert scan.deadline is not None
    tasks.schedule(
        ctx.session,
        kind="scan_ahead_end",
        due_at=scan.deadline,
        payload={"session": scan.id},
        dedupe_key=f"scan_ahead_end:{scan.id}",
    )


def cast(ctx: Ctx, scan: ScanSession, factor: int, mark: int) -> list[Reply]:
    """A mark given ahead, from the participant's direct message."""
    assert scan.id is not None
    if not is_open(scan):
        raise Refused(
            ctx.t(
                "Marking ahead has ended; your mark was not recorded. "
                "The scan continues in the meeting."
            )
        )
    if ctx.actor.id not in participants(ctx.session, scan.id):
        raise Refused(ctx.t("Only the participants named for this scan mark ahead."))
    if factor not in questions(votes.content_of(scan)):
        raise Refused(ctx.t("That button no longer works. Type /help."))
    if votes.record(ctx, scan.id, factor, mark):
        answer = ctx.t("Your mark {mark} is recorded. Only you see this.", mark=mark)
    else:
        answer = ctx.t("Your mark is now {mark}. Only you see this.", mark=mark)
    following = next_question(ctx, ctx.t, scan, ctx.actor.id)
    if following is None:
        done = ctx.t(
            "You have given all your marks, thank you. You can change them with the buttons "
            "above until {deadline}.",
            deadline=when(ctx.t, ctx, scan),
        )
        return [Reply(text=f"{answer}\n{done}")]
    return [Reply(text=answer), following]


def end(ctx: Ctx, scan: ScanSession) -> list[Reply]:
    """The window closes: the marks given ahead, for everyone in the place."""
    assert scan.id is not None
    if scan.stage == "ahead":
        scan.stage = "closed"
        if scan.deadline is None or clock.now() < scan.deadline:
            scan.deadline = clock.now()
        ctx.session.add(scan)
        ctx.session.flush()
    t = votes.channel_t(scan)
    content = votes.content_of(scan)
    return [
        results.results_reply(
            ctx.session, t, scan, content, questions(content), title=t("Marks given ahead")
        )
    ]


def remind_halfway(ctx: Ctx, task: Task) -> None:
    """Once, halfway: a participant who has not given every mark yet."""
    scan = ctx.session.get(ScanSession, int(task.payload["session"]))
    person = queries.person_by_id(ctx.session, person_id=task.person_id or "")
    if scan is None or scan.id is None or not is_open(scan) or person is None:
        return
    if not person.active:
        return
    t = ctx.translator_for(person)
    following = next_question(ctx, t, scan, person.id)
    if following is None:
        return
    total = len(questions(load_scan_content(t.language)))
    done = len(marked(ctx.session, scan.id, person.id))
    reminder = Reply(
        title=t("Reminder: your marks for the scan"),
        text=t(
            "You have given {done} of {total} marks. Marking ahead ends {deadline}; "
            "the meeting starts from the results.",
            done=done,
            total=total,
            deadline=when(t, ctx, scan),
        ),
    )
    for once, reply in ((f"{scan.id}:remind", reminder), (f"{scan.id}:remind:q", following)):
        outbox.enqueue(ctx.session, person_id=person.id, kind="scan_ahead", reply=reply, once=once)


def close_at_deadline(ctx: Ctx, task: Task) -> None:
    """The deadline: marking ahead ends; the facilitator hears how far everyone got."""
    scan = ctx.session.get(ScanSession, int(task.payload["session"]))
    if scan is None or scan.id is None or scan.state != "open" or scan.stage != "ahead":
        return
    scan.stage = "closed"
    ctx.session.add(scan)
    ctx.session.flush()
    facilitator = queries.person_by_id(ctx.session, person_id=scan.facilitator_id)
    if facilitator is None:
        return
    t = ctx.translator_for(facilitator)
    content = load_scan_content(t.language)
    everyone = participants(ctx.session, scan.id)
    complete = sum(
        1 for p in everyone if len(marked(ctx.session, scan.id, p)) >= len(questions(content))
    )
    outbox.enqueue(
        ctx.session,
        person_id=facilitator.id,
        kind="scan_ahead",
        reply=Reply(
            title=t("Marking ahead has ended"),
            text=t(
                "{done} of {n} participants gave all their marks. Type /scan next in the "
                "channel to start the meeting from the results; /scan results shows them.",
                done=complete,
                n=len(everyone),
            ),
        ),
        once=f"{scan.id}:end",
    )
