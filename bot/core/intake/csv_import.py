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

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import clock
from bot.core.cases import audit
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.intake.bulk import save_leavers
from bot.core.intake.columns import Header, assemble, is_known_column, read_header
from bot.core.intake.csv_read import RowProblem, Source, read_table
from bot.core.intake.fields import (
    FIELDS_BY_NAME,
    FieldError,
    ParseEnv,
    parse_birth_year,
    parse_choice,
    parse_municipality,
)
from bot.core.intake.register import Checked, check_leaver
from bot.core.messaging import notify
from bot.core.replies import Reply
from bot.core.vocab import Consent
from bot.store import queries
from bot.store.models import School


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    source: Source | None = None  # how the file was read
    mapping: list[tuple[str, str]] = field(default_factory=list)  # (columns, field name)
    ignored: list[str] = field(default_factory=list)  # columns the import does not know
    # names an export gave (first name, surname) of leavers without consent: not stored
    names_left_out: int = 0
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

    table = read_table(t, data, filename=filename, sheet=sheet, is_known=is_known_column)
    records, unreadable = table.records, table.problem
    if not records:  # empty, or the header itself could not be read
        problem = unreadable or RowProblem(1, "", t("The file is empty."))
        return ImportResult(problems=[problem], source=table.source)

    (header_line, header_cells), *body = records
    header, problems = read_header(t, header_line, header_cells)
    if problems:
        return _described(ImportResult(problems=problems), table.source, header)

    rows, problems, left_out = _check_rows(ctx, header, body)
    if unreadable is not None:
        problems.append(unreadable)
    if not rows and not problems:
        problems.append(
            RowProblem(header.line, "", t("The file has a header but no leavers below it."))
        )
    if problems:
        return _described(ImportResult(problems=problems), table.source, header)
    result = _described(_save(ctx, school, rows), table.source, header)
    result.names_left_out = left_out
    return result


def _described(result: ImportResult, source: Source | None, header: Header) -> ImportResult:
    result.source, result.mapping, result.ignored = source, header.mapping(), header.ignored
    return result


def _check_rows(
    ctx: Ctx, header: Header, records: list[tuple[int, list[str]]]
) -> tuple[list[dict[str, Any]], list[RowProblem], int]:
    """The checked values of every good row, the problems of the others, and how many names
    in parts (an export's) were left out for want of consent.

    A name typed in a column of its own without consent is refused, as in the chat: someone
    wrote it on purpose. An export has every student's name, consent or not; those without
    consent are imported without it, and the answer says how many."""
    t = ctx.t
    env = ParseEnv(t=t, today=clock.today(ctx.region.tz), session=ctx.session)
    municipalities = _Municipalities(env)
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    left_out = 0
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
        if header.name_in_parts and raw.get("name") and not _consented(raw, env):
            del raw["name"]
            left_out += 1
        checked = _check_leaver(raw, env, municipalities)
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
            problems.append(RowProblem(line, header.column_of(name), errors[name].message))
        if not errors and not stray:
            rows.append(values)
    return rows, problems, left_out


def _consented(raw: dict[str, str], env: ParseEnv) -> bool:
    try:
        return parse_choice("consent", raw.get("consent", ""), env) == Consent.given
    except FieldError:
        return False  # check_leaver tells what is wrong with it


def _check_leaver(raw: dict[str, str], env: ParseEnv, municipalities: _Municipalities) -> Checked:
    """`intake.check_leaver`, with the home municipality looked up once per spelling.

    The directory lookup reads every municipality and, for a typo, ranks the close names;
    done for each of thousands of rows it would be most of an import's checking time. So
    the column is left out of `check_leaver` (which then only says it is required) and
    parsed here with the same parser, its answer or error remembered for the next row.
    """
    raw = dict(raw)
    born = raw.pop("birth_date", "")
    text = raw.get("home_municipality", "")
    if not text.strip():
        checked = check_leaver(raw, env)
        values, errors = dict(checked.values), dict(checked.errors)
    else:
        checked = check_leaver({**raw, "home_municipality": ""}, env)
        values, errors = dict(checked.values), dict(checked.errors)
        del errors["home_municipality"]  # "is required": it was left out on purpose
        found = municipalities.parse(text)
        if isinstance(found, FieldError):
            errors["home_municipality"] = found
        else:
            values["home_municipality"] = found
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
    """`fields.parse_municipality`, remembered per spelling for the length of one import."""

    def __init__(self, env: ParseEnv) -> None:
        self.env = env
        self.known: dict[str, str | FieldError] = {}

    def parse(self, text: str) -> str | FieldError:
        key = text.strip()
        if key not in self.known:
            try:
                self.known[key] = parse_municipality(key, self.env)
            except FieldError as exc:
                self.known[key] = exc
        return self.known[key]


def _save(ctx: Ctx, school: School, rows: list[dict[str, Any]]) -> ImportResult:
    session = ctx.session
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


def result_reply(t: Translator, result: ImportResult, *, limit: int = 50) -> Reply:
    """What the importer is told: the counts, or every problem (up to `limit` of them); and
    how the file was read: its encoding or sheet, which column gave which field, and the
    columns that were ignored."""
    about = describe(t, result)
    if result.ok:
        return Reply(
            text=t.tn(
                "{n} leaver added, {updated} already known and updated.",
                "{n} leavers added, {updated} already known and updated.",
                result.added,
                updated=result.updated,
            ),
            lines=result.warnings + about,
        )
    if len(result.problems) == 1 and result.problems[0].line == 0:  # the file as a whole
        return Reply(title=t("Nothing was imported"), text=result.problems[0].message, error=True)
    lines = [_problem_line(t, p) for p in result.problems[:limit]]
    rest = len(result.problems) - len(lines)
    if rest > 0:
        lines.append(t.tn("… and {n} more problem.", "… and {n} more problems.", rest))
    return Reply(
        title=t("Nothing was imported"),
        text=t.tn(
            "The file has {n} problem. Correct it and import the whole file again.",
            "The file has {n} problems. Correct them and import the whole file again.",
            len(result.problems),
        ),
        lines=lines + about,
        error=True,
    )


def describe(t: Translator, result: ImportResult) -> list[str]:
    """How the file was read, as lines of the answer (nothing when it could not be read)."""
    lines: list[str] = []
    if result.source is not None:
        lines.append(result.source.describe(t))
    if result.mapping:
        used = ", ".join(
            t("{columns} → {field}", columns=columns, field=t(FIELDS_BY_NAME[name].label))
            for columns, name in result.mapping
        )
        lines.append(t("Columns used: {mapping}.", mapping=used))
    if result.names_left_out:
        lines.append(
            t.tn(
                "{n} name was not stored: that leaver has no consent.",
                "{n} names were not stored: those leavers have no consent.",
                result.names_left_out,
            )
        )
    if result.ignored:
        lines.append(
            t.tn(
                "Ignored {n} column I do not know: {columns}.",
                "Ignored {n} columns I do not know: {columns}.",
                len(result.ignored),
                columns=", ".join(result.ignored),
            )
        )
    return lines


def _problem_line(t: Translator, problem: RowProblem) -> str:
    if problem.line == 0:  # the file as a whole
        return problem.message
    if problem.column:
        return t(
            "line {line}, {column}: {message}",
            line=problem.line,
            column=problem.column,
            message=problem.message,
        )
    return t("line {line}: {message}", line=problem.line, message=problem.message)
