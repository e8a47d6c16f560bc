"""Bulk intake from a CSV file of leavers (product.md section 10, "The CSV of leavers").

The same rules as the guided intake: every row is checked with `intake.check_leaver`, and a
leaver the school registered before (same school and student reference) is updated instead of
added twice. The file is taken whole or not at all: when any row is bad nothing is written,
and the answer lists every problem with its physical line number (the header is line 1), the
column as the file names it, and the reason in the reader's language.

What the file may look like: see `csv_read` for the bytes, encodings, separators and Excel
workbooks. Columns: English or Dutch names, in any order, case and surrounding spaces ignored,
and the names of the exports of Dutch student administration systems (Magister, Somtoday,
ParnasSys, ESIS, EduArte: "Leerlingnummer", "Stamnummer", "Roepnaam", "Tussenvoegsel",
"Achternaam", "Geboortedatum", "Woonplaats" …; see README, "Files schools have"). A name in
parts (first name, infix, surname) becomes the name; a date of birth gives the year of birth.
Columns the import does not know are ignored and named in the answer, with the mapping used.

Who may import for which school is the caller's business (the chat upload checks the school
contact's school; the command line runs as the system). The core never imports a transport.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import audit, clock
from bot.core.cases import notify
from bot.core.context import Ctx
from bot.core.conversation.fields import (
    FieldError,
    ParseEnv,
    parse_birth_year,
    parse_choice,
    programme_and_profile,
)
from bot.core.errors import Refused
from bot.core.intake.bulk import save_leavers
from bot.core.intake.columns import (
    Header,
    assemble,
    find_header,
    is_known_column,
    read_header,
)
from bot.core.intake.csv_read import RowProblem, Source, read_table
from bot.core.intake.home import Home, resolve_home
from bot.core.intake.register import Checked, check_leaver
from bot.core.vocab import Consent
from bot.store import queries
from bot.store.db import large_write
from bot.store.models import School


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    source: Source | None = None  # how the file was read
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (columns, field name)
    ignored: list[str] = field(default_factory=list)  # columns the import does not know
    set_aside: list[str] = field(default_factory=list)  # programme columns plainer ones beat
    # names an export gave (first name, surname) of leavers without consent: not stored
    names_left_out: int = 0
    header_line: int = 0  # where the header was found, when title rows stood above it
    # the school's programme, when the file gave none for some leavers (or had no column)
    school_programme: str = ""
    # places (woonplaatsen) read as their municipality: (place, municipality) -> rows
    places: dict[tuple[str, str], int] = field(default_factory=dict)
    # where no broker of the region gets the cases (no broker yet, outside the region)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def import_csv(
    ctx: Ctx,
    *,
    school_id: str,
    data: bytes,
    filename: str = "",
    sheet: str | None = None,
) -> ImportResult:
    """Check the whole file, then save every leaver; or save nothing and list the problems.

    `filename` is the name the file had on the user's computer (it helps to tell its kind);
    `sheet` names the sheet of a workbook (the first when None). Raises Refused for an
    unknown school, before the file is read. A file with problems leaves the caller's unit
    of work exactly as it was.
    """
    t = ctx.t
    school = queries.school_by_id(ctx.session, school_id=school_id)
    if school is None:
        raise Refused(t("There is no school {school} in the directory.", school=school_id))
    with _few_collections():
        return _import(ctx, school, data, filename=filename, sheet=sheet)


@contextmanager
def _few_collections() -> Iterator[None]:
    """No cyclic garbage collection while a file is checked and saved. A big file makes
    hundreds of thousands of small objects (a dict per row, per task, per message …), all
    alive until the end; the collector would look at every one of them again and again,
    which took a quarter of a 50,000-row import. Whatever is garbage is collected after."""
    if not gc.isenabled():  # another import at the same moment: it turns it back on
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _import(
    ctx: Ctx, school: School, data: bytes, *, filename: str, sheet: str | None
) -> ImportResult:
    t = ctx.t
    table = read_table(t, data, filename=filename, sheet=sheet, is_known=is_known_column)
    records, unreadable = table.records, table.problem
    if not records:  # empty, or the header itself could not be read
        problem = unreadable or RowProblem(1, "", t("The file is empty."))
        return ImportResult(problems=[problem], source=table.source)

    at = find_header(records)
    (header_line, header_cells), body = records[at], records[at + 1 :]
    header, problems = read_header(t, header_line, header_cells, optional=frozenset({"programme"}))
    about = ImportResult(source=table.source, header_line=header_line if at else 0)
    if problems:
        return _described(about, header, problems=problems)

    rows, problems = _check_rows(ctx, header, body, school, about)
    if unreadable is not None:
        problems.append(unreadable)
    if not rows and not problems:
        problems.append(
            RowProblem(header.line, "", t("The file has a header but no leavers below it."))
        )
    if problems:
        return _described(about, header, problems=problems)
    saved = _save(ctx, school, rows)
    about.added, about.updated, about.warnings = saved.added, saved.updated, saved.warnings
    return _described(about, header)


def _described(
    result: ImportResult, header: Header, *, problems: list[RowProblem] | None = None
) -> ImportResult:
    result.mapping, result.ignored = header.mapping(), header.ignored
    result.set_aside = header.set_aside
    if problems is not None:
        result.problems = problems
        result.names_left_out = 0  # nothing was stored, nor left out
    return result


def _check_rows(
    ctx: Ctx,
    header: Header,
    records: list[tuple[int, list[str]]],
    school: School,
    about: ImportResult,
) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """The checked values of every good row and the problems of the others; `about` learns
    how many names in parts (an export's) were left out for want of consent, which places
    were read as their municipality, and whether the school's programme stood in.

    A name typed in a column of its own without consent is refused, as in the chat: someone
    wrote it on purpose. An export has every student's name, consent or not; those without
    consent are imported without it, and the answer says how many. A row without a
    programme takes the school's (every school has one type in the directory)."""
    t = ctx.t
    env = ParseEnv(t=t, today=clock.today(ctx.region.tz), session=ctx.session)
    municipalities = _Municipalities(env)
    memo: dict[tuple[Any, ...], Any] = {}  # each field's answer per text, parsed once
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}  # student reference -> the line it was first on
    for line, cells in records:
        if len(cells) != header.width and (
            len(cells) < header.width or any(c.strip() for c in cells[header.width :])
        ):
            problems.append(
                RowProblem(
                    line,
                    "",
                    t(
                        "This line has {found} values where the header has {expected} "
                        "columns. Is a separator or a quote missing or extra?",
                        found=len(cells),
                        expected=header.width,
                    ),
                )
            )
            continue
        stray = [
            i for i, c in enumerate(cells[: header.width]) if c.strip() and i in header.unnamed
        ]
        for index in stray:
            problems.append(
                RowProblem(
                    line,
                    "",
                    t("Column {n} has no name in the header, but a value here.", n=index + 1),
                )
            )
        raw = assemble(header, cells)
        if header.name_in_parts and raw.get("name") and not _consented(raw, env, memo):
            del raw["name"]
            about.names_left_out += 1
        if not raw.get("programme", "").strip():
            raw["programme"] = school.type
            about.school_programme = school.type
        checked = _check_leaver(_with_profile(raw, env, memo), env, municipalities, about, memo)
        values, errors = checked.values, checked.errors
        ref = values.get("student_ref")
        if ref is not None:
            if ref in seen:
                errors["student_ref"] = FieldError(
                    t("Student reference {ref} is also on line {line}.", ref=ref, line=seen[ref])
                )
            else:
                seen[ref] = line
        for name in sorted(errors, key=header.order):
            problems.append(RowProblem(line, header.column_of(t, name), errors[name].message))
        if not errors and not stray:
            rows.append(values)
    return rows, problems


def _with_profile(
    raw: dict[str, str], env: ParseEnv, memo: dict[tuple[Any, ...], Any]
) -> dict[str, str]:
    """The row with the VSO profile its programme names ("VSO arbeidsmarktgericht"), when
    no profile column gives one (`memo` remembers it per programme as written)."""
    if raw.get("vso_profile", "").strip():
        return raw
    text = raw.get("programme", "")
    key = ("programme and profile", text)
    if key not in memo:
        try:
            memo[key] = programme_and_profile(text, env)[1]
        except FieldError:
            memo[key] = None  # check_leaver tells what is wrong with it
    profile = memo[key]
    return {**raw, "vso_profile": profile} if profile else raw


def _consented(raw: dict[str, str], env: ParseEnv, memo: dict[tuple[Any, ...], Any]) -> bool:
    text = raw.get("consent", "")
    key = ("consented", text)
    if key not in memo:
        try:
            memo[key] = parse_choice("consent", text, env) == Consent.given
        except FieldError:
            memo[key] = False  # check_leaver tells what is wrong with it
    return bool(memo[key])


def _check_leaver(
    raw: dict[str, str],
    env: ParseEnv,
    municipalities: _Municipalities,
    about: ImportResult,
    memo: dict[tuple[Any, ...], Any],
) -> Checked:
    """`intake.check_leaver`, with the home municipality looked up once per spelling.

    The directory lookup reads every municipality and, for a typo, ranks the close names;
    done for each of thousands of rows it would be most of an import's checking time. So
    the column is left out of `check_leaver` (which then only says it is required) and
    resolved here as the parser does (`home.resolve_home`), its answer or error remembered
    for the next row; a place read as its municipality is counted for the answer. The
    other fields that repeat down a file are parsed once per text too (`memo`).
    """
    raw = dict(raw)
    born = raw.pop("birth_date", "")
    text = raw.get("home_municipality", "")
    if not text.strip():
        checked = check_leaver(raw, env, memo=memo)
        values, errors = dict(checked.values), dict(checked.errors)
    else:
        checked = check_leaver({**raw, "home_municipality": ""}, env, memo=memo)
        values, errors = dict(checked.values), dict(checked.errors)
        del errors["home_municipality"]  # "is required": it was left out on purpose
        found = municipalities.parse(text)
        if isinstance(found, FieldError):
            errors["home_municipality"] = found
        else:
            values["home_municipality"] = found.code
            if found.place:
                read_as = (found.place, found.municipality)
                about.places[read_as] = about.places.get(read_as, 0) + 1
    if born.strip():
        try:
            values["birth_year"] = parse_birth_date(born, env)
        except FieldError as exc:
            errors["birth_year"] = exc
    return Checked(values, errors)


def parse_birth_date(raw: str, env: ParseEnv) -> int:
    """The year of a date of birth as exports write it: 15-3-2009, 15-03-2009, 2009-03-15
    (also with / or .), checked as a year of birth."""
    text = raw.strip()
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        raise FieldError(
            env.t(
                'I don\'t understand "{text}" as a date of birth. Write it as 15-3-2009 or '
                "2009-03-15.",
                text=text,
            )
        )
    try:
        date(year, month, day)
    except ValueError:
        raise FieldError(env.t("{text} is not a date.", text=text)) from None
    return parse_birth_year(str(year), env)


class _Municipalities:
    """`home.resolve_home`, remembered per spelling for the length of one import.

    Close names are suggested for the first SUGGESTED unknown spellings only: a file whose
    column holds something else (street names, a shifted column) has a new one on every row,
    and ranking the country's places for each would take minutes."""

    SUGGESTED = 100

    def __init__(self, env: ParseEnv) -> None:
        self.env = env
        self.known: dict[str, Home | FieldError] = {}
        self.unknown = 0

    def parse(self, text: str) -> Home | FieldError:
        key = text.strip()
        if key not in self.known:
            try:
                suggest = self.unknown < self.SUGGESTED
                self.known[key] = resolve_home(key, self.env, suggest=suggest)
            except FieldError as exc:
                self.known[key] = exc
                self.unknown += 1
        return self.known[key]


def _save(ctx: Ctx, school: School, rows: list[dict[str, Any]]) -> ImportResult:
    session = ctx.session
    large_write(session)
    with session.begin_nested():  # all rows or, should anything fail, none
        added, updated = save_leavers(ctx, school_id=school.id, rows=rows)
        audit.record(
            session,
            actor_id=ctx.actor.id,
            transport=ctx.transport,
            action="csv_import",
            school_id=school.id,
            rows=len(rows),
            added=added,
            updated=updated,
        )
    codes = sorted({row["home_municipality"] for row in rows})
    warnings = [w for w in (notify.routing_warning(ctx, code) for code in codes) if w]
    return ImportResult(added=added, updated=updated, warnings=warnings)
