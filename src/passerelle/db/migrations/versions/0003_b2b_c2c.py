"""b2b c2c: buyer companies, requests for quote, C2C offers

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_companies_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_companies_vat_number"), ["vat_number"], unique=False)

    op.create_table(
        "company_members",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("admin", "buyer", name="companyrole", native_enum=False, length=10), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_company_members_company_id_companies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_company_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("company_id", "user_id", name=op.f("pk_company_members")),
    )
    with op.batch_alter_table("company_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_members_user_id"), ["user_id"], unique=False)

    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested",
                "answered",
                "accepted",
                "declined",
                "expired",
                name="quotestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("answer_note", sa.Text(), nullable=False),
        sa.Column("valid_until", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_by", sa.String(length=10), nullable=True),
        sa.Column("decline_reason", sa.String(length=500), nullable=False),
        sa.Column("accepted_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"], name=op.f("fk_quotes_answered_by_id_users")),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_quotes_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_quotes_company_id_companies"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_quotes_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"], name=op.f("fk_quotes_purchase_id_purchases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    with op.batch_alter_table("quotes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quotes_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quotes_company_id"), ["company_id"], unique=False)
        batch_op.create_index("ix_quotes_expiry", ["status", "valid_until"], unique=False)
        batch_op.create_index("ix_quotes_merchant_status", ["merchant_id", "status"], unique=False)

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "accepted", "ordered", "declined", "expired", name="offerstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("awaiting", sa.String(length=10), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("expires_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=10), nullable=True),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 1", name=op.f("ck_offers_amount_positive")),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_offers_buyer_id_users")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_offers_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["purchase_id"], ["purchases.id"], name=op.f("fk_offers_purchase_id_purchases")),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_offers_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index("ix_offers_expiry", ["status", "expires_at"], unique=False)
        batch_op.create_index("ix_offers_merchant_status", ["merchant_id", "status"], unique=False)
        batch_op.create_index(
            "uq_offers_live_buyer_sku",
            ["buyer_id", "sku_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('open', 'accepted')"),
            postgresql_where=sa.text("status IN ('open', 'accepted')"),
        )

    op.create_table(
        "quote_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_quote_lines_quantity_positive")),
        sa.CheckConstraint(
            "unit_amount IS NULL OR unit_amount >= 0", name=op.f("ck_quote_lines_unit_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"], ["quotes.id"], name=op.f("fk_quote_lines_quote_id_quotes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_quote_lines_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quote_lines")),
        sa.UniqueConstraint("quote_id", "sku_id", name=op.f("uq_quote_lines_quote_id")),
    )
    with op.batch_alter_table("quote_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quote_lines_quote_id"), ["quote_id"], unique=False)

    op.create_table(
        "offer_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("made_by", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 1", name=op.f("ck_offer_proposals_amount_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_offer_proposals_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_offer_proposals_offer_id_offers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offer_proposals")),
    )
    with op.batch_alter_table("offer_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offer_proposals_offer_id"), ["offer_id"], unique=False)


def downgrade() -> None:
    # Dropping a table drops its indexes on both backends.
    for table in ("offer_proposals", "quote_lines", "offers", "quotes", "company_members", "companies"):
        op.drop_table(table)
