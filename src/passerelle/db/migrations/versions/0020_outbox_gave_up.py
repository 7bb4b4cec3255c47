"""outbox_gave_up: when the outbox gave a message up, for the operators' console

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 02:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Only the given-up messages are indexed: the hot path's inserts never touch this index.
_GAVE_UP = "gave_up_at IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gave_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_outbox_messages_gave_up",
            ["gave_up_at"],
            unique=False,
            sqlite_where=sa.text(_GAVE_UP),
            postgresql_where=sa.text(_GAVE_UP),
        )
    # Messages given up before this column: processed after their eighth attempt with an
    # error kept (one that succeeded at the eighth try looks the same; queuing it again from
    # the console is harmless, the handlers being idempotent).
    op.execute(
        "UPDATE outbox_messages SET gave_up_at = processed_at"
        " WHERE processed_at IS NOT NULL AND attempts >= 8 AND last_error != ''"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_gave_up")
        batch_op.drop_column("gave_up_at")
