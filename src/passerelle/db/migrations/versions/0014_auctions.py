"""auctions

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 21:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auctions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("starting_amount", sa.BigInteger(), nullable=False),
        sa.Column("increment_amount", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("snipe_window_seconds", sa.Integer(), nullable=False),
        sa.Column("extend_seconds", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "won", "paid", "unsold", "unpaid", name="auctionstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("price_amount", sa.BigInteger(), nullable=False),
        sa.Column("leader_id", sa.Integer(), nullable=True),
        sa.Column("leader_max_amount", sa.BigInteger(), nullable=False),
        sa.Column("bids_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pay_by", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_auctions_window")),
        sa.CheckConstraint("starting_amount >= 1 AND increment_amount >= 1", name=op.f("ck_auctions_amounts_positive")),
        sa.ForeignKeyConstraint(["leader_id"], ["users.id"], name=op.f("fk_auctions_leader_id_users")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_auctions_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_auctions_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_auctions_seller_id_users")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_auctions_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auctions")),
    )
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auctions_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_auctions_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_auctions_status_ends", ["status", "ends_at"], unique=False)

    op.create_table(
        "auction_bids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("bidder_id", sa.Integer(), nullable=False),
        sa.Column("max_amount", sa.BigInteger(), nullable=False),
        sa.Column("price_after", sa.BigInteger(), nullable=False),
        sa.Column("leading_after", sa.Boolean(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_auction_bids_auction_id_auctions"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bidder_id"], ["users.id"], name=op.f("fk_auction_bids_bidder_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auction_bids")),
    )
    with op.batch_alter_table("auction_bids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auction_bids_auction_id"), ["auction_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("auction_bids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auction_bids_auction_id"))

    op.drop_table("auction_bids")
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_index("ix_auctions_status_ends")
        batch_op.drop_index(batch_op.f("ix_auctions_room_id"))
        batch_op.drop_index(batch_op.f("ix_auctions_merchant_id"))

    op.drop_table("auctions")
