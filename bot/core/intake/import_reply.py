"""What the importer of a file of leavers is told: how many were added, or every problem,
identical ones together ("25.785 lines (2–25.786), Opleiding: …"); and how the file was read
(its encoding or sheet, the row of its header, which column gave which field, the places read
as their municipality, the columns ignored)."""

from __future__ import annotations

from babel.numbers import format_decimal

from bot.core.i18n import Translator
from bot.core.intake.csv_import import ImportResult
from bot.core.intake.csv_read import RowProblem
from bot.core.intake.fields import FIELDS_BY_NAME
from bot.core.replies import Reply
from bot.core.vocab import label

MAX_PIECES = 6  # of the lines of one problem: "2–9, 14, 20–25, …"


def result_reply(t: Translator, result: ImportResult, *, limit: int = 50) -> Reply:
    """What the importer is told: the counts, or every problem (identical ones together, up
    to `limit` of them); and how the file was read."""
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
    groups = grouped(result.problems)
    lines = [_problem_line(t, lines, problem) for lines, problem in groups[:limit]]
    rest = sum(len(lines) for lines, _ in groups[limit:])
    if rest > 0:
        lines.append(t.tn("… and {n} more problem.", "… and {n} more problems.", rest))
    shown = number(t, len(result.problems))
    return Reply(
        title=t("Nothing was imported"),
        text=t.tn(
            "The file has {shown} problem. Correct it and import the whole file again.",
            "The file has {shown} problems. Correct them and import the whole file again.",
            len(result.problems),
            shown=shown,
        ),
        lines=lines + about,
        error=True,
    )


def grouped(problems: list[RowProblem]) -> list[tuple[list[int], RowProblem]]:
    """The problems with the same column and reason together, with their lines, in the order
    in which each was first met."""
    groups: dict[tuple[int, str, str], tuple[list[int], RowProblem]] = {}
    for index, problem in enumerate(problems):
        # the file as a whole is told as it is, never merged with a row's problem
        key = (index if problem.line == 0 else -1, problem.column, problem.message)
        groups.setdefault(key, ([], problem))[0].append(problem.line)
    return list(groups.values())


def describe(t: Translator, result: ImportResult) -> list[str]:
    """How the file was read, as lines of the answer (nothing when it could not be read)."""
    lines: list[str] = []
    if result.source is not None:
        lines.append(result.source.describe(t))
    if result.header_line:
        lines.append(
            t(
                "The column names are on line {line}; the lines above it were skipped.",
                line=result.header_line,
            )
        )
    if result.mapping:
        used = ", ".join(
            t("{columns} → {field}", columns=columns, field=t(FIELDS_BY_NAME[name].label))
            for columns, name in result.mapping
        )
        lines.append(t("Columns used: {mapping}.", mapping=used))
    if result.school_programme:
        lines.append(
            t(
                "Where the file gives no programme, the school's is taken: {programme}.",
                programme=label(t, result.school_programme),
            )
        )
    if result.places:
        read_as = ", ".join(
            t("{place} → {municipality}", place=place, municipality=municipality)
            + (f" ({number(t, n)}×)" if n > 1 else "")
            for (place, municipality), n in result.places.items()
        )
        lines.append(t("Places read as their municipality: {places}.", places=read_as))
    if result.names_left_out:
        lines.append(
            t.tn(
                "{n} name was not stored: that leaver has no consent.",
                "{n} names were not stored: those leavers have no consent.",
                result.names_left_out,
            )
        )
    if result.set_aside:
        lines.append(
            t(
                "Not read, as another column gives the programme: {columns}.",
                columns=", ".join(result.set_aside),
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


def number(t: Translator, n: int) -> str:
    """A count as the reader writes it: 25.785 in Dutch, 25,785 in English."""
    return format_decimal(n, locale=t.language)


def lines_text(t: Translator, lines: list[int]) -> str:
    """Line numbers as runs: "2–25.786", "4, 9, 12–14"; after MAX_PIECES pieces, "…"."""
    runs: list[list[int]] = []
    for line in sorted(set(lines)):
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    pieces = [number(t, a) if a == b else f"{number(t, a)}–{number(t, b)}" for a, b in runs]
    if len(pieces) > MAX_PIECES:
        pieces = [*pieces[: MAX_PIECES - 1], "…"]
    return ", ".join(pieces)


def _problem_line(t: Translator, lines: list[int], problem: RowProblem) -> str:
    if problem.line == 0:  # the file as a whole
        return problem.message
    if len(lines) == 1:
        line = number(t, problem.line)
        where = t("line {line}", line=line)
    else:
        shown, runs = number(t, len(lines)), lines_text(t, lines)
        where = t.tn(
            "{shown} line ({lines})", "{shown} lines ({lines})", len(lines), shown=shown, lines=runs
        )
    if problem.column:
        return t(
            "{where}, {column}: {message}",
            where=where,
            column=problem.column,
            message=problem.message,
        )
    return t("{where}: {message}", where=where, message=problem.message)
