"""JSON routes for logistics: carrier webhooks, shipments and documents, returns,
packaging, recycling points."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import StringConstraints

from passerelle.deps import CurrentUser, Operator, Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, Forbidden, NotFound
from passerelle.http import PathId
from passerelle.logistics import present
from passerelle.logistics.carriers.registry import carrier, carriers
from passerelle.logistics.ingest import EventBatcher
from passerelle.logistics.models import Direction
from passerelle.logistics.schemas import (
    BulkShipIn,
    PackagingTypeIn,
    PackagingTypeOut,
    RecyclingPointOut,
    ReturnIn,
    ReturnOut,
    ReturnRefundIn,
    SettingsIn,
    ShipmentIn,
    ShipmentOut,
)
from passerelle.logistics.service import bulk, packaging, recycling, returns, shipments
from passerelle.merchants import service as merchants
from passerelle.orders.service import lifecycle
from passerelle.payments import service as payments
from passerelle.state import AppState

router = APIRouter(tags=["logistics"], route_class=UnitOfWorkRoute)
MAX_WEBHOOK_BYTES = 512_000
FUTURE_SLACK = timedelta(hours=1)
log = logging.getLogger("passerelle.logistics")
MAX_CSV_BYTES = 20_000_000


def _pdf(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, no-store"},
    )


@router.get("/logistics/carriers")
async def list_carriers(state: State) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "services": [
                {
                    "code": s.code,
                    "name": s.name,
                    "transit_days_domestic": s.transit_days_domestic,
                    "transit_days_cross_border": s.transit_days_cross_border,
                }
                for s in c.services.values()
            ],
        }
        for c in carriers(state.settings).values()
    ]


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=ShipmentOut)
async def create_shipment(
    order_id: PathId, body: ShipmentIn, user: CurrentUser, session: Session, state: State
) -> ShipmentOut:
    shipment = await shipments.create_shipment(
        session,
        actor=user,
        order_id=order_id,
        carrier=carrier(state.settings, body.carrier),
        service=body.service,
        parcels=[shipments.ParcelSpec(**p.model_dump()) for p in body.parcels],
        now=state.clock.now(),
        signing_secret=state.settings.resolved_secret_key,
    )
    return (await present.shipments_out(session, [shipment]))[0]


@router.post("/me/merchants/{merchant_id}/shipments/bulk", status_code=202)
async def bulk_ship(
    merchant_id: PathId, body: BulkShipIn, user: CurrentUser, session: Session, state: State
) -> dict[str, int]:
    """Ship many paid orders with one parcel each: booked in the background, in chunks."""
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    sender = carrier(state.settings, body.carrier)
    if body.service not in sender.services:
        raise DomainError(
            "unknown_service", f"{sender.name} has no service {body.service}", field="service", status=422
        )
    messages = bulk.queue(
        session,
        actor=user,
        merchant_id=merchant_id,
        order_ids=body.order_ids,
        carrier=sender.name,
        service=body.service,
        parcel=shipments.ParcelSpec(**body.parcel.model_dump()),
    )
    return {"orders": len(set(body.order_ids)), "batches": messages}


@router.get("/orders/{order_id}/shipments", response_model=list[ShipmentOut])
async def order_shipments(order_id: PathId, user: CurrentUser, session: Session) -> list[ShipmentOut]:
    await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    return await present.shipments_out(session, await shipments.for_order(session, order_id=order_id))


@router.get("/shipments/{shipment_id}/label.pdf")
async def shipment_label(shipment_id: PathId, user: CurrentUser, session: Session) -> Response:
    shipment, relation = await shipments.visible_shipment(session, actor=user, shipment_id=shipment_id)
    # The buyer prints return labels only; outbound labels are the seller's.
    if relation == "buyer" and shipment.direction != Direction.back:
        raise NotFound("shipment")
    return _pdf(await present.label_pdf(session, shipment), f"label-{shipment.tracking_number}.pdf")


@router.get("/orders/{order_id}/packing-slip.pdf")
async def packing_slip(
    order_id: PathId, request: Request, user: CurrentUser, session: Session, state: State
) -> Response:
    order = await shipments.merchant_order(session, actor=user, order_id=order_id)
    base = state.settings.public_url or str(request.base_url)
    return _pdf(await present.packing_slip_pdf(session, order, base_url=base), f"packing-slip-{order.id}.pdf")


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnOut)
async def open_return(order_id: PathId, body: ReturnIn, user: CurrentUser, session: Session, state: State) -> ReturnOut:
    wanted: dict[int, int] = {}
    for line in body.lines:
        wanted[line.line_id] = wanted.get(line.line_id, 0) + line.quantity
    request, _shipment = await returns.open_return(
        session,
        buyer=user,
        order_id=order_id,
        lines=wanted,
        reason=body.reason,
        carrier=carrier(state.settings, "sandbox"),
        now=state.clock.now(),
    )
    return await present.return_out(session, request)


@router.get("/orders/{order_id}/returns", response_model=list[ReturnOut])
async def order_returns(order_id: PathId, user: CurrentUser, session: Session) -> list[ReturnOut]:
    await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    return [await present.return_out(session, r) for r in await returns.for_order(session, order_id=order_id)]


@router.post("/returns/{return_id}/refund", response_model=ReturnOut)
async def refund_return(
    return_id: PathId, body: ReturnRefundIn, user: CurrentUser, session: Session, state: State
) -> ReturnOut:
    found, relation = await returns.visible_return(session, actor=user, return_id=return_id)
    if relation not in ("merchant", "operator"):
        raise Forbidden("Only the seller refunds a return")
    order, _ = await lifecycle.load_for_actor(session, order_id=found.order_id, actor=user)
    payment = await payments.succeeded_payment_of(session, purchase_id=order.purchase_id)
    done = await returns.refund_return(
        session,
        actor=user,
        return_id=return_id,
        resellable=body.lines or body.resellable,
        provider=state.payment_providers[payment.provider],
        provider_ref=payment.provider_ref,
        now=state.clock.now(),
    )
    return await present.return_out(session, done)


def _packaging_out(p: Any) -> PackagingTypeOut:
    return PackagingTypeOut(
        id=p.id,
        name=p.name,
        material=p.material,
        recyclable=p.recyclable,
        weight_g=p.weight_g,
        platform_wide=p.merchant_id is None,
    )


@router.get("/me/merchants/{merchant_id}/packaging-types", response_model=list[PackagingTypeOut])
async def packaging_types(merchant_id: PathId, user: CurrentUser, session: Session) -> list[PackagingTypeOut]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return [_packaging_out(p) for p in await packaging.types_for(session, merchant_id=merchant_id)]


@router.post("/me/merchants/{merchant_id}/packaging-types", status_code=201, response_model=PackagingTypeOut)
async def add_packaging_type(
    merchant_id: PathId, body: PackagingTypeIn, user: CurrentUser, session: Session
) -> PackagingTypeOut:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return _packaging_out(await packaging.add_type(session, merchant_id=merchant_id, **body.model_dump()))


@router.post("/operator/logistics/packaging-types", status_code=201, response_model=PackagingTypeOut)
async def add_platform_packaging_type(body: PackagingTypeIn, operator: Operator, session: Session) -> PackagingTypeOut:
    return _packaging_out(await packaging.add_type(session, merchant_id=None, **body.model_dump()))


@router.get("/me/merchants/{merchant_id}/logistics/packaging-stats")
async def merchant_packaging_stats(merchant_id: PathId, user: CurrentUser, session: Session) -> dict[str, float | int]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return (await packaging.stats(session, merchant_id=merchant_id)).as_dict()


@router.get("/operator/logistics/packaging-stats")
async def platform_packaging_stats(operator: Operator, session: Session) -> dict[str, float | int]:
    return (await packaging.stats(session)).as_dict()


@router.put("/me/merchants/{merchant_id}/logistics/settings")
async def logistics_settings(
    merchant_id: PathId, body: SettingsIn, user: CurrentUser, session: Session
) -> dict[str, int]:
    await merchants.require_owner(session, user=user, merchant_id=merchant_id)
    days = await packaging.set_return_window(session, merchant_id=merchant_id, days=body.return_window_days)
    return {"return_window_days": days}


@router.post("/operator/logistics/recycling-points")
async def import_recycling_points(
    request: Request, operator: Operator, session: Session, replace: bool = False
) -> dict[str, int]:
    """Body: the CSV itself (text/csv, UTF-8)."""
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise DomainError("payload_too_large", "CSV too large", status=413)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError("invalid_csv", "The CSV must be UTF-8", field="file", status=422) from None
    return {"imported": await recycling.import_csv(session, text=text, replace=replace)}


@router.get("/logistics/recycling-points/nearest", response_model=list[RecyclingPointOut])
async def nearest_points(
    session: Session,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[RecyclingPointOut]:
    return [
        RecyclingPointOut(
            id=n.point.id,
            name=n.point.name,
            lat=n.point.lat,
            lon=n.point.lon,
            address=n.point.address,
            opening_hours=n.point.opening_hours,
            materials=[m for m in n.point.materials.split(";") if m],
            distance_km=n.distance_km,
        )
        for n in await recycling.nearest(session, lat=lat, lon=lon, k=k)
    ]


# Carrier webhooks: no request transaction (the events are applied by the group-commit writer).
webhooks = APIRouter(tags=["logistics"])


def _batcher(request: Request, state: AppState) -> EventBatcher:
    found: EventBatcher | None = getattr(request.app.state, "tracking_batcher", None)
    if found is None:
        found = EventBatcher(
            db=state.db,
            signing_secret=state.settings.resolved_secret_key,
            clock=state.clock.now,
            on_commit=state.wake_worker,
        )
        request.app.state.tracking_batcher = found
    return found


@webhooks.post("/logistics/carriers/{carrier_name}/events")
async def carrier_events(carrier_name: Annotated[str, StringConstraints(max_length=30)], request: Request) -> Response:
    """Carrier webhooks, one event or a batch (`{"events": [...]}`, up to 1000): signature and
    age checked, each event applied once; answered once the events are durable. Served by
    the fast path (fastpath.py) without FastAPI's route matching; documented here."""
    return await handle_carrier_events(request, carrier_name)


async def handle_carrier_events(request: Request, carrier_name: str) -> Response:
    state: AppState = request.app.state.passerelle
    try:
        sender = carrier(state.settings, carrier_name)
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            raise DomainError("payload_too_large", "Webhook body too large", status=413)
        now = state.clock.now()
        events, batched = sender.parse_events(headers=dict(request.headers), body=body, now=int(now.timestamp()))
        if any(e.occurred_at > now + FUTURE_SLACK for e in events):
            # A wrong carrier clock would pin the status forever (older events never win).
            raise DomainError("event_in_future", "An event is dated in the future", status=400)
        outcomes = await _batcher(request, state).submit(sender.name, events)
        if not batched and outcomes[0] == "unknown_parcel":
            raise DomainError("unknown_parcel", "No shipment has this tracking number", status=400)
    except DomainError as refused:
        return Response(
            orjson.dumps(refused.as_problem()), status_code=refused.status_code, media_type="application/json"
        )
    if not batched:
        answer: dict[str, Any] = {"status": outcomes[0], "event_id": events[0].event_id}
    else:
        answer = {
            "applied": outcomes.count("applied"),
            "duplicates": outcomes.count("duplicate"),
            "unknown": outcomes.count("unknown_parcel"),
            "outcomes": outcomes,
        }
    return Response(orjson.dumps(answer), media_type="application/json")


router.include_router(webhooks)
