"""Checkout: price every line on the server, hold the stock, split the purchase into one
order per merchant, open the payment. Never commits; on any error nothing is written
(the caller's transaction rolls back, releasing stock already held)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import String, Table, bindparam, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog import columns
from passerelle.catalog.models import PriceTier, Product, ProductStatus, Sku
from passerelle.db.prepared import Prepared, PreparedForEach, bound, plain_copy
from passerelle.errors import Conflict, Invalid
from passerelle.i18n.countries import check_country
from passerelle.infra import outbox
from passerelle.merchants.models import Merchant, MerchantShipsTo, MerchantStatus
from passerelle.money import FxTable, Money
from passerelle.orders import pricing, pricing_cache, rates, stock
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Purchase


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int
    # Agreed unit price (accepted quote or offer), in the merchant's currency; else catalog pricing.
    unit_amount: int | None = None
    attribution: dict[str, Any] | None = None


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""
    phone: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class MerchantQuote:
    merchant: Merchant
    lines: list[tuple[LineRequest, Sku, Product, str, pricing.PricedLine]] = field(default_factory=list)
    shipping: int = 0
    discount: int = 0  # a coupon's share, taken off the total

    @property
    def subtotal(self) -> int:
        return sum(p.line_amount for *_, p in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping - self.discount

    @property
    def vat(self) -> int:
        vat_bp = self.lines[0][4].vat_rate_bp if self.lines else 0
        lines_vat = sum(p.vat_amount for *_, p in self.lines)
        return lines_vat + pricing.vat_included(self.shipping, vat_bp) - pricing.vat_included(self.discount, vat_bp)

    @property
    def commission(self) -> int:
        return sum(p.commission_amount for *_, p in self.lines)


@dataclass
class Quote:
    """The priced checkout, per merchant, before anything is written."""

    currency: str
    country: str
    merchants: list[MerchantQuote]
    fx: FxTable

    def buyer_amount(self, merchant_quote: MerchantQuote) -> int:
        return self.fx.convert(Money(merchant_quote.total, merchant_quote.merchant.currency), self.currency).amount

    @property
    def buyer_total(self) -> int:
        return sum(self.buyer_amount(m) for m in self.merchants)


# The SKU, its product and merchant, whether the merchant ships to the country, the title
# and whether tiers exist (read next only when some do): one query per SKU on SQLite, one
# for the cart on PostgreSQL (db/prepared.py). Built once: loading the three entities
# through the ORM cost several times the query; the columns come back as plain, read-only
# objects.
_SKU_TABLE: Table = Sku.__table__  # type: ignore[assignment]
_PRODUCT_TABLE: Table = Product.__table__  # type: ignore[assignment]
_MERCHANT_TABLE: Table = Merchant.__table__  # type: ignore[assignment]
# No stock columns: they move with every order, and these rows are kept between checkouts
# (orders/pricing_cache.py); the stock is only ever moved by conditional UPDATE (orders/stock.py).
_ENTITY_COLUMNS = (
    (Sku, [_SKU_TABLE.c[name] for name in pricing_cache.SKU_COLUMNS]),
    (Product, list(_PRODUCT_TABLE.c)),
    (Merchant, list(_MERCHANT_TABLE.c)),
)
_SKUS_TO_PRICE = PreparedForEach(
    lambda match: (
        select(
            *(column for _, table_columns in _ENTITY_COLUMNS for column in table_columns),
            exists()
            .where(MerchantShipsTo.merchant_id == Merchant.id, MerchantShipsTo.country == bindparam("country"))
            .correlate(Merchant),
            columns.order_title(bindparam("language", type_=String())),
            columns.has_tiers(),
        )
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(match)
    ),
    _SKU_TABLE.c.id,
    "b_sku_id",
)


_PricedSku = tuple[Sku, Product, Merchant, bool, str | None, bool]


def _entities(row: Any) -> _PricedSku:
    """A row of `_SKUS_TO_PRICE` as plain Sku, Product and Merchant objects (not in the
    session: read them, do not change them) and its three computed columns."""
    built: list[Any] = []
    start = 0
    for entity, table_columns in _ENTITY_COLUMNS:
        values = row[start : start + len(table_columns)]
        built.append(
            plain_copy(entity, {column.key: value for column, value in zip(table_columns, values, strict=True)})
        )
        start += len(table_columns)
    ships_here, title, has_tiers = row[start:]
    return built[0], built[1], built[2], bool(ships_here), title, bool(has_tiers)


async def _priced_skus(
    session: AsyncSession,
    kept: pricing_cache.KeptPricing | None,
    sku_ids: list[int],
    *,
    country: str,
    language: str,
) -> list[_PricedSku]:
    """`_SKUS_TO_PRICE`'s rows as entities, in `sku_ids` order (unknown ones left out),
    from what was kept for this catalog version when there is some."""
    found: dict[int, _PricedSku] = {}
    missing = sku_ids
    if kept is not None:
        missing = []
        for sku_id in sku_ids:
            hit = kept.get(kept.skus, (sku_id, country, language))
            if hit is None:
                missing.append(sku_id)
            else:
                found[sku_id] = hit
    if missing:
        for row in await _SKUS_TO_PRICE.rows(session, missing, {"country": country, "language": language}):
            entry = _entities(row)
            found[entry[0].id] = entry
            if kept is not None:
                kept.keep(kept.skus, (entry[0].id, country, language), entry)
    return [found[sku_id] for sku_id in sku_ids if sku_id in found]


async def price(
    session: AsyncSession, *, requests: list[LineRequest], country: str, currency: str, fx: FxTable, language: str
) -> Quote:
    """Price a checkout without writing: ships-to, minimum orders, tiers, shipping, VAT, commission."""
    if not requests:
        raise Invalid("empty_cart", "The cart is empty", field="items")
    country = check_country(country, field="shipping_address.country")
    if not fx.knows(currency):
        raise Invalid("unknown_currency", f"No exchange rate for {currency}", field="currency")
    totals = stock.aggregate((r.sku_id, r.quantity) for r in requests)
    kept = await pricing_cache.kept_for(session)
    rows = await _priced_skus(session, kept, list(totals), country=country, language=language)
    found = {sku.id: (sku, product, merchant) for sku, product, merchant, *_ in rows}
    for sku_id in totals:
        if sku_id not in found:
            raise Invalid("unknown_sku", f"Unknown item {sku_id}", field="sku_id")
        _, product, merchant = found[sku_id]
        if product.status != ProductStatus.published or merchant.status != MerchantStatus.approved:
            raise Conflict(
                "not_for_sale", "An item of the cart is no longer for sale", field="sku_id", extra={"sku_id": sku_id}
            )

    merchant_ids = {m.id for _, _, m in found.values()}
    shipped_to = {merchant.id for _, _, merchant, ships_here, *_ in rows if ships_here}
    for mid in sorted(merchant_ids):
        if mid not in shipped_to:
            name = next(m.name for _, _, m in found.values() if m.id == mid)
            raise Conflict(
                "not_shipped_to",
                f"{name} does not ship to {country}",
                field="shipping_address.country",
                extra={"merchant_id": mid},
            )

    tiers: dict[int, list[tuple[int, int]]] = defaultdict(list)
    tiered = [sku.id for sku, *_, has_tiers in rows if has_tiers]
    if tiered:
        for tier in (await session.execute(select(PriceTier).where(PriceTier.sku_id.in_(tiered)))).scalars():
            tiers[tier.sku_id].append((tier.min_quantity, tier.unit_amount))
    titles = {product.id: title for _, product, _, _, title, _ in rows if title is not None}
    merchants_key = tuple(sorted(merchant_ids))
    commission = kept.get(kept.commissions, merchants_key) if kept is not None else None
    if commission is None:
        commission = await rates.commission_table(session, merchant_ids=merchant_ids)
        if kept is not None:
            kept.keep(kept.commissions, merchants_key, commission)
    vat_bp = pricing.vat_rate_bp(country)

    # Minimum order quantity counts every SKU of a product together.
    per_product: dict[int, int] = defaultdict(int)
    for sku_id, quantity in totals.items():
        per_product[found[sku_id][1].id] += quantity
    for product_id, quantity in per_product.items():
        product = next(p for _, p, _ in found.values() if p.id == product_id)
        if quantity < product.min_order_quantity:
            raise Invalid(
                "below_minimum_order",
                f"Order at least {product.min_order_quantity} units of {titles.get(product_id, 'this product')}",
                field="quantity",
                extra={"product_id": product_id, "min_order_quantity": product.min_order_quantity},
            )

    agreed = {r.sku_id: r for r in requests if r.unit_amount is not None}
    attribution = {r.sku_id: r.attribution for r in requests if r.attribution}
    by_merchant: dict[int, MerchantQuote] = {}
    for sku_id, quantity in totals.items():
        sku, product, merchant = found[sku_id]
        quote = by_merchant.setdefault(merchant.id, MerchantQuote(merchant=merchant))
        agreed_price = agreed[sku_id].unit_amount if sku_id in agreed else None
        priced = pricing.price_line(
            base_amount=agreed_price if agreed_price is not None else sku.price_amount,
            tiers=[] if agreed_price is not None else tiers.get(sku_id, []),
            quantity=quantity,
            vat_bp=vat_bp,
            commission_bp=commission.rate_bp(merchant_id=merchant.id, category_id=product.category_id),
        )
        request = LineRequest(
            sku_id=sku_id, quantity=quantity, unit_amount=agreed_price, attribution=attribution.get(sku_id)
        )
        quote.lines.append((request, sku, product, titles.get(product.id, sku.code), priced))
    fees_key = (tuple(by_merchant), country)
    fees = kept.get(kept.fees, fees_key) if kept is not None else None
    if fees is None:
        fees = await rates.shipping_fees_for(
            session, merchants=[q.merchant for q in by_merchant.values()], country=country
        )
        if kept is not None:
            kept.keep(kept.fees, fees_key, fees)
    for quote in by_merchant.values():
        fee, free_from = fees[quote.merchant.id]
        quote.shipping = pricing.shipping_fee(subtotal=quote.subtotal, fee=fee, free_from=free_from)
    return Quote(currency=currency, country=country, merchants=list(by_merchant.values()), fx=fx)


# Inserts on the tables, prepared (db/prepared.py): the ORM's flush, then SQLAlchemy's
# execution of Core statements, each cost many times the statements.
_PURCHASES: Table = Purchase.__table__  # type: ignore[assignment]
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_EVENTS: Table = OrderEvent.__table__  # type: ignore[assignment]


def _insert(table: Table, names: tuple[str, ...], *, returning_id: bool = False) -> Prepared:
    statement = insert(table).values(bound(*names))
    return Prepared(statement.returning(table.c.id) if returning_id else statement)


_PURCHASE_FIELDS = ("buyer_id", "currency", "total_amount", "shipping_address", "created_at", "coupon_id")
_ORDER_FIELDS = (
    "purchase_id",
    "merchant_id",
    "buyer_id",
    "status",
    "currency",
    "subtotal_amount",
    "shipping_amount",
    "vat_amount",
    "total_amount",
    "commission_amount",
    "discount_amount",
    "discount_funder",
    "refunded_amount",
    "buyer_currency",
    "buyer_total_amount",
    "fx_rate",
    "ship_to_country",
    "expires_at",
    "created_at",
    "updated_at",
    "source",
)
_LINE_FIELDS = (
    "order_id",
    "sku_id",
    "product_id",
    "title",
    "sku_code",
    "quantity",
    "unit_amount",
    "line_amount",
    "vat_rate_bp",
    "vat_amount",
    "commission_rate_bp",
    "commission_amount",
    "merchant_net_amount",
    "returned_quantity",
    "attribution",
)
_EVENT_FIELDS = ("order_id", "from_status", "to_status", "actor_id", "actor_kind", "note", "at")
_INSERT_PURCHASE = _insert(_PURCHASES, _PURCHASE_FIELDS, returning_id=True)
_INSERT_ORDER = _insert(_ORDERS, _ORDER_FIELDS, returning_id=True)
_INSERT_LINES = _insert(_LINES, _LINE_FIELDS)
_INSERT_EVENTS = _insert(_EVENTS, _EVENT_FIELDS)


@dataclass
class Placed:
    purchase: Purchase
    orders: list[Order]


async def place(
    session: AsyncSession,
    *,
    buyer: User,
    quote: Quote,
    address: Address,
    now: datetime,
    hold_for: timedelta,
    source: str = "cart",
    hold_stock: bool = True,
    coupon_id: int | None = None,
    discount_funder: str = "",
) -> Placed:
    """Hold the stock and write the purchase and its orders (pending payment). A flash
    deal's units are already held by the deal (`hold_stock=False`)."""
    if hold_stock:
        await stock.reserve(
            session, stock.aggregate((r.sku_id, r.quantity) for q in quote.merchants for r, *_ in q.lines)
        )
    # Written with Core INSERT ... RETURNING id (an ORM flush cost several times the
    # statements); the objects handed back are plain, not in the session, and only read.
    purchase_values: dict[str, Any] = {
        "buyer_id": buyer.id,
        "currency": quote.currency,
        "total_amount": quote.buyer_total,
        "shipping_address": address.as_dict(),
        "created_at": now,
        "coupon_id": coupon_id,
    }
    purchase_id = await _INSERT_PURCHASE.scalar(session, purchase_values)
    assert purchase_id is not None
    purchase = plain_copy(Purchase, {"id": purchase_id, **purchase_values})
    order_values: list[dict[str, Any]] = []
    expires_at = now + hold_for
    for merchant_quote in quote.merchants:
        merchant = merchant_quote.merchant
        rate = quote.fx.convert(Money(10**9, merchant.currency), quote.currency).amount
        order_values.append(
            dict(
                purchase_id=purchase_id,
                merchant_id=merchant.id,
                buyer_id=buyer.id,
                status=OrderStatus.pending_payment,
                currency=merchant.currency,
                subtotal_amount=merchant_quote.subtotal,
                shipping_amount=merchant_quote.shipping,
                vat_amount=merchant_quote.vat,
                total_amount=merchant_quote.total,
                commission_amount=merchant_quote.commission,
                discount_amount=merchant_quote.discount,
                discount_funder=discount_funder if merchant_quote.discount else "",
                refunded_amount=0,
                buyer_currency=quote.currency,
                buyer_total_amount=quote.buyer_amount(merchant_quote),
                fx_rate=str(Decimal(rate) / Decimal(10**9)),
                ship_to_country=quote.country,
                expires_at=expires_at,
                created_at=now,
                updated_at=now,
                source=source,
            )
        )
    # One INSERT per merchant (a purchase has few): their lines need their ids.
    orders = [
        plain_copy(Order, {"id": await _INSERT_ORDER.scalar(session, values), **values}) for values in order_values
    ]
    lines, events = [], []
    for order, merchant_quote in zip(orders, quote.merchants, strict=True):
        for request, sku, product, title, priced in merchant_quote.lines:
            lines.append(
                {
                    "order_id": order.id,
                    "sku_id": sku.id,
                    "product_id": product.id,
                    "title": title[:200],
                    "sku_code": sku.code,
                    "quantity": priced.quantity,
                    "unit_amount": priced.unit_amount,
                    "line_amount": priced.line_amount,
                    "vat_rate_bp": priced.vat_rate_bp,
                    "vat_amount": priced.vat_amount,
                    "commission_rate_bp": priced.commission_rate_bp,
                    "commission_amount": priced.commission_amount,
                    "merchant_net_amount": priced.merchant_net_amount,
                    "returned_quantity": 0,
                    "attribution": request.attribution,
                }
            )
        events.append(
            {
                "order_id": order.id,
                "from_status": None,
                "to_status": OrderStatus.pending_payment.value,
                "actor_id": buyer.id,
                "actor_kind": "buyer",
                "note": "",
                "at": now,
            }
        )
    # One INSERT per table, whatever the number of merchants and lines.
    await _INSERT_LINES.run_many(session, lines)
    await _INSERT_EVENTS.run_many(session, events)
    # The expiry sweep runs when this hold runs out (within outbox.WAKE_WINDOW after it).
    await outbox.emit_wake(session, topic="orders.expire_due", at=expires_at)
    return Placed(purchase=purchase, orders=orders)
