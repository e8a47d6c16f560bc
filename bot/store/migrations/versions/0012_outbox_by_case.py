"""the outbox by case: the cards shown of a case, found without reading the whole outbox

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a claim, a transfer, a withdrawal … bring every card of the case up to date
    # (`outbox.shown_of`); without this index each of them read the whole outbox
    op.create_index("ix_outbox_case_ref", "outbox", ["case_ref"])


def downgrade() -> None:
    op.drop_index("ix_outbox_case_ref", table_name="outbox")
