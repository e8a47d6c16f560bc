"""The Telegram transport (python-telegram-bot).

- `inbound`   — updates as typed inbound events (one small pure function per kind)
- `render`    — core replies as HTML messages with inline keyboards, within Telegram's limits
- `callbacks` — button actions as callback data within 64 bytes (long ones stored as tokens)
- `commands`  — the command lists for setMyCommands, from the core's command table

PTB 22 gives a time period (a 429's retry_after) as a number, with a deprecation warning, unless
the PTB_TIMEDELTA environment variable asks for timedeltas. The transport reads either
(`pace`), so it works whatever the environment says, and never sets it: the process's
environment is the operator's. (A deprecation warning is not shown by default; the tests, where
warnings are errors, set PTB_TIMEDELTA themselves.)
"""
