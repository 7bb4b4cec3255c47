"""Shipments and returns shaped for the API and the pages, and their PDF documents."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.logistics import documents
from passerelle.logistics.models import Direction, ReturnRequest, Shipment
from passerelle.logistics.schemas import EventOut, ParcelOut, ReturnLineIn, ReturnOut, ShipmentOut
from passerelle.logistics.service import shipments as shipping
from passerelle.logistics.service import tracking
from passerelle.merchants.models import Merchant
from passerelle.orders.models import Order, OrderLine, Purchase
from passerelle.traceability import service as traceability


def label_url(shipment: Shipment) -> str:
    return f"/api/v1/shipments/{shipment.id}/label.pdf"


async def shipments_out(session: AsyncSession, found: Sequence[Shipment]) -> list[ShipmentOut]:
    ids = [s.id for s in found]
    parcels = await shipping.parcels_of(session, shipment_ids=ids)
    events = await tracking.timeline(session, shipment_ids=ids)
    return [
        ShipmentOut(
            id=s.id,
            order_id=s.order_id,
            direction=s.direction.value,
            carrier=s.carrier,
            service=s.service,
            tracking_number=s.tracking_number,
            status=s.status.value,
            estimated_delivery=s.estimated_delivery,
            shipped_at=s.shipped_at,
            delivered_at=s.delivered_at,
            parcels=[
                ParcelOut(
                    weight_g=p.weight_g,
                    length_mm=p.length_mm,
                    width_mm=p.width_mm,
                    height_mm=p.height_mm,
                    packaging_material=p.packaging_material,
                    packaging_recyclable=p.packaging_recyclable,
                    packaging_weight_g=p.packaging_weight_g,
                )
                for p in parcels[s.id]
            ],
            events=[EventOut(kind=e.kind, occurred_at=e.occurred_at, location=e.location) for e in events[s.id]],
            label_url=label_url(s),
        )
        for s in found
    ]


async def return_out(session: AsyncSession, request: ReturnRequest) -> ReturnOut:
    shipment = (await session.execute(select(Shipment).where(Shipment.return_id == request.id))).scalar_one_or_none()
    return ReturnOut(
        id=request.id,
        order_id=request.order_id,
        status=request.status.value,
        lines=[ReturnLineIn(line_id=int(i["line_id"]), quantity=int(i["quantity"])) for i in request.lines],
        reason=request.reason,
        tracking_number=shipment.tracking_number if shipment else "",
        label_url=label_url(shipment) if shipment else "",
        refund_id=request.refund_id,
    )


async def _parties(session: AsyncSession, order: Order) -> tuple[documents.Party, documents.Party]:
    """(merchant, buyer) as label parties."""
    merchant = await session.get(Merchant, order.merchant_id)
    purchase = await session.get(Purchase, order.purchase_id)
    address = purchase.shipping_address if purchase else {}
    seller = documents.Party(merchant.name if merchant else "", [merchant.country if merchant else ""])
    buyer = documents.Party(address.get("name", ""), documents.address_lines(address))
    return seller, buyer


async def label_pdf(session: AsyncSession, shipment: Shipment) -> bytes:
    order = await session.get(Order, shipment.order_id)
    assert order is not None
    seller, buyer = await _parties(session, order)
    is_return = shipment.direction == Direction.back
    sender, recipient = (buyer, seller) if is_return else (seller, buyer)
    parcels = (await shipping.parcels_of(session, shipment_ids=[shipment.id]))[shipment.id]
    weights = [p.weight_g + p.packaging_weight_g for p in parcels] or [1000]
    return documents.label_pdf(
        [
            documents.LabelData(
                tracking_number=shipment.tracking_number,
                carrier=shipment.carrier,
                service=shipment.service,
                sender=sender,
                recipient=recipient,
                weight_g=weight,
                parcel_no=n,
                parcel_count=len(weights),
                qr_payload=shipment.tracking_number,
                is_return=is_return,
            )
            for n, weight in enumerate(weights, start=1)
        ]
    )


async def packing_slip_pdf(session: AsyncSession, order: Order, *, base_url: str) -> bytes:
    seller, buyer = await _parties(session, order)
    lines = list(
        (
            await session.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
        ).scalars()
    )
    serials: dict[int, list[str]] = {}
    for unit in await traceability.units_of_order(session, order_id=order.id):
        if unit.order_line_id is not None:
            serials.setdefault(unit.order_line_id, []).append(unit.serial)
    return documents.packing_slip_pdf(
        order_id=order.id,
        merchant=seller.name,
        recipient=buyer,
        lines=[documents.SlipLine(li.title, li.sku_code, li.quantity, serials.get(li.id, [])) for li in lines],
        unit_url=base_url.rstrip("/") + "/trace/{serial}",
    )
