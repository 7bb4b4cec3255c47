"""deal checkouts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:50:47.770689
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "deal_checkouts",
        sa.Column("reservation_seq", sa.BigInteger(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], name=op.f("fk_deal_checkouts_deal_id_deals")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_deal_checkouts_order_id_orders")),
        sa.PrimaryKeyConstraint("reservation_seq", name=op.f("pk_deal_checkouts")),
        sa.UniqueConstraint("order_id", name=op.f("uq_deal_checkouts_order_id")),
    )
    with op.batch_alter_table("deal_checkouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deal_checkouts_deal_id"), ["deal_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deal_checkouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_checkouts_deal_id"))

    op.drop_table("deal_checkouts")
