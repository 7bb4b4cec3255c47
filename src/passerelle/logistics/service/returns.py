"""Returns: the buyer opens one within the merchant's window and gets a return label; the
parcel is tracked back; on receipt the merchant refunds through the order refund path,
restocking what is resellable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.logistics.carriers.base import BookingRequest, Carrier
from passerelle.logistics.models import Direction, ReturnRequest, ReturnStatus, Shipment, TrackingStatus
from passerelle.logistics.service import eta, packaging
from passerelle.logistics.service.shipments import schedule
from passerelle.merchants.models import Merchant
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus
from passerelle.orders.service import lifecycle, refunds
from passerelle.payments.providers.base import PaymentProvider

RETURNABLE = frozenset({OrderStatus.delivered, OrderStatus.completed})
RETURN_SERVICE = "standard"


async def delivered_at(session: AsyncSession, *, order: Order) -> datetime | None:
    """When the last parcel arrived; for an order confirmed by hand, when it was marked delivered."""
    carrier_date = (
        await session.execute(
            select(func.max(Shipment.delivered_at)).where(
                Shipment.order_id == order.id, Shipment.direction == Direction.outbound
            )
        )
    ).scalar_one()
    if carrier_date is not None:
        return carrier_date
    marked = (
        await session.execute(
            select(func.min(OrderEvent.at)).where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        )
    ).scalar_one()
    return marked


async def return_deadline(session: AsyncSession, *, order: Order) -> datetime | None:
    arrived = await delivered_at(session, order=order)
    if arrived is None:
        return None
    days = await packaging.return_window_days(session, merchant_id=order.merchant_id)
    return arrived + timedelta(days=days)


async def _open_quantities(session: AsyncSession, *, order_id: int) -> dict[int, int]:
    """Units already in an open (not yet refunded) return, per order line."""
    rows = await session.execute(
        select(ReturnRequest.lines).where(
            ReturnRequest.order_id == order_id, ReturnRequest.status != ReturnStatus.refunded
        )
    )
    held: dict[int, int] = {}
    for lines in rows.scalars():
        for item in lines:
            held[int(item["line_id"])] = held.get(int(item["line_id"]), 0) + int(item["quantity"])
    return held


async def open_return(
    session: AsyncSession,
    *,
    buyer: User,
    order_id: int,
    lines: Mapping[int, int],
    reason: str,
    carrier: Carrier,
    now: datetime,
) -> tuple[ReturnRequest, Shipment]:
    order, relation = await lifecycle.load_for_actor(session, order_id=order_id, actor=buyer)
    if relation != "buyer":
        raise Forbidden("Only the buyer opens a return")
    if order.status not in RETURNABLE:
        raise Conflict("not_returnable", "Only a delivered order can be returned")
    deadline = await return_deadline(session, order=order)
    if deadline is None or now > deadline:
        raise Conflict("return_window_closed", "The return window of this order has closed")
    wanted = {line_id: q for line_id, q in lines.items() if q > 0}
    if not wanted:
        raise Invalid("nothing_to_return", "Choose at least one item to return", field="lines")
    order_lines = {
        line.id: line
        for line in (await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars()
    }
    held = await _open_quantities(session, order_id=order.id)
    for line_id, quantity in wanted.items():
        line = order_lines.get(line_id)
        if line is None:
            raise Invalid("unknown_line", f"Order line {line_id} is not in this order", field="lines")
        if line.returned_quantity + held.get(line_id, 0) + quantity > line.quantity:
            raise Invalid("invalid_quantity", "More units returned than were bought", field="lines")
    merchant = await session.get(Merchant, order.merchant_id)
    assert merchant is not None
    request = ReturnRequest(
        order_id=order.id,
        buyer_id=buyer.id,
        merchant_id=order.merchant_id,
        status=ReturnStatus.label_issued,
        lines=[{"line_id": k, "quantity": v} for k, v in sorted(wanted.items())],
        reason=reason.strip()[:500],
        created_at=now,
    )
    session.add(request)
    await session.flush()
    booking = carrier.book(
        BookingRequest(
            service=RETURN_SERVICE,
            origin_country=order.ship_to_country,
            destination_country=merchant.country,
            weight_g=1000,
            parcels=1,
            booked_at=now,
        )
    )
    shipment = Shipment(
        order_id=order.id,
        merchant_id=order.merchant_id,
        direction=Direction.back,
        return_id=request.id,
        carrier=carrier.name,
        service=RETURN_SERVICE,
        tracking_number=booking.tracking_number,
        origin_country=order.ship_to_country,
        destination_country=merchant.country,
        status=TrackingStatus.label_created,
        estimated_delivery=await eta.estimate(
            session,
            carrier=carrier.name,
            service=carrier.services[RETURN_SERVICE],
            origin=order.ship_to_country,
            destination=merchant.country,
            shipped_at=now,
        ),
        shipped_at=now,
        created_by_id=buyer.id,
    )
    session.add(shipment)
    schedule(session, carrier, booking.scheduled)
    await session.flush()
    return request, shipment


async def visible_return(session: AsyncSession, *, actor: User, return_id: int) -> tuple[ReturnRequest, str]:
    found = await session.get(ReturnRequest, return_id)
    if found is None:
        raise NotFound("return")
    _order, relation = await lifecycle.load_for_actor(session, order_id=found.order_id, actor=actor)
    return found, relation


async def refund_return(
    session: AsyncSession,
    *,
    actor: User,
    return_id: int,
    resellable: Mapping[int, bool] | bool,
    provider: PaymentProvider,
    provider_ref: str,
    now: datetime,
) -> ReturnRequest:
    """The merchant received the parcel: refund the returned units; resellable ones go back on sale."""
    request, relation = await visible_return(session, actor=actor, return_id=return_id)
    if relation not in ("merchant", "operator"):
        raise Forbidden("Only the seller refunds a return")
    # Claim first: two clicks cannot refund one return twice.
    claimed = await session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.id == request.id, ReturnRequest.status != ReturnStatus.refunded)
        .values(status=ReturnStatus.refunded, received_at=func.coalesce(ReturnRequest.received_at, now))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("already_refunded", "This return was already refunded")
    order = await session.get(Order, request.order_id, populate_existing=True)
    assert order is not None

    def restock(line_id: int) -> bool:
        return resellable if isinstance(resellable, bool) else bool(resellable.get(line_id, False))

    record = await refunds.refund_order(
        session,
        order=order,
        actor_id=actor.id,
        amount=None,
        returned=[
            refunds.ReturnedLine(
                line_id=int(i["line_id"]), quantity=int(i["quantity"]), restock=restock(int(i["line_id"]))
            )
            for i in request.lines
        ],
        reason=f"return #{request.id}: {request.reason}",
        provider=provider,
        provider_ref=provider_ref,
        now=now,
    )
    await session.execute(update(ReturnRequest).where(ReturnRequest.id == request.id).values(refund_id=record.id))
    await session.refresh(request)
    return request


async def for_order(session: AsyncSession, *, order_id: int) -> list[ReturnRequest]:
    rows = await session.execute(
        select(ReturnRequest).where(ReturnRequest.order_id == order_id).order_by(ReturnRequest.id)
    )
    return list(rows.scalars())


async def for_merchant(
    session: AsyncSession, *, merchant_id: int, statuses: Sequence[ReturnStatus]
) -> list[ReturnRequest]:
    rows = await session.execute(
        select(ReturnRequest)
        .where(ReturnRequest.merchant_id == merchant_id, ReturnRequest.status.in_(statuses))
        .order_by(ReturnRequest.id.desc())
        .limit(100)
    )
    return list(rows.scalars())
