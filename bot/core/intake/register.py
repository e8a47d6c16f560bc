"""Registering a leaver: validate every field, then create or update the case.

The same school and student reference update the existing case instead of making a second
one. An early leaver, or a leaver whose handover window is already open, is due at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from bot.core import audit, clock, privacy, refs
from bot.core.cases import lifecycle, notify
from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.intake.fields import LEAVER_FIELDS
from bot.core.vocab import CaseState, Consent, Programme
from bot.store import queries
from bot.store.models import Case
from bot.store.rows import insert_once

PERSONAL = ("name", "contact", "notes")


@dataclass
class Checked:
    """The outcome of checking one leaver: the values, or an error per field."""

    values: dict[str, Any]
    errors: dict[str, FieldError]

    @property
    def ok(self) -> bool:
        return not self.errors


# Fields whose answer is the text's alone (the home municipality also notes a place it read
# as its municipality) and that repeat down a school's file: programme, month, yes or no …
# The unique ones (the student reference, the personal ones) are not worth remembering.
_REPEATING = frozenset(
    spec.name
    for spec in LEAVER_FIELDS
    if not spec.personal and spec.name not in ("student_ref", "home_municipality")
)


def check_leaver(
    raw: dict[str, str], env: ParseEnv, *, memo: dict[tuple[Any, ...], Any] | None = None
) -> Checked:
    """Parse every field of `raw` (empty means not given), then the rules across fields.

    `memo` (for checking many leavers with the same `env`: a file's rows) remembers each
    field's answer or error per text, so a value repeated down a column is parsed once.
    """
    t = env.t
    values: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}
    env.answers.clear()
    for spec in LEAVER_FIELDS:
        text = (raw.get(spec.name) or "").strip()
        if not text:
            if spec.required:
                if memo is None:
                    errors[spec.name] = FieldError(t("{field} is required.", field=t(spec.label)))
                    continue
                if (spec.name, None) not in memo:
                    memo[spec.name, None] = t("{field} is required.", field=t(spec.label))
                errors[spec.name] = FieldError(memo[spec.name, None])
            continue
        key: tuple[Any, ...] | None = None
        if memo is not None and spec.name in _REPEATING:
            # the month of an early leaver may lie further back
            key = (spec.name, text, bool(env.answers.get("early_leaver")))
            if key in memo:
                found = memo[key]
                if isinstance(found, FieldError):
                    errors[spec.name] = found
                else:
                    values[spec.name] = env.answers[spec.name] = found
                continue
        try:
            values[spec.name] = spec.parse(text, env)
            env.answers[spec.name] = values[spec.name]
        except FieldError as exc:
            errors[spec.name] = exc
        if key is not None and memo is not None:
            memo[key] = errors[spec.name] if spec.name in errors else values[spec.name]
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


def reroutes(case: Case) -> bool:
    """Whether a new home municipality moves `case` along: nobody has taken it yet and it is
    still with the brokers of the home municipality (not transferred elsewhere)."""
    return (
        case.state in (CaseState.forecast, CaseState.due)
        and case.owner_id is None
        and case.assigned_person_id is None
        and case.responsible_municipality_code == case.home_municipality_code
    )


def update_leaver(
    ctx: Ctx, case: Case, changed: dict[str, tuple[Any, Any]], *, action: str = "update"
) -> None:
    """Apply what a school corrected about a leaver, as one audited change (`action` in the
    audit trail: "update" when a school registered the leaver again, "correct" for /edit).

    Consent withdrawn: the name, contact details and notes are erased everywhere they are
    shown (sent case cards are edited, stored copies of messages blanked). A new home
    municipality of a case nobody has taken yet re-routes it: the brokers who had its card
    are told, the new ones get it. Cards already sent show the case as it is now.
    """
    if not changed:
        lifecycle.due_if_window_open(ctx, case)
        return
    values = {key: new for key, (_old, new) in changed.items()}
    reroute = "home_municipality_code" in changed and reroutes(case)
    if reroute:
        values["responsible_municipality_code"] = values["home_municipality_code"]
    if values.get("early_leaver"):
        values["urgent"] = True
    consent_withdrawn = "consent" in changed and changed["consent"][0] == Consent.given
    old_pickers = notify.pickers(ctx, case) if reroute and case.state == CaseState.due else []
    lifecycle.update_case(
        ctx,
        case,
        action,
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
                "The home municipality of case {ref} was corrected: it is now with the "
                "brokers of {municipality}."
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
                    "Case {ref} ({student}) is no longer yours to pick up: its home "
                    "municipality was corrected to {municipality}."
                ),
                municipality=where,
            )
        notify.notify_due(ctx, case)
        lifecycle.schedule_unclaimed_checks(ctx, case)
    else:
        notify.refresh_cards(ctx, case, N_("Case {ref} was corrected."))
    lifecycle.due_if_window_open(ctx, case)


# --- many leavers at once (the CSV import) ------------------------------------------------
