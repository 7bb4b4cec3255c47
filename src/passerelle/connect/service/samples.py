"""Free samples: a creator requests one from a sample campaign, the merchant approves or declines.

An approved sample becomes a zero-price order (source "sample", already paid: nothing to pay)
in the merchant's orders, so it is shipped, tracked and delivered by logistics like any other;
the creator's view of the request follows that order (approved -> shipped -> delivered).

Limits: the campaign's `sample_stock` (samples left to give) is taken by a conditional UPDATE
at approval, and the SKU's unit moves from stock to sold the same way; a creator holds at most
`sample_limit` live (requested or approved) requests per campaign, made race-free by the
unique (campaign, creator, slot) key. Errors roll the whole approval back: nothing half-written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.models import Sku
from passerelle.connect.models import Campaign, Creator, SampleRequest
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.merchants import service as merchants
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Purchase

ADDRESS_FIELDS = ("name", "line1", "postal_code", "city", "country")
SOURCE = "sample"
# What the creator sees, from the request and then from its order.
SHOWN = {
    OrderStatus.paid: "approved",
    OrderStatus.accepted: "approved",
    OrderStatus.shipped: "shipped",
    OrderStatus.delivered: "delivered",
    OrderStatus.completed: "delivered",
}


@dataclass(frozen=True)
class SampleView:
    request: SampleRequest
    campaign_title: str
    creator_handle: str
    status: str  # requested | approved | declined | shipped | delivered


def shown_status(request: SampleRequest, order_status: OrderStatus | None) -> str:
    if request.status != "approved":
        return request.status
    return SHOWN.get(order_status, "approved") if order_status is not None else "approved"


def _address(raw: Mapping[str, str]) -> dict[str, str]:
    address = {key: str(raw.get(key, "")).strip()[:120] for key in ADDRESS_FIELDS}
    missing = [key for key in ADDRESS_FIELDS if not address[key]]
    if missing:
        raise Invalid("invalid_address", "Give a name, street, postal code, city and country", field=missing[0])
    address["country"] = address["country"].upper()
    if len(address["country"]) != 2 or not address["country"].isalpha():
        raise Invalid("invalid_country", "A country is a two-letter code (FR, DE...)", field="country")
    return address


async def request_sample(
    session: AsyncSession, *, creator: Creator, campaign_id: int, address: Mapping[str, str], note: str, now: datetime
) -> SampleRequest:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.kind != "sample":
        raise NotFound("campaign")
    if campaign.status != "active":
        raise Conflict("campaign_ended", "This campaign has ended")
    if campaign.sample_stock <= 0:
        raise Conflict("no_samples_left", "No sample is left in this campaign")
    shipping = _address(address)
    taken = set(
        (
            await session.execute(
                select(SampleRequest.slot).where(
                    SampleRequest.campaign_id == campaign.id,
                    SampleRequest.creator_id == creator.id,
                    SampleRequest.slot.is_not(None),
                )
            )
        ).scalars()
    )
    free = [slot for slot in range(1, campaign.sample_limit + 1) if slot not in taken]
    if not free:
        raise Conflict("sample_limit_reached", "You already asked this campaign for all the samples you may have")
    request = SampleRequest(
        campaign_id=campaign.id,
        creator_id=creator.id,
        merchant_id=campaign.merchant_id,
        slot=free[0],
        status="requested",
        address=shipping,
        note=note.strip()[:300],
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(request)
    except IntegrityError:  # a concurrent request took the slot
        raise Conflict(
            "sample_limit_reached", "You already asked this campaign for all the samples you may have"
        ) from None
    return request


async def _owned(session: AsyncSession, *, actor: User, request_id: int) -> SampleRequest:
    request = await session.get(SampleRequest, request_id, populate_existing=True)
    if request is None:
        raise NotFound("sample request")
    await merchants.require_staff(session, user=actor, merchant_id=request.merchant_id)  # 404 for others
    return request


async def _decide(session: AsyncSession, *, request_id: int, to: str, now: datetime) -> None:
    values: dict[str, object] = {"status": to, "decided_at": now}
    if to == "declined":
        values["slot"] = None  # the creator may ask again
    moved = await session.execute(
        update(SampleRequest)
        .where(SampleRequest.id == request_id, SampleRequest.status == "requested")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("sample_decided", "This request was already answered")


async def decline(session: AsyncSession, *, actor: User, request_id: int, now: datetime) -> SampleRequest:
    request = await _owned(session, actor=actor, request_id=request_id)
    await _decide(session, request_id=request.id, to="declined", now=now)
    await session.refresh(request)
    return request


async def approve(session: AsyncSession, *, actor: User, request_id: int, now: datetime) -> SampleRequest:
    """Approve: one sample taken from the campaign, one unit from the SKU, a zero-price order to ship."""
    request = await _owned(session, actor=actor, request_id=request_id)
    await _decide(session, request_id=request.id, to="approved", now=now)
    taken = await session.execute(
        update(Campaign)
        .where(Campaign.id == request.campaign_id, Campaign.sample_stock >= 1)
        .values(sample_stock=Campaign.sample_stock - 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("no_samples_left", "No sample is left in this campaign")
    campaign = await session.get(Campaign, request.campaign_id, populate_existing=True)
    creator = await session.get(Creator, request.creator_id)
    assert campaign is not None and creator is not None
    order = await _sample_order(session, request=request, campaign=campaign, creator=creator, actor=actor, now=now)
    await session.execute(
        update(SampleRequest)
        .where(SampleRequest.id == request.id)
        .values(order_id=order.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(request)
    return request


async def _sample_order(
    session: AsyncSession, *, request: SampleRequest, campaign: Campaign, creator: Creator, actor: User, now: datetime
) -> Order:
    sku = await session.get(Sku, campaign.sample_sku_id) if campaign.sample_sku_id else None
    if sku is None or sku.merchant_id != campaign.merchant_id:
        raise Conflict("no_sample_product", "This campaign has no product to send as a sample")
    if creator.user_id is None:
        raise Conflict("creator_without_account", "This creator has no account to ship to")
    if not await stock.sell_directly(session, {sku.id: 1}):
        raise Conflict("out_of_stock", "The sample product is out of stock", field="sku_id", extra={"sku_id": sku.id})
    purchase = Purchase(
        buyer_id=creator.user_id,
        currency=campaign.currency,
        total_amount=0,
        shipping_address=dict(request.address),
        created_at=now,
    )
    session.add(purchase)
    await session.flush()
    order = Order(
        purchase_id=purchase.id,
        merchant_id=campaign.merchant_id,
        buyer_id=creator.user_id,
        status=OrderStatus.paid,  # nothing to pay: ready to ship
        currency=campaign.currency,
        subtotal_amount=0,
        shipping_amount=0,
        vat_amount=0,
        total_amount=0,
        commission_amount=0,
        discount_amount=0,
        refunded_amount=0,
        buyer_currency=campaign.currency,
        buyer_total_amount=0,
        fx_rate="1",
        ship_to_country=request.address["country"],
        created_at=now,
        updated_at=now,
        source=SOURCE,
    )
    session.add(order)
    await session.flush()
    session.add(
        OrderLine(
            order_id=order.id,
            sku_id=sku.id,
            product_id=sku.product_id,
            title=f"{campaign.title} ({sku.code})"[:200],
            sku_code=sku.code,
            quantity=1,
            unit_amount=0,
            line_amount=0,
            vat_rate_bp=0,
            vat_amount=0,
            commission_rate_bp=0,
            commission_amount=0,
            merchant_net_amount=0,
            returned_quantity=0,
            attribution={"sample_request": request.id},
        )
    )
    session.add(
        OrderEvent(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.paid.value,
            actor_id=actor.id,
            actor_kind="merchant",
            note=f"free sample for creator @{creator.handle}"[:500],
            at=now,
        )
    )
    await session.flush()
    return order


async def _views(session: AsyncSession, *, where: ColumnElement[bool], limit: int) -> list[SampleView]:
    rows = await session.execute(
        select(SampleRequest, Campaign.title, Creator.handle, Order.status)
        .join(Campaign, Campaign.id == SampleRequest.campaign_id)
        .join(Creator, Creator.id == SampleRequest.creator_id)
        .outerjoin(Order, Order.id == SampleRequest.order_id)
        .where(where)
        .order_by(SampleRequest.id.desc())
        .limit(limit)
    )
    return [SampleView(r, title, handle, shown_status(r, status)) for r, title, handle, status in rows.all()]


async def view_of(session: AsyncSession, *, request_id: int) -> SampleView:
    """One request as shown (the caller has checked who may see it)."""
    (view,) = await _views(session, where=SampleRequest.id == request_id, limit=1)
    return view


async def of_creator(session: AsyncSession, *, creator_id: int, limit: int = 100) -> list[SampleView]:
    return await _views(session, where=SampleRequest.creator_id == creator_id, limit=limit)


async def of_merchant(session: AsyncSession, *, actor: User, merchant_id: int, limit: int = 200) -> list[SampleView]:
    await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
    return await _views(session, where=SampleRequest.merchant_id == merchant_id, limit=limit)


async def open_campaigns(session: AsyncSession, *, limit: int = 20) -> list[Campaign]:
    """Sample campaigns a creator can ask now (active, samples left), newest first."""
    rows = await session.execute(
        select(Campaign)
        .where(Campaign.kind == "sample", Campaign.status == "active", Campaign.sample_stock > 0)
        .order_by(Campaign.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())
