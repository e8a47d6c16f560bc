"""What the commands of the command line share: settings, the region's language, one-line
failures (`--debug` shows the traceback instead), the core, and acting as the system."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from bot.config import Settings
from bot.region import RegionFileError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.core.app import Core
    from bot.core.context import Ctx
    from bot.core.directory import Changes
    from bot.core.i18n import Translator

T = TypeVar("T")
P = ParamSpec("P")

RegionFileOption = Annotated[
    Path | None,
    typer.Option("--region-file", help="The region file to use instead of VANGNET_REGION_FILE."),
]


class Options:
    debug = False


def load_settings(region_file: Path | None = None) -> Settings:
    settings = Settings()
    if region_file is not None:
        settings = settings.model_copy(update={"vangnet_region_file": region_file})
    return settings


def cli_translator(settings: Settings | None = None) -> Translator:
    """The region's language (its file's, else VANGNET_LANGUAGE), also before the core runs."""
    from bot.core.i18n import translator
    from bot.runtime import default_language, load_configured_region

    settings = settings or load_settings()
    try:
        return translator(default_language(settings, load_configured_region(settings)))
    except (RegionFileError, OSError):
        return translator(settings.vangnet_language)


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=code)


def explained(exc: Exception, t: Translator) -> str:
    """One line about an exception, without anything the exception quotes from the data."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from bot.store.crypto import KeyProblem

    if isinstance(exc, DBAPIError):
        # the driver's own first line ("connection refused"); never the statement or values
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return t("The database cannot be used: {reason}", reason=reason)
    if isinstance(exc, ArgumentError):
        return t("DATABASE_URL is not a database address that Vangnet can use.")
    if isinstance(exc, KeyProblem):
        return t(
            "A stored value cannot be decrypted with VANGNET_SECRET_KEY. Was an old key "
            "dropped before `vangnet keys rotate` finished? Give it again after the new one."
        )
    if isinstance(exc, RegionFileError):
        return t("Region file refused: {problem}", problem=str(exc))
    if isinstance(exc, OSError):
        return t(
            "Cannot use the file {path}: {reason}",
            path=exc.filename if exc.filename is not None else "-",
            reason=exc.strerror or type(exc).__name__,
        )
    return t("Something went wrong ({error}); --debug shows the details.", error=type(exc).__name__)


def reported(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose failures are said in one line (or shown whole with --debug)."""

    @functools.wraps(command)
    def reported(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if Options.debug:
                raise
            raise fail(explained(exc, cli_translator()), code=1) from None

    return reported


def say(line: str) -> None:
    typer.echo(line, err=True)


def core_or_exit(settings: Settings | None = None) -> Core:
    from bot.runtime import build_core
    from bot.store.secret_key import KeyRefused

    settings = settings or load_settings()
    t = cli_translator(settings)
    try:
        return build_core(settings, t, say)
    except RegionFileError as exc:
        raise fail(explained(exc, t)) from None
    except KeyRefused as exc:
        raise fail(str(exc), code=1) from None


def engine_or_exit(settings: Settings, *, migrate: bool = True) -> Engine:
    """The database with its keys checked (see bot.runtime.open_database), or one line."""
    from bot.runtime import open_database
    from bot.store.secret_key import KeyRefused

    try:
        return open_database(settings, cli_translator(settings), say, migrate=migrate)
    except KeyRefused as exc:
        raise fail(str(exc), code=1) from None


def as_system(core: Core, work: Callable[[Ctx], T]) -> T:
    from bot.core.context import system_person
    from bot.store.db import session_scope

    with session_scope(core.engine) as session:
        return work(core.ctx(session, system_person(), transport="cli", private=True))


def region_notice(core: Core, t: Translator) -> str | None:
    """At `vangnet run`, when the region file and the directory in the database differ (the
    database is kept): one line saying what applying the file would do, by name ("the
    directory change of Karin de Boer would be lost"); None when they agree."""
    from babel.lists import format_list
    from sqlmodel import select

    from bot.core.directory import region_changes
    from bot.store.db import session_scope
    from bot.store.models import Municipality, Person, School

    region = core.region
    with session_scope(core.engine) as session:
        changes = region_changes(session, region)
        if not changes:
            return None
        names = {
            **{("municipality", m.code): m.name for m in region.municipalities},
            **{("school", s.id): s.name for s in region.schools},
            **{("person", p.id): p.name for p in region.people},
        }
        # the directory's own names, as people know them
        names |= {("municipality", m.code): m.name for m in session.exec(select(Municipality))}
        names |= {("school", s.id): s.name for s in session.exec(select(School))}
        names |= {("person", p.id): p.name for p in session.exec(select(Person))}
    effects = [
        t("{name} would be active again", name=names[(kind, ident)])
        if kind == "person" and "active" in fields
        else t("the directory change of {name} would be lost", name=names[(kind, ident)])
        for kind, ident, fields in changes.changed
    ]
    effects += [
        t("{name} would be deactivated", name=names[(kind, ident)])
        for kind, ident in changes.deactivated
    ]
    effects += [
        t("{name} would be added", name=names[(kind, ident)]) for kind, ident in changes.added
    ]
    shown = effects[:3]
    if len(effects) > 3:
        more = len(effects) - 3
        shown.append(
            t.tn("there would be {n} more change", "there would be {n} more changes", more)
        )
    return t(
        "The region file differs from the directory, which stays as it is: if you applied the "
        "file (vangnet region apply), {effects}.",
        effects=format_list(shown, locale=t.language),
    )


def change_lines(t: Translator, changes: Changes) -> list[str]:
    """What applying a region file changes (or would change), one line each, by id."""
    from bot.core.i18n import N_

    kinds = {
        "person": N_("person"),
        "school": N_("school"),
        "municipality": N_("municipality"),
    }
    lines = [
        t("added: {kind} {id}", kind=t(kinds[kind]), id=ident) for kind, ident in changes.added
    ]
    lines += [
        t(
            "changed: {kind} {id} ({fields})",
            kind=t(kinds[kind]),
            id=ident,
            fields=", ".join(fields),
        )
        for kind, ident, fields in changes.changed
    ]
    lines += [
        t("deactivated: {kind} {id}", kind=t(kinds[kind]), id=ident)
        for kind, ident in changes.deactivated
    ]
    return lines
