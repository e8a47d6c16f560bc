"""The Telegram transport (python-telegram-bot): inbound updates as typed events, core replies
as HTML messages with inline keyboards, callback data within 64 bytes, the command lists.

PTB 22 warns whenever a time period is read as a number unless PTB_TIMEDELTA is set (then it
gives timedeltas, which is what this transport expects); set it before PTB is used.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")
