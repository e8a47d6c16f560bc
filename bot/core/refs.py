"""Case references: short, typeable, sayable, unique in the installation.

The alphabet leaves out characters that look or sound alike (0/O/Q, 1/I/L, 5/S, 8/B, Z, G/6),
so "K7F2" read aloud or copied by hand comes back the same.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

ALPHABET = "ACDEFHJKMNPRTUVWXY234679"
MIN_LENGTH = 4
_TRIES_PER_LENGTH = 8
_REF_RE = re.compile(rf"^[{ALPHABET}]{{{MIN_LENGTH},12}}$")


def normalise(text: str) -> str:
    return text.strip().upper().lstrip("#")


def looks_like_ref(text: str) -> bool:
    return bool(_REF_RE.match(normalise(text)))


def new_ref(exists: Callable[[str], bool]) -> str:
    """A fresh reference; grows by one character when the short ones get crowded."""
    length = MIN_LENGTH
    while True:
        for _ in range(_TRIES_PER_LENGTH):
            ref = "".join(secrets.choice(ALPHABET) for _ in range(length))
            if not exists(ref):
                return ref
        length += 1
