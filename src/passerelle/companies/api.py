"""JSON routes for buyer companies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.companies import service
from passerelle.companies.models import Company, CompanyRole
from passerelle.companies.schemas import CompanyIn, CompanyList, CompanyOut, MemberIn, MemberOut
from passerelle.deps import CurrentUser, Session, UnitOfWorkRoute
from passerelle.errors import NotFound

router = APIRouter(tags=["companies"], route_class=UnitOfWorkRoute)
Id = Annotated[int, Path(ge=1, le=2**62)]


async def _out(session: AsyncSession, company: Company, role: CompanyRole, *, with_members: bool) -> CompanyOut:
    members = None
    if with_members:
        members = [
            MemberOut(user_id=u.id, email=u.email, display_name=u.display_name, role=m.role, since=m.created_at)
            for m, u in await service.members(session, company_id=company.id)
        ]
    return CompanyOut(
        id=company.id,
        name=company.name,
        country=company.country,
        vat_number=company.vat_number,
        my_role=role,
        created_at=company.created_at,
        members=members,
    )


@router.post(
    "/companies",
    status_code=201,
    response_model=CompanyOut,
    responses={422: {"description": "invalid_vat_number, vat_country_mismatch"}},
)
async def create_company(body: CompanyIn, user: CurrentUser, session: Session) -> CompanyOut:
    """Create a buyer company; you become its admin."""
    company = await service.create(
        session, creator=user, name=body.name, country=body.country, vat_number=body.vat_number
    )
    return await _out(session, company, CompanyRole.admin, with_members=True)


@router.get("/me/companies", response_model=CompanyList)
async def my_companies(user: CurrentUser, session: Session) -> CompanyList:
    pairs = await service.companies_of(session, user=user)
    return CompanyList(items=[await _out(session, c, r, with_members=False) for c, r in pairs], total=len(pairs))


@router.get("/companies/{company_id}", response_model=CompanyOut)
async def get_company(company_id: Id, user: CurrentUser, session: Session) -> CompanyOut:
    company, role = await service.require_member(session, user=user, company_id=company_id)
    return await _out(session, company, role, with_members=True)


@router.post("/companies/{company_id}/members", status_code=201, response_model=CompanyOut)
async def add_member(company_id: Id, body: MemberIn, user: CurrentUser, session: Session) -> CompanyOut:
    """Admins add an existing account by its e-mail."""
    company = await service.require_admin(session, user=user, company_id=company_id)
    member = await accounts.get_by_email(session, email=body.email)
    if member is None:
        raise NotFound("user")
    await service.add_member(session, admin=user, company_id=company_id, member=member, role=body.role)
    return await _out(session, company, CompanyRole.admin, with_members=True)


@router.delete("/companies/{company_id}/members/{user_id}", status_code=204)
async def remove_member(company_id: Id, user_id: Id, user: CurrentUser, session: Session) -> Response:
    await service.remove_member(session, admin=user, company_id=company_id, user_id=user_id)
    return Response(status_code=204)
