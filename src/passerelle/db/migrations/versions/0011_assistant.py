"""assistant

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 20:55:00
"""

from collections.abc import Sequence

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the assistant work


def downgrade() -> None:
    pass
