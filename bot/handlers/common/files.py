"""What every transport accepts as a file of leavers (a CSV file or an Excel workbook)."""

from __future__ import annotations

from bot.core.intake.csv_read import MAX_FILE_BYTES, too_large

MAX_CSV_BYTES = MAX_FILE_BYTES

__all__ = ["MAX_CSV_BYTES", "too_large"]
