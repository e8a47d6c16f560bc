"""scan_close: when voting on each question of a scan was closed (the moment the close arrived)

A mark that arrived before the close counts, also when it is processed after it (Slack's
requests are acknowledged first and worked on after).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_close",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("factor", sa.Integer(), nullable=False),
        sa.Column("closed_at", bot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["scan_session.id"]),
        sa.PrimaryKeyConstraint("session_id", "factor"),
    )


def downgrade() -> None:
    op.drop_table("scan_close")
