"""connect_followups: approval from delivery, scheduled and on-demand payouts, sample requests

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 23:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A commission's approval date is known once the order is delivered.
    with op.batch_alter_table("connect_commissions", schema=None) as batch_op:
        batch_op.alter_column("approve_at", existing_type=passerelle.db.base.UTCDateTime(timezone=True), nullable=True)

    with op.batch_alter_table("connect_payout_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="manual", nullable=False))
        batch_op.add_column(sa.Column("creator_id", sa.Integer(), nullable=True))

    op.create_table(
        "connect_payout_runs",
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("due_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ran_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("batch_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_connect_payout_runs")),
    )

    with op.batch_alter_table("connect_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample_stock", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("sample_limit", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_check_constraint("sample_stock_non_negative", "sample_stock >= 0")

    op.create_table(
        "connect_sample_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("address", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["connect_campaigns.id"],
            name=op.f("fk_connect_sample_requests_campaign_id_connect_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["connect_creators.id"],
            name=op.f("fk_connect_sample_requests_creator_id_connect_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_connect_sample_requests_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_connect_sample_requests_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_sample_requests")),
        sa.UniqueConstraint("campaign_id", "creator_id", "slot", name=op.f("uq_connect_sample_requests_campaign_id")),
    )
    with op.batch_alter_table("connect_sample_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_sample_requests_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_sample_requests_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index("ix_connect_sample_requests_merchant_status", ["merchant_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connect_sample_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_connect_sample_requests_merchant_status")
        batch_op.drop_index(batch_op.f("ix_connect_sample_requests_creator_id"))
        batch_op.drop_index(batch_op.f("ix_connect_sample_requests_campaign_id"))
    op.drop_table("connect_sample_requests")

    with op.batch_alter_table("connect_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_connect_campaigns_sample_stock_non_negative"), type_="check")
        batch_op.drop_column("sample_limit")
        batch_op.drop_column("sample_stock")

    op.drop_table("connect_payout_runs")

    with op.batch_alter_table("connect_payout_batches", schema=None) as batch_op:
        batch_op.drop_column("creator_id")
        batch_op.drop_column("kind")

    # Commissions of orders not delivered yet get their old payment-based date back.
    op.execute("UPDATE connect_commissions SET approve_at = created_at WHERE approve_at IS NULL")
    with op.batch_alter_table("connect_commissions", schema=None) as batch_op:
        batch_op.alter_column("approve_at", existing_type=passerelle.db.base.UTCDateTime(timezone=True), nullable=False)
