"""What counts as a Teams account: an Entra object id or a sign-in address (UPN)."""

from __future__ import annotations

import pytest

from bot.core.teams_identity import TeamsIdentity, parse_teams_identity

GUID = "5f1c0d2e-6a7b-4c8d-9e0f-123456789abc"


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        (GUID, TeamsIdentity(object_id=GUID)),
        (f"  {GUID.upper()} ", TeamsIdentity(object_id=GUID)),  # Entra ids are one case
        ("{" + GUID + "}", TeamsIdentity(object_id=GUID)),  # as PowerShell prints it
        ("Wim.Jansen@Zwolle.nl", TeamsIdentity(upn="wim.jansen@zwolle.nl")),
        ("o'brien@gemeente-kampen.nl", TeamsIdentity(upn="o'brien@gemeente-kampen.nl")),
        ("j.de.vries@regio.onmicrosoft.com", TeamsIdentity(upn="j.de.vries@regio.onmicrosoft.com")),
    ],
)
def test_an_object_id_or_a_sign_in_address_is_taken(typed: str, found: TeamsIdentity) -> None:
    assert parse_teams_identity(typed) == found


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "wim",
        "wim@zwolle",  # no domain
        "@zwolle.nl",
        "wim@@zwolle.nl",
        "wim jansen@zwolle.nl",
        ".wim@zwolle.nl",
        "5f1c0d2e-6a7b-4c8d-9e0f-123456789ab",  # a digit short
        "5f1c0d2e6a7b4c8d9e0f123456789abc",  # without its dashes
        "29:1a2b3c",  # a Teams user id of one bot, not the person's
        "U01WIM",  # a Slack member
        "x" * 65 + "@zwolle.nl",  # longer than Entra allows before the @
    ],
)
def test_anything_else_is_not_a_teams_account(typed: str) -> None:
    assert parse_teams_identity(typed) is None
