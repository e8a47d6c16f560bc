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

import difflib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.core import clock
from bot.core.cases import audit
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import Translator
from bot.core.intake.csv_read import RowProblem, Source, read_table
from bot.core.intake.fields import (
    FIELDS_BY_NAME,
    FieldError,
    ParseEnv,
    parse_birth_year,
    parse_choice,
    parse_municipality,
)
from bot.core.intake.register import Checked, check_leaver, save_leaver
from bot.core.replies import Reply
from bot.core.vocab import Consent
from bot.store import queries
from bot.store.models import School

# field name -> (English column, Dutch column, other accepted spellings). The other spellings
# are those of the exports of student administration systems (see README, "Files schools
# have", for where each was found) and of what a school secretary types by hand.
COLUMNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "student_ref": (
        "student_ref",
        "leerling",
        (
            "leerlingnummer",
            "leerlingnr",
            "stamnummer",
            "stamnr",
            "leerling id",
            "deelnemernummer",
            "deelnemersnummer",
            "studentnummer",
            "student number",
        ),
    ),
    "name": ("name", "naam", ("volledige naam", "leerlingnaam", "full name")),
    "birth_year": ("birth_year", "geboortejaar", ("year of birth",)),
    "home_municipality": (
        "home_municipality",
        "woongemeente",
        ("gemeente", "woonplaats", "plaats", "municipality"),
    ),
    "programme": ("programme", "onderwijs", ("onderwijssoort", "schoolsoort", "program")),
    "vso_profile": ("vso_profile", "profiel", ("uitstroomprofiel",)),
    "expected_exit": (
        "expected_exit",
        "uitstroomdatum",
        (
            "verwachte uitstroomdatum",
            "verwachte uitstroom",
            "uitschrijfdatum",
            "datum uitschrijving",
            "einddatum",
            "exit date",
        ),
    ),
    "early_leaver": ("early_leaver", "tussentijds", ("voortijdig",)),
    "destination_wish": ("destination_wish", "bestemming", ("uitstroombestemming",)),
    "consent": ("consent", "toestemming", ()),
    "contact": ("contact", "contactgegevens", ()),
    "notes": ("notes", "opmerkingen", ("opmerking", "bijzonderheden")),
}
# Columns that give part of a field: the parts of a name, and a date of birth.
# part -> (the field it gives, the order of the parts in it, accepted spellings)
PARTS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "first_name": ("name", 0, ("roepnaam", "voornaam", "voornamen", "first name")),
    "infix": ("name", 1, ("tussenvoegsel", "tussenvoegsels", "voorvoegsel", "voorvoegsels")),
    "surname": ("name", 2, ("achternaam", "geslachtsnaam", "last name", "surname")),
    "birth_date": ("birth_year", 0, ("geboortedatum", "date of birth", "birth_date")),
}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "student_ref",
    "home_municipality",
    "programme",
    "expected_exit",
)


def _norm(header: str) -> str:
    return "_".join(header.strip().casefold().replace("-", " ").replace("_", " ").split())


_ALIASES: dict[str, str] = {}  # every accepted spelling -> field or part name
_DUTCH: set[str] = set()
for _field, (_en, _nl, _more) in COLUMNS.items():
    for _alias in (_en, _nl, *_more):
        _ALIASES[_norm(_alias)] = _field
    _DUTCH.add(_norm(_nl))
for _part, _given in PARTS.items():
    for _alias in _given[2]:
        _ALIASES[_norm(_alias)] = _part


def is_known_column(header: str) -> bool:
    return _norm(header) in _ALIASES


def sheet_named(text: str) -> str | None:
    """The sheet a message sent with a workbook names: "blad Leerlingen", "sheet: Export",
    "--sheet 2026" (Dutch: blad, tabblad, werkblad). None when it names none."""
    words = text.strip().split(maxsplit=1)
    if len(words) == 2 and words[0].casefold().lstrip("-").rstrip(":=") in _SHEET_WORDS:
        return words[1].strip().lstrip(":=").strip() or None
    return None


_SHEET_WORDS = frozenset({"sheet", "blad", "tabblad", "werkblad"})


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

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Header:
    line: int
    fields: dict[int, str]  # cell index -> field or part name
    written: dict[str, str]  # field or part name -> the column as the file names it
    width: int
    dutch: bool
    ignored: list[str] = field(default_factory=list)  # named columns the import does not know
    unnamed: frozenset[int] = frozenset()  # cell indexes whose header cell is empty

    @property
    def name_in_parts(self) -> bool:
        return "surname" in self.written

    def mapping(self) -> list[tuple[str, str]]:
        """(the columns as written, the field they give), in the file's order."""
        found: dict[str, list[str]] = {}
        for index in sorted(self.fields):
            name = self.fields[index]
            target = PARTS[name][0] if name in PARTS else name
            found.setdefault(target, []).append(self.written[name])
        return [(" + ".join(columns), target) for target, columns in found.items()]

    def column_of(self, name: str) -> str:
        """The column of field `name` as written, or as it would be written when absent."""
        if name in self.written:
            return self.written[name]
        parts = [self.written[p] for p in PARTS if PARTS[p][0] == name and p in self.written]
        if parts:
            return " + ".join(parts)
        if name not in COLUMNS:  # pragma: no cover - check_leaver only knows leaver fields
            return name
        en, nl, _ = COLUMNS[name]
        return nl if self.dutch else en

    def order(self, name: str) -> int:
        for index, known in self.fields.items():
            if known == name or (known in PARTS and PARTS[known][0] == name):
                return index
        return self.width


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
    header, problems = _read_header(t, header_line, header_cells)
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


def _described(result: ImportResult, source: Source | None, header: _Header) -> ImportResult:
    result.source, result.mapping, result.ignored = source, header.mapping(), header.ignored
    return result


def _read_header(t: Translator, line: int, cells: list[str]) -> tuple[_Header, list[RowProblem]]:
    problems: list[tuple[int, RowProblem]] = []  # by cell index, to tell them in file order
    fields: dict[int, str] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(cells):
        column = cell.strip()
        if not column:
            continue  # a column without a name: fine as long as it stays empty (see rows)
        name = _ALIASES.get(_norm(column))
        if name is None:
            ignored.append(column)
            continue
        other = _already_given(name, written)
        if other is not None:
            message = t("Column {other} already gives this.", other=other)
            problems.append((index, RowProblem(line, column, message)))
        else:
            fields[index] = name
            written[name] = column
    dutch = sum(_norm(c) in _DUTCH for c in written.values()) * 2 > len(written)
    unnamed = frozenset(i for i, cell in enumerate(cells) if not cell.strip())
    header = _Header(line, fields, written, len(cells), dutch, ignored, unnamed)
    if "surname" not in written and any(p in written for p in ("first_name", "infix")):
        parts = ", ".join(written[p] for p in ("first_name", "infix") if p in written)
        problems.append(
            (
                len(cells),
                RowProblem(
                    line,
                    parts,
                    t("A name in parts needs the surname too (a column Achternaam)."),
                ),
            )
        )
    for name in REQUIRED_COLUMNS:
        if name not in written:
            message = t("This column is missing.")
            close = difflib.get_close_matches(
                _norm(header.column_of(name)), [_norm(c) for c in ignored], n=1, cutoff=0.7
            )
            if close:
                column = next(c for c in ignored if _norm(c) == close[0])
                message += " " + t("Is it column {column}?", column=column)
            problems.append((len(cells), RowProblem(line, header.column_of(name), message)))
    problems.sort(key=lambda found: found[0])
    return header, [problem for _, problem in problems]


def _already_given(name: str, written: dict[str, str]) -> str | None:
    """The column that already gives what column `name` would: the same field, the whole of
    a field given in parts (or a part of a field given whole)."""
    if name in written:
        return written[name]
    if name in PARTS:
        target = PARTS[name][0]
        return written.get(target)
    for part, (target, _, _) in PARTS.items():
        if target == name and part in written:
            return written[part]
    return None


def _assemble(header: _Header, cells: list[str]) -> dict[str, str]:
    """The raw text of each field of one row: the parts of a name joined, a date of birth
    as it is (parsed by `_check_leaver`)."""
    raw: dict[str, str] = {}
    parts: dict[str, list[tuple[int, str]]] = {}
    for index, name in header.fields.items():
        if name in PARTS:
            target, order, _ = PARTS[name]
            if target == "name":
                parts.setdefault(target, []).append((order, cells[index]))
            else:
                raw[name] = cells[index]
        else:
            raw[name] = cells[index]
    for target, pieces in parts.items():
        raw[target] = " ".join(p.strip() for _, p in sorted(pieces) if p.strip())
    return raw


def _check_rows(
    ctx: Ctx, header: _Header, records: list[tuple[int, list[str]]]
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
        raw = _assemble(header, cells)
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
    # `school` is held for the whole loop: the session keeps loaded rows only as long as
    # something refers to them, and save_leaver would otherwise read the school every row.
    result = ImportResult()
    session = ctx.session
    school_id = school.id
    with session.begin_nested():  # all rows or, should anything fail, none
        for values in rows:
            _, created = save_leaver(ctx, school_id=school_id, values=values)
            if created:
                result.added += 1
            else:
                result.updated += 1
        audit.record(
            session,
            actor_id=ctx.actor.id,
            transport=ctx.transport,
            action="csv_import",
            school_id=school_id,
            rows=len(rows),
            added=result.added,
            updated=result.updated,
        )
    return result


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
            lines=about,
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
