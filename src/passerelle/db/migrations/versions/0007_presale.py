"""presale

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("awaiting_deposit", "deposit_paid", "completed", "forfeited", "cancelled")


def upgrade() -> None:
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deposit_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("deposit_credit_amount", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("presale_starts_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("balance_due_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("presale_stock", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("presale_taken", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint("presale_stock_range", "presale_stock >= 0 AND presale_stock <= stock")
        batch_op.create_check_constraint("presale_taken_range", "presale_taken >= 0 AND presale_taken <= presale_stock")

    op.create_table(
        "presale_deposits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="presalestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("deposit_order_id", sa.Integer(), nullable=True),
        sa.Column("balance_order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_presale_deposits_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["balance_order_id"], ["orders.id"], name=op.f("fk_presale_deposits_balance_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_presale_deposits_buyer_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_presale_deposits_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["deposit_order_id"], ["orders.id"], name=op.f("fk_presale_deposits_deposit_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presale_deposits")),
        sa.UniqueConstraint("deposit_order_id", name=op.f("uq_presale_deposits_deposit_order_id")),
    )
    with op.batch_alter_table("presale_deposits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_presale_deposits_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index("ix_presale_deposits_deal_buyer", ["deal_id", "buyer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("presale_deposits", schema=None) as batch_op:
        batch_op.drop_index("ix_presale_deposits_deal_buyer")
        batch_op.drop_index(batch_op.f("ix_presale_deposits_buyer_id"))
    op.drop_table("presale_deposits")
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_constraint("presale_taken_range", type_="check")
        batch_op.drop_constraint("presale_stock_range", type_="check")
        for column in (
            "presale_taken",
            "presale_stock",
            "balance_due_at",
            "presale_starts_at",
            "deposit_credit_amount",
            "deposit_amount",
        ):
            batch_op.drop_column(column)
