"""A person's Microsoft Teams identity, as a coordinator or a region file writes it.

Teams knows a person by their Entra object id (a GUID, stable across the tenant: the
activity's `from.aadObjectId`). A coordinator rarely has that at hand; they have the work
address the person signs in with, the user principal name (UPN, `name@domain`). So either
is taken: an object id is stored as it is (`Person.teams_id`); a UPN is stored as given
(`Person.teams_upn`) and is *unresolved* until the object id behind it is known. Resolving
is done once, by the Teams transport: when the person first writes to the bot (or the app is
installed for them) the transport learns their object id and UPN from the Bot Connector's
member information and calls `bot.core.directory.bind_teams_upn`. Resolving ahead of that
(Microsoft Graph's `/users/{upn}`) needs Graph permissions the bot does not ask for.

Pure functions, no store: the region file and the admin form use the same rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# 8-4-4-4-12 hexadecimal digits; Entra writes them in lower case
GUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# name@domain.tld as Entra allows it in a UPN: the name part letters, digits and
# ' . - _ ! # ^ ~ (no leading or trailing dot), a domain of at least two labels
UPN_RE = re.compile(
    r"[a-z0-9'_!#^~-]+(?:\.[a-z0-9'_!#^~-]+)*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"
)
# Entra's limit: 64 characters before the @, 113 in all
MAX_UPN = 113
MAX_UPN_NAME = 64


@dataclass(frozen=True)
class TeamsIdentity:
    """An Entra object id, or a UPN whose object id is not known yet (exactly one is set)."""

    object_id: str | None = None
    upn: str | None = None

    @property
    def text(self) -> str:
        """As it is written in the region file and the form."""
        return self.object_id or self.upn or ""


def parse_teams_identity(raw: str) -> TeamsIdentity | None:
    """An object id or a UPN, in lower case (both are case-insensitive in Entra); None when
    `raw` is neither. A GUID in braces (as PowerShell prints it) is taken too."""
    text = raw.strip().casefold()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if GUID_RE.fullmatch(text):
        return TeamsIdentity(object_id=text)
    if len(text) <= MAX_UPN and UPN_RE.fullmatch(text) and len(text.split("@")[0]) <= MAX_UPN_NAME:
        return TeamsIdentity(upn=text)
    return None


def is_object_id(text: str) -> bool:
    return GUID_RE.fullmatch(text.strip().casefold()) is not None
