"""Registering a leaver: validate every field, then create or update the case.

The same school and student reference update the existing case instead of making a second
one. An early leaver, or a leaver whose handover window is already open, is due at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core import clock, privacy, refs, tasks
from bot.core.cases import audit, lifecycle
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.intake.fields import LEAVER_FIELDS, FieldError, ParseEnv
from bot.core.messaging import notify, outbox
from bot.core.vocab import CaseState, Consent, Programme
from bot.store import queries
from bot.store.models import AuditEvent, Case, Municipality, Person, School
from bot.store.rows import column_defaults, insert_once

PERSONAL = ("name", "contact", "notes")


@dataclass
class Checked:
    """The outcome of checking one leaver: the values, or an error per field."""

    values: dict[str, Any]
    errors: dict[str, FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_leaver(raw: dict[str, str], env: ParseEnv) -> Checked:
    """Parse every field of `raw` (empty means not given), then the rules across fields."""
    t = env.t
    values: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    env.answers.clear()
    for spec in LEAVER_FIELDS:
        text = (raw.get(spec.name) or "").strip()
        if not text:
            if spec.required:
                errors[spec.name] = FieldError(t("{field} is required.", field=t(spec.label)))
            continue
        try:
            values[spec.name] = spec.parse(text, env)
            env.answers[spec.name] = values[spec.name]
        except FieldError as exc:
            errors[spec.name] = exc
    programme = values.get("programme")
    if programme == Programme.vso and "vso_profile" not in values and "vso_profile" not in errors:
        errors["vso_profile"] = FieldError(t("A VSO leaver needs a profile."))
    if programme not in (None, Programme.vso) and "vso_profile" in values:
        errors["vso_profile"] = FieldError(t("A profile is only for VSO leavers."))
    if values.get("consent", Consent.not_asked) != Consent.given:
        for name in PERSONAL:
            if name in values:
                errors[name] = FieldError(
                    t("Without consent, name, contact details and notes are not stored.")
                )
    return Checked(values, errors)


def leaver_data(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """The columns of a case as a checked leaver describes them (personal ones only with
    consent)."""
    consent = values.get("consent", Consent.not_asked)
    data: dict[str, Any] = {
        "birth_year": values.get("birth_year"),
        "home_municipality_code": values["home_municipality"],
        "programme": values["programme"],
        "vso_profile": values.get("vso_profile"),
        "expected_exit": values["expected_exit"],
        "early_leaver": bool(values.get("early_leaver", False)),
        "destination_wish": values.get("destination_wish", "unknown"),
        "consent": consent,
        "consent_date": clock.today(ctx.region.tz) if consent == Consent.given else None,
    }
    for name in PERSONAL:
        data[name] = values.get(name) if consent == Consent.given else None
    return data


def known_case(ctx: Ctx, *, school_id: str, student_ref: str) -> Case | None:
    """The case this school registered earlier under the same student reference, if any."""
    return ctx.session.exec(
        select(Case).where(Case.school_id == school_id, Case.student_ref == student_ref)
    ).first()


def changes(existing: Case, data: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """What registering `data` again would change of `existing`: column → (now, then).

    Personal details left out while consent stays given are kept, not erased; the consent
    date stays while consent stays given.
    """
    data = dict(data)
    if existing.consent == Consent.given and data["consent"] == Consent.given:
        data["consent_date"] = existing.consent_date
        for name in PERSONAL:  # keep what was known when the update leaves it out
            data[name] = data[name] or getattr(existing, name)
    return {
        key: (getattr(existing, key), value)
        for key, value in data.items()
        if getattr(existing, key) != value
    }


def save_leaver(ctx: Ctx, *, school_id: str, values: dict[str, Any]) -> tuple[Case, bool]:
    """Create the case, or update the one with the same school and student reference."""
    session = ctx.session
    school = queries.school_by_id(session, school_id=school_id)
    if school is None:
        raise Refused(ctx.t("There is no school {school} in the directory.", school=school_id))
    now = clock.now()
    data = leaver_data(ctx, values)
    existing = known_case(ctx, school_id=school_id, student_ref=values["student_ref"])
    if existing is not None:
        update_leaver(ctx, existing, changes(existing, data))
        return existing, False

    for _ in range(5):
        row = Case(
            ref=refs.new_ref(lambda r: queries.ref_exists(session, ref=r)),
            school_id=school_id,
            registered_by=ctx.actor.id,
            student_ref=values["student_ref"],
            responsible_municipality_code=values["home_municipality"],
            urgent=data["early_leaver"],
            state=CaseState.forecast,
            created_at=now,
            updated_at=now,
            **data,
        )
        new_id = insert_once(session, row)
        if new_id is not None:
            case = session.get_one(Case, new_id)
            break
        existing = known_case(ctx, school_id=school_id, student_ref=values["student_ref"])
        if existing is not None:  # another instance registered this leaver a moment ago
            update_leaver(ctx, existing, changes(existing, data))
            return existing, False
        # else another instance took the same reference at this moment: draw again
    else:  # pragma: no cover - five collisions in a row on fresh random references
        raise RuntimeError("could not allocate a case reference")
    audit.record(
        session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action="register",
        case_ref=case.ref,
        programme=case.programme,
        home_municipality_code=case.home_municipality_code,
        early_leaver=case.early_leaver,
    )
    lifecycle.due_if_window_open(ctx, case)
    return case, True


def update_leaver(ctx: Ctx, case: Case, changed: dict[str, tuple[Any, Any]]) -> None:
    """Apply what a school corrected about a leaver, as one audited change.

    Consent withdrawn: the name, contact details and notes are erased everywhere they are
    shown (sent case cards are edited, stored copies of messages blanked). A new home
    municipality of a case nobody has taken yet re-routes it: the brokers who had its card
    are told, the new ones get it. Cards already sent show the case as it is now.
    """
    if not changed:
        lifecycle.due_if_window_open(ctx, case)
        return
    before_home = case.home_municipality_code
    values = {key: new for key, (_old, new) in changed.items()}
    reroute = (
        "home_municipality_code" in changed
        and case.state in (CaseState.forecast, CaseState.due)
        and case.owner_id is None
        and case.assigned_person_id is None
        and case.responsible_municipality_code == before_home
    )
    if reroute:
        values["responsible_municipality_code"] = values["home_municipality_code"]
    if values.get("early_leaver"):
        values["urgent"] = True
    consent_withdrawn = "consent" in changed and changed["consent"][0] == Consent.given
    old_pickers = notify.pickers(ctx, case) if reroute and case.state == CaseState.due else []
    lifecycle.update_case(
        ctx,
        case,
        "update",
        values,
        fields=sorted(changed),
        **({"home_municipality_code": case.home_municipality_code} if reroute else {}),
    )
    if consent_withdrawn:
        privacy.blank_sent_messages(ctx.session, case_ref=case.ref)
    if reroute and case.state == CaseState.due:
        where = queries.municipality_name(ctx.session, code=case.responsible_municipality_code)
        notify.refresh_cards(
            ctx,
            case,
            N_(
                "The school changed the home municipality of case {ref}: it is "
                "now with the brokers of {municipality}."
            ),
            municipality=where,
        )
        for broker in old_pickers:
            notify.tell(
                ctx,
                broker,
                case,
                "rerouted",
                N_(
                    "Case {ref} ({student}) is no longer yours to pick up: the school changed "
                    "the home municipality to {municipality}."
                ),
                municipality=where,
            )
        notify.notify_due(ctx, case)
        lifecycle.schedule_unclaimed_checks(ctx, case)
    else:
        notify.refresh_cards(ctx, case, N_("The school updated case {ref}."))
    lifecycle.due_if_window_open(ctx, case)


# --- many leavers at once (the CSV import) ------------------------------------------------

CHUNK = 500  # values in one IN (…): well under what SQLite and PostgreSQL accept


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def save_leavers(ctx: Ctx, *, school_id: str, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """`save_leaver` for every checked row, in a few statements instead of several per row:
    (added, updated).

    New leavers are written at once (their references drawn together), with their audit
    events, their window tasks, and, for those due at once, their pings and reminders. A
    leaver the school registered before is updated one by one when something changed (that
    may reroute the case and tell people); unchanged ones only get their window task if it
    is missing. Should another instance register one of these leavers (or draw one of the
    references) at the same moment, the rows are saved one by one instead, as `save_leaver`
    would, so nothing is registered twice.
    """
    session = ctx.session
    known: dict[str, Case] = {}
    for part in _chunks([values["student_ref"] for values in rows]):
        for case in session.exec(
            select(Case).where(Case.school_id == school_id, col(Case.student_ref).in_(part))
        ):
            known[case.student_ref] = case
    new = [values for values in rows if values["student_ref"] not in known]
    later: list[dict[str, Any]] = []  # window tasks of unchanged forecasts
    for values in rows:
        existing = known.get(values["student_ref"])
        if existing is None:
            continue
        changed = changes(existing, leaver_data(ctx, values))
        if changed or not _waits_for_window(ctx, existing):
            update_leaver(ctx, existing, changed)
        elif existing.state == CaseState.forecast:
            later.append(lifecycle.window_task(ctx, existing.ref, _opens(ctx, existing)))
    tasks_rows, added = list(later), len(new)
    try:
        with session.begin_nested():
            tasks_rows += _add_new(ctx, school_id, new)
    except IntegrityError:  # someone else registered one of them just now: one by one
        added = sum(save_leaver(ctx, school_id=school_id, values=v)[1] for v in new)
    tasks.schedule_all(session, tasks_rows)
    return added, len(rows) - added


def _opens(ctx: Ctx, case: Case) -> date:
    return lifecycle.window_opens(case.expected_exit, ctx.region.schedule.handover_window_weeks)


def _waits_for_window(ctx: Ctx, case: Case) -> bool:
    """A forecast whose window is still ahead, or a case past being a forecast: nothing to
    do now besides (for the forecast) its window task."""
    if case.state != CaseState.forecast:
        return True
    return not case.early_leaver and _opens(ctx, case) > clock.today(ctx.region.tz)


def _add_new(ctx: Ctx, school_id: str, new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the new leavers, their audit events, and the pings and reminders of those due at
    once; returns the window tasks of the others (recorded with the rest)."""
    if not new:
        return []
    session = ctx.session
    now = clock.now()
    today = clock.today(ctx.region.tz)
    weeks = ctx.region.schedule.handover_window_weeks
    refs_ = refs.new_refs(len(new), lambda drawn: _taken(ctx, drawn))
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    window: list[dict[str, Any]] = []
    due_refs: list[str] = []
    actor, transport = ctx.actor.id, ctx.transport
    for ref, values in zip(refs_, new, strict=True):
        data = leaver_data(ctx, values)
        opens = lifecycle.window_opens(data["expected_exit"], weeks)
        due = data["early_leaver"] or opens <= today
        cases.append(
            {
                **data,
                "ref": ref,
                "school_id": school_id,
                "registered_by": actor,
                "student_ref": values["student_ref"],
                "responsible_municipality_code": values["home_municipality"],
                "assigned_person_id": None,
                "urgent": data["early_leaver"],
                # as `lifecycle.make_due` leaves a new case: due, one version on
                "state": CaseState.due if due else CaseState.forecast,
                "due_at": now if due else None,
                "version": 2 if due else 1,
                "created_at": now,
                "updated_at": now,
            }
        )
        events.append(
            audit.row(
                actor_id=actor,
                transport=transport,
                action="register",
                case_ref=ref,
                programme=data["programme"],
                home_municipality_code=data["home_municipality_code"],
                early_leaver=data["early_leaver"],
            )
        )
        if due:
            due_refs.append(ref)
            detail = {"from": CaseState.forecast.value, "to": CaseState.due.value}
            events.append(
                audit.row(
                    actor_id=actor,
                    transport=transport,
                    action="make_due",
                    case_ref=ref,
                    **detail,
                    urgent=data["early_leaver"],
                )
            )
        else:
            window.append(lifecycle.window_task(ctx, ref, opens))
    session.execute(insert(Case.__table__), [_case_row(row) for row in cases])  # type: ignore[attr-defined]
    session.execute(insert(AuditEvent.__table__), events)  # type: ignore[attr-defined]
    messages: list[outbox.Message] = []
    nudges: list[dict[str, Any]] = []
    brokers: dict[str, list[Person]] = {}  # the brokers of a municipality, read once

    def brokers_of(code: str) -> list[Person]:
        if code not in brokers:
            brokers[code] = list(queries.brokers_of(session, municipality_code=code))
        return brokers[code]

    # the directory, held while the cards are made so that they find it without a query
    directory = [
        *session.exec(select(Municipality)),
        *session.exec(select(School)),
        *session.exec(select(Person)),
    ]
    with session.no_autoflush:  # the cards' audit events are written together, at the end
        for part in _chunks(due_refs):
            for case in session.exec(select(Case).where(col(Case.ref).in_(part))):
                messages += notify.due_messages(ctx, case, brokers_of=brokers_of)
                nudges += lifecycle.unclaimed_check_tasks(ctx, case.ref, case.version)
    outbox.enqueue_all(session, messages)
    del directory
    return window + nudges


def _case_row(values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a case row (their defaults where not given), as one insert needs them."""
    return {**column_defaults(Case), **values}


def _taken(ctx: Ctx, drawn: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for part in _chunks(drawn):
        taken.update(ctx.session.exec(select(Case.ref).where(col(Case.ref).in_(part))))
    return taken
