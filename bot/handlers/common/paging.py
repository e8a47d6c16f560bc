"""Paging: long content split into pages a platform accepts, never by cutting an item.

Generic over what a page holds (Slack's blocks, Telegram's lines of text): each transport
says how many items and how many characters one message may carry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from typing import TypeVar

T = TypeVar("T")


def pages(
    items: Sequence[T],
    *,
    max_items: int,
    max_chars: int | None = None,
    size: Callable[[T], int] | None = None,
    separator: int = 0,
) -> list[list[T]]:
    """`items` in order, in pages of at most `max_items` items and (when given) `max_chars`
    characters, counting `size` of each item (its length by default) and `separator`
    characters between two items.

    An item larger than `max_chars` on its own gets a page of its own: splitting an item is
    the caller's business (it knows where it may be cut)."""
    if max_items < 1:
        raise ValueError("a page holds at least one item")
    measure = size or _length
    out: list[list[T]] = []
    page: list[T] = []
    chars = 0
    for item in items:
        extra = measure(item) + (separator if page else 0)
        too_many = len(page) >= max_items
        too_long = max_chars is not None and bool(page) and chars + extra > max_chars
        if too_many or too_long:
            out.append(page)
            page, chars, extra = [], 0, measure(item)
        page.append(item)
        chars += extra
    if page:
        out.append(page)
    return out


def _length(item: object) -> int:
    return len(item) if isinstance(item, Sized) else 0
