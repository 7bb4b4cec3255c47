"""festival

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:41:31.109908
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "festivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("slug", sa.String(length=140), nullable=False),
        sa.Column("starts_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_festivals_window")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_festivals")),
        sa.UniqueConstraint("slug", name=op.f("uq_festivals_slug")),
    )
    with op.batch_alter_table("festivals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_festivals_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_festivals_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("festival_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("starts_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hold_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("draft", "armed", "closed", name="dealstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("returned_units", sa.Integer(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_deals_window")),
        sa.CheckConstraint("per_buyer_limit >= 1", name=op.f("ck_deals_limit_positive")),
        sa.CheckConstraint("stock >= 1", name=op.f("ck_deals_stock_positive")),
        sa.ForeignKeyConstraint(
            ["festival_id"], ["festivals.id"], name=op.f("fk_deals_festival_id_festivals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_deals_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_deals_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deals")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.create_index("ix_deals_festival_status", ["festival_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_deals_merchant_id"), ["merchant_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deals_merchant_id"))
        batch_op.drop_index("ix_deals_festival_status")

    op.drop_table("deals")
    with op.batch_alter_table("festivals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_festivals_starts_at"))
        batch_op.drop_index(batch_op.f("ix_festivals_ends_at"))

    op.drop_table("festivals")
