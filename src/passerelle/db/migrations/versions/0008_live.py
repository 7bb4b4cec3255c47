"""live rooms

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = passerelle.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "live_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("starts_at", UTC(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("scheduled", "live", "ended", name="roomstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("stream_key_hash", sa.String(length=64), nullable=False),
        sa.Column("on_air", sa.Boolean(), nullable=False),
        sa.Column("went_live_at", UTC(timezone=True), nullable=True),
        sa.Column("ended_at", UTC(timezone=True), nullable=True),
        sa.Column("slow_mode_seconds", sa.Integer(), nullable=False),
        sa.Column("blocked_words", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"], ["users.id"], name=op.f("fk_live_rooms_host_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_rooms")),
        sa.UniqueConstraint("stream_key_hash", name=op.f("uq_live_rooms_stream_key_hash")),
    )
    with op.batch_alter_table("live_rooms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_rooms_host_id"), ["host_id"], unique=False)
        batch_op.create_index("ix_live_rooms_status_starts_at", ["status", "starts_at"], unique=False)

    op.create_table(
        "live_room_members",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "role", sa.Enum("cohost", "moderator", name="memberrole", native_enum=False, length=10), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_room_members_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_live_room_members_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_live_room_members")),
    )
    op.create_table(
        "live_showcase_items",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_showcase_items_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_live_showcase_items_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "product_id", name=op.f("pk_live_showcase_items")),
    )
    op.create_table(
        "live_sanctions",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("mute", "ban", name="sanctionkind", native_enum=False, length=10), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_sanctions_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_live_sanctions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_live_sanctions")),
    )
    op.create_table(
        "live_chat_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("body", sa.String(length=600), nullable=False),
        sa.Column("sent_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_rooms.id"], name=op.f("fk_live_chat_messages_room_id_live_rooms"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_live_chat_messages_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_chat_messages")),
        sa.UniqueConstraint("uid", name=op.f("uq_live_chat_messages_uid")),
    )
    with op.batch_alter_table("live_chat_messages", schema=None) as batch_op:
        batch_op.create_index("ix_live_chat_messages_room_id_id", ["room_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("live_chat_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_live_chat_messages_room_id_id")
    op.drop_table("live_chat_messages")
    op.drop_table("live_sanctions")
    op.drop_table("live_showcase_items")
    op.drop_table("live_room_members")
    with op.batch_alter_table("live_rooms", schema=None) as batch_op:
        batch_op.drop_index("ix_live_rooms_status_starts_at")
        batch_op.drop_index(batch_op.f("ix_live_rooms_host_id"))
    op.drop_table("live_rooms")
