"""Reading a CSV file of leavers into records: bytes to text, text to lines, lines to cells.

What the file may look like: UTF-8 with or without a byte order mark; comma or semicolon
separated (decided from the header line); empty lines skipped; a quoted value may span lines.
What is wrong with it is told as a `RowProblem` with its physical line number (the header is
line 1). Checking the cells is `csv_import`'s business.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.core.i18n import Translator

SEPARATORS: tuple[str, ...] = (",", ";")


@dataclass
class RowProblem:
    """One thing wrong with the file: where (line, column as written) and why."""

    line: int  # physical line in the file; the header is line 1
    column: str  # the column as the header names it; "" for the whole line
    message: str  # in the reader's language


def read_records(
    t: Translator, data: bytes
) -> tuple[list[tuple[int, list[str]]], RowProblem | None]:
    """(first physical line, cells) of each record that is not empty, the header first; and
    what kept the rest of the file from being read, if anything did.

    No records and no problem: the file is empty.
    """
    text, problem = _decode(t, data)
    if problem is not None:
        return [], problem
    lines = _physical_lines(text)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return [], None
    return _records(t, lines, _sniff(first))


def _decode(t: Translator, data: bytes) -> tuple[str, RowProblem | None]:
    """The text of the file, without its byte order mark if it has one."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        head = exc.object[: exc.start]  # the bytes after the byte order mark
        line = head.count(b"\n") + 1 if b"\n" in head else head.count(b"\r") + 1
        return "", RowProblem(
            line,
            "",
            t(
                "This line is not UTF-8 text. In Excel, choose Save As with the file type "
                '"CSV UTF-8 (Comma delimited)" and try again.'
            ),
        )


def _physical_lines(text: str) -> list[str]:
    """The file's lines with their endings (\\n, \\r\\n or \\r), as the csv module wants them."""
    return io.StringIO(text, newline="").readlines()


def _sniff(header: str) -> str:
    """Comma or semicolon: whichever the header line has more of outside quotes."""
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return max(SEPARATORS, key=lambda s: counts[s])  # a tie (one column) is a comma


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
