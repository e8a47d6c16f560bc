"""Reading a file of leavers into records: bytes to a table of text cells, whatever the school
had: a CSV file or an Excel workbook.

What a CSV file may look like: UTF-8 with or without a byte order mark, or Windows-1252 (what
Excel's "CSV (puntkomma gescheiden)" writes on a Dutch Windows); comma, semicolon or tab
separated (decided from the lines near the top: the separator that splits one of them, the
header, perhaps below a title, into the most known column names, else the one the first line
has most of outside quotes); empty lines skipped; a quoted value may span lines. An Excel
workbook (.xlsx) is read with openpyxl: the first sheet, or the one named. Anything else (a
PDF, a Word file, an old .xls: see `file_kinds`) and a file over 5 MB are refused with what
to do instead.

What is wrong with the file is told as a `RowProblem` with its physical line (the first line
is 1; in a workbook, the sheet's row number); line 0 is the file as a whole. Which record is
the header, and checking the cells, is `csv_import`'s business.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.core.i18n import N_, Translator
from bot.core.intake.file_kinds import file_kind, not_a_table

SEPARATORS: tuple[str, ...] = (",", ";", "\t")
SEPARATOR_NAMES: dict[str, str] = {
    ",": N_("commas"),
    ";": N_("semicolons"),
    "\t": N_("tabs"),
}
# What the chat transports fetch: a school's list is a few hundred rows, far less.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
# How far down a file its header is looked for (title rows above it are common)
HEADER_SEARCH = 20  # of a workbook: its size on disk says little about its size unpacked
UTF8 = "UTF-8"
WINDOWS_1252 = "Windows-1252"


@dataclass
class RowProblem:
    """One thing wrong with the file: where (line, column as written) and why."""

    line: int  # physical line in the file; the header is line 1; 0: the whole file
    column: str  # the column as the header names it; "" for the whole line
    message: str  # in the reader's language


@dataclass
class Source:
    """How the file was read, to tell the importer: CSV with its encoding and separator, or a
    workbook's sheet."""

    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    separator: str = ""
    sheet: str = ""

    def describe(self, t: Translator) -> str:
        if self.kind == "xlsx":
            return t("Read the Excel sheet {sheet}.", sheet=self.sheet)
        return t(
            "Read as {encoding} text, separated by {separator}.",
            encoding=self.encoding,
            separator=t(SEPARATOR_NAMES[self.separator]),
        )


@dataclass
class Table:
    """(first physical line, cells) of each record that is not empty, the header first; what
    kept the rest of the file from being read, if anything did; and how it was read.

    No records and no problem: the file is empty."""

    records: list[tuple[int, list[str]]] = field(default_factory=list)
    problem: RowProblem | None = None
    source: Source | None = None


def read_table(
    t: Translator,
    data: bytes,
    *,
    filename: str = "",
    sheet: str | None = None,
    is_known: Callable[[str], bool] = lambda _: False,
) -> Table:
    """The file as a table. `filename` (as the user's computer named it) helps to tell what
    kind of file it is; `sheet` names a workbook's sheet; `is_known` says whether a header
    cell is a known column name (it decides between separators)."""
    if len(data) > MAX_FILE_BYTES:
        return Table(problem=whole_file(too_large(t)))
    kind = file_kind(data, filename)
    if kind == "xlsx":
        return _read_workbook(t, data, sheet)
    if kind == "xls":
        return Table(
            problem=whole_file(
                t(
                    "This is an old Excel file (.xls). In Excel, choose Save As and pick "
                    '"Excel Workbook (.xlsx)" or "CSV UTF-8", then send that file.'
                )
            )
        )
    if kind != "csv":
        return Table(problem=whole_file(not_a_table(t, filename, kind)))
    if sheet:
        return Table(
            problem=whole_file(
                t("A CSV file has no sheets: send it without a sheet name, or send the workbook.")
            )
        )
    records, problem, source = read_records(t, data, is_known=is_known)
    return Table(records, problem, source)


def too_large(t: Translator) -> str:
    """What a transport says of a file over MAX_FILE_BYTES (it does not fetch one)."""
    return t(
        "That file is too large for me: at most {mb} MB. Send the list of this year's leavers "
        "only.",
        mb=MAX_FILE_BYTES // (1024 * 1024),
    )


def whole_file(message: str) -> RowProblem:
    return RowProblem(0, "", message)


# --- CSV -------------------------------------------------------------------------------------


def read_records(
    t: Translator, data: bytes, *, is_known: Callable[[str], bool] = lambda _: False
) -> tuple[list[tuple[int, list[str]]], RowProblem | None, Source | None]:
    """(first physical line, cells) of each record of a CSV file that is not empty, the header
    first; what kept the rest of the file from being read, if anything did; how it was read."""
    text, encoding, problem = _decode(t, data)
    if problem is not None:
        return [], problem, None
    lines = _physical_lines(text)
    filled = [line for line in lines if line.strip()][:HEADER_SEARCH]
    if not filled:
        return [], None, None
    separator = _sniff(filled, is_known)
    records, problem = _records(t, lines, separator)
    return records, problem, Source("csv", encoding=encoding, separator=separator)


def _decode(t: Translator, data: bytes) -> tuple[str, str, RowProblem | None]:
    """The text of the file (without its byte order mark) and the encoding it was in.

    UTF-8 first: text in Windows-1252 with any letter beyond ASCII (é, ë) is almost never
    valid UTF-8, so a file that decodes as UTF-8 is UTF-8. Five byte values are undefined in
    Windows-1252: a file with one of them is neither.
    """
    try:
        return data.decode("utf-8-sig"), UTF8, None
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if not data.startswith(b"\xef\xbb\xbf"):
        try:
            return data.decode("cp1252"), WINDOWS_1252, None
        except UnicodeDecodeError:
            pass
    head = utf8_error.object[: utf8_error.start]
    line = head.count(b"\n") + 1 if b"\n" in head else head.count(b"\r") + 1
    message = t(
        "This line is neither UTF-8 nor Windows-1252 text. In Excel, choose Save As with the "
        'file type "CSV UTF-8 (Comma delimited)" and try again.'
    )
    return "", "", RowProblem(line, "", message)


def _physical_lines(text: str) -> list[str]:
    """The file's lines with their endings (\\n, \\r\\n or \\r), as the csv module wants them."""
    return io.StringIO(text, newline="").readlines()


def _sniff(lines: list[str], is_known: Callable[[str], bool]) -> str:
    """The separator of the header line: the one that splits a line near the top (the header,
    which may follow a title) into the most known column names; when none names two known
    columns, the one the first line has most of outside quotes (a tie, as with one column, is
    a comma)."""

    def cells(line: str, separator: str) -> list[str]:
        try:
            return next(csv.reader([line], delimiter=separator, quotechar='"'), [])
        except csv.Error:
            return []

    def known(line: str, separator: str) -> int:
        return sum(1 for c in cells(line, separator) if c.strip() and is_known(c))

    most, best = max(
        ((known(line, s), -at, s) for at, line in enumerate(lines) for s in SEPARATORS),
        key=lambda found: found[:2],
    )[0::2]
    if most >= 2:  # two names: not a coincidence of one name that holds a separator
        return best
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for char in lines[0]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(SEPARATORS, key=lambda s: counts[s])


def _records(
    t: Translator, lines: list[str], separator: str
) -> tuple[list[tuple[int, list[str]]], RowProblem | None]:
    """(first physical line, cells) of each record that is not empty; or where reading broke.

    A quote that is opened and never closed makes the csv module read the rest of the file
    as one value, which would silently swallow the rows below it: that is refused here.
    """
    reader = csv.reader(iter(lines), delimiter=separator, quotechar='"', strict=False)
    records: list[tuple[int, list[str]]] = []
    consumed = 0
    try:
        for cells in reader:
            start, consumed = consumed + 1, reader.line_num
            swallowed = consumed == len(lines) and consumed > start
            if swallowed and "".join(lines[start - 1 : consumed]).count('"') % 2:
                return records, RowProblem(
                    start, "", t("A quote on this line is opened but never closed.")
                )
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
    except csv.Error:
        line = consumed + 1
        if len(lines[line - 1]) > csv.field_size_limit() if line <= len(lines) else False:
            return records, RowProblem(
                line,
                "",
                t(
                    "This line is far too long ({n} characters) to be a row of leavers.",
                    n=f"{len(lines[line - 1]):,}".replace(",", "."),
                ),
            )
        return records, RowProblem(
            line, "", t("This line cannot be read as CSV; check its quotes.")
        )
    return records, None


# --- Excel -----------------------------------------------------------------------------------


def _read_workbook(t: Translator, data: bytes, sheet: str | None) -> Table:
    """The rows of one sheet as text cells: dates as YYYY-MM-DD, whole numbers without ".0".

    Every row is as wide as the widest: a workbook has no "missing separator", and the cells
    Excel leaves out at the end of a row are empty ones."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or disguised file
        return Table(
            problem=whole_file(
                t(
                    "I cannot read this Excel file: it seems damaged. Open it in Excel, save "
                    "it again as Excel Workbook (.xlsx) and send that."
                )
            )
        )
    try:
        names = book.sheetnames
        if sheet:
            chosen = next(
                (n for n in names if n.strip().casefold() == sheet.strip().casefold()), None
            )
            if chosen is None:
                return Table(
                    problem=whole_file(
                        t(
                            "The workbook has no sheet {sheet}. Its sheets are: {names}.",
                            sheet=sheet.strip(),
                            names=", ".join(names),
                        )
                    )
                )
        else:
            chosen = names[0]
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(book[chosen].iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                return Table(
                    problem=whole_file(
                        t(
                            "The sheet has more than {n} rows: too many for a list of leavers.",
                            n=MAX_ROWS,
                        )
                    )
                )
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                rows.append((number, cells))
    finally:
        book.close()
    width = max((len(cells) for _, cells in rows), default=0)
    for _, cells in rows:
        cells.extend([""] * (width - len(cells)))
    return Table(rows, None, Source("xlsx", sheet=chosen))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
