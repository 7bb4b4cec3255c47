"""JSON routes for checkout and orders (buyers, merchants, operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import (
    CurrentUser,
    Operator,
    RequestLocale,
    Session,
    State,
    UnitOfWorkRoute,
    current_user,
    request_locale,
)
from passerelle.http import IdempotencyKey, PathId
from passerelle.ledger import service as ledger
from passerelle.merchants import service as merchants
from passerelle.money import check_currency
from passerelle.orders import queries
from passerelle.orders.buying_route import buying_post, request_context
from passerelle.orders.checkout_request import idempotent_checkout
from passerelle.orders.models import OrderStatus
from passerelle.orders.schemas import (
    CheckoutIn,
    CheckoutOut,
    MerchantTotalsOut,
    OrderList,
    OrderOut,
    PreviewIn,
    PreviewOut,
    RefundIn,
    RefundOut,
    StatusIn,
)
from passerelle.orders.service import lifecycle, placement, refunds
from passerelle.orders.service.checkout import cart_requests, checkout_cart
from passerelle.payments import service as payments

router = APIRouter(tags=["orders"], route_class=UnitOfWorkRoute)


def _money(amount: int, currency: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency)


@router.post("/checkout/preview", response_model=PreviewOut)
async def preview(body: PreviewIn, user: CurrentUser, session: Session, locale: RequestLocale) -> PreviewOut:
    currency = check_currency(body.currency) if body.currency else locale.currency
    _, requests = await cart_requests(session, buyer_id=user.id, language=locale.language)
    quote = await placement.price(
        session, requests=requests, country=body.country, currency=currency, fx=locale.fx, language=locale.language
    )
    return PreviewOut(
        merchants=[
            MerchantTotalsOut(
                merchant_id=m.merchant.id,
                merchant_name=m.merchant.name,
                subtotal=_money(m.subtotal, m.merchant.currency),
                shipping=_money(m.shipping, m.merchant.currency),
                vat_included=_money(m.vat, m.merchant.currency),
                total=_money(m.total, m.merchant.currency),
                total_buyer=_money(quote.buyer_amount(m), currency),
            )
            for m in quote.merchants
        ],
        total=_money(quote.buyer_total, currency),
    )


@buying_post(
    router,
    "/checkout",
    status_code=201,
    response_model=CheckoutOut,
    responses={
        409: {"description": "out_of_stock, not_shipped_to, in_progress"},
        422: {"description": "idempotency_key_reused, empty_cart"},
    },
)
async def checkout(body: CheckoutIn, request: Request, idempotency_key: IdempotencyKey = None) -> Response:
    """Place the cart: one order per merchant, stock held until `pay_by`, one payment to make."""
    state, session, signed_in = await request_context(request)
    user = await current_user(signed_in)
    locale = await request_locale(request, user, state)

    return await idempotent_checkout(
        session,
        body=body,
        user=user,
        state=state,
        locale=locale,
        key=idempotency_key,
        scope="checkout",
        place=lambda terms: checkout_cart(session, buyer=user, terms=terms, now=state.clock.now()),
    )


@router.get("/orders", response_model=OrderList)
async def my_orders(
    user: CurrentUser,
    session: Session,
    status: OrderStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> OrderList:
    orders, total = await queries.list_orders(session, buyer_id=user.id, status=status, limit=limit, offset=offset)
    return OrderList(items=[queries.summary(o) for o in orders], total=total)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: PathId, user: CurrentUser, session: Session) -> OrderOut:
    order, relation = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    return await queries.detail(session, order=order, relation=relation)


@router.post("/orders/{order_id}/status", response_model=OrderOut)
async def change_status(
    order_id: PathId, body: StatusIn, user: CurrentUser, session: Session, state: State
) -> OrderOut:
    """Buyer: cancel an unpaid order, confirm delivery/completion. Merchant: accept, ship, mark delivered."""
    order = await lifecycle.request_transition(
        session, actor=user, order_id=order_id, to_status=body.status, now=state.clock.now(), note=body.note
    )
    _, relation = await lifecycle.load_for_actor(session, order_id=order.id, actor=user)
    return await queries.detail(session, order=order, relation=relation)


@router.post("/orders/{order_id}/refunds", status_code=201, response_model=RefundOut)
async def refund(order_id: PathId, body: RefundIn, user: CurrentUser, session: Session, state: State) -> RefundOut:
    order, _ = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    payment = await payments.succeeded_payment_of(session, purchase_id=order.purchase_id)
    record = await refunds.refund(
        session,
        actor=user,
        order_id=order_id,
        amount=body.amount,
        returned=[
            refunds.ReturnedLine(line_id=item.line_id, quantity=item.quantity, restock=item.restock)
            for item in body.lines
        ],
        reason=body.reason,
        provider=state.payment_providers[payment.provider],
        provider_ref=payment.provider_ref,
        now=state.clock.now(),
    )
    refreshed, _ = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    return RefundOut(
        id=record.id,
        order_id=order_id,
        amount=_money(record.amount, record.currency),
        buyer_amount=_money(record.buyer_amount, record.buyer_currency),
        commission_reversed=_money(record.commission_amount, record.currency),
        order_status=refreshed.status,
    )


@router.get("/me/merchants/{merchant_id}/orders", response_model=OrderList)
async def merchant_orders(
    merchant_id: PathId,
    user: CurrentUser,
    session: Session,
    status: OrderStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> OrderList:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    orders, total = await queries.list_orders(
        session, merchant_id=merchant_id, status=status, limit=limit, offset=offset
    )
    return OrderList(items=[queries.summary(o) for o in orders], total=total)


@router.get("/me/merchants/{merchant_id}/balance")
async def merchant_balance(merchant_id: PathId, user: CurrentUser, session: Session) -> dict[str, dict[str, int]]:
    """What the platform owes the merchant, per currency, in minor units."""
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    owed = {}
    for currency in await ledger.merchant_currencies(session, merchant_id=merchant_id):
        owed[currency] = -await ledger.balance(session, account=ledger.merchant_account(merchant_id), currency=currency)
    return {"owed": owed}


@router.get("/me/merchants/{merchant_id}/statement.csv", response_class=PlainTextResponse)
async def merchant_statement(merchant_id: PathId, user: CurrentUser, session: Session) -> PlainTextResponse:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    text = await ledger.merchant_statement_csv(session, merchant_id=merchant_id)
    return PlainTextResponse(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statement-{merchant_id}.csv"'},
    )


@router.post("/operator/merchants/{merchant_id}/payouts")
async def payout(
    merchant_id: PathId, request: Request, operator: Operator, session: Session, state: State
) -> dict[str, dict[str, int]]:
    """Pay the merchant everything it is owed, per currency."""
    await merchants.get(session, merchant_id=merchant_id)
    paid = {}
    stamp = state.clock.now().strftime("%Y%m%dT%H%M%S%f")
    for currency in await ledger.merchant_currencies(session, merchant_id=merchant_id):
        amount = await ledger.record_payout(
            session, merchant_id=merchant_id, currency=currency, reference=f"payout:{merchant_id}:{currency}:{stamp}"
        )
        if amount:
            paid[currency] = amount
    return {"paid": paid}
