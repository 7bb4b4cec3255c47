"""Shipments: a merchant ships a paid order in one or more parcels with a carrier service.
The first shipment moves the order to shipped through the order lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.infra import outbox
from passerelle.logistics.carriers.base import BookingRequest, Carrier
from passerelle.logistics.models import Direction, Parcel, Shipment, TrackingStatus
from passerelle.logistics.service import eta, packaging
from passerelle.merchants.models import Merchant
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.service import lifecycle
from passerelle.traceability import service as traceability

SHIPPABLE = frozenset({OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped})
MAX_PARCELS = 20


@dataclass(frozen=True)
class ParcelSpec:
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    packaging_type_id: int | None = None


def _check(parcels: Sequence[ParcelSpec]) -> None:
    if not 0 < len(parcels) <= MAX_PARCELS:
        raise Invalid("invalid_parcels", f"Between 1 and {MAX_PARCELS} parcels per shipment", field="parcels")
    for p in parcels:
        if not 0 < p.weight_g <= 70_000:
            raise Invalid("invalid_weight", "Parcel weight is between 1 g and 70 kg", field="weight_g")
        if not all(0 < d <= 3000 for d in (p.length_mm, p.width_mm, p.height_mm)):
            raise Invalid("invalid_dimensions", "Parcel sides are between 1 and 3000 mm", field="dimensions")


async def merchant_order(session: AsyncSession, *, actor: User, order_id: int) -> Order:
    order, relation = await lifecycle.load_for_actor(session, order_id=order_id, actor=actor)
    if relation not in ("merchant", "operator"):
        raise Forbidden("Only the seller ships an order")
    return order


def schedule(session: AsyncSession, carrier: Carrier, planned: Sequence[tuple[datetime, dict[str, object]]]) -> None:
    """A simulated carrier's future webhooks, each delivered through the outbox when due."""
    for at, event in planned:
        outbox.emit(
            session, topic="logistics.carrier.deliver", payload={"carrier": carrier.name, "event": event}, at=at
        )


async def create_shipment(
    session: AsyncSession,
    *,
    actor: User,
    order_id: int,
    carrier: Carrier,
    service: str,
    parcels: Sequence[ParcelSpec],
    now: datetime,
    signing_secret: str,
    simulate_carrier: bool = True,
) -> Shipment:
    order = await merchant_order(session, actor=actor, order_id=order_id)
    if order.status not in SHIPPABLE:
        raise Conflict("not_shippable", f"An order that is {order.status.value} cannot be shipped")
    spec = carrier.services.get(service)
    if spec is None:
        raise Invalid("unknown_service", f"{carrier.name} has no service {service}", field="service")
    _check(parcels)
    kinds = {
        pid: await packaging.usable_type(session, merchant_id=order.merchant_id, packaging_type_id=pid)
        for pid in {p.packaging_type_id for p in parcels if p.packaging_type_id is not None}
    }
    merchant = await session.get(Merchant, order.merchant_id)
    assert merchant is not None
    booking = carrier.book(
        BookingRequest(
            service=service,
            origin_country=merchant.country,
            destination_country=order.ship_to_country,
            weight_g=sum(p.weight_g for p in parcels),
            parcels=len(parcels),
            booked_at=now,
        )
    )
    shipment = Shipment(
        order_id=order.id,
        merchant_id=order.merchant_id,
        direction=Direction.outbound,
        carrier=carrier.name,
        service=service,
        tracking_number=booking.tracking_number,
        origin_country=merchant.country,
        destination_country=order.ship_to_country,
        status=TrackingStatus.label_created,
        estimated_delivery=await eta.estimate(
            session,
            carrier=carrier.name,
            service=spec,
            origin=merchant.country,
            destination=order.ship_to_country,
            shipped_at=now,
        ),
        shipped_at=now,
        created_by_id=actor.id,
    )
    session.add(shipment)
    await session.flush()
    for p in parcels:
        kind = kinds.get(p.packaging_type_id) if p.packaging_type_id is not None else None
        session.add(
            Parcel(
                shipment_id=shipment.id,
                weight_g=p.weight_g,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
                packaging_type_id=kind.id if kind else None,
                packaging_material=kind.material if kind else "",
                packaging_recyclable=kind.recyclable if kind else False,
                packaging_weight_g=kind.weight_g if kind else 0,
            )
        )
    if order.status != OrderStatus.shipped:
        await lifecycle.request_transition(
            session,
            actor=actor,
            order_id=order.id,
            to_status=OrderStatus.shipped,
            now=now,
            note=booking.tracking_number,
        )
        await traceability.record_for_order(
            session, order_id=order.id, kind="shipped", at=now, data={"carrier": carrier.name}, secret=signing_secret
        )
    if simulate_carrier:  # the seed applies its own past events instead
        schedule(session, carrier, booking.scheduled)
    await session.flush()
    return shipment


async def for_order(session: AsyncSession, *, order_id: int) -> list[Shipment]:
    rows = await session.execute(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id))
    return list(rows.scalars())


async def parcels_of(session: AsyncSession, *, shipment_ids: Sequence[int]) -> dict[int, list[Parcel]]:
    rows = await session.execute(select(Parcel).where(Parcel.shipment_id.in_(shipment_ids)).order_by(Parcel.id))
    grouped: dict[int, list[Parcel]] = {sid: [] for sid in shipment_ids}
    for parcel in rows.scalars():
        grouped[parcel.shipment_id].append(parcel)
    return grouped


async def visible_shipment(session: AsyncSession, *, actor: User, shipment_id: int) -> tuple[Shipment, str]:
    """The shipment if the actor is its order's buyer, seller or an operator; 404 otherwise."""
    shipment = await session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound("shipment")
    _order, relation = await lifecycle.load_for_actor(session, order_id=shipment.order_id, actor=actor)
    return shipment, relation
