"""What a participant reads of the content: a factor's question, and the knowledge base.

A factor is asked by its quality norm (the ideal situation the region compares itself with)
and the scale's question and anchors. The knowledge base's practices are shown once, when a
theme's weakest factors are proposed as improvement points: one message per factor, one line
per practice ("Werkboeren — Friesland: what it does. Source: ...").
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.i18n import Translator
from bot.core.replies import Reply
from bot.core.scan.model import Factor, Practice, ScanContent


def scale_hint(content: ScanContent) -> str:
    """The question with its anchors: "Hoe goed voldoet onze regio hieraan? (1 = heel slecht,
    10 = perfect)"."""
    return f"{content.scale.question} ({content.scale.anchors})"


def question_text(t: Translator, content: ScanContent, factor: Factor) -> str:
    """The text of a factor's question: its theme, its norm, what it covers, the scale."""
    theme = content.theme_of(factor)
    parts = [
        theme.title if theme else "",
        t("The norm: {norm}", norm=factor.norm),
        factor.description,
        scale_hint(content),
    ]
    return "\n\n".join(part for part in parts if part)


def warmup_text(content: ScanContent) -> str:
    return f"{content.scale.warmup} ({content.scale.anchors})"


def practice_line(t: Translator, practice: Practice) -> str:
    """One practice on one line: title, region, what it does, and where it comes from."""
    return t(
        "{title} — {region}: {line} Source: {source}.",
        title=practice.title,
        region=practice.region,
        line=practice.line,
        source=practice.source,
    )


def practices_reply(t: Translator, content: ScanContent, factor: Factor) -> Reply:
    """The knowledge base for one factor, as a list under the factor's title."""
    return Reply(
        title=t("Good practices for {number}. {title}", number=factor.number, title=factor.title),
        lines=[practice_line(t, p) for p in content.practices_of(factor)],
        to_place=True,
    )


def practices_replies(t: Translator, content: ScanContent, numbers: Iterable[int]) -> list[Reply]:
    """The knowledge base for each of these factors (the proposed improvement points)."""
    replies: list[Reply] = []
    for number in numbers:
        factor = content.factor(number)
        if factor is not None and content.practices_of(factor):
            replies.append(practices_reply(t, content, factor))
    return replies
