"""live commerce

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_card_clicks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_card_clicks_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_card_clicks")),
    )
    with op.batch_alter_table("live_card_clicks", schema=None) as batch_op:
        batch_op.create_index("ix_live_card_clicks_room_product", ["room_id", "product_id"], unique=False)

    op.create_table(
        "live_credit_splits",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("cohost_shares", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_credit_splits_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_live_credit_splits")),
    )
    op.create_table(
        "live_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("offset_ms", sa.Integer(), nullable=False),
        sa.Column("at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_events_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_events")),
    )
    with op.batch_alter_table("live_events", schema=None) as batch_op:
        batch_op.create_index("ix_live_events_room_offset", ["room_id", "offset_ms"], unique=False)

    op.create_table(
        "live_view_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("viewer", sa.String(length=40), nullable=False),
        sa.Column("joined_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("left_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_view_sessions_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_view_sessions")),
    )
    with op.batch_alter_table("live_view_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_live_view_sessions_room", ["room_id", "joined_at"], unique=False)

    op.create_table(
        "live_pins",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("pinned_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_live_pins_product_id_products"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_pins_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "product_id", name=op.f("pk_live_pins")),
    )
    op.create_table(
        "live_room_deals",
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("attribution", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"], ["deals.id"], name=op.f("fk_live_room_deals_deal_id_deals"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_room_deals_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("deal_id", name=op.f("pk_live_room_deals")),
    )
    with op.batch_alter_table("live_room_deals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_room_deals_room_id"), ["room_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_room_deals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_room_deals_room_id"))

    op.drop_table("live_room_deals")
    op.drop_table("live_pins")
    with op.batch_alter_table("live_view_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_live_view_sessions_room")

    op.drop_table("live_view_sessions")
    with op.batch_alter_table("live_events", schema=None) as batch_op:
        batch_op.drop_index("ix_live_events_room_offset")

    op.drop_table("live_events")
    op.drop_table("live_credit_splits")
    with op.batch_alter_table("live_card_clicks", schema=None) as batch_op:
        batch_op.drop_index("ix_live_card_clicks_room_product")

    op.drop_table("live_card_clicks")
