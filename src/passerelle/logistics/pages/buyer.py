"""The buyer's tracking page: each parcel's timeline in the buyer's language and time zone,
the estimated delivery date, returns (open one, print its label, follow it back) and,
once delivered, the nearest recycling drop-off points for the packaging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.logistics.carriers.registry import carrier
from passerelle.logistics.models import Direction, ReturnRequest, Shipment
from passerelle.logistics.pages.texts import error_message, event_label, materials_text, return_label
from passerelle.logistics.present import label_url
from passerelle.logistics.service import recycling, returns, shipments, tracking
from passerelle.logistics.zones import viewer_zone
from passerelle.orders.models import Order, OrderLine, Purchase
from passerelle.orders.service import lifecycle
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


@dataclass(frozen=True)
class Step:
    label: str
    at: datetime
    when: str
    location: str


@dataclass(frozen=True)
class ParcelView:
    id: int
    tracking_number: str
    carrier: str
    status: str
    status_label: str
    estimated: str
    delivered: bool
    is_return: bool
    label_url: str
    steps: list[Step]


@dataclass(frozen=True)
class ReturnableLine:
    id: int
    title: str
    left: int


def _moment(page: Page, at: datetime, zone: ZoneInfo) -> str:
    language = page.locale.language
    day = format_date(at.astimezone(zone).date(), "medium", locale=language)
    return f"{day}, {format_time(at, 'short', tzinfo=zone, locale=language)}"


def _day(page: Page, day: date) -> str:
    return str(format_date(day, "full", locale=page.locale.language))


async def _parcels(page: Page, session: AsyncSession, found: list[Shipment], zone: ZoneInfo) -> list[ParcelView]:
    events = await tracking.timeline(session, shipment_ids=[s.id for s in found])
    return [
        ParcelView(
            id=s.id,
            tracking_number=s.tracking_number,
            carrier=s.carrier,
            status=s.status.value,
            status_label=event_label(page, s.status.value),
            estimated=_day(page, s.estimated_delivery),
            delivered=s.delivered_at is not None,
            is_return=s.direction == Direction.back,
            label_url=label_url(s) if s.direction == Direction.back else "",
            steps=[
                Step(event_label(page, e.kind), e.occurred_at, _moment(page, e.occurred_at, zone), e.location)
                for e in reversed(events[s.id])  # newest first
            ],
        )
        for s in found
    ]


async def _returnable(session: AsyncSession, state: AppState, order: Order) -> list[ReturnableLine]:
    if order.status not in returns.RETURNABLE:
        return []
    deadline = await returns.return_deadline(session, order=order)
    if deadline is None or state.clock.now() > deadline:
        return []
    held: dict[int, int] = {}
    for request in await returns.for_order(session, order_id=order.id):
        if request.status.value != "refunded":
            for item in request.lines:
                held[int(item["line_id"])] = held.get(int(item["line_id"]), 0) + int(item["quantity"])
    lines = (
        await session.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
    ).scalars()
    found = [ReturnableLine(li.id, li.title, li.quantity - li.returned_quantity - held.get(li.id, 0)) for li in lines]
    return [line for line in found if line.left > 0]


async def render_tracking(
    page: Page, session: AsyncSession, state: AppState, order: Order, *, error: str = "", status: int = 200
) -> Response:
    purchase = await session.get(Purchase, order.purchase_id)
    address = purchase.shipping_address if purchase else {}
    chosen = page.request.query_params.get("tz") or page.request.cookies.get("tz")
    zone = viewer_zone(chosen=chosen, country=order.ship_to_country)
    found = await shipments.for_order(session, order_id=order.id)
    parcels = await _parcels(page, session, found, zone)
    outbound = [p for p in parcels if not p.is_return]
    delivered = bool(outbound) and all(p.delivered for p in outbound)
    points: list[recycling.NearbyPoint] = []
    located = recycling.locate(address) if delivered else None
    if located is not None:
        points = await recycling.nearest(session, lat=located[0], lon=located[1], k=5)
    requests: list[ReturnRequest] = await returns.for_order(session, order_id=order.id)
    deadline = await returns.return_deadline(session, order=order)
    return page.render(
        "logistics/tracking.html",
        status=status,
        order=order,
        parcels=[p for p in parcels if not p.is_return],
        return_parcels={p.id: p for p in parcels if p.is_return},
        return_shipments={s.return_id: s.id for s in found if s.return_id is not None},
        returns=[(r, return_label(page, r.status.value)) for r in requests],
        returnable=await _returnable(session, state, order),
        deadline=_moment(page, deadline, zone) if deadline else "",
        points=[(near, materials_text(page, near.point.materials)) for near in points],
        zone=zone.key,
        error=error,
        done=page.request.query_params.get("done", ""),
    )


async def _buyer_order(page: Page, session: AsyncSession, order_ref: str) -> tuple[Order, str]:
    user = page.require_user()
    return await lifecycle.load_for_actor(session, order_id=path_id(order_ref, "order"), actor=user)


@router.get("/orders/{order_ref}/tracking")
async def tracking_page(order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    order, relation = await _buyer_order(page, session, order_ref)
    if relation == "merchant":
        return RedirectResponse(f"/console/m/{order.merchant_id}/orders/{order.id}/shipping", status_code=303)
    return await render_tracking(page, session, state, order)


@router.post("/orders/{order_ref}/returns")
async def open_return(order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    order, relation = await _buyer_order(page, session, order_ref)
    user = page.require_user()
    form = await page.form()
    wanted: dict[int, int] = {}
    for key in form:
        value = form_text(form, key, max_length=6)
        if key.startswith("qty_") and key[4:].isdigit() and value.isdigit():
            wanted[int(key[4:])] = int(value)
    order_id = order.id
    try:
        async with session.begin_nested():
            await returns.open_return(
                session,
                buyer=user,
                order_id=order_id,
                lines=wanted,
                reason=form_text(form, "reason", max_length=500),
                carrier=carrier(state.settings, "sandbox"),
                now=state.clock.now(),
            )
    except DomainError as refused:
        if refused.status_code in (401, 404):
            raise
        order, _ = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
        return await render_tracking(
            page, session, state, order, error=error_message(page, refused), status=refused.status_code
        )
    return RedirectResponse(f"/orders/{order_id}/tracking?done=return", status_code=303)
