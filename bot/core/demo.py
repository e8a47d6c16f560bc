"""The demo region's fictional leavers, replayed through the core so everything is real."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, func, select

from bot.core import clock
from bot.core.cases import actions
from bot.core.context import Ctx
from bot.core.conversation.fields import ParseEnv
from bot.core.intake.register import check_leaver, save_leaver
from bot.core.vocab import Destination
from bot.region import Region
from bot.store import queries
from bot.store.models import Case

DEMO_LEAVERS = Path(__file__).resolve().parent.parent / "content" / "demo_leavers.yaml"


def _month(today: date, n: int) -> str:
    y, m = divmod(today.month - 1 + n, 12)
    return f"{today.year + y}-{m + 1:02d}"


def load_demo_leavers(session: Session, region: Region, *, default_language: str) -> int:
    """Load the demo leavers into an empty database; returns how many were added."""
    if session.exec(select(func.count()).select_from(Case)).one() > 0:
        return 0
    data: dict[str, Any] = yaml.safe_load(DEMO_LEAVERS.read_text(encoding="utf-8"))
    today = clock.today(region.tz)

    def ctx_for(person_id: str) -> Ctx:
        person = queries.person_by_id(session, person_id=person_id)
        assert person is not None, f"demo person {person_id} missing"
        return Ctx(session, region, person, "demo", default_language)

    added = 0
    for entry in data["leavers"]:
        ctx = ctx_for(entry["by"])
        raw = {k: str(v) for k, v in entry.items() if k not in ("school", "by", "steps")}
        raw["expected_exit"] = _month(today, int(raw.pop("exit_in_months")))
        raw["early_leaver"] = "yes" if entry.get("early_leaver") else "no"
        checked = check_leaver(raw, ParseEnv(t=ctx.t, today=today, session=session))
        assert checked.ok, f"demo leaver {entry['student_ref']}: {checked.errors}"
        case, _ = save_leaver(ctx, school_id=entry["school"], values=checked.values)
        for step in entry.get("steps", []):
            _replay(ctx_for, case, step, today)
        added += 1
    return added


def _replay(ctx_for: Any, case: Case, step: dict[str, Any], today: date) -> None:
    if "claim" in step:
        actions.claim(ctx_for(step["claim"]), case.ref)
    elif "place" in step:
        start = date.fromisoformat(_month(today, int(step["start_in_months"])) + "-01")
        actions.record_placement(
            ctx_for(step["place"]),
            case,
            destination=Destination(step["destination"]),
            organisation=step["organisation"],
            start=start,
        )
    elif "withdraw" in step:
        actions.withdraw(ctx_for(step["withdraw"]), case.ref, step.get("reason", ""))
