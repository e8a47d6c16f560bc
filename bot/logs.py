"""Failures in the log without personal data: where it failed, never what it said.

An exception's message may quote what a person typed or an SQL statement's parameters (a
young person's name, say), so it is left out; its type and its stack frames (file, line,
function and the line of code) are kept, so an operator can see where it failed. Chained
exceptions (raised while handling another, or `from` another) are shown the same way.
"""

from __future__ import annotations

import logging
import traceback

MAX_CHAIN = 5


def where(exc: BaseException) -> str:
    """The exception's type and stack frames, and those of the ones it was chained to."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < MAX_CHAIN:
        seen.add(id(current))
        if lines:
            lines.append("  which happened while handling, or because of:")
        lines.append(
            f"  {type(current).__module__}.{type(current).__qualname__} (message left out)"
        )
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f'    File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"      {frame.line.strip()}")
        current = current.__cause__ or current.__context__
    return "\n".join(lines)


def log_failure(logger: logging.Logger, message: str, *args: object, exc: BaseException) -> None:
    """`message % args` at ERROR, with the exception's type and where it was raised."""
    logger.error(message + ": %s\n%s", *args, type(exc).__name__, where(exc))


# Platform SDKs log whole message bodies at DEBUG (names, notes), and HTTP clients log URLs at
# INFO (Telegram's carry the bot token): they never go below these levels, whatever the root
# logger is set to.
PLATFORM_LOGGERS: dict[str, int] = {
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "telegram": logging.INFO,
    "aiohttp": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    # the Agents SDK logs each send with its conversation id at INFO; MSAL its token requests
    "microsoft_agents": logging.WARNING,
    "msal": logging.WARNING,
}


def quiet_platform_loggers() -> None:
    for name, level in PLATFORM_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
