"""festival big-screen aggregates

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screen_counts",
        sa.Column("festival_id", sa.Integer(), nullable=False),
        sa.Column(
            "dimension",
            sa.Enum(
                "total", "country", "merchant", "room", "second", "peak", name="dimension", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["festival_id"], ["festivals.id"], name=op.f("fk_screen_counts_festival_id_festivals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("festival_id", "dimension", "key", "currency", name=op.f("pk_screen_counts")),
    )
    op.create_table(
        "screen_counted_orders",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("festival_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["festival_id"],
            ["festivals.id"],
            name=op.f("fk_screen_counted_orders_festival_id_festivals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_screen_counted_orders_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_screen_counted_orders")),
    )
    with op.batch_alter_table("screen_counted_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screen_counted_orders_festival_id"), ["festival_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screen_counted_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screen_counted_orders_festival_id"))
    op.drop_table("screen_counted_orders")
    op.drop_table("screen_counts")
