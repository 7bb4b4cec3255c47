"""Festival and deal rules (everything but the claim hot path). Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import Role, User
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.festival import presale as presales
from passerelle.festival.engine import rules
from passerelle.festival.models import Deal, DealStatus, Festival
from passerelle.infra import outbox
from passerelle.merchants import service as merchants
from passerelle.slugs import slugify


@dataclass(frozen=True)
class PresaleTerms:
    """A deal's presale, when it has one (see festival/presale.py)."""

    deposit_amount: int | None = None
    deposit_credit_amount: int | None = None
    presale_starts_at: datetime | None = None
    balance_due_at: datetime | None = None
    presale_stock: int = 0


# Past the last hold's expiry, so the engine's sweep has released every unpaid hold.
CLOSE_MARGIN_SECONDS = 5


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("unknown_time_zone", f"Unknown time zone {name!r}", field="time_zone") from None
    return name


async def create_festival(
    session: AsyncSession, *, actor: User, name: str, starts_at: datetime, ends_at: datetime, time_zone: str
) -> Festival:
    if actor.role != Role.operator:
        raise Forbidden("Operators only")
    if ends_at <= starts_at:
        raise Invalid("invalid_window", "A festival must end after it starts", field="ends_at")
    base, n = slugify(name) or "festival", 1
    slug = base
    while (await session.execute(select(Festival.id).where(Festival.slug == slug))).first():
        n += 1
        slug = f"{base}-{n}"
    festival = Festival(
        name=name.strip(), slug=slug, starts_at=starts_at, ends_at=ends_at, time_zone=check_time_zone(time_zone)
    )
    session.add(festival)
    await session.flush()
    return festival


async def current_festival(session: AsyncSession, *, now: datetime) -> Festival | None:
    """The festival running now, else the next one to start."""
    running = (
        await session.execute(
            select(Festival)
            .where(Festival.starts_at <= now, Festival.ends_at > now)
            .order_by(Festival.starts_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if running is not None:
        return running
    return (
        await session.execute(select(Festival).where(Festival.starts_at > now).order_by(Festival.starts_at).limit(1))
    ).scalar_one_or_none()


async def create_deal(
    session: AsyncSession,
    *,
    actor: User,
    merchant_id: int,
    festival_id: int,
    sku_id: int,
    price_amount: int,
    stock: int,
    per_buyer_limit: int,
    starts_at: datetime,
    ends_at: datetime,
    hold_seconds: int = 900,
    presale: PresaleTerms | None = None,
) -> Deal:
    merchant = await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
    merchants.require_approved(merchant)
    festival = await session.get(Festival, festival_id)
    if festival is None:
        raise NotFound("festival")
    if not festival.starts_at <= starts_at < ends_at <= festival.ends_at:
        raise Invalid("outside_festival", "The deal must start and end inside the festival", field="starts_at")
    row = (
        await session.execute(
            select(Sku, Product)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id == sku_id, Sku.merchant_id == merchant_id)
        )
    ).first()
    if row is None:
        raise NotFound("sku")
    sku, product = row
    if product.status != ProductStatus.published:
        raise Conflict("not_published", "Publish the product before making a deal of it", field="sku_id")
    if not 0 < price_amount <= sku.price_amount:
        raise Invalid(
            "invalid_deal_price", "A deal price is positive and at most the usual price", field="price_amount"
        )
    if stock < 1 or per_buyer_limit < 1:
        raise Invalid("invalid_deal_stock", "Stock and per-buyer limit must be at least 1", field="stock")
    if not 10 <= hold_seconds <= 86_400:
        raise Invalid("invalid_hold", "Holds last between 10 seconds and a day", field="hold_seconds")
    presale = presale or PresaleTerms()
    presales.check_terms(
        price_amount=price_amount,
        stock=stock,
        starts_at=starts_at,
        ends_at=ends_at,
        deposit_amount=presale.deposit_amount,
        deposit_credit_amount=presale.deposit_credit_amount,
        presale_starts_at=presale.presale_starts_at,
        balance_due_at=presale.balance_due_at,
        presale_stock=presale.presale_stock,
    )
    deal = Deal(
        festival_id=festival.id,
        merchant_id=merchant_id,
        sku_id=sku_id,
        price_amount=price_amount,
        currency=merchant.currency,
        stock=stock,
        per_buyer_limit=per_buyer_limit,
        starts_at=starts_at,
        ends_at=ends_at,
        hold_seconds=hold_seconds,
        status=DealStatus.draft,
        deposit_amount=presale.deposit_amount,
        deposit_credit_amount=presale.deposit_credit_amount,
        presale_starts_at=presale.presale_starts_at,
        balance_due_at=presale.balance_due_at,
        presale_stock=presale.presale_stock,
        presale_taken=0,
    )
    session.add(deal)
    await session.flush()
    return deal


async def arm_deal(session: AsyncSession, *, actor: User | None, deal_id: int) -> Deal:
    """Move the deal's units from the SKU's available stock into the deal (held there, so
    stock + reserved + sold stays whole). The engine learns about it after commit."""
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("deal")
    if actor is not None:
        await merchants.require_staff(session, user=actor, merchant_id=deal.merchant_id)
    if deal.status != DealStatus.draft:
        raise Conflict("already_armed", f"This deal is already {deal.status.value}")
    taken = await session.execute(
        update(Sku)
        .where(Sku.id == deal.sku_id, Sku.stock >= deal.stock)
        .values(stock=Sku.stock - deal.stock, reserved=Sku.reserved + deal.stock)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("insufficient_stock", "The SKU has fewer units than the deal's stock", field="stock")
    deal.status = DealStatus.armed
    # Once the deal has ended and its last holds have run out, unsold units go back.
    outbox.emit(
        session,
        topic="deals.close",
        payload={"deal_id": deal.id},
        at=deal.ends_at + timedelta(seconds=deal.hold_seconds + CLOSE_MARGIN_SECONDS),
    )
    if deal.is_presale:
        presales.schedule_forfeit(session, deal)
    await session.flush()
    return deal


async def close_deal(session: AsyncSession, *, deal_id: int, unsold: int) -> bool:
    """Give the deal's unsold units back to the SKU's available stock, once. `unsold` is
    what the engine still has for it after the deal ended and every hold was paid or
    released. False when the deal was already closed."""
    closed = await session.execute(
        update(Deal)
        .where(Deal.id == deal_id, Deal.status == DealStatus.armed)
        .values(status=DealStatus.closed, returned_units=unsold)
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    deal = await session.get(Deal, deal_id)
    assert deal is not None
    if unsold:
        await session.execute(
            update(Sku)
            .where(Sku.id == deal.sku_id, Sku.reserved >= unsold)
            .values(reserved=Sku.reserved - unsold, stock=Sku.stock + unsold)
            .execution_options(synchronize_session=False)
        )
    return True


def engine_deal(deal: Deal) -> tuple[rules.Deal, int]:
    return (
        rules.Deal(
            deal.id, 0, deal.per_buyer_limit, deal.starts_at.timestamp(), deal.ends_at.timestamp(), deal.hold_seconds
        ),
        deal.flash_stock,  # a presale's units are sold by deposit, outside the claim engine
    )


async def armed_deals(session: AsyncSession) -> list[Deal]:
    return list((await session.execute(select(Deal).where(Deal.status == DealStatus.armed))).scalars())


async def list_deals(session: AsyncSession, *, festival_id: int | None, merchant_id: int | None = None) -> list[Deal]:
    query = select(Deal).where(or_(Deal.status == DealStatus.armed, Deal.status == DealStatus.closed))
    if festival_id is not None:
        query = query.where(Deal.festival_id == festival_id)
    if merchant_id is not None:
        query = query.where(Deal.merchant_id == merchant_id)
    return list((await session.execute(query.order_by(Deal.starts_at, Deal.id))).scalars())
