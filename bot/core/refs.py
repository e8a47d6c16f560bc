"""Case references: short, typeable, sayable, unique in the installation.

The alphabet leaves out characters that look or sound alike (0/O/Q, 1/I/L, 5/S, 8/B, Z, G/6),
so "K7F2" read aloud or copied by hand comes back the same.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence

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


# Random bytes below this map evenly onto the alphabet (the others are drawn again).
_EVEN = 256 - 256 % len(ALPHABET)


def _draw(count: int, length: int) -> list[str]:
    """`count` random references of `length` characters, as `secrets.choice` would draw
    them one character at a time: every character of the alphabet equally likely."""
    need = count * length
    chars: list[str] = []
    while len(chars) < need:
        chars += [ALPHABET[b % len(ALPHABET)] for b in secrets.token_bytes(need) if b < _EVEN]
    return ["".join(chars[i : i + length]) for i in range(0, need, length)]


def new_refs(count: int, taken: Callable[[Sequence[str]], set[str]]) -> list[str]:
    """`count` fresh references at once; `taken` says which of the drawn ones exist already.

    Like `new_ref` they are as short as the references in use allow: when most of a draw is
    taken, the next draw is one character longer.
    """
    chosen: list[str] = []
    seen: set[str] = set()
    length = MIN_LENGTH
    while len(chosen) < count:
        need = count - len(chosen)
        drawn = list(dict.fromkeys(_draw(need, length)))
        drawn = [ref for ref in drawn if ref not in seen]
        exists = taken(drawn) if drawn else set()
        fresh = [ref for ref in drawn if ref not in exists]
        seen.update(drawn)
        chosen += fresh[:need]
        if len(fresh) * 2 < need:
            length += 1
    return chosen
