"""Order reads for buyers, merchants and operators."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.schemas import MoneyOut
from passerelle.merchants.models import Merchant
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from passerelle.orders.schemas import OrderEventOut, OrderLineOut, OrderOut, OrderSummaryOut


def money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency)


def summary(order: Order) -> OrderSummaryOut:
    return OrderSummaryOut(
        id=order.id,
        merchant_id=order.merchant_id,
        status=order.status,
        total=money(order.total_amount, order.currency),
        total_buyer=money(order.buyer_total_amount, order.buyer_currency),
    )


async def detail(session: AsyncSession, *, order: Order, relation: str) -> OrderOut:
    merchant = await session.get(Merchant, order.merchant_id)
    lines = (
        await session.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    ).scalars()
    events = (
        await session.execute(select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id))
    ).scalars()
    cur = order.currency
    return OrderOut(
        id=order.id,
        purchase_id=order.purchase_id,
        merchant_id=order.merchant_id,
        merchant_name=merchant.name if merchant else "",
        buyer_id=order.buyer_id,
        status=order.status,
        subtotal=money(order.subtotal_amount, cur),
        shipping=money(order.shipping_amount, cur),
        vat_included=money(order.vat_amount, cur),
        total=money(order.total_amount, cur),
        total_buyer=money(order.buyer_total_amount, order.buyer_currency),
        refunded=money(order.refunded_amount, cur),
        commission=money(order.commission_amount, cur) if relation in ("merchant", "operator") else None,
        ship_to_country=order.ship_to_country,
        pay_by=order.expires_at if order.status == OrderStatus.pending_payment else None,
        created_at=order.created_at,
        lines=[
            OrderLineOut(
                id=line.id,
                sku_id=line.sku_id,
                product_id=line.product_id,
                title=line.title,
                sku_code=line.sku_code,
                quantity=line.quantity,
                returned_quantity=line.returned_quantity,
                unit_price=money(line.unit_amount, cur),
                line_total=money(line.line_amount, cur),
                vat_rate_bp=line.vat_rate_bp,
                vat=money(line.vat_amount, cur),
                attribution=line.attribution,
            )
            for line in lines
        ],
        history=[
            OrderEventOut(
                from_status=e.from_status,
                to_status=e.to_status,
                actor_kind=e.actor_kind,
                actor_id=e.actor_id,
                note=e.note,
                at=e.at,
            )
            for e in events
        ],
    )


async def list_orders(
    session: AsyncSession,
    *,
    buyer_id: int | None = None,
    merchant_id: int | None = None,
    status: OrderStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Order], int]:
    query = select(Order)
    if buyer_id is not None:
        query = query.where(Order.buyer_id == buyer_id)
    if merchant_id is not None:
        query = query.where(Order.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Order.status == status)
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    rows = await session.execute(query.order_by(Order.id.desc()).limit(limit).offset(offset))
    return list(rows.scalars()), total
