"""Who someone on Teams is: a person the coordinator gave by their sign-in address (UPN) is
recognised the first time they write (their object id learned from the Bot Connector, once);
someone added without any chat account links theirs with an invite's `/start TOKEN`."""

from __future__ import annotations

import re

from bot.core.app import Core
from bot.store.db import session_scope
from bot.store.models import Person
from tests.factories import press, say
from tests.handlers.teams.conftest import Served
from tests.handlers.teams.rig import activity, texts

NEW = "0a0a0a0a-0000-4000-8000-0000000000e1"  # an object id the directory does not know yet


def posted_text(served: Served) -> str:
    return "\n".join(texts(a) for a in served.rig.posted())


async def test_a_person_given_by_upn_is_recognised_when_they_first_write(
    teams: Served, live_core: Core
) -> None:
    with session_scope(live_core.engine) as session:
        henk = session.get(Person, "henk")
        assert henk is not None
        henk.teams_upn = "henk.mulder@hardenberg.nl"
        session.add(henk)
    with teams.rig.lock:
        teams.rig.members[NEW] = "Henk.Mulder@hardenberg.nl"
    assert await teams.send(activity(teams.rig, object_id=NEW, text="/help")) in (200, 202)
    assert "niet in het adresboek" not in posted_text(teams)
    assert "/cases" in posted_text(teams)  # /help for a broker
    with session_scope(live_core.engine) as session:
        henk = session.get(Person, "henk")
        assert henk is not None and henk.teams_id == NEW


async def test_someone_unknown_to_the_bot_connector_stays_a_stranger(teams: Served) -> None:
    assert await teams.send(activity(teams.rig, object_id=NEW, text="/help")) in (200, 202)
    assert "niet in het adresboek" in posted_text(teams)


async def test_an_invite_token_sent_in_teams_links_the_account(
    teams: Served, live_core: Core
) -> None:
    say(live_core, "anna", "/admin add")
    for answer in ("Kees Mol", "coordinator", "nl", "skip", "skip"):
        say(live_core, "anna", answer)
    _done, invite = press(live_core, "anna", "form:confirm")
    found = re.search(r"/start (\S+)", invite.text)
    assert found is not None, invite.text
    body = activity(teams.rig, object_id=NEW, text=f"/start {found[1]}")
    assert await teams.send(body) in (200, 202)
    assert "Kees Mol" in posted_text(teams)
    with session_scope(live_core.engine) as session:
        kees = session.get(Person, "kees")
        assert kees is not None and kees.teams_id == NEW
