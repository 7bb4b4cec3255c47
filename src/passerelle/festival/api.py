"""JSON routes for festivals and deals (the claim hot path lives in claims_api.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from passerelle.accounts.models import Role
from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import (
    CurrentUser,
    Operator,
    OptionalUser,
    RequestLocale,
    Session,
    State,
    UnitOfWorkRoute,
    after_commit,
)
from passerelle.errors import NotFound
from passerelle.festival import live as live_counters
from passerelle.festival import presale as presales
from passerelle.festival import report, reservations, screen, service
from passerelle.festival.models import Deal, Festival
from passerelle.festival.schemas import DealIn, DealList, DealOut, FestivalIn, FestivalOut, PresaleOut
from passerelle.http import PathId
from passerelle.orders.checkout_request import terms_for
from passerelle.orders.schemas import CheckoutIn, CheckoutOut
from passerelle.state import AppState

router = APIRouter(tags=["festival"], route_class=UnitOfWorkRoute)


def festival_out(festival: Festival, now: datetime) -> FestivalOut:
    return FestivalOut(
        id=festival.id,
        name=festival.name,
        slug=festival.slug,
        starts_at=festival.starts_at,
        ends_at=festival.ends_at,
        time_zone=festival.time_zone,
        running=festival.starts_at <= now < festival.ends_at,
    )


def presale_out(deal: Deal) -> PresaleOut | None:
    if not deal.is_presale:
        return None
    assert deal.presale_starts_at is not None and deal.balance_due_at is not None
    terms = presales.terms_text_values(deal)
    return PresaleOut(
        deposit=MoneyOut(amount=terms["deposit"], currency=deal.currency),
        deposit_credit=MoneyOut(amount=terms["credit"], currency=deal.currency),
        balance=MoneyOut(amount=terms["balance"], currency=deal.currency),
        opens_at=deal.presale_starts_at,
        balance_from=deal.starts_at,
        balance_due_at=deal.balance_due_at,
        stock=deal.presale_stock,
        remaining=deal.presale_stock - deal.presale_taken if deal.status == "armed" else 0,
    )


async def deal_out(deal: Deal, state: AppState) -> DealOut:
    engine = state.engine
    remaining = await engine.remaining(deal.id) if engine is not None else 0
    return DealOut(
        id=deal.id,
        festival_id=deal.festival_id,
        merchant_id=deal.merchant_id,
        sku_id=deal.sku_id,
        price=MoneyOut(amount=deal.price_amount, currency=deal.currency),
        stock=deal.stock,
        remaining=remaining if deal.status == "armed" else 0,
        per_buyer_limit=deal.per_buyer_limit,
        starts_at=deal.starts_at,
        ends_at=deal.ends_at,
        status=deal.status.value,
        presale=presale_out(deal),
    )


@router.post("/deals/reservations/{seq}/checkout", status_code=201, response_model=CheckoutOut)
async def checkout_reservation(
    seq: PathId, body: CheckoutIn, user: CurrentUser, session: Session, state: State, locale: RequestLocale
) -> CheckoutOut:
    """Pay for a claimed deal: an order at the deal price, paid like any other (sandbox PSP...)."""
    if state.engine is None:
        raise NotFound("festival engine")
    terms = terms_for(body, state=state, locale=locale)
    done = await reservations.checkout(
        session, engine=state.engine, buyer=user, seq=seq, terms=terms, now=state.clock.now()
    )
    return done.as_checkout_out()


@router.post("/operator/festivals", status_code=201, response_model=FestivalOut)
async def create_festival(body: FestivalIn, operator: Operator, session: Session, state: State) -> FestivalOut:
    festival = await service.create_festival(
        session,
        actor=operator,
        name=body.name,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        time_zone=body.time_zone,
    )
    return festival_out(festival, state.clock.now())


@router.get("/festivals/current", response_model=FestivalOut)
async def current(session: Session, state: State) -> FestivalOut:
    festival = await service.current_festival(session, now=state.clock.now())
    if festival is None:
        raise NotFound("festival")
    return festival_out(festival, state.clock.now())


@router.get("/festivals/current/live", response_class=StreamingResponse)
async def live(request: Request, state: State, once: bool = False) -> StreamingResponse:
    """Server-sent events for the big screen: GMV, paid orders, orders/s and each deal's
    remaining stock, once a second (`?once=true` for one snapshot)."""
    return StreamingResponse(
        live_counters.stream(state, once=once, is_disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/festivals/current/screen", response_class=StreamingResponse)
async def screen_feed(request: Request, state: State, user: OptionalUser, once: bool = False) -> StreamingResponse:
    """Server-sent events for the festival's big screen, once a second: orders, orders/s
    (chart of the last five minutes, peak), orders by country, top merchants and live
    rooms. Operators also get GMV; anyone else gets the public mode, without money."""
    public = user is None or user.role != Role.operator
    return StreamingResponse(
        screen.stream(state, public=public, once=once, is_disconnected=request.is_disconnected),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


@router.get("/operator/festivals/{festival_id}/report.{fmt}")
async def festival_report(
    festival_id: PathId, fmt: Literal["csv", "pdf"], operator: Operator, session: Session, state: State
) -> Response:
    """The festival report (GMV, orders, peak orders/s, by country, merchant and live room)
    as CSV or as a PDF with charts; operators only."""
    festival = await session.get(Festival, festival_id)
    if festival is None:
        raise NotFound("festival")
    built = await report.build(
        session, festival=festival, fx=await state.fx(), base=state.settings.base_currency, now=state.clock.now()
    )
    name = f"festival-{festival.slug}-report.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        body = report.to_csv(built, language=operator.language).encode()
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    return Response(report.to_pdf(built, language=operator.language), media_type="application/pdf", headers=headers)


@router.get("/deals", response_model=DealList)
async def list_deals(
    session: Session,
    state: State,
    festival: str = Query("current", max_length=20, description="'current' or a festival id"),
) -> DealList:
    now = state.clock.now()
    chosen: Festival | None
    if festival == "current":
        chosen = await service.current_festival(session, now=now)
    elif festival.isdigit():
        chosen = await session.get(Festival, int(festival))
    else:
        chosen = None
    if chosen is None:
        return DealList(items=[], festival=None)
    deals = await service.list_deals(session, festival_id=chosen.id)
    return DealList(items=[await deal_out(d, state) for d in deals], festival=festival_out(chosen, now))


@router.get("/deals/{deal_id}", response_model=DealOut)
async def get_deal(deal_id: PathId, session: Session, state: State) -> DealOut:
    deal = await session.get(Deal, deal_id)
    if deal is None or deal.status == "draft":
        raise NotFound("deal")
    return await deal_out(deal, state)


@router.post("/me/merchants/{merchant_id}/deals", status_code=201, response_model=DealOut)
async def create_deal(merchant_id: PathId, body: DealIn, user: CurrentUser, session: Session, state: State) -> DealOut:
    deal = await service.create_deal(
        session,
        actor=user,
        merchant_id=merchant_id,
        festival_id=body.festival_id,
        sku_id=body.sku_id,
        price_amount=body.price_amount,
        stock=body.stock,
        per_buyer_limit=body.per_buyer_limit,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        hold_seconds=body.hold_seconds,
        presale=service.PresaleTerms(
            deposit_amount=body.presale.deposit_amount,
            deposit_credit_amount=body.presale.deposit_credit_amount,
            presale_starts_at=body.presale.opens_at,
            balance_due_at=body.presale.balance_due_at,
            presale_stock=body.presale.stock,
        )
        if body.presale
        else None,
    )
    return await deal_out(deal, state)


@router.post("/me/deals/{deal_id}/arm", response_model=DealOut)
async def arm(deal_id: PathId, user: CurrentUser, session: Session, state: State) -> DealOut:
    """Take the deal's stock from the SKU and open it to claims (at its start time)."""
    deal = await service.arm_deal(session, actor=user, deal_id=deal_id)
    engine = state.engine
    if engine is not None:
        armed = service.engine_deal(deal)
        after_commit(session, lambda: engine.arm([armed]))
    out = await deal_out(deal, state)
    out.remaining = deal.flash_stock
    return out
