"""Buyer companies: create one (its creator becomes admin), manage members, membership checks
other domains use (quotes on behalf of a company)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.companies.models import Company, CompanyMember, CompanyRole
from passerelle.companies.vat import check_vat_number
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.i18n.countries import check_country


async def create(session: AsyncSession, *, creator: User, name: str, country: str, vat_number: str | None) -> Company:
    name = name.strip()
    if not name:
        raise Invalid("invalid_name", "Give the company name", field="name")
    country = check_country(country)
    vat = check_vat_number(vat_number, country=country) if vat_number and vat_number.strip() else None
    company = Company(name=name[:120], country=country, vat_number=vat, created_by_id=creator.id)
    session.add(company)
    await session.flush()
    session.add(CompanyMember(company_id=company.id, user_id=creator.id, role=CompanyRole.admin))
    await session.flush()
    return company


async def membership(session: AsyncSession, *, user: User, company_id: int) -> CompanyMember | None:
    return await session.get(CompanyMember, (company_id, user.id))


async def require_member(session: AsyncSession, *, user: User, company_id: int) -> tuple[Company, CompanyRole]:
    """The company and the user's role in it; 404 for anyone outside, so ids leak nothing."""
    member = await membership(session, user=user, company_id=company_id)
    company = await session.get(Company, company_id) if member is not None else None
    if member is None or company is None:
        raise NotFound("company")
    return company, member.role


async def require_admin(session: AsyncSession, *, user: User, company_id: int) -> Company:
    company, role = await require_member(session, user=user, company_id=company_id)
    if role != CompanyRole.admin:
        raise Forbidden("Only the company's admins can do this")
    return company


async def add_member(
    session: AsyncSession, *, admin: User, company_id: int, member: User, role: CompanyRole = CompanyRole.buyer
) -> CompanyMember:
    await require_admin(session, user=admin, company_id=company_id)
    if await membership(session, user=member, company_id=company_id) is not None:
        raise Conflict("already_member", "This person is already a member of the company", field="email")
    row = CompanyMember(company_id=company_id, user_id=member.id, role=role)
    session.add(row)
    await session.flush()
    return row


async def remove_member(session: AsyncSession, *, admin: User, company_id: int, user_id: int) -> None:
    await require_admin(session, user=admin, company_id=company_id)
    row = await session.get(CompanyMember, (company_id, user_id))
    if row is None:
        raise NotFound("member")
    if row.role == CompanyRole.admin and await _admin_count(session, company_id=company_id) <= 1:
        raise Conflict("last_admin", "A company keeps at least one admin")
    await session.delete(row)
    await session.flush()


async def _admin_count(session: AsyncSession, *, company_id: int) -> int:
    count = await session.execute(
        select(func.count())
        .select_from(CompanyMember)
        .where(CompanyMember.company_id == company_id, CompanyMember.role == CompanyRole.admin)
    )
    return int(count.scalar_one())


async def members(session: AsyncSession, *, company_id: int) -> list[tuple[CompanyMember, User]]:
    rows = await session.execute(
        select(CompanyMember, User)
        .join(User, User.id == CompanyMember.user_id)
        .where(CompanyMember.company_id == company_id)
        .order_by(CompanyMember.created_at, User.id)
    )
    return [(m, u) for m, u in rows.all()]


async def companies_of(session: AsyncSession, *, user: User) -> list[tuple[Company, CompanyRole]]:
    rows = await session.execute(
        select(Company, CompanyMember.role)
        .join(CompanyMember, CompanyMember.company_id == Company.id)
        .where(CompanyMember.user_id == user.id)
        .order_by(Company.name, Company.id)
    )
    return [(c, r) for c, r in rows.all()]
