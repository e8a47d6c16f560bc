"""The tables. Names follow the domain; personal fields are marked so erasure can find them.

One thing: the schema, read in one place. Every table of the product is here, with its indexes
and constraints beside its columns, so that a migration is checked against one file
(tests/store/test_migrations.py) and nobody has to look for where a table is declared.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.store.types import EncryptedJSON, EncryptedText, UTCDateTime

# Fields of a case that hold personal data: only stored with consent, erased on request and
# after the retention period. Everything else is pseudonymous (the school's own reference).
PERSONAL_CASE_FIELDS: tuple[str, ...] = ("name", "contact", "notes")
# Every column that may hold a young person's personal data has an Encrypted type: those
# above, free text people type about a case (a reason, where they went), the answers of a
# form in progress and what the outbox keeps of a message (a case card shows the name).


class Municipality(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=6)
    name: str = Field(max_length=100, unique=True)


class School(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    type: str = Field(max_length=10)
    municipality_code: str = Field(foreign_key="municipality.code", max_length=6)


class Person(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    municipality_code: str | None = Field(default=None, max_length=6)
    school_id: str | None = Field(default=None, max_length=40)
    slack_id: str | None = Field(default=None, max_length=40, unique=True)
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    # Microsoft Teams (bot/region/teams_identity.py): the Entra object id, lower case; and the
    # user principal name when that is what the coordinator gave, kept after it is resolved
    # (teams_upn set and teams_id None: not resolved yet, not reachable on Teams until then)
    teams_id: str | None = Field(default=None, max_length=36, unique=True)
    teams_upn: str | None = Field(default=None, max_length=113, unique=True)
    language: str | None = Field(default=None, max_length=2)
    active: bool = True
    # the transports that refused to reach them for good (an account deactivated, the bot
    # blocked): transport → {"reason": the platform's word, "since": ISO time}; None: none
    unreachable: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("school_id", "student_ref", name="uq_case_school_student"),
        Index("ix_case_state_due", "state", "due_at"),
        # the digest's counts per municipality and state, read from the index alone
        Index("ix_case_home_state", "home_municipality_code", "state"),
        # a broker's own cases in the queue (/cases)
        Index("ix_case_owner_state", "owner_id", "state"),
        # the digest's leavers of the last year (by exit date), and how many of them were in
        # view in time and went on structurally, read from the index alone
        Index("ix_case_exit_state", "expected_exit", "state", "created_at", "destination"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=12, unique=True)
    school_id: str = Field(foreign_key="school.id", max_length=40, index=True)
    registered_by: str = Field(max_length=40)
    student_ref: str = Field(max_length=40)
    name: str | None = Field(default=None, max_length=200, sa_type=EncryptedText)
    contact: str | None = Field(default=None, max_length=300, sa_type=EncryptedText)
    notes: str | None = Field(default=None, max_length=2000, sa_type=EncryptedText)
    birth_year: int | None = None
    home_municipality_code: str = Field(max_length=6)
    responsible_municipality_code: str = Field(max_length=6, index=True)
    assigned_person_id: str | None = Field(default=None, max_length=40)
    programme: str = Field(max_length=10)
    vso_profile: str | None = Field(default=None, max_length=30)
    expected_exit: date  # the digest: who left in the last year (`ix_case_exit_state`)
    early_leaver: bool = False
    urgent: bool = False
    destination_wish: str = Field(default="unknown", max_length=30)
    consent: str = Field(default="not_asked", max_length=10)
    consent_date: date | None = None
    state: str = Field(default="forecast", max_length=12)
    owner_id: str | None = Field(default=None, max_length=40)
    destination: str | None = Field(default=None, max_length=30)
    placement_org: str | None = Field(default=None, max_length=200, sa_type=EncryptedText)
    placement_start: date | None = None
    closed_reason: str | None = Field(default=None, max_length=300, sa_type=EncryptedText)
    # who in another region received a case handed over outside the region (their contact
    # details as the coordinator typed them: a professional's, not the young person's, but
    # free text that may name the young person, so encrypted too)
    handed_over_to: str | None = Field(default=None, max_length=300, sa_type=EncryptedText)
    # the follow-up (0-based, into the region's followup_days) the owner was asked and has
    # not answered yet; None when no follow-up question is open
    followup_open: int | None = None
    followups_done: int = 0
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)  # the digest: new this week
    updated_at: datetime = Field(sa_type=UTCDateTime)
    personal_data_erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1


class AuditEvent(SQLModel, table=True):
    """Who did what to which case, when, through which transport. Never personal data."""

    __tablename__ = "audit_event"
    # the digest: this week's events of one kind (dropped out)
    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_id: str = Field(max_length=40)
    transport: str = Field(max_length=12)
    action: str = Field(max_length=40)
    case_ref: str | None = Field(default=None, max_length=12, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Conversation(SQLModel, table=True):
    """A guided conversation in progress: which form, which step, the answers so far."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=40, unique=True)
    form: str = Field(max_length=40)
    step: str = Field(max_length=40)
    answers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False)
    )
    context: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    transport: str = Field(max_length=12)
    started_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """A message that matters, recorded before it is sent and marked sent once confirmed."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "sent_at", "not_before"),
        # a person's unsent messages in the order they were recorded, without walking their
        # whole history (`leases`: what is due of whom, who is held, who waits behind whom)
        Index(
            "ix_outbox_unsent_by_person",
            "person_id",
            "id",
            sqlite_where=text("sent_at IS NULL AND dropped_at IS NULL"),
            postgresql_where=text("sent_at IS NULL AND dropped_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(max_length=40, index=True)
    kind: str = Field(max_length=30)
    # the cards shown of a case are found by it (`outbox.shown_of`)
    case_ref: str | None = Field(default=None, max_length=12, index=True)
    payload: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False)
    )
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    not_before: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_via: str | None = Field(default=None, max_length=12)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # where the platform keeps the sent message ("channel:ts" on Slack), so it can be edited
    platform_ref: str | None = Field(default=None, max_length=100)
    # an edit: the outbox id of the earlier message that should show this payload instead
    replaces_id: int | None = Field(default=None, index=True)
    # not sent and never to be sent (the case's personal data was erased meanwhile)
    dropped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Task(SQLModel, table=True):
    """Work that falls due at a moment: a handover window opening, a reminder, a follow-up.

    The sweep claims due rows (a lease, so another instance skips them), runs each in its own
    transaction and marks it done. A handler re-checks the case when it runs, so a task whose
    reason went away (the case was claimed meanwhile) simply does nothing.
    """

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_due", "done_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    case_ref: str | None = Field(default=None, max_length=12, index=True)
    person_id: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)


class RoundRequest(SQLModel, table=True):
    """One school contact asked for their expected leavers in one forecasting round."""

    __tablename__ = "round_request"
    __table_args__ = (UniqueConstraint("round_date", "person_id", name="uq_round_person"),)

    id: int | None = Field(default=None, primary_key=True)
    round_date: date
    person_id: str = Field(max_length=40)
    school_id: str = Field(max_length=40)
    asked_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reminded_on: date | None = None
    coordinator_told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DigestSnapshot(SQLModel, table=True):
    """The figures of one week's digest, kept so next week's can show the trend."""

    __tablename__ = "digest_snapshot"

    week: str = Field(primary_key=True, max_length=10)  # ISO week, "2026-W48"
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class SlackEvent(SQLModel, table=True):
    """A Slack event id some instance took: Slack's retries of it are acknowledged, not processed.

    Written with an insert that does nothing when the id is there already, so of several
    instances receiving the same event exactly one processes it. Rows older than a day are
    pruned (Slack retries within minutes).
    """

    __tablename__ = "slack_event"

    event_id: str = Field(primary_key=True, max_length=64)
    seen_at: datetime = Field(sa_type=UTCDateTime, index=True)


class TelegramCallback(SQLModel, table=True):
    """A button action too long for Telegram's 64 bytes of callback data, kept under a token.

    The token is derived from the action, so issuing it again (another instance, another
    render) finds the same row. `issued_at` is when a button last carried it; rows not issued
    for a long time are pruned, and pressing such an old button says it no longer works.
    """

    __tablename__ = "telegram_callback"

    token: str = Field(primary_key=True, max_length=32)
    action: str = Field(max_length=64)
    issued_at: datetime = Field(sa_type=UTCDateTime, index=True)


class TelegramUpdate(SQLModel, table=True):
    """An update Telegram delivered, recorded before Telegram was told it arrived (the
    webhook's 200, or the next getUpdates offset), so that a process killed right after
    cannot lose it: a start handles what is recorded and not taken.

    `id` is Telegram's update_id. `payload` is the update as Telegram sent it (it may quote
    what someone typed, so it is encrypted) until it is handled, then emptied.
    `taken_until`: the instance handling it holds it until then (a lease, so two instances
    never handle the same update, and one that died mid-way leaves it to another);
    `handled_at` once it is done. Rows handled more than a day ago are pruned; until then the
    id also keeps a resent update from being handled twice.
    """

    __tablename__ = "telegram_update"

    id: int = Field(  # Telegram's update_id
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    payload: str | None = Field(default=None, sa_type=EncryptedText)
    received_at: datetime = Field(sa_type=UTCDateTime)
    taken_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class PlaceMessage(SQLModel, table=True):
    """Which message on a platform shows a reply that is updated in place (`Reply.updates`).

    `key` is the reply's name ("scan:12:f3"), `place` where it was posted ("slack:C123") and
    `platform_ref` how the platform finds the message again ("C123:1700000000.000100" on
    Slack). Kept in the database so that a later reply with the same key edits that message,
    also after a restart and on another instance.
    """

    __tablename__ = "place_message"

    key: str = Field(primary_key=True, max_length=64)
    place: str = Field(max_length=100)
    platform_ref: str = Field(max_length=200)
    updated_at: datetime = Field(sa_type=UTCDateTime)


# --- the Participatiescan (product.md 5.5): aggregates and agenda, never a leaver's data ------


class ScanFacilitator(SQLModel, table=True):
    """A person the coordinator named to run scans (the coordinator may always)."""

    __tablename__ = "scan_facilitator"

    person_id: str = Field(primary_key=True, max_length=40)
    named_by: str = Field(max_length=40)
    named_at: datetime = Field(sa_type=UTCDateTime)


class ScanSession(SQLModel, table=True):
    """One scan in one place (a channel, a group, the terminal).

    `open_place` is the place while the session is open and None once it is closed: its unique
    index lets one place have one open session, however many instances start one at once.
    `factor` is the factor being scanned (0: the warm-up question); `stage` says what happens
    with it: voting ("vote"), voting closed ("closed"), or the theme's improvement points
    ("points").
    """

    __tablename__ = "scan_session"

    id: int | None = Field(default=None, primary_key=True)
    place: str = Field(max_length=100, index=True)
    open_place: str | None = Field(default=None, max_length=100, unique=True)
    language: str = Field(max_length=2)
    facilitator_id: str = Field(max_length=40)
    state: str = Field(default="open", max_length=10)  # open | closed
    stage: str = Field(default="vote", max_length=10)  # vote | closed | points
    factor: int = 0
    mode: str = Field(default="live", max_length=10)  # live | async
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the follow-up meeting of the whole table, once the facilitator planned it (/scan plan)
    meeting_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    meeting_where: str | None = Field(default=None, max_length=200)


class ScanParticipant(SQLModel, table=True):
    """Who sits at the table for which group (named by the facilitator)."""

    __tablename__ = "scan_participant"
    __table_args__ = (UniqueConstraint("session_id", "person_id", name="uq_scan_participant"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="scan_session.id", index=True)
    person_id: str = Field(max_length=40)
    group_id: str = Field(max_length=40)


class ScanVote(SQLModel, table=True):
    """One participant's mark for one factor (0: the warm-up). Only ever shown as aggregates."""

    __tablename__ = "scan_vote"
    __table_args__ = (UniqueConstraint("session_id", "factor", "person_id", name="uq_scan_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="scan_session.id", index=True)
    factor: int
    person_id: str = Field(max_length=40)
    mark: int
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ScanClose(SQLModel, table=True):
    """When voting on a question of a scan was closed: the moment the close arrived. A mark
    that arrived before it counts, also when it is processed after it."""

    __tablename__ = "scan_close"

    session_id: int = Field(foreign_key="scan_session.id", primary_key=True)
    factor: int = Field(primary_key=True)
    closed_at: datetime = Field(sa_type=UTCDateTime)


class ScanPoint(SQLModel, table=True):
    """A weak factor proposed as an improvement point after its theme; `chosen` once the
    facilitator confirmed it."""

    __tablename__ = "scan_point"
    __table_args__ = (UniqueConstraint("session_id", "factor", name="uq_scan_point"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="scan_session.id", index=True)
    factor: int
    chosen: bool = False
    proposed_at: datetime = Field(sa_type=UTCDateTime)


class ScanPointVote(SQLModel, table=True):
    """A participant's vote for an improvement point (pressed again, taken back)."""

    __tablename__ = "scan_point_vote"
    __table_args__ = (UniqueConstraint("point_id", "person_id", name="uq_scan_point_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    point_id: int = Field(foreign_key="scan_point.id", index=True)
    person_id: str = Field(max_length=40)


class ScanAction(SQLModel, table=True):
    """An action of the improvement agenda: what, who pulls it (the owner), by when, how far."""

    __tablename__ = "scan_action"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="scan_session.id", index=True)
    factor: int
    text: str = Field(max_length=300)
    owner_id: str = Field(max_length=40, index=True)
    due: date
    status: str = Field(default="open", max_length=10)  # open | underway | done | stuck
    note: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A one-time link that binds a Telegram account (or a Teams account, by `/start TOKEN`) to a
    person (`/admin invite PERSON`)."""

    __tablename__ = "invite"

    token: str = Field(primary_key=True, max_length=64)
    person_id: str = Field(max_length=40, index=True)
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    used_by_teams_id: str | None = Field(default=None, max_length=36)


class BotSetting(SQLModel, table=True):
    """A small fact a transport learns at start that the core needs (the Telegram bot's
    username, for invite links)."""

    __tablename__ = "bot_setting"

    key: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)


class TeamsConversation(SQLModel, table=True):
    """Where the Teams bot can write to: a person's personal chat (`key` "user:" + their
    Entra object id) or a channel or group chat ("conv:" + its conversation id), as the Bot
    Connector's conversation reference (JSON, the user's display name left out), stored when
    the app is installed there or someone writes there (bot/handlers/teams/references.py)."""

    __tablename__ = "teams_conversation"

    key: str = Field(primary_key=True, max_length=300)
    reference: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)
