"""outbox_unsent_by_person: a person's unsent messages found without walking their history;
and the digest's leavers of the last year counted from an index alone

Leasing a person's due messages (`bot.core.messaging.leases`) asks, per message, whether an
earlier unsent one of the same person is leased or waits to be tried again. With only the
`person_id` index each of those questions read the person's whole outbox history (thousands
of rows for a busy broker after a few years); this partial index holds only the unsent rows.

The digest counts the leavers whose exit lies in the last year, how many were in view before
they left and how many went on structurally: with only an index of the exit date it read
each of those cases' rows (some 85,000 at 500,000 cases, ~190 ms); an index of the exit
date, state, creation and destination answers it alone (~20 ms) and replaces the exit
date's own index.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSENT = "sent_at IS NULL AND dropped_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_unsent_by_person",
        "outbox",
        ["person_id", "id"],
        sqlite_where=sa.text(UNSENT),
        postgresql_where=sa.text(UNSENT),
    )
    op.create_index(
        "ix_case_exit_state", "cases", ["expected_exit", "state", "created_at", "destination"]
    )
    op.drop_index("ix_cases_expected_exit", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_expected_exit", "cases", ["expected_exit"])
    op.drop_index("ix_case_exit_state", table_name="cases")
    op.drop_index("ix_outbox_unsent_by_person", table_name="outbox")
