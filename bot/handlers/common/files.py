"""What every transport accepts as a file of leavers (a CSV file or an Excel workbook)."""

from __future__ import annotations

from bot.core.intake.csv_read import MAX_FILE_BYTES, may_be_a_table, not_a_table, too_large

MAX_CSV_BYTES = MAX_FILE_BYTES

__all__ = ["MAX_CSV_BYTES", "may_be_a_table", "not_a_table", "too_large"]
