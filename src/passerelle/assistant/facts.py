"""What the engine may know beyond the catalog, read from the database.

Public facts (festival, deals, return windows) are shared by every asker and cached by the
runtime; an asker's orders are read per question, always filtered on the asker's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.assistant.models import ReturnPolicy
from passerelle.catalog.models import Sku
from passerelle.festival import service as festival_service
from passerelle.festival.models import Deal
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus

DEFAULT_RETURN_DAYS = 14  # the EU right of withdrawal, for merchants that set nothing
ORDERS_READ = 20
MAX_ORDER_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class FestivalFact:
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str


@dataclass(frozen=True, slots=True)
class DealFact:
    id: int
    product_id: int
    merchant_id: int
    price: Money
    starts_at: datetime
    ends_at: datetime
    deposit: Money | None
    presale_starts_at: datetime | None
    balance_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class PublicFacts:
    festival: FestivalFact | None
    deals: tuple[DealFact, ...]
    return_days: dict[int, int]  # merchant id -> days (merchants with a row only)


@dataclass(frozen=True, slots=True)
class OrderFact:
    id: int
    merchant_id: int
    merchant_name: str
    status: OrderStatus
    total: Money  # in the buyer's currency, as paid
    updated_at: datetime
    delivered_at: datetime | None
    product_ids: tuple[int, ...]
    tracking_url: str | None


async def tracking_url(session: AsyncSession, *, order_id: int) -> str | None:
    """The order's tracking page, once a parcel has left (logistics)."""
    from passerelle.logistics.models import Direction, Shipment

    shipped = await session.execute(
        select(Shipment.id).where(Shipment.order_id == order_id, Shipment.direction == Direction.outbound).limit(1)
    )
    return f"/orders/{order_id}/tracking" if shipped.first() is not None else None


async def public_facts(session: AsyncSession, *, now: datetime) -> PublicFacts:
    festival = await festival_service.current_festival(session, now=now)
    deals: list[Deal] = []
    if festival is not None:
        deals = await festival_service.list_deals(session, festival_id=festival.id)
    sku_products = {}
    if deals:
        rows = await session.execute(select(Sku.id, Sku.product_id).where(Sku.id.in_({d.sku_id for d in deals})))
        sku_products = {sku_id: product_id for sku_id, product_id in rows.all()}
    rows = await session.execute(select(ReturnPolicy.merchant_id, ReturnPolicy.return_days))
    policies = {merchant_id: days for merchant_id, days in rows.all()}
    return PublicFacts(
        festival=FestivalFact(festival.id, festival.name, festival.starts_at, festival.ends_at, festival.time_zone)
        if festival
        else None,
        deals=tuple(
            DealFact(
                id=d.id,
                product_id=sku_products.get(d.sku_id, 0),
                merchant_id=d.merchant_id,
                price=Money(d.price_amount, d.currency),
                starts_at=d.starts_at,
                ends_at=d.ends_at,
                deposit=Money(d.deposit_amount, d.currency) if d.deposit_amount is not None else None,
                presale_starts_at=d.presale_starts_at,
                balance_due_at=d.balance_due_at,
            )
            for d in deals
        ),
        return_days=policies,
    )


async def buyer_orders(session: AsyncSession, *, buyer_id: int, order_id: int | None = None) -> list[OrderFact]:
    """The asker's latest orders (or the one named, if it is theirs). The only place the
    assistant reads orders, and always filtered on the asker."""
    query = (
        select(Order, Merchant.name)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(Order.buyer_id == buyer_id)
        .order_by(Order.id.desc())
        .limit(ORDERS_READ)
    )
    if order_id is not None:
        if not 0 < order_id <= MAX_ORDER_ID:
            return []  # no such order can exist (and PostgreSQL would reject the number)
        query = query.where(Order.id == order_id)
    orders = [(order, name) for order, name in (await session.execute(query)).all()]
    ids = [o.id for o, _ in orders]
    products: dict[int, list[int]] = {}
    delivered: dict[int, datetime] = {}
    if ids:
        for order_id, product_id in (
            await session.execute(select(OrderLine.order_id, OrderLine.product_id).where(OrderLine.order_id.in_(ids)))
        ).all():
            products.setdefault(order_id, []).append(product_id)
        for order_id, at in (
            await session.execute(
                select(OrderEvent.order_id, OrderEvent.at).where(
                    OrderEvent.order_id.in_(ids), OrderEvent.to_status == OrderStatus.delivered.value
                )
            )
        ).all():
            delivered[order_id] = at
    return [
        OrderFact(
            id=order.id,
            merchant_id=order.merchant_id,
            merchant_name=merchant_name,
            status=order.status,
            total=Money(order.buyer_total_amount, order.buyer_currency),
            updated_at=order.updated_at,
            delivered_at=delivered.get(order.id),
            product_ids=tuple(products.get(order.id, [])),
            tracking_url=await tracking_url(session, order_id=order.id),
        )
        for order, merchant_name in orders
    ]
