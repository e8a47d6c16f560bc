"""The core as one object: the database, the region, and the doors transports come through.

A transport identifies who is speaking, then calls `handle_text` or `handle_action`; it gets
replies back and reads what to deliver from the outbox. Each call is one unit of work.
A platform with forms of its own (Slack's modals) submits all of a form's answers at once
with `submit_form`: checked with the form's own parsers, then confirmed like the guided
conversation confirms them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.core import clock, conversation
from bot.core.cases import unreachable
from bot.core.commands import (
    action_writes,
    answer_text,
    may_use,
    run_action,
    run_command,
    submittable,
)
from bot.core.commands import writes as command_writes
from bot.core.context import Ctx, system_person
from bot.core.conversation.fields import ParseEnv
from bot.core.errors import Refused
from bot.core.forms import FORMS
from bot.core.i18n import translator
from bot.core.intake.columns import sheet_named
from bot.core.intake.csv_import import import_csv
from bot.core.intake.import_reply import result_reply
from bot.core.messaging import outbox
from bot.core.replies import Reply
from bot.core.text import clean
from bot.region import Region
from bot.store import queries
from bot.store.db import run_unit, session_scope
from bot.store.models import OutboxMessage, Person

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class FormOutcome:
    """A form submitted whole: problems by field name (nothing was saved), or the replies."""

    errors: dict[str, str] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)


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
        arrived: datetime | None = None,
    ) -> Ctx:
        return Ctx(
            session=session,
            region=self.region,
            actor=actor,
            transport=transport,
            default_language=self.default_language,
            private=private,
            place=place,
            arrived=arrived,
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
        *,
        writes: bool = False,
        arrived: datetime | None = None,
        person: Person | None = None,
    ) -> list[Reply]:
        """`work` as the person, in one unit of work. A command that only reads never waits
        for a writer (`run_unit`); `writes=True` when the work always writes. `person`: their
        row as the transport read it a moment ago to learn who spoke (`common.who`), taken
        into this unit as it is instead of read again."""

        def unit(session: Session) -> list[Reply]:
            actor = _actor(session, person_id, person)
            if actor is None or not actor.active:
                return [self.not_registered()]
            ctx = self.ctx(
                session, actor, transport=transport, private=private, place=place, arrived=arrived
            )
            try:
                with session.begin_nested():
                    return work(ctx)
            except Refused as refusal:
                # the savepoint is rolled back: a refused command changes nothing
                return [Reply(text=refusal.message, error=True)]

        if writes:
            with session_scope(self.engine) as session:
                return unit(session)
        return run_unit(self.engine, unit)

    def handle_text(
        self,
        *,
        person_id: str,
        text: str,
        transport: str,
        private: bool = True,
        place: str | None = None,
        arrived: datetime | None = None,
        actor: Person | None = None,
    ) -> list[Reply]:
        """A line a person typed: a command, or an answer in a conversation.

        `place` is where it was typed (a channel or group, "terminal"), for a scan session;
        `arrived` when the transport received it, if it works on requests after acknowledging
        them (the order of a scan's votes and its close); `actor` the person's row if the
        transport has just read it (then it is not read again)."""
        text = clean(text)
        if text.strip().startswith("/"):
            return self._run(
                person_id,
                transport,
                private,
                lambda ctx: run_command(ctx, text),
                place,
                writes=command_writes(text),
                arrived=arrived,
                person=actor,
            )
        return self._run(
            person_id,
            transport,
            private,
            lambda ctx: answer_text(ctx, text),
            place,
            person=actor,
        )

    def handle_action(
        self,
        *,
        person_id: str,
        action: str,
        transport: str,
        private: bool = True,
        place: str | None = None,
        arrived: datetime | None = None,
        actor: Person | None = None,
    ) -> list[Reply]:
        action = clean(action)
        return self._run(
            person_id,
            transport,
            private,
            lambda ctx: run_action(ctx, action),
            place,
            writes=action_writes(action),
            arrived=arrived,
            person=actor,
        )

    def resume(self, *, person_id: str, transport: str, private: bool = True) -> list[Reply]:
        """The person's unfinished conversation shown again (nothing when there is none)."""
        return self._run(person_id, transport, private, lambda ctx: conversation.resume(ctx, FORMS))

    def handle_file(
        self,
        *,
        person_id: str,
        data: bytes,
        transport: str,
        filename: str = "",
        text: str = "",
    ) -> list[Reply]:
        """A file of leavers a school contact sent (CSV or Excel workbook, `filename` as their
        computer named it, `text` the message sent with it, which may name the workbook's
        sheet: "blad Leerlingen"): imported whole, or not at all."""

        def work(ctx: Ctx) -> list[Reply]:
            if not may_use(ctx.actor, "leaver") or ctx.actor.school_id is None:
                raise Refused(ctx.t("/{name} is not for your role. Type /help.", name="leaver"))
            result = import_csv(
                ctx,
                school_id=ctx.actor.school_id,
                data=data,
                filename=filename,
                sheet=sheet_named(text),
            )
            return [result_reply(ctx.t, result)]

        return self._run(person_id, transport, True, work, writes=True)

    def submit_form(
        self,
        *,
        person_id: str,
        form_name: str,
        values: Mapping[str, str],
        context: Mapping[str, Any],
        transport: str,
    ) -> FormOutcome:
        """All answers of form `form_name` at once (`values` by field name, as typed or
        chosen): checked with the form's own parsers; if all are right, confirmed with the
        form's `on_confirm` and `context` (what the conversation would have started with),
        inside a savepoint, so that a refusal changes nothing."""
        form = FORMS[form_name]
        command = submittable(form_name)
        if command is None or command.form is None:
            raise KeyError(form_name)  # no row of the table shows this form whole
        rules = command.form
        with session_scope(self.engine) as session:
            actor = queries.person_by_id(session, person_id=person_id)
            if actor is None or not actor.active:
                return FormOutcome(replies=[self.not_registered()])
            ctx = self.ctx(session, actor, transport=transport, private=True)
            own = dict(context)
            if rules.own_school:
                own["school_id"] = actor.school_id
            if not may_use(actor, command.name) or (rules.own_school and actor.school_id is None):
                refusal = ctx.t("/{name} is not for your role. Type /help.", name=command.name)
                return FormOutcome(replies=[Reply(text=refusal, error=True)])
            env = ParseEnv(t=ctx.t, today=clock.today(ctx.region.tz), session=session)
            parsed, errors = rules.check(form, values, env)
            if errors:
                return FormOutcome(errors=errors)
            try:
                with session.begin_nested():
                    return FormOutcome(replies=form.on_confirm(ctx, parsed, own))
            except Refused as refusal:
                return FormOutcome(replies=[Reply(text=refusal.message, error=True)])

    def unreachable(self, person_id: str, via: str, reason: str) -> bool:
        """A transport cannot reach `person_id` for good (`cases.unreachable`)."""
        with session_scope(self.engine) as session:
            ctx = self.ctx(session, system_person(), transport=via, private=True)
            return unreachable.person_unreachable(ctx, person_id=person_id, via=via, reason=reason)

    def hold_unreached(self, person_ids: list[str], reached: Callable[[Person], bool]) -> int:
        """Of these people with messages waiting, hold those of the marked ones whom no
        running transport reaches (`reached`) and send their cases on; how many were."""

        def marked(session: Session) -> list[Person]:
            query = select(Person).where(
                col(Person.id).in_(person_ids), col(Person.unreachable).is_not(None)
            )
            return [p for p in session.exec(query).all() if p.unreachable and not reached(p)]

        with session_scope(self.engine, write=False) as session:  # mostly nobody: no write
            if not marked(session):
                return 0
        with session_scope(self.engine) as session:
            ctx = self.ctx(session, system_person(), transport="scheduler", private=True)
            held = marked(session)
            for person in held:
                unreachable.hold(ctx, person)
            return len(held)

    def lasting_failure(self, message_id: int, via: str) -> None:
        with session_scope(self.engine) as session:
            ctx = self.ctx(session, system_person(), transport=via, private=True)
            unreachable.lasting_failure(ctx, message_id=message_id, via=via)

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


def _actor(session: Session, person_id: str, known: Person | None) -> Person | None:
    """The person a unit of work runs as: `known` (their row, read by the transport in a
    unit of its own a moment ago) taken into `session` without asking the database again,
    or read now."""
    if known is not None and known.id == person_id:
        return session.merge(known, load=False)
    return queries.person_by_id(session, person_id=person_id)
