"""telegram updates recorded before Telegram is told they arrived

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_update",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", bot.store.types.EncryptedText(), nullable=True),
        sa.Column("received_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_until", bot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_at", bot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("telegram_update") as batch:
        batch.create_index("ix_telegram_update_handled_at", ["handled_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_update") as batch:
        batch.drop_index("ix_telegram_update_handled_at")
    op.drop_table("telegram_update")
