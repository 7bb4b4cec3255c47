"""Merchant onboarding, staff membership and the tenant checks every domain relies on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import Role, User
from passerelle.db.base import utcnow
from passerelle.errors import Conflict, DomainError, Forbidden, NotFound
from passerelle.i18n.countries import check_countries, check_country
from passerelle.merchants.models import (
    MemberRole,
    Merchant,
    MerchantKind,
    MerchantMember,
    MerchantShipsTo,
    MerchantStatus,
)
from passerelle.money import check_currency
from passerelle.slugs import slugify


async def apply(
    session: AsyncSession,
    *,
    applicant: User,
    name: str,
    kind: MerchantKind,
    country: str,
    ships_to: Sequence[str],
    currency: str,
    description: str = "",
) -> Merchant:
    """A user applies to sell: the merchant starts pending and the applicant is its owner."""
    name = name.strip()
    if not name:
        raise DomainError("invalid_name", "Give the company or shop name", field="name", status=422)
    merchant = Merchant(
        name=name,
        slug=await _free_slug(session, slugify(name)),
        kind=kind,
        country=check_country(country),
        currency=check_currency(currency),
        description=description.strip(),
        status=MerchantStatus.pending,
    )
    countries = check_countries(list(ships_to))
    session.add(merchant)
    await session.flush()
    session.add(MerchantMember(merchant_id=merchant.id, user_id=applicant.id, role=MemberRole.owner))
    session.add_all(MerchantShipsTo(merchant_id=merchant.id, country=c) for c in countries)
    if applicant.role == Role.buyer:
        applicant.role = Role.seller
    await session.flush()
    return merchant


async def _free_slug(session: AsyncSession, base: str) -> str:
    slug, n = base or "shop", 1
    while (await session.execute(select(Merchant.id).where(Merchant.slug == slug))).first():
        n += 1
        slug = f"{base}-{n}"
    return slug


async def review(session: AsyncSession, *, operator: User, merchant_id: int, approve: bool, note: str = "") -> Merchant:
    if operator.role != Role.operator:
        raise Forbidden("Operators only")
    merchant = await get(session, merchant_id=merchant_id)
    if merchant.status != MerchantStatus.pending:
        raise Conflict("already_reviewed", f"This merchant is already {merchant.status.value}")
    merchant.status = MerchantStatus.approved if approve else MerchantStatus.rejected
    merchant.reviewed_by_id = operator.id
    merchant.reviewed_at = utcnow()
    merchant.review_note = note.strip()[:500]
    await session.flush()
    return merchant


async def get(session: AsyncSession, *, merchant_id: int) -> Merchant:
    merchant = await session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    return merchant


async def get_public(session: AsyncSession, *, slug_or_id: str) -> Merchant:
    """An approved merchant, for storefronts: pending/rejected ones do not exist publicly."""
    query = select(Merchant).where(Merchant.status == MerchantStatus.approved)
    if slug_or_id.isdigit():
        query = query.where(Merchant.id == int(slug_or_id))
    else:
        query = query.where(Merchant.slug == slug_or_id)
    merchant = (await session.execute(query)).scalar_one_or_none()
    if merchant is None:
        raise NotFound("merchant")
    return merchant


async def membership(session: AsyncSession, *, user: User, merchant_id: int) -> MerchantMember | None:
    return await session.get(MerchantMember, (merchant_id, user.id))


async def require_staff(session: AsyncSession, *, user: User, merchant_id: int) -> Merchant:
    """The merchant, if `user` works for it. Anyone else gets 404, so ids leak nothing."""
    if await membership(session, user=user, merchant_id=merchant_id) is None:
        raise NotFound("merchant")
    return await get(session, merchant_id=merchant_id)


async def require_owner(session: AsyncSession, *, user: User, merchant_id: int) -> Merchant:
    member = await membership(session, user=user, merchant_id=merchant_id)
    if member is None:
        raise NotFound("merchant")
    if member.role != MemberRole.owner:
        raise Forbidden("Only the merchant's owners can do this")
    return await get(session, merchant_id=merchant_id)


def require_approved(merchant: Merchant) -> None:
    if merchant.status != MerchantStatus.approved:
        raise DomainError(
            "merchant_not_approved",
            "An operator must approve this merchant before it can publish",
            status=409,
        )


async def merchants_of(session: AsyncSession, *, user: User) -> list[tuple[Merchant, MemberRole]]:
    rows = await session.execute(
        select(Merchant, MerchantMember.role)
        .join(MerchantMember, MerchantMember.merchant_id == Merchant.id)
        .where(MerchantMember.user_id == user.id)
        .order_by(Merchant.name)
    )
    return [(m, r) for m, r in rows.all()]


async def add_staff(
    session: AsyncSession, *, owner: User, merchant_id: int, staff: User, role: MemberRole = MemberRole.staff
) -> MerchantMember:
    await require_owner(session, user=owner, merchant_id=merchant_id)
    if await membership(session, user=staff, merchant_id=merchant_id) is not None:
        raise Conflict("already_member", "This person is already on the team")
    member = MerchantMember(merchant_id=merchant_id, user_id=staff.id, role=role)
    session.add(member)
    if staff.role == Role.buyer:
        staff.role = Role.seller
    await session.flush()
    return member


async def ships_to(session: AsyncSession, *, merchant_id: int) -> list[str]:
    rows = await session.execute(
        select(MerchantShipsTo.country)
        .where(MerchantShipsTo.merchant_id == merchant_id)
        .order_by(MerchantShipsTo.country)
    )
    return list(rows.scalars())


async def set_ships_to(session: AsyncSession, *, merchant_id: int, countries: Sequence[str]) -> list[str]:
    checked = check_countries(list(countries))
    await session.execute(delete(MerchantShipsTo).where(MerchantShipsTo.merchant_id == merchant_id))
    session.add_all(MerchantShipsTo(merchant_id=merchant_id, country=c) for c in checked)
    await session.flush()
    return checked


async def list_by_status(
    session: AsyncSession, *, status: MerchantStatus | None, limit: int = 100, offset: int = 0
) -> tuple[list[Merchant], int]:
    query = select(Merchant)
    count = select(func.count()).select_from(Merchant)
    if status is not None:
        query = query.where(Merchant.status == status)
        count = count.where(Merchant.status == status)
    rows = await session.execute(
        query.order_by(Merchant.created_at.desc(), Merchant.id.desc()).limit(limit).offset(offset)
    )
    return list(rows.scalars()), int((await session.execute(count)).scalar_one())


async def list_approved(session: AsyncSession, *, kind: MerchantKind | None = None) -> list[Merchant]:
    query = select(Merchant).where(Merchant.status == MerchantStatus.approved)
    if kind is not None:
        query = query.where(Merchant.kind == kind)
    return list((await session.execute(query.order_by(Merchant.name))).scalars())
