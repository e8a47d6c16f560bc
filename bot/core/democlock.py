"""The terminal demo's clock: `/clock +3d` or `/clock 2027-03-01` moves the bot's time forward,
so that a newcomer sees the year happen — forecasting rounds, reminders, escalations,
follow-ups and the weekly digest — while they watch.

Moving is a walk, not a jump: the clock stops at every moment something was planned for (a
task's due time, the daily round check at 09:00, the nightly retention job, the weekly
digest) and runs there what the scheduler would have run, in order, so that what one step
sets in motion (a forecast becoming due schedules its reminder) happens later in the same
walk. The clock never goes back, and it is not moved on a database a chat platform has sent
messages from (a real network's: running its work early would reach real people). How far
it is ahead of real time is kept in the database (`bot_setting`), so a restarted demo goes
on at the moved time. Only the terminal uses this: no command of the core's table leads here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import col, func, select

from bot.core import clock, sweeps
from bot.core.app import Core
from bot.core.calendar import at_local
from bot.core.i18n import N_, Translator
from bot.store.db import session_scope
from bot.store.models import BotSetting, OutboxMessage, Task

SETTING = "demo_clock_ahead"  # seconds the demo clock runs ahead of real time
MAX_AHEAD = timedelta(days=3 * 366)  # the walk stays short enough to watch
ROUNDS_AT = time(9, 0)  # as bot.scheduler.clockwork
RETENTION_AT = time(3, 15)
# a date moves to midday there, so that the morning's round, digest and reminders happened
DATE_AT = time(12, 0)

USAGE = N_(
    "Move the demo's clock forward: /clock +3d (days; also h, w), or /clock 2027-03-01 "
    "(a date: midday there). It never goes back."
)


class ClockRefused(ValueError):
    """Why the clock was not moved (a msgid and its parameters)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass
class Walk:
    """What happened while the clock moved."""

    tasks: int = 0
    asked: int = 0  # school contacts asked in a forecasting round
    digests: int = 0
    erased: int = 0


def restore(engine: Engine) -> timedelta:
    """The demo clock as it was left (kept in the database); zero when it was never moved."""
    with session_scope(engine) as session:
        row = session.get(BotSetting, SETTING)
        ahead = timedelta(seconds=int(row.value)) if row and row.value.isdigit() else timedelta(0)
    clock.set_ahead(max(ahead, clock.ahead()))
    return clock.ahead()


def _keep(engine: Engine) -> None:
    with session_scope(engine) as session:
        row = session.get(BotSetting, SETTING) or BotSetting(key=SETTING, value="0")
        row.value = str(int(clock.ahead().total_seconds()))
        session.add(row)


def target_of(text: str, core: Core) -> datetime:
    """'+3d', '+12h', '+2w' or a date 'YYYY-MM-DD' (or 'DD-MM-YYYY') as a moment in UTC."""
    raw = text.strip().casefold().replace(" ", "")
    now = clock.now()
    if not raw:
        raise ClockRefused(USAGE)
    if m := re.fullmatch(r"\+?(\d{1,4})(d|h|w|dag|dagen|days?|u|uur|hours?|weken|weeks?)?", raw):
        amount, unit = int(m[1]), (m[2] or "d")[0]
        step = {"d": timedelta(days=1), "h": timedelta(hours=1), "u": timedelta(hours=1)}
        target = now + amount * step.get(unit, timedelta(weeks=1))
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})-(\d{1,2})-(\d{4})", raw):
        y, mo, d = (m[1], m[2], m[3]) if m[1] else (m[6], m[5], m[4])
        try:
            day = date(int(y), int(mo), int(d))
        except ValueError:
            raise ClockRefused(N_("{text} is not a date."), text=text.strip()) from None
        target = at_local(day, DATE_AT, core.region.tz)
    elif raw.startswith("-"):
        raise ClockRefused(N_("The clock never goes back, only forward."))
    else:
        raise ClockRefused(USAGE)
    if target <= now:
        raise ClockRefused(
            N_("The clock never goes back: it is {now} already."),
            now=now.astimezone(core.region.tz).strftime("%Y-%m-%d %H:%M"),
        )
    if target - now + clock.ahead() > MAX_AHEAD:
        raise ClockRefused(N_("That is too far ahead: at most three years from today."))
    return target


def check_demo_database(engine: Engine) -> None:
    """Refuse a database that Slack or Telegram has delivered messages from."""
    with session_scope(engine) as session:
        used = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.sent_via).is_not(None), OutboxMessage.sent_via != "terminal")
        ).one()
    if used:
        raise ClockRefused(
            N_(
                "This database has sent messages through Slack or Telegram: its clock is not "
                "moved, so that nobody gets a real reminder early."
            )
        )


def _fixed(core: Core, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """The scheduler's fixed triggers after `start` up to `end`: retention, rounds, digest."""
    tz = core.region.tz
    rules = core.region.schedule
    out: list[tuple[datetime, str]] = []
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        out.append((at_local(day, RETENTION_AT, tz), "retention"))
        out.append((at_local(day, ROUNDS_AT, tz), "rounds"))
        if day.weekday() == rules.digest_weekday:
            out.append((at_local(day, rules.digest_time, tz), "digest"))
        day += timedelta(days=1)
    return sorted((m, job) for m, job in out if start < m <= end)


def _next_task(engine: Engine, after: datetime, end: datetime) -> datetime | None:
    with session_scope(engine) as session:
        found: datetime | None = session.exec(
            select(func.min(Task.due_at)).where(
                col(Task.done_at).is_(None), col(Task.due_at) > after, col(Task.due_at) <= end
            )
        ).one()
    return found


def _go_to(moment: datetime) -> None:
    clock.set_ahead(max(clock.ahead(), moment - (clock.now() - clock.ahead())))


def advance(core: Core, target: datetime) -> Walk:
    """Walk the clock to `target`, running on the way whatever falls due (see the module)."""
    walk = Walk()
    jobs = _fixed(core, clock.now(), target)
    while True:
        now = clock.now()
        fixed_at = jobs[0][0] if jobs else None
        task_at = _next_task(core.engine, now, fixed_at or target)
        moment = min(m for m in (task_at, fixed_at, target) if m is not None)
        _go_to(moment)
        walk.tasks += sweeps.run_sweep(core)
        while jobs and jobs[0][0] <= moment:
            _, job = jobs.pop(0)
            if job == "rounds":
                walk.asked += sweeps.run_rounds(core)
            elif job == "digest":
                walk.digests += sweeps.run_digest(core)
            else:
                walk.erased += sweeps.run_retention(core)
            walk.tasks += sweeps.run_sweep(core)  # what the job scheduled for now
        _keep(core.engine)
        if moment >= target:
            return walk


def report(t: Translator, core: Core, walk: Walk) -> str:
    """What the walk did, for the person watching."""
    when = clock.now().astimezone(core.region.tz)
    lines = [t("The clock now says {when}.", when=when.strftime("%Y-%m-%d %H:%M"))]
    lines.append(
        t.tn("Meanwhile {n} scheduled task ran.", "Meanwhile {n} scheduled tasks ran.", walk.tasks)
    )
    if walk.asked:
        lines.append(
            t.tn(
                "A forecasting round started: {n} request to a school contact.",
                "A forecasting round started: {n} requests to school contacts.",
                walk.asked,
            )
        )
    if walk.digests:
        lines.append(
            t.tn(
                "The weekly digest was sent {n} time.",
                "The weekly digest was sent {n} times.",
                walk.digests,
            )
        )
    if walk.erased:
        lines.append(
            t.tn(
                "Personal data of {n} case was erased (retention).",
                "Personal data of {n} cases was erased (retention).",
                walk.erased,
            )
        )
    lines.append(t("Messages wait for each person: /as someone to read theirs."))
    return "\n".join(lines)
