"""logistics and traceability

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 20:40:00
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the logistics and traceability work


def downgrade() -> None:
    pass
