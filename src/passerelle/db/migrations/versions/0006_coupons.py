"""coupons

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:13:27.340634
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "coupons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_spend_amount", sa.BigInteger(), nullable=False),
        sa.Column("discount_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_limit", sa.Integer(), nullable=True),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("starts_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("discount_amount > 0", name=op.f("ck_coupons_discount_positive")),
        sa.CheckConstraint("min_spend_amount >= discount_amount", name=op.f("ck_coupons_spend_covers_discount")),
        sa.CheckConstraint("per_buyer_limit >= 1", name=op.f("ck_coupons_per_buyer_positive")),
        sa.CheckConstraint(
            "total_limit IS NULL OR used_count <= total_limit", name=op.f("ck_coupons_within_total_limit")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_coupons_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
    )
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coupons_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "coupon_uses",
        sa.Column("coupon_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_coupon_uses_buyer_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.id"], name=op.f("fk_coupon_uses_coupon_id_coupons"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("coupon_id", "buyer_id", name=op.f("pk_coupon_uses")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discount_amount", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("discount_funder", sa.String(length=10), server_default="", nullable=False))

    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promotion_amount", sa.BigInteger(), server_default="0", nullable=False))

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coupon_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_purchases_coupon_id_coupons"), "coupons", ["coupon_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_column("promotion_amount")

    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_purchases_coupon_id_coupons"), type_="foreignkey")
        batch_op.drop_column("coupon_id")

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("discount_funder")
        batch_op.drop_column("discount_amount")

    op.drop_table("coupon_uses")
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupons_merchant_id"))

    op.drop_table("coupons")
