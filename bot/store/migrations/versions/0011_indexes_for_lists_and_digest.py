"""indexes for the queue, the lists and the digest at national scale

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the composite indexes begin with the columns the single ones covered
    op.drop_index("ix_cases_home_municipality_code", table_name="cases")
    op.drop_index("ix_cases_owner_id", table_name="cases")
    op.create_index("ix_case_home_state", "cases", ["home_municipality_code", "state"])
    op.create_index("ix_case_owner_state", "cases", ["owner_id", "state"])
    op.create_index("ix_cases_created_at", "cases", ["created_at"])
    op.create_index("ix_cases_expected_exit", "cases", ["expected_exit"])
    op.create_index("ix_audit_action_at", "audit_event", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_action_at", table_name="audit_event")
    op.drop_index("ix_cases_expected_exit", table_name="cases")
    op.drop_index("ix_cases_created_at", table_name="cases")
    op.drop_index("ix_case_owner_state", table_name="cases")
    op.drop_index("ix_case_home_state", table_name="cases")
    op.create_index("ix_cases_owner_id", "cases", ["owner_id"])
    op.create_index("ix_cases_home_municipality_code", "cases", ["home_municipality_code"])
