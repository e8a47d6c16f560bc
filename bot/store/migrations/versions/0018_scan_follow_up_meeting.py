"""the Participatiescan's follow-up meeting: when the whole table meets again (/scan plan)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.store.types import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scan_session") as batch:
        batch.add_column(sa.Column("meeting_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("meeting_where", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_session") as batch:
        batch.drop_column("meeting_where")
        batch.drop_column("meeting_at")
