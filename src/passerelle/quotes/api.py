"""JSON routes for requests for quote: buyers ask and accept, wholesalers' staff answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import CurrentUser, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.http import IdempotencyKey
from passerelle.merchants import service as merchants
from passerelle.orders.checkout_request import idempotent_checkout
from passerelle.orders.schemas import CheckoutIn, CheckoutOut
from passerelle.quotes import service
from passerelle.quotes.models import Quote, QuoteStatus
from passerelle.quotes.schemas import (
    QuoteAnswerIn,
    QuoteDeclineIn,
    QuoteLineOut,
    QuoteList,
    QuoteOut,
    QuoteRequestIn,
)

router = APIRouter(tags=["quotes"], route_class=UnitOfWorkRoute)
Id = Annotated[int, Path(ge=1, le=2**62)]


async def _outs(session: AsyncSession, quotes: list[Quote], now: datetime) -> list[QuoteOut]:
    lines = await service.lines_of(session, quote_ids=[q.id for q in quotes])
    outs = []
    for quote in quotes:
        cur = quote.currency
        line_outs = [
            QuoteLineOut(
                id=v.line.id,
                sku_id=v.line.sku_id,
                sku_code=v.sku_code,
                product_id=v.product_id,
                quantity=v.line.quantity,
                unit_price=None if v.line.unit_amount is None else MoneyOut(amount=v.line.unit_amount, currency=cur),
                line_total=None
                if v.line.unit_amount is None
                else MoneyOut(amount=v.line.unit_amount * v.line.quantity, currency=cur),
            )
            for v in lines.get(quote.id, [])
        ]
        priced = [line.line_total.amount for line in line_outs if line.line_total is not None]
        outs.append(
            QuoteOut(
                id=quote.id,
                status=service.effective_status(quote, now),
                buyer_id=quote.buyer_id,
                company_id=quote.company_id,
                merchant_id=quote.merchant_id,
                message=quote.message,
                answer_note=quote.answer_note,
                lines=line_outs,
                subtotal=MoneyOut(amount=sum(priced), currency=cur)
                if line_outs and len(priced) == len(line_outs)
                else None,
                valid_until=quote.valid_until,
                decline_reason=quote.decline_reason,
                closed_by=quote.closed_by,
                purchase_id=quote.purchase_id,
                created_at=quote.created_at,
                answered_at=quote.answered_at,
                accepted_at=quote.accepted_at,
            )
        )
    return outs


async def _out(session: AsyncSession, quote: Quote, now: datetime) -> QuoteOut:
    return (await _outs(session, [quote], now))[0]


@router.post(
    "/quotes", status_code=201, response_model=QuoteOut, responses={409: {"description": "quotes_wholesale_only"}}
)
async def request_quote(body: QuoteRequestIn, user: CurrentUser, session: Session, state: State) -> QuoteOut:
    """Ask a wholesaler to price quantities of its items."""
    now = state.clock.now()
    quote = await service.request_quote(
        session,
        buyer=user,
        merchant_id=body.merchant_id,
        lines=[service.AskedLine(sku_id=line.sku_id, quantity=line.quantity) for line in body.lines],
        message=body.message,
        company_id=body.company_id,
        now=now,
    )
    return await _out(session, quote, now)


@router.get("/quotes", response_model=QuoteList)
async def my_quotes(
    user: CurrentUser,
    session: Session,
    state: State,
    status: QuoteStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> QuoteList:
    now = state.clock.now()
    quotes, total = await service.list_quotes(
        session, now=now, buyer_id=user.id, status=status, limit=limit, offset=offset
    )
    return QuoteList(items=await _outs(session, quotes, now), total=total)


@router.get("/me/merchants/{merchant_id}/quotes", response_model=QuoteList)
async def merchant_quotes(
    merchant_id: Id,
    user: CurrentUser,
    session: Session,
    state: State,
    status: QuoteStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> QuoteList:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    now = state.clock.now()
    quotes, total = await service.list_quotes(
        session, now=now, merchant_id=merchant_id, status=status, limit=limit, offset=offset
    )
    return QuoteList(items=await _outs(session, quotes, now), total=total)


@router.get("/quotes/{quote_id}", response_model=QuoteOut)
async def get_quote(quote_id: Id, user: CurrentUser, session: Session, state: State) -> QuoteOut:
    quote, _ = await service.load_for_party(session, quote_id=quote_id, actor=user)
    return await _out(session, quote, state.clock.now())


@router.post("/quotes/{quote_id}/answer", response_model=QuoteOut)
async def answer_quote(
    quote_id: Id, body: QuoteAnswerIn, user: CurrentUser, session: Session, state: State
) -> QuoteOut:
    """The wholesaler prices each line and sets how long the prices hold."""
    now = state.clock.now()
    quote = await service.answer(
        session,
        actor=user,
        quote_id=quote_id,
        prices=[service.PricedLine(sku_id=line.sku_id, unit_amount=line.unit_amount) for line in body.lines],
        valid_until=body.valid_until,
        note=body.note,
        now=now,
    )
    return await _out(session, quote, now)


@router.post("/quotes/{quote_id}/decline", response_model=QuoteOut)
async def decline_quote(
    quote_id: Id, body: QuoteDeclineIn, user: CurrentUser, session: Session, state: State
) -> QuoteOut:
    """Either side ends the request (the wholesaler will not quote, or the buyer passes)."""
    now = state.clock.now()
    quote = await service.decline(session, actor=user, quote_id=quote_id, reason=body.reason, now=now)
    return await _out(session, quote, now)


@router.post(
    "/quotes/{quote_id}/accept",
    status_code=201,
    response_model=CheckoutOut,
    responses={
        409: {"description": "quote_expired, quote_not_answered, quote_declined, quote_already_accepted, out_of_stock"}
    },
)
async def accept_quote(
    quote_id: Id,
    body: CheckoutIn,
    user: CurrentUser,
    session: Session,
    state: State,
    locale: RequestLocale,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Accept the answered quote: orders at the quoted prices, stock held until `pay_by`, one payment to make."""

    return await idempotent_checkout(
        session,
        body=body,
        user=user,
        state=state,
        locale=locale,
        key=idempotency_key,
        scope=f"quote:{quote_id}:accept",
        place=lambda terms: service.accept(session, actor=user, quote_id=quote_id, terms=terms, now=state.clock.now()),
    )
