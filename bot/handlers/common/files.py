"""What every transport accepts as a CSV file of leavers."""

from __future__ import annotations

MAX_CSV_BYTES = 5 * 1024 * 1024
