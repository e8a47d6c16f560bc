"""What every transport accepts as a file of leavers (a CSV file or an Excel workbook)."""

from __future__ import annotations

from pathlib import Path

from bot.core.intake.csv_read import MAX_FILE_BYTES, too_large
from bot.core.intake.file_kinds import may_be_a_table, not_a_table

MAX_CSV_BYTES = MAX_FILE_BYTES

__all__ = ["MAX_CSV_BYTES", "may_be_a_table", "not_a_table", "read_upload", "too_large"]


def read_upload(path: Path) -> bytes:
    """A file named on this machine (the terminal's /upload, `vangnet import`), read up to one
    byte past the limit: enough for the import to refuse a file over it, as the chat
    transports refuse one before fetching it, without reading all of a huge file."""
    with path.open("rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)
