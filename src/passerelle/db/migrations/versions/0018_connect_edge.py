"""connect_edge: the read position of the tracked-link edge's click log

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connect_edge_cursors",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_connect_edge_cursors")),
    )


def downgrade() -> None:
    op.drop_table("connect_edge_cursors")
