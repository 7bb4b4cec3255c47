"""logistics and traceability

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import passerelle.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recycling_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("opening_hours", sa.String(length=200), nullable=False),
        sa.Column("materials", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "lat >= -90 AND lat <= 90 AND lon >= -180 AND lon <= 180",
            name=op.f("ck_recycling_points_coordinates_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recycling_points")),
    )
    op.create_table(
        "factories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_factories_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_factories")),
    )
    with op.batch_alter_table("factories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_factories_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "logistics_settings",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("return_window_days", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "return_window_days >= 0 AND return_window_days <= 365", name=op.f("ck_logistics_settings_window_range")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_logistics_settings_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_logistics_settings")),
    )
    op.create_table(
        "packaging_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("material", sa.String(length=40), nullable=False),
        sa.Column("recyclable", sa.Boolean(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("weight_g >= 0", name=op.f("ck_packaging_types_weight_positive")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_packaging_types_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packaging_types")),
    )
    with op.batch_alter_table("packaging_types", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_packaging_types_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "trace_signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("private_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_trace_signing_keys_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_signing_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_trace_signing_keys_key_id")),
    )
    with op.batch_alter_table("trace_signing_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_signing_keys_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "production_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("factory_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["factory_id"], ["factories.id"], name=op.f("fk_production_lines_factory_id_factories"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_lines")),
        sa.UniqueConstraint("factory_id", "number", name=op.f("uq_production_lines_factory_id")),
    )
    with op.batch_alter_table("production_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_production_lines_factory_id"), ["factory_id"], unique=False)

    op.create_table(
        "production_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("factory_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("started_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["factory_id"], ["factories.id"], name=op.f("fk_production_batches_factory_id_factories")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["production_lines.id"], name=op.f("fk_production_batches_line_id_production_lines")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_production_batches_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_production_batches_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_production_batches")),
    )
    with op.batch_alter_table("production_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_production_batches_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_production_batches_sku_id"), ["sku_id"], unique=False)

    op.create_table(
        "return_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "label_issued", "in_transit", "received", "refunded", name="returnstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("created_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_return_requests_buyer_id_users")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_return_requests_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_return_requests_order_id_orders")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"], name=op.f("fk_return_requests_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_requests")),
    )
    with op.batch_alter_table("return_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_requests_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_return_requests_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_return_requests_order_id"), ["order_id"], unique=False)

    op.create_table(
        "trace_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("head_signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["production_batches.id"], name=op.f("fk_trace_units_batch_id_production_batches")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_trace_units_merchant_id_merchants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_trace_units_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_trace_units_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_units")),
        sa.UniqueConstraint("serial", name=op.f("uq_trace_units_serial")),
    )
    with op.batch_alter_table("trace_units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_units_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trace_units_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_trace_units_order_line_id"), ["order_line_id"], unique=False)

    op.create_table(
        "provenance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["trace_units.id"], name=op.f("fk_provenance_records_unit_id_trace_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provenance_records")),
        sa.UniqueConstraint("unit_id", "seq", name=op.f("uq_provenance_records_unit_id")),
    )
    with op.batch_alter_table("provenance_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provenance_records_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction", sa.Enum("outbound", "back", name="direction", native_enum=False, length=10), nullable=False
        ),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=30), nullable=False),
        sa.Column("service", sa.String(length=30), nullable=False),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "label_created",
                "picked_up",
                "in_transit",
                "customs",
                "out_for_delivery",
                "delivered",
                "failed_attempt",
                "returned",
                name="trackingstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("status_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("estimated_delivery", sa.Date(), nullable=False),
        sa.Column("shipped_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_shipments_created_by_id_users")),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchants.id"], name=op.f("fk_shipments_merchant_id_merchants")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["return_id"], ["return_requests.id"], name=op.f("fk_shipments_return_id_return_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("carrier", "tracking_number", name=op.f("uq_shipments_carrier")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shipments_return_id"), ["return_id"], unique=False)
        batch_op.create_index(
            "ix_shipments_route", ["carrier", "origin_country", "destination_country", "status"], unique=False
        )

    op.create_table(
        "parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("length_mm", sa.Integer(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("packaging_type_id", sa.Integer(), nullable=True),
        sa.Column("packaging_material", sa.String(length=40), nullable=False),
        sa.Column("packaging_recyclable", sa.Boolean(), nullable=False),
        sa.Column("packaging_weight_g", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "length_mm > 0 AND width_mm > 0 AND height_mm > 0", name=op.f("ck_parcels_dimensions_positive")
        ),
        sa.CheckConstraint("weight_g > 0", name=op.f("ck_parcels_weight_positive")),
        sa.ForeignKeyConstraint(
            ["packaging_type_id"], ["packaging_types.id"], name=op.f("fk_parcels_packaging_type_id_packaging_types")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_parcels_shipment_id_shipments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parcels")),
    )
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parcels_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "tracking_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=30), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("received_at", passerelle.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_tracking_events_shipment_id_shipments"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_events")),
        sa.UniqueConstraint("carrier", "event_id", name=op.f("uq_tracking_events_carrier")),
    )
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.create_index("ix_tracking_events_shipment_time", ["shipment_id", "occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracking_events", schema=None) as batch_op:
        batch_op.drop_index("ix_tracking_events_shipment_time")

    op.drop_table("tracking_events")
    with op.batch_alter_table("parcels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parcels_shipment_id"))

    op.drop_table("parcels")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_route")
        batch_op.drop_index(batch_op.f("ix_shipments_return_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))
        batch_op.drop_index(batch_op.f("ix_shipments_merchant_id"))

    op.drop_table("shipments")
    with op.batch_alter_table("provenance_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provenance_records_unit_id"))

    op.drop_table("provenance_records")
    with op.batch_alter_table("trace_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_units_order_line_id"))
        batch_op.drop_index(batch_op.f("ix_trace_units_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_trace_units_batch_id"))

    op.drop_table("trace_units")
    with op.batch_alter_table("return_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_requests_order_id"))
        batch_op.drop_index(batch_op.f("ix_return_requests_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_return_requests_buyer_id"))

    op.drop_table("return_requests")
    with op.batch_alter_table("production_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_batches_sku_id"))
        batch_op.drop_index(batch_op.f("ix_production_batches_merchant_id"))

    op.drop_table("production_batches")
    with op.batch_alter_table("production_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_production_lines_factory_id"))

    op.drop_table("production_lines")
    with op.batch_alter_table("trace_signing_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_signing_keys_merchant_id"))

    op.drop_table("trace_signing_keys")
    with op.batch_alter_table("packaging_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_packaging_types_merchant_id"))

    op.drop_table("packaging_types")
    op.drop_table("logistics_settings")
    with op.batch_alter_table("factories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_factories_merchant_id"))

    op.drop_table("factories")
    op.drop_table("recycling_points")
