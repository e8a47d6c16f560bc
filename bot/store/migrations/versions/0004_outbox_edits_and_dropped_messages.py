"""outbox: the platform's reference of a sent message, edits of earlier messages, dropped ones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(
            sa.Column("platform_ref", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("dropped_at", bot.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_outbox_replaces_id", ["replaces_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_replaces_id")
        batch.drop_column("dropped_at")
        batch.drop_column("replaces_id")
        batch.drop_column("platform_ref")
