"""Bulk intake from a CSV file of leavers (product.md section 10, "The CSV of leavers").

The same rules as the guided intake: every row is checked with `intake.check_leaver`, and a
leaver the school registered before (same school and student reference) is updated instead of
added twice. The file is taken whole or not at all: when any row is bad nothing is written,
and the answer lists every problem with its physical line number (the header is line 1), the
column as the file names it, and the reason in the reader's language.

What the file may look like: see `csv_read` for the bytes, lines and separators; English or
Dutch column names, in any order, case and surrounding spaces ignored.

Who may import for which school is the caller's business (the chat upload checks the school
contact's school; the command line runs as the system). The core never imports a transport.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from bot.core import clock
from bot.core.cases import audit
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.intake.csv_read import RowProblem, read_records
from bot.core.intake.fields import FieldError, ParseEnv, parse_municipality
from bot.core.intake.register import Checked, check_leaver, save_leavers
from bot.core.replies import Reply
from bot.store import queries
from bot.store.models import School

# field name -> (English column, Dutch column, other accepted spellings)
COLUMNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "student_ref": ("student_ref", "leerling", ()),
    "name": ("name", "naam", ()),
    "birth_year": ("birth_year", "geboortejaar", ()),
    "home_municipality": ("home_municipality", "woongemeente", ()),
    "programme": ("programme", "onderwijs", ()),
    "vso_profile": ("vso_profile", "profiel", ()),
    "expected_exit": ("expected_exit", "uitstroomdatum", ()),
    "early_leaver": ("early_leaver", "tussentijds", ()),
    "destination_wish": ("destination_wish", "bestemming", ()),
    "consent": ("consent", "toestemming", ()),
    "contact": ("contact", "contactgegevens", ()),
    "notes": ("notes", "opmerkingen", ()),
}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "student_ref",
    "home_municipality",
    "programme",
    "expected_exit",
)


def _norm(header: str) -> str:
    return "_".join(header.strip().casefold().replace("-", " ").replace("_", " ").split())


_ALIASES: dict[str, str] = {}
_DUTCH: set[str] = set()
for _field, (_en, _nl, _more) in COLUMNS.items():
    for _alias in (_en, _nl, *_more):
        _ALIASES[_norm(_alias)] = _field
    _DUTCH.add(_norm(_nl))


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Header:
    line: int
    fields: dict[int, str]  # cell index -> field name
    written: dict[str, str]  # field name -> the column as the file names it
    width: int
    dutch: bool

    def column_of(self, name: str) -> str:
        """The column of field `name` as written, or as it would be written when absent."""
        if name in self.written:
            return self.written[name]
        if name not in COLUMNS:  # pragma: no cover - check_leaver only knows leaver fields
            return name
        en, nl, _ = COLUMNS[name]
        return nl if self.dutch else en

    def order(self, name: str) -> int:
        for index, known in self.fields.items():
            if known == name:
                return index
        return self.width


def import_csv(ctx: Ctx, *, school_id: str, data: bytes) -> ImportResult:
    """Check the whole file, then save every leaver; or save nothing and list the problems.

    Raises Refused for an unknown school, before the file is read. A file with problems
    leaves the caller's unit of work exactly as it was.
    """
    t = ctx.t
    school = queries.school_by_id(ctx.session, school_id=school_id)
    if school is None:
        raise Refused(t("There is no school {school} in the directory.", school=school_id))

    records, unreadable = read_records(t, data)
    if not records:  # empty, or the header itself could not be read
        return ImportResult(problems=[unreadable or RowProblem(1, "", t("The file is empty."))])

    (header_line, header_cells), *body = records
    header, problems = _read_header(t, header_line, header_cells)
    if problems:
        return ImportResult(problems=problems)

    rows, problems = _check_rows(ctx, header, body)
    if unreadable is not None:
        problems.append(unreadable)
    if not rows and not problems:
        problems.append(
            RowProblem(header.line, "", t("The file has a header but no leavers below it."))
        )
    if problems:
        return ImportResult(problems=problems)
    return _save(ctx, school, rows)


def _read_header(t: Translator, line: int, cells: list[str]) -> tuple[_Header, list[RowProblem]]:
    problems: list[tuple[int, RowProblem]] = []  # by cell index, to tell them in file order
    fields: dict[int, str] = {}
    written: dict[str, str] = {}
    unknown: list[tuple[int, str]] = []
    for index, cell in enumerate(cells):
        column = cell.strip()
        if not column:
            continue  # a column without a name: fine as long as it stays empty (see rows)
        name = _ALIASES.get(_norm(column))
        if name is None:
            unknown.append((index, column))
        elif name in written:
            message = t("Column {other} already gives this.", other=written[name])
            problems.append((index, RowProblem(line, column, message)))
        else:
            fields[index] = name
            written[name] = column
    dutch = sum(_norm(c) in _DUTCH for c in written.values()) * 2 > len(written)
    header = _Header(line, fields, written, len(cells), dutch)
    for index, column in unknown:
        close = difflib.get_close_matches(_norm(column), list(_ALIASES), n=1, cutoff=0.7)
        if close:
            message = t("Unknown column. Did you mean {name}?", name=close[0])
        else:
            names = ", ".join(header.column_of(name) for name in COLUMNS)
            message = t("Unknown column. The columns are: {names}.", names=names)
        problems.append((index, RowProblem(line, column, message)))
    for name in REQUIRED_COLUMNS:
        if name not in written:
            missing = RowProblem(line, header.column_of(name), t("This column is missing."))
            problems.append((len(cells), missing))
    problems.sort(key=lambda found: found[0])
    return header, [problem for _, problem in problems]


def _check_rows(
    ctx: Ctx, header: _Header, records: list[tuple[int, list[str]]]
) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """The checked values of every good row, and the problems of the others."""
    t = ctx.t
    env = ParseEnv(t=t, today=clock.today(ctx.region.tz), session=ctx.session)
    municipalities = _Municipalities(env)
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
            i for i, c in enumerate(cells[: header.width]) if c.strip() and i not in header.fields
        ]
        for index in stray:
            problems.append(
                RowProblem(
                    line,
                    "",
                    t("Column {n} has no name in the header, but a value here.", n=index + 1),
                )
            )
        raw = {name: cells[index] for index, name in header.fields.items()}
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
    return rows, problems


def _check_leaver(raw: dict[str, str], env: ParseEnv, municipalities: _Municipalities) -> Checked:
    """`intake.check_leaver`, with the home municipality looked up once per spelling.

    The directory lookup reads every municipality and, for a typo, ranks the close names;
    done for each of thousands of rows it would be most of an import's checking time. So
    the column is left out of `check_leaver` (which then only says it is required) and
    parsed here with the same parser, its answer or error remembered for the next row.
    """
    text = raw.get("home_municipality", "")
    if not text.strip():
        return check_leaver(raw, env)
    checked = check_leaver({**raw, "home_municipality": ""}, env)
    values, errors = dict(checked.values), dict(checked.errors)
    del errors["home_municipality"]  # "is required": it was left out on purpose
    found = municipalities.parse(text)
    if isinstance(found, FieldError):
        errors["home_municipality"] = found
    else:
        values["home_municipality"] = found
    return Checked(values, errors)


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
    return ImportResult(added=added, updated=updated)


def result_reply(t: Translator, result: ImportResult, *, limit: int = 50) -> Reply:
    """What the importer is told: the counts, or every problem (up to `limit` of them)."""
    if result.ok:
        return Reply(
            text=t.tn(
                "{n} leaver added, {updated} already known and updated.",
                "{n} leavers added, {updated} already known and updated.",
                result.added,
                updated=result.updated,
            )
        )
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
        lines=lines,
        error=True,
    )


def _problem_line(t: Translator, problem: RowProblem) -> str:
    if problem.column:
        return t(
            "line {line}, {column}: {message}",
            line=problem.line,
            column=problem.column,
            message=problem.message,
        )
    return t("line {line}: {message}", line=problem.line, message=problem.message)
