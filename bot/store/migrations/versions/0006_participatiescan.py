"""participatiescan: sessions, votes, points and the improvement agenda

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 11:52:36.083918
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "scan_facilitator",
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("named_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("named_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_table(
        "scan_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("open_place", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("facilitator_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("deadline", bot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", bot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_place"),
    )
    with op.batch_alter_table("scan_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_session_place"), ["place"], unique=False)

    op.create_table(
        "scan_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("created_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scan_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scan_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_action_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_action_session_id"), ["session_id"], unique=False)

    op.create_table(
        "scan_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("group_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scan_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "person_id", name="uq_scan_participant"),
    )
    with op.batch_alter_table("scan_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scan_participant_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "scan_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("proposed_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scan_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "factor", name="uq_scan_point"),
    )
    with op.batch_alter_table("scan_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_point_session_id"), ["session_id"], unique=False)

    op.create_table(
        "scan_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("mark", sa.Integer(), nullable=False),
        sa.Column("updated_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scan_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "factor", "person_id", name="uq_scan_vote"),
    )
    with op.batch_alter_table("scan_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_vote_session_id"), ["session_id"], unique=False)

    op.create_table(
        "scan_point_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["scan_point.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("point_id", "person_id", name="uq_scan_point_vote"),
    )
    with op.batch_alter_table("scan_point_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_point_vote_point_id"), ["point_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("scan_point_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_point_vote_point_id"))

    op.drop_table("scan_point_vote")
    with op.batch_alter_table("scan_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_vote_session_id"))

    op.drop_table("scan_vote")
    with op.batch_alter_table("scan_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_point_session_id"))

    op.drop_table("scan_point")
    with op.batch_alter_table("scan_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_participant_session_id"))

    op.drop_table("scan_participant")
    with op.batch_alter_table("scan_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_action_session_id"))
        batch_op.drop_index(batch_op.f("ix_scan_action_owner_id"))

    op.drop_table("scan_action")
    with op.batch_alter_table("scan_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_session_place"))

    op.drop_table("scan_session")
    op.drop_table("scan_facilitator")
