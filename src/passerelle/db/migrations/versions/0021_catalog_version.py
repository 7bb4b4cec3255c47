"""catalog_version: a version of what checkout pricing reads, for the pricing cache

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What checkout pricing reads (orders/pricing_cache.py), and on `skus` the columns it reads:
# the stock columns move with every order and are never kept, so their updates keep the
# version. A later migration that rebuilds one of these tables on SQLite (batch mode) drops
# its triggers: tests/orders/test_pricing_cache.py checks they are all there at head.
_SOURCES: dict[str, tuple[str, ...] | None] = {
    "skus": ("product_id", "merchant_id", "code", "options", "price_amount", "position"),
    "products": None,
    "product_translations": None,
    "merchants": None,
    "merchant_ships_to": None,
    "price_tiers": None,
    "commission_rules": None,
    "shipping_fees": None,
}
# A random value rather than version + 1: a rolled-back change must not leave a number that a
# later change reaches again (what was kept for it would be taken for the new catalog).
_BUMP = "UPDATE catalog_version SET version = random() WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name != "sqlite":
        # PostgreSQL keeps nothing between pricings (no triggers): the row is there for the schema's sake.
        op.execute("INSERT INTO catalog_version (id, version) VALUES (1, 0)")
        return
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, random())")
    for table, columns in _SOURCES.items():
        for change in ("INSERT", "UPDATE", "DELETE"):
            of = f" OF {', '.join(columns)}" if change == "UPDATE" and columns else ""
            op.execute(
                f"CREATE TRIGGER catalog_version_{table}_{change.lower()} AFTER {change}{of} ON {table}"
                f" BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in _SOURCES:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS catalog_version_{table}_{change}")
    op.drop_table("catalog_version")
