"""Per-person translation. Source strings are English; catalogues live in bot/locale.

The catalogue is picked for every reply from the recipient's language, never installed for
the whole process. Catalogues are read from the .po files (via Babel) so that no compiled
artefacts have to be kept in step with the sources.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES: tuple[str, ...] = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def _catalogue(language: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Translator:
    """`t("Case {ref} claimed", ref=...)` in one person's language."""

    def __init__(self, language: str | None) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._tr = _catalogue(self.language)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled as its language (a chart drawn in a worker process, `bot.core.drawing`)."""
        return (Translator, (self.language,))

    def __call__(self, message: str, /, **params: Any) -> str:
        text = self._tr.gettext(message)
        return text.format(**params) if params else text

    def tn(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = self._tr.ngettext(singular, plural, n)
        return text.format(n=n, **params)


def translator(language: str | None) -> Translator:
    return Translator(language)
