"""The schools and municipalities of the directory, from the chat: list, add and change.

`/admin schools`, `/admin schools add`, `/admin schools change SCHOOL`; likewise
`/admin municipalities`. Adding and changing are short guided forms (the conversation
engine); a school's code and a municipality's CBS code are given when added and stay.
Every change is audited by id, with the names of the fields that changed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.core import clock, conversation
from bot.core.admin.fields import (
    SCHOOL_TYPES,
    parse_municipality,
    parse_new_code,
    parse_new_school_id,
    parse_school,
    parse_school_type,
)
from bot.core.audit import record
from bot.core.context import Ctx
from bot.core.conversation.fields import FieldError, ParseEnv, parse_text
from bot.core.directory import match_municipality
from bot.core.errors import Refused
from bot.core.i18n import N_
from bot.core.replies import Reply
from bot.core.vocab import label
from bot.store import queries
from bot.store.models import Municipality, School

_SCHOOL_NAME = conversation.FormField(
    name="name",
    label=N_("Name"),
    question=N_("What is the school's name?"),
    parse=parse_text(200),
    required=True,
)
_SCHOOL_TYPE = conversation.FormField(
    name="type",
    label=N_("Kind of school"),
    question=N_("Which kind of school is it?"),
    parse=parse_school_type,
    required=True,
    choices=SCHOOL_TYPES,
)
_SCHOOL_MUNICIPALITY = conversation.FormField(
    name="municipality",
    label=N_("Municipality"),
    question=N_("In which municipality is the school?"),
    parse=parse_municipality,
    required=True,
)


def _audit(ctx: Ctx, action: str, ident: str, fields: list[str]) -> None:
    record(
        ctx.session,
        actor_id=ctx.actor.id,
        transport=ctx.transport,
        action=action,
        id=ident,
        fields=fields,
    )


def _school_values(school: School, values: dict[str, Any]) -> list[str]:
    want = {
        "name": values["name"],
        "type": values["type"],
        "municipality_code": values["municipality"],
    }
    changed = [k for k, v in want.items() if getattr(school, k) != v]
    for key, value in want.items():
        setattr(school, key, value)
    return changed


def _confirm_school_add(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    if ctx.session.get(School, values["id"]) is not None:
        raise Refused(ctx.t("There is a school with the code {id} already.", id=values["id"]))
    school = School(id=values["id"], name="", type="", municipality_code="")
    fields = _school_values(school, values)
    ctx.session.add(school)
    ctx.session.flush()
    _audit(ctx, "school_added", school.id, fields)
    return [
        Reply(
            text=ctx.t(
                "{name} is in the directory now (code {id}).", name=school.name, id=school.id
            )
        )
    ]


def _confirm_school_change(
    ctx: Ctx, values: dict[str, Any], context: dict[str, Any]
) -> list[Reply]:
    school = ctx.session.get(School, context["school"])
    if school is None:
        raise Refused(ctx.t("There is no school {id}.", id=context["school"]))
    fields = _school_values(school, values)
    if not fields:
        return [Reply(text=ctx.t("Nothing changed."))]
    ctx.session.add(school)
    _audit(ctx, "school_changed", school.id, fields)
    return [Reply(text=ctx.t("{name} is changed.", name=school.name))]


ADD_SCHOOL = conversation.Form(
    name="admin_school_add",
    title=N_("Add a school"),
    fields=(
        conversation.FormField(
            name="id",
            label=N_("Code"),
            question=N_("A short code for the school, used in CSV imports (for example brug)."),
            parse=parse_new_school_id,
            required=True,
        ),
        _SCHOOL_NAME,
        _SCHOOL_TYPE,
        _SCHOOL_MUNICIPALITY,
    ),
    on_confirm=_confirm_school_add,
)
CHANGE_SCHOOL = conversation.Form(
    name="admin_school_change",
    title=N_("Change a school"),
    fields=(_SCHOOL_NAME, _SCHOOL_TYPE, _SCHOOL_MUNICIPALITY),
    on_confirm=_confirm_school_change,
)


def schools(ctx: Ctx, args: str) -> list[Reply]:
    """`/admin schools [add | change SCHOOL]`."""
    what, _, rest = args.strip().partition(" ")
    what = what.casefold()
    if what in ("add", "nieuw", "toevoegen"):
        return conversation.start(ctx, ADD_SCHOOL)
    if what in ("change", "wijzig", "wijzigen"):
        school = _one_school(ctx, rest)
        answers = {
            "name": school.name,
            "type": school.type,
            "municipality": school.municipality_code,
        }
        return conversation.start(ctx, CHANGE_SCHOOL, {"school": school.id}, answers=answers)
    if what:
        raise Refused(ctx.t("Use: /admin schools [add | change SCHOOL]"))
    rows = ctx.session.exec(select(School).order_by(School.name)).all()
    return [
        Reply(
            title=ctx.t("Schools ({n})", n=len(rows)),
            lines=[
                f"{s.name} ({s.id}) · {label(ctx.t, s.type)} · "
                + queries.municipality_name(ctx.session, code=s.municipality_code)
                for s in rows
            ]
            or [ctx.t("Nobody.")],
        )
    ]


def _one_school(ctx: Ctx, text: str) -> School:
    if not text.strip():
        raise Refused(ctx.t("Which school? Use: /admin schools change SCHOOL"))
    env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=ctx.session)
    try:
        school_id = parse_school(text, env)
    except FieldError as problem:
        raise Refused(problem.message) from None
    school = ctx.session.get(School, school_id)
    assert school is not None
    return school


def _parse_unique_name(raw: str, env: ParseEnv) -> str:
    return parse_text(100)(raw, env)


def _confirm_municipality(ctx: Ctx, values: dict[str, Any], context: dict[str, Any]) -> list[Reply]:
    code = context.get("municipality") or values["code"]
    name = values["name"]
    clash = ctx.session.exec(select(Municipality).where(Municipality.name == name)).first()
    if clash is not None and clash.code != code:
        raise Refused(ctx.t("There is a municipality called {name} already.", name=name))
    row = ctx.session.get(Municipality, code)
    if row is None:
        if "municipality" in context:
            raise Refused(ctx.t("There is no municipality {code}.", code=code))
        ctx.session.add(Municipality(code=code, name=name))
        ctx.session.flush()
        _audit(ctx, "municipality_added", code, ["name"])
        return [Reply(text=ctx.t("{name} ({code}) is in the directory now.", name=name, code=code))]
    if row.name == name:
        return [Reply(text=ctx.t("Nothing changed."))]
    row.name = name
    ctx.session.add(row)
    _audit(ctx, "municipality_changed", code, ["name"])
    return [Reply(text=ctx.t("{name} is changed.", name=name))]


_MUNICIPALITY_NAME = conversation.FormField(
    name="name",
    label=N_("Name"),
    question=N_("What is the municipality's name?"),
    parse=_parse_unique_name,
    required=True,
)
ADD_MUNICIPALITY = conversation.Form(
    name="admin_municipality_add",
    title=N_("Add a municipality"),
    fields=(
        conversation.FormField(
            name="code",
            label=N_("CBS code"),
            question=N_("The municipality's CBS code (GM and four digits, for example GM0193)."),
            parse=parse_new_code,
            required=True,
        ),
        _MUNICIPALITY_NAME,
    ),
    on_confirm=_confirm_municipality,
)
CHANGE_MUNICIPALITY = conversation.Form(
    name="admin_municipality_change",
    title=N_("Change a municipality"),
    fields=(_MUNICIPALITY_NAME,),
    on_confirm=_confirm_municipality,
)


def municipalities(ctx: Ctx, args: str) -> list[Reply]:
    """`/admin municipalities [add | change MUNICIPALITY]`."""
    what, _, rest = args.strip().partition(" ")
    what = what.casefold()
    if what in ("add", "nieuw", "toevoegen"):
        return conversation.start(ctx, ADD_MUNICIPALITY)
    if what in ("change", "wijzig", "wijzigen"):
        found, close = match_municipality(ctx.session, rest) if rest.strip() else (None, [])
        if found is None:
            hint = (" " + ", ".join(close)) if close else ""
            raise Refused(
                ctx.t("Which municipality? Use: /admin municipalities change MUNICIPALITY") + hint
            )
        return conversation.start(
            ctx, CHANGE_MUNICIPALITY, {"municipality": found.code}, answers={"name": found.name}
        )
    if what:
        raise Refused(ctx.t("Use: /admin municipalities [add | change MUNICIPALITY]"))
    rows = queries.municipalities(ctx.session)
    return [
        Reply(
            title=ctx.t("Municipalities ({n})", n=len(rows)),
            lines=[f"{m.name} ({m.code})" for m in rows],
        )
    ]
