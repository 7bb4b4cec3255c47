"""JSON routes for merchants: apply, storefront data, staff, operator review."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.deps import CurrentUser, Operator, Session, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.http import PathId
from passerelle.merchants import service
from passerelle.merchants.models import Merchant, MerchantKind, MerchantStatus
from passerelle.merchants.schemas import (
    MerchantApplyIn,
    MerchantList,
    MerchantOut,
    ReviewIn,
    ShipsToIn,
    StaffIn,
)

router = APIRouter(tags=["merchants"], route_class=UnitOfWorkRoute)


async def merchant_out(session: AsyncSession, merchant: Merchant) -> MerchantOut:
    return MerchantOut(
        id=merchant.id,
        name=merchant.name,
        slug=merchant.slug,
        kind=merchant.kind,
        country=merchant.country,
        currency=merchant.currency,
        description=merchant.description,
        status=merchant.status,
        ships_to=await service.ships_to(session, merchant_id=merchant.id),
        created_at=merchant.created_at,
    )


@router.post("/merchants", status_code=201, response_model=MerchantOut)
async def apply(body: MerchantApplyIn, user: CurrentUser, session: Session) -> MerchantOut:
    merchant = await service.apply(
        session,
        applicant=user,
        name=body.name,
        kind=body.kind,
        country=body.country,
        ships_to=body.ships_to,
        currency=body.currency,
        description=body.description,
    )
    return await merchant_out(session, merchant)


@router.get("/merchants", response_model=MerchantList)
async def list_public(session: Session, kind: MerchantKind | None = None) -> MerchantList:
    merchants = await service.list_approved(session, kind=kind)
    return MerchantList(items=[await merchant_out(session, m) for m in merchants], total=len(merchants))


@router.get("/merchants/{merchant_id}", response_model=MerchantOut)
async def get_merchant(merchant_id: PathId, session: Session) -> MerchantOut:
    return await merchant_out(session, await service.get_public(session, slug_or_id=str(merchant_id)))


@router.get("/me/merchants", response_model=MerchantList)
async def my_merchants(user: CurrentUser, session: Session) -> MerchantList:
    pairs = await service.merchants_of(session, user=user)
    return MerchantList(items=[await merchant_out(session, m) for m, _ in pairs], total=len(pairs))


@router.get("/me/merchants/{merchant_id}", response_model=MerchantOut)
async def my_merchant(merchant_id: PathId, user: CurrentUser, session: Session) -> MerchantOut:
    return await merchant_out(session, await service.require_staff(session, user=user, merchant_id=merchant_id))


@router.put("/me/merchants/{merchant_id}/ships-to", response_model=MerchantOut)
async def set_ships_to(merchant_id: PathId, body: ShipsToIn, user: CurrentUser, session: Session) -> MerchantOut:
    merchant = await service.require_owner(session, user=user, merchant_id=merchant_id)
    await service.set_ships_to(session, merchant_id=merchant_id, countries=body.countries)
    return await merchant_out(session, merchant)


@router.post("/me/merchants/{merchant_id}/staff", status_code=201)
async def add_staff(merchant_id: PathId, body: StaffIn, user: CurrentUser, session: Session) -> dict[str, str | int]:
    staff = await accounts.get_by_email(session, email=body.email)
    if staff is None:
        raise NotFound("user")
    member = await service.add_staff(session, owner=user, merchant_id=merchant_id, staff=staff, role=body.role)
    return {"merchant_id": member.merchant_id, "user_id": member.user_id, "role": member.role.value}


@router.get("/operator/merchants", response_model=MerchantList)
async def review_queue(
    operator: Operator,
    session: Session,
    status: MerchantStatus | None = MerchantStatus.pending,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> MerchantList:
    merchants, total = await service.list_by_status(session, status=status, limit=limit, offset=offset)
    return MerchantList(items=[await merchant_out(session, m) for m in merchants], total=total)


@router.post("/operator/merchants/{merchant_id}/approve", response_model=MerchantOut)
async def approve(merchant_id: PathId, body: ReviewIn, operator: Operator, session: Session) -> MerchantOut:
    merchant = await service.review(session, operator=operator, merchant_id=merchant_id, approve=True, note=body.note)
    return await merchant_out(session, merchant)


@router.post("/operator/merchants/{merchant_id}/reject", response_model=MerchantOut)
async def reject(merchant_id: PathId, body: ReviewIn, operator: Operator, session: Session) -> MerchantOut:
    merchant = await service.review(session, operator=operator, merchant_id=merchant_id, approve=False, note=body.note)
    return await merchant_out(session, merchant)
