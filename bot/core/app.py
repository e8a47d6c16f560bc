"""The core as one object: the database, the region, and the doors transports come through.

A transport identifies who is speaking, then calls `handle_text` or `handle_action`; it gets
replies back and reads what to deliver from the outbox. Each call is one unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from bot.core import conversation
from bot.core.commands import answer_text, may_use, run_action, run_command
from bot.core.context import Ctx
from bot.core.errors import Refused
from bot.core.i18n import translator
from bot.core.intake.csv_import import import_csv, result_reply
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.text import clean
from bot.region import Region
from bot.store import queries
from bot.store.db import session_scope
from bot.store.models import OutboxMessage, Person

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Core:
    engine: Engine
    region: Region
    default_language: str = "nl"

    def ctx(
        self,
        session: Session,
        actor: Person,
        *,
        transport: str,
        private: bool,
        place: str | None = None,
    ) -> Ctx:
        return Ctx(
            session=session,
            region=self.region,
            actor=actor,
            transport=transport,
            default_language=self.default_language,
            private=private,
            place=place,
        )

    def not_registered(self, language: str | None = None) -> Reply:
        t = translator(language or self.default_language)
        return Reply(
            text=t(
                "Sorry, you are not in the directory of this network, so I cannot help you. "
                "Ask your regional coordinator to add you."
            ),
            error=True,
        )

    def _run(
        self,
        person_id: str,
        transport: str,
        private: bool,
        work: Callable[[Ctx], list[Reply]],
        place: str | None = None,
    ) -> list[Reply]:
        with session_scope(self.engine) as session:
            actor = queries.person_by_id(session, person_id=person_id)
            if actor is None or not actor.active:
                return [self.not_registered()]
            ctx = self.ctx(session, actor, transport=transport, private=private, place=place)
            try:
                with session.begin_nested():
                    return work(ctx)
            except Refused as refusal:
                # the savepoint is rolled back: a refused command changes nothing
                return [Reply(text=refusal.message, error=True)]

    def handle_text(
        self,
        *,
        person_id: str,
        text: str,
        transport: str,
        private: bool = True,
        place: str | None = None,
    ) -> list[Reply]:
        """A line a person typed: a command, or an answer in a conversation.

        `place` is where it was typed (a channel or group, "terminal"), for a scan session."""
        text = clean(text)
        if text.strip().startswith("/"):
            return self._run(
                person_id, transport, private, lambda ctx: run_command(ctx, text), place
            )
        return self._run(person_id, transport, private, lambda ctx: answer_text(ctx, text), place)

    def handle_action(
        self,
        *,
        person_id: str,
        action: str,
        transport: str,
        private: bool = True,
        place: str | None = None,
    ) -> list[Reply]:
        action = clean(action)
        return self._run(person_id, transport, private, lambda ctx: run_action(ctx, action), place)

    def resume(self, *, person_id: str, transport: str, private: bool = True) -> list[Reply]:
        """The person's unfinished conversation shown again (nothing when there is none)."""
        return self._run(person_id, transport, private, conversation.resume)

    def handle_file(self, *, person_id: str, data: bytes, transport: str) -> list[Reply]:
        """A CSV file of leavers a school contact sent: imported whole, or not at all."""

        def work(ctx: Ctx) -> list[Reply]:
            if not may_use(ctx.actor, "leaver") or ctx.actor.school_id is None:
                raise Refused(ctx.t("/{name} is not for your role. Type /help.", name="leaver"))
            result = import_csv(ctx, school_id=ctx.actor.school_id, data=data)
            return [result_reply(ctx.t, result)]

        return self._run(person_id, transport, True, work)

    def deliver(self, *, person_id: str, via: str, send: Callable[[Reply], bool]) -> int:
        """Hand the person's pending messages to `send`; mark those it confirmed as sent."""
        sent = 0
        with session_scope(self.engine) as session:
            pending: list[OutboxMessage] = list(outbox.pending_for(session, person_id=person_id))
            for message in pending:
                if message.replaces_id is not None:  # this transport cannot edit what it showed
                    outbox.drop(session, message)
                    continue
                if send(outbox.reply_of(message)):
                    outbox.mark_sent(session, message, via=via)
                    sent += 1
        return sent
