"""Everything the clock sets off, in one place: the sweep with the table of every kind of task
and what runs it (`TASKS`), and the fixed daily/weekly jobs.

Each job is safe to run twice or on two instances at once: what it records carries a dedupe
key or a unique row.
"""

from __future__ import annotations

import logging
import threading

from sqlmodel import Session

from bot.core import conversation, digest, privacy, tasks
from bot.core.app import Core
from bot.core.cases import handover
from bot.core.context import Ctx, system_person
from bot.core.followup import followups
from bot.core.forms import FORMS
from bot.core.intake import rounds
from bot.core.scan import agenda, marking_ahead, meeting
from bot.core.vocab import Role
from bot.store import queries
from bot.store.db import session_scope

log = logging.getLogger(__name__)

# Every kind of task (`Task.kind`, as the journeys schedule them) and what runs it.
TASKS: dict[str, tasks.Kind] = {
    # a forecast's window opens: the case falls due (a round's fall due together: `many`)
    "window_open": tasks.Kind(handover.window_open, many=handover.windows_open),
    "remind_unclaimed": tasks.Kind(handover.remind_unclaimed),
    "escalate_unclaimed": tasks.Kind(handover.escalate_unclaimed),
    "unclaimed_past_exit": tasks.Kind(handover.unclaimed_past_exit),
    "followup": tasks.Kind(followups.ask_followup),
    "followup_remind": tasks.Kind(followups.remind_followup),
    "followup_escalate": tasks.Kind(followups.escalate_followup),
    "scan_ahead_remind": tasks.Kind(marking_ahead.remind_halfway),
    "scan_ahead_end": tasks.Kind(marking_ahead.close_at_deadline),
    "scan_followup": tasks.Kind(agenda.ask_action_owners),
    "scan_meeting": tasks.Kind(meeting.agenda_beforehand),
}


def system_ctx(core: Core, session: Session) -> Ctx:
    return core.ctx(session, system_person(), transport="scheduler", private=True)


def run_sweep(core: Core, stop: threading.Event | None = None) -> int:
    """Run every task that is due, and look after idle conversations. Returns tasks run.
    When `stop` is set half-way, the tasks not run yet are released for another process."""
    ran = tasks.sweep(core.engine, lambda session: system_ctx(core, session), TASKS, stop=stop)
    if stop is not None and stop.is_set():
        return ran
    with session_scope(core.engine) as session:
        conversation.sweep_idle(system_ctx(core, session), FORMS)
    return ran


def run_rounds(core: Core) -> int:
    """Start a forecasting round when one is due, and remind. Returns school contacts asked."""
    with session_scope(core.engine) as session:
        ctx = system_ctx(core, session)
        asked = rounds.start_round(ctx)
        rounds.remind_and_report(ctx)
    if asked:
        log.info("forecasting round: %d school contacts asked", asked)
    return asked


def run_digest(core: Core) -> int:
    with session_scope(core.engine) as session:
        ctx = system_ctx(core, session)
        return digest.send_weekly(
            session,
            core.region,
            translator_for=ctx.translator_for,
            coordinators=list(queries.people_with_role(session, role=Role.coordinator)),
        )


def run_retention(core: Core) -> int:
    with session_scope(core.engine) as session:
        erased = privacy.run_retention(system_ctx(core, session))
    if erased:
        log.info("retention: personal data of %d cases erased", erased)
    return erased
