"""The Telegram transport (python-telegram-bot).

- `inbound`   — updates as typed inbound events (one small pure function per kind)
- `render`    — core replies as HTML messages with inline keyboards, within Telegram's limits
- `callbacks` — button actions as callback data within 64 bytes (long ones stored as tokens)
- `commands`  — the command lists for setMyCommands, from the core's command table

PTB 22 warns whenever a time period is read as a number unless PTB_TIMEDELTA is set (then it
gives timedeltas, which is what this transport expects), so it is set before PTB is used.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "true")
