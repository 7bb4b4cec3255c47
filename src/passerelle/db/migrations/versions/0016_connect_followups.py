"""connect_followups

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 23:45:00
"""

from collections.abc import Sequence

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the connect_followups work


def downgrade() -> None:
    pass
