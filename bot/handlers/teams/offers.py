"""Files offered on Teams and waiting for the person's answer, kept in the outbox.

Teams lets a bot give a file in a personal chat only with the person's consent: the bot sends
a consent card, and when they accept it (perhaps after a restart of the bot) Teams names the
place in their OneDrive to put the bytes. Until then the file is kept as the product keeps
every message it owes someone: a row of the outbox (kind `FILE_OFFER`), its payload, the file
included, encrypted at rest like every outbox payload. The row counts as sent from the start
(the consent card is what went out), so the outbox's delivery never picks it up; it is
deleted once the file is given or declined, blanked with the case when the personal details
of the case whose export it is are erased, and an offer not answered within `OFFER_HOURS`
is deleted with its file the next time a file is offered or answered. Blocking: async
callers run these in a worker thread.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from bot.core import clock
from bot.core.directory import person_by_teams
from bot.core.replies import Reply
from bot.store.db import session_scope
from bot.store.models import OutboxMessage

FILE_OFFER = "teams_file_offer"
OFFER_HOURS = 24
VIA = "teams"


def offer(engine: Engine, object_id: str, reply: Reply) -> int | None:
    """Keep the file of `reply` for the person with Entra object id `object_id`; the offer's
    id (for the consent card), or None when the directory does not know them."""
    with session_scope(engine) as session:
        _expire(session)
        person = person_by_teams(session, object_id)
        if person is None or reply.file is None:
            return None
        now = clock.now()
        kept = Reply(file=reply.file, file_name=reply.file_name)
        row = OutboxMessage(
            person_id=person.id,
            # a case's export goes with the case's personal details (`privacy`: the
            # payloads of sent messages about a case are blanked when they are erased)
            case_ref=reply.file_case,
            kind=FILE_OFFER,
            payload=json.loads(kept.model_dump_json()),
            created_at=now,
            not_before=now,
            sent_at=now,
            sent_via=VIA,
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def waiting(engine: Engine, offer_id: int, object_id: str) -> Reply | None:
    """The file offered under `offer_id` to the person with `object_id`, if it still waits
    for them (not given, declined or expired; never someone else's)."""
    with session_scope(engine) as session:
        _expire(session)
        row = session.get(OutboxMessage, offer_id)
        person = person_by_teams(session, object_id)
        if row is None or person is None or row.kind != FILE_OFFER:
            return None
        if row.person_id != person.id:
            return None
        found = Reply.model_validate_json(json.dumps(row.payload))
        return found if found.file is not None else None


def settle(engine: Engine, offer_id: int) -> None:
    """The offer answered (the file given, or declined): deleted with its file."""
    with session_scope(engine) as session:
        session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.id) == offer_id, col(OutboxMessage.kind) == FILE_OFFER
            )
        )


def _expire(session: Session) -> None:
    cutoff = clock.now() - timedelta(hours=OFFER_HOURS)
    session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.kind) == FILE_OFFER, col(OutboxMessage.created_at) < cutoff
        )
    )
