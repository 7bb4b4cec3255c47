"""influencer program (connect)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 20:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connect_clicks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("visitor", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("referrer_host", sa.String(length=100), nullable=False),
        sa.Column("at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_clicks")),
    )
    with op.batch_alter_table("connect_clicks", schema=None) as batch_op:
        batch_op.create_index("ix_connect_clicks_creator_at", ["creator_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_clicks_link_id"), ["link_id"], unique=False)
        batch_op.create_index("ix_connect_clicks_visitor_at", ["visitor", "at"], unique=False)

    op.create_table(
        "connect_fraud_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_fraud_flags")),
        sa.UniqueConstraint("kind", "subject", name=op.f("uq_connect_fraud_flags_kind")),
    )
    with op.batch_alter_table("connect_fraud_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_fraud_flags_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "connect_payout_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_payout_batches")),
    )
    op.create_table(
        "connect_tier_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("min_followers", sa.BigInteger(), nullable=False),
        sa.Column("min_posts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_tier_rules")),
        sa.UniqueConstraint("tier", name=op.f("uq_connect_tier_rules_tier")),
    )
    op.create_table(
        "connect_creators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("handle", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("bio", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("followers", sa.BigInteger(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("category_mask", sa.BigInteger(), nullable=False),
        sa.Column("main_country", sa.String(length=2), nullable=False),
        sa.Column("main_language", sa.String(length=8), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("account_holder", sa.String(length=70), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_connect_creators_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_creators")),
        sa.UniqueConstraint("handle", name=op.f("uq_connect_creators_handle")),
        sa.UniqueConstraint("user_id", name=op.f("uq_connect_creators_user_id")),
    )
    with op.batch_alter_table("connect_creators", schema=None) as batch_op:
        batch_op.create_index("ix_connect_creators_status_tier", ["status", "tier"], unique=False)

    op.create_table(
        "connect_payouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("account_holder", sa.String(length=70), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_connect_payouts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["connect_payout_batches.id"], name=op.f("fk_connect_payouts_batch_id_connect_payout_batches")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["connect_creators.id"], name=op.f("fk_connect_payouts_creator_id_connect_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_payouts")),
        sa.UniqueConstraint("batch_id", "creator_id", name=op.f("uq_connect_payouts_batch_id")),
    )
    with op.batch_alter_table("connect_payouts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_payouts_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_payouts_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "connect_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("default_rate_bp", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("attribution_mode", sa.String(length=5), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("fixed_fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("task", sa.String(length=300), nullable=False),
        sa.Column("sample_sku_id", sa.Integer(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "default_rate_bp >= 0 AND default_rate_bp <= 5000", name=op.f("ck_connect_campaigns_rate_range")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_connect_campaigns_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["sample_sku_id"], ["skus.id"], name=op.f("fk_connect_campaigns_sample_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_campaigns")),
    )
    with op.batch_alter_table("connect_campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_campaigns_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "connect_campaign_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=True),
        sa.Column("joined_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["connect_campaigns.id"],
            name=op.f("fk_connect_campaign_members_campaign_id_connect_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["connect_creators.id"],
            name=op.f("fk_connect_campaign_members_creator_id_connect_creators"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "creator_id", name=op.f("pk_connect_campaign_members")),
    )
    with op.batch_alter_table("connect_campaign_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_campaign_members_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "connect_campaign_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("previous_rate_bp", sa.Integer(), nullable=True),
        sa.Column("changed_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["connect_campaigns.id"],
            name=op.f("fk_connect_campaign_rates_campaign_id_connect_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_campaign_rates")),
        sa.UniqueConstraint("campaign_id", "scope", "scope_id", name=op.f("uq_connect_campaign_rates_campaign_id")),
    )
    with op.batch_alter_table("connect_campaign_rates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_campaign_rates_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "connect_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["connect_campaigns.id"], name=op.f("fk_connect_links_campaign_id_connect_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["connect_creators.id"], name=op.f("fk_connect_links_creator_id_connect_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_links")),
        sa.UniqueConstraint("code", name=op.f("uq_connect_links_code")),
    )
    with op.batch_alter_table("connect_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_links_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "connect_promo_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("coupon_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["connect_campaigns.id"], name=op.f("fk_connect_promo_codes_campaign_id_connect_campaigns")
        ),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_connect_promo_codes_coupon_id_coupons")),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["connect_creators.id"], name=op.f("fk_connect_promo_codes_creator_id_connect_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_promo_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_connect_promo_codes_code")),
        sa.UniqueConstraint("coupon_id", name=op.f("uq_connect_promo_codes_coupon_id")),
    )
    with op.batch_alter_table("connect_promo_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_promo_codes_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "connect_commissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("creator_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_amount", sa.BigInteger(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("hold_reason", sa.String(length=40), nullable=False),
        sa.Column("approve_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_connect_commissions_amount_non_negative")),
        sa.CheckConstraint(
            "reversed_amount >= 0 AND reversed_amount <= amount",
            name=op.f("ck_connect_commissions_reversal_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["connect_campaigns.id"], name=op.f("fk_connect_commissions_campaign_id_connect_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["connect_creators.id"], name=op.f("fk_connect_commissions_creator_id_connect_creators")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_connect_commissions_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_connect_commissions_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_connect_commissions_order_line_id_order_lines")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_commissions")),
        sa.UniqueConstraint("order_line_id", "creator_id", "kind", name=op.f("uq_connect_commissions_order_line_id")),
    )
    with op.batch_alter_table("connect_commissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_commissions_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_commissions_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_commissions_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connect_commissions_order_id"), ["order_id"], unique=False)
        batch_op.create_index("ix_connect_commissions_status_due", ["status", "approve_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connect_commissions", schema=None) as batch_op:
        batch_op.drop_index("ix_connect_commissions_status_due")
        batch_op.drop_index(batch_op.f("ix_connect_commissions_order_id"))
        batch_op.drop_index(batch_op.f("ix_connect_commissions_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_connect_commissions_creator_id"))
        batch_op.drop_index(batch_op.f("ix_connect_commissions_campaign_id"))

    op.drop_table("connect_commissions")
    with op.batch_alter_table("connect_promo_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_promo_codes_creator_id"))

    op.drop_table("connect_promo_codes")
    with op.batch_alter_table("connect_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_links_creator_id"))

    op.drop_table("connect_links")
    with op.batch_alter_table("connect_campaign_rates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_campaign_rates_campaign_id"))

    op.drop_table("connect_campaign_rates")
    with op.batch_alter_table("connect_campaign_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_campaign_members_creator_id"))

    op.drop_table("connect_campaign_members")
    with op.batch_alter_table("connect_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_campaigns_merchant_id"))

    op.drop_table("connect_campaigns")
    with op.batch_alter_table("connect_payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_payouts_creator_id"))
        batch_op.drop_index(batch_op.f("ix_connect_payouts_batch_id"))

    op.drop_table("connect_payouts")
    with op.batch_alter_table("connect_creators", schema=None) as batch_op:
        batch_op.drop_index("ix_connect_creators_status_tier")

    op.drop_table("connect_creators")
    op.drop_table("connect_tier_rules")
    op.drop_table("connect_payout_batches")
    with op.batch_alter_table("connect_fraud_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_fraud_flags_creator_id"))

    op.drop_table("connect_fraud_flags")
    with op.batch_alter_table("connect_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_connect_clicks_visitor_at")
        batch_op.drop_index(batch_op.f("ix_connect_clicks_link_id"))
        batch_op.drop_index("ix_connect_clicks_creator_at")

    op.drop_table("connect_clicks")
