"""What checkout pricing reads from the catalog, kept between checkouts while it is unchanged.

Every checkout priced its lines from the same rows: each SKU with its product, merchant,
ships-to answer, title and tier flag, the commission rules, the shipping fees. Read and
turned into objects, that was ~8 % of the server's main thread in `passerelle bench
checkout` (docs/performance.md, Checkout), for data that changes when a merchant edits the
catalog, not when somebody buys.

On SQLite, triggers (migration 0021) give `catalog_version` a new random value in the same
transaction as any change to those rows, the stock columns of `skus` excepted (they move
with every order, and are never kept). A pricing reads the version first, in its own
transaction, then uses what was kept for that version, or reads it and keeps it under that
version. Rows read after a change the version read did not see are kept under a version that
never comes back (random, and a rolled-back change leaves nothing to reach again), so what is
served is always what a direct read in the same transaction would give. PostgreSQL keeps
nothing: there are no triggers there, and every pricing reads.

What is kept is shared between requests: the Sku, Product and Merchant objects are plain,
read-only copies (db/prepared.py, `plain_copy`), and the kept SKUs carry no stock columns.
A new table or `skus` column that pricing reads needs its trigger (a migration) and a place
in `SOURCE_TABLES` below; tests/orders/test_pricing_cache.py checks the triggers at head.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import CatalogVersion
from passerelle.db.group_commit import MemberSession
from passerelle.db.prepared import Prepared

log = logging.getLogger(__name__)

SOURCE_TABLES = (
    "skus",
    "products",
    "product_translations",
    "merchants",
    "merchant_ships_to",
    "price_tiers",
    "commission_rules",
    "shipping_fees",
)
# The `skus` columns whose changes give a new version: those a kept SKU carries.
SKU_COLUMNS = ("id", "product_id", "merchant_id", "code", "options", "price_amount", "position")
TRIGGERS = frozenset(
    f"catalog_version_{table}_{change}" for table in SOURCE_TABLES for change in ("insert", "update", "delete")
)

# Per version (SKU x country x language, merchant sets), ~2.7 kB a SKU entry: ~27 MB at most;
# emptied when full.
MAX_ENTRIES = 10_000
_VERSIONS_KEPT = 4  # the last few versions seen (one process may use several databases: the tests)

_VERSION = Prepared(select(CatalogVersion.version).where(CatalogVersion.id == bindparam("b_id")))
_TRIGGER_NAMES = text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'catalog_version_%'")


class KeptPricing:
    """What pricing read at one catalog version, by kind: `skus` by (SKU id, country,
    language), `commissions` by merchant ids, `fees` by (merchant ids, country)."""

    __slots__ = ("version", "skus", "commissions", "fees", "hits")

    def __init__(self, version: int) -> None:
        self.version = version
        self.skus: dict[tuple[int, str, str], Any] = {}
        self.commissions: dict[tuple[int, ...], Any] = {}
        self.fees: dict[tuple[tuple[int, ...], str], Any] = {}
        self.hits = 0  # lookups answered from here (for the tests)

    def keep(self, kind: dict[Any, Any], key: Any, value: Any) -> None:
        if len(self.skus) + len(self.commissions) + len(self.fees) >= MAX_ENTRIES:
            self.skus.clear()
            self.commissions.clear()
            self.fees.clear()
        kind[key] = value

    def get(self, kind: dict[Any, Any], key: Any) -> Any | None:
        found = kind.get(key)
        if found is not None:
            self.hits += 1
        return found


_kept: OrderedDict[int, KeptPricing] = OrderedDict()
_warned = False


def _on_sqlite(session: AsyncSession) -> bool:
    if type(session) is MemberSession:  # group commit runs on SQLite only
        return True
    bind = session.bind
    return bind is not None and bind.dialect.name == "sqlite"


async def kept_for(session: AsyncSession) -> KeptPricing | None:
    """What was kept for the catalog as `session`'s transaction sees it, or None when
    nothing may be kept (PostgreSQL, or the triggers are missing)."""
    if not _on_sqlite(session):
        return None
    version = await _VERSION.scalar(session, {"b_id": 1})
    if version is None:
        return None
    kept = _kept.get(version)
    if kept is not None:
        return kept
    if not await _triggers_in_place(session):
        return None
    kept = _kept[version] = KeptPricing(version)
    while len(_kept) > _VERSIONS_KEPT:
        _kept.popitem(last=False)
    return kept


async def _triggers_in_place(session: AsyncSession) -> bool:
    """Checked once per new version (a catalog change): a table rebuilt by a later migration
    loses its triggers, and then nothing is kept rather than something stale."""
    global _warned
    names = set((await session.execute(_TRIGGER_NAMES)).scalars())
    if names >= TRIGGERS:
        return True
    if not _warned:
        _warned = True
        log.warning("catalog version triggers missing (%s): pricing reads every time", sorted(TRIGGERS - names))
    return False
