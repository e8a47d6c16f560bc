"""person_teams: a person's Microsoft Teams identity (Entra object id, or a UPN not resolved
yet), and the Teams account an invite bound

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(
            sa.Column("teams_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True)
        )
        batch.add_column(
            sa.Column("teams_upn", sqlmodel.sql.sqltypes.AutoString(length=113), nullable=True)
        )
        batch.create_unique_constraint("uq_person_teams_id", ["teams_id"])
        batch.create_unique_constraint("uq_person_teams_upn", ["teams_upn"])
    op.add_column(
        "invite",
        sa.Column("used_by_teams_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("invite") as batch:
        batch.drop_column("used_by_teams_id")
    with op.batch_alter_table("person") as batch:
        batch.drop_constraint("uq_person_teams_upn", type_="unique")
        batch.drop_constraint("uq_person_teams_id", type_="unique")
        batch.drop_column("teams_upn")
        batch.drop_column("teams_id")
