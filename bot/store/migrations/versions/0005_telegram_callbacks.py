"""telegram callbacks: button actions too long for callback data, kept under a short token

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telegram_callback",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    with op.batch_alter_table("telegram_callback") as batch:
        batch.create_index("ix_telegram_callback_issued_at", ["issued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("telegram_callback") as batch:
        batch.drop_index("ix_telegram_callback_issued_at")
    op.drop_table("telegram_callback")
