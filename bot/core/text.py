"""What people type, made safe to keep and to show: no control characters, no terminal escape
sequences, and no "text" made only of invisible characters.

Applied once where text enters the core (a typed line, a button's action, a form answer), so
nothing that reaches the store, a message to someone else or an echo in the terminal can
carry an escape sequence or a zero-width disguise.
"""

from __future__ import annotations

import re
import unicodedata

# ESC [ … final byte (CSI), ESC ] … BEL/ST (OSC), and other two-character ESC sequences
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_KEEP = {"\n", "\t"}


def clean(text: str) -> str:
    """`text` without escape sequences and control characters (newlines and tabs stay)."""
    if text.isprintable():  # no control (nor format) character, so no escape: as it is
        return text
    text = _ESCAPES.sub("", text)
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cc",))


def visible(text: str) -> str:
    """`text` without format characters (zero-width space, joiners, direction marks …):
    what is left when only what can be seen counts."""
    if text.isprintable():  # format characters are not printable
        return text
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
