"""checkout_batching

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 02:30:00
"""

from collections.abc import Sequence

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # reserved: filled in by the checkout_batching work


def downgrade() -> None:
    pass
