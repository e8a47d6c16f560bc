"""Everything the clock sets off, in one place: the sweep and the fixed daily/weekly jobs.

Importing this module registers every task handler.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from bot.core import followups, handover, tasks  # noqa: F401  (registers the task handlers)
from bot.core.app import Core
from bot.core.context import Ctx, system_person

log = logging.getLogger(__name__)


def system_ctx(core: Core, session: Session) -> Ctx:
    return core.ctx(session, system_person(), transport="scheduler", private=True)


def run_sweep(core: Core) -> int:
    """Run every task that is due. Returns how many ran."""
    return tasks.sweep(core.engine, lambda session: system_ctx(core, session))
