"""The buyer's order history and order pages: status, lines, totals, timeline, and the
buyer's own actions (cancel an unpaid order, confirm delivery)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.merchants.models import Merchant
from passerelle.orders import queries
from passerelle.orders.models import Order, OrderStatus, Purchase
from passerelle.orders.pages.views import order_error, timeline, when
from passerelle.orders.service import lifecycle
from passerelle.payments.models import Payment, PaymentStatus
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, page_guard, path_id
from passerelle.web.paging import paginate

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

PER_PAGE = 20
S = OrderStatus


def _page_number(page: Page) -> int:
    raw = page.request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 10_000 else 1


async def merchant_names(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str]]:
    """id -> (name, slug)."""
    if not ids:
        return {}
    rows = await session.execute(select(Merchant.id, Merchant.name, Merchant.slug).where(Merchant.id.in_(ids)))
    return {merchant_id: (name, slug) for merchant_id, name, slug in rows.all()}


@router.get("/orders")
async def my_orders(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    number = _page_number(page)
    orders, total = await queries.list_orders(session, buyer_id=user.id, limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    pages = paginate(path="/orders", params=[], total=total, page=number, per_page=PER_PAGE)
    return page.render(
        "orders/list.html",
        rows=[(order, queries.summary(order)) for order in orders],
        total=total,
        pages=pages,
        merchants=await merchant_names(session, {o.merchant_id for o in orders}),
    )


async def open_payment_url(session: AsyncSession, state: AppState, purchase_id: int) -> str:
    """Where to pay an unpaid purchase, while its payment can still be made."""
    payment = (
        await session.execute(
            select(Payment).where(
                Payment.purchase_id == purchase_id,
                Payment.status.in_((PaymentStatus.pending, PaymentStatus.processing)),
            )
        )
    ).scalar_one_or_none()
    provider = state.payment_providers.get(payment.provider) if payment is not None else None
    return provider.pay_url(payment_public_id=payment.public_id) if payment and provider else ""


async def _order_page(
    page: Page,
    session: AsyncSession,
    state: AppState,
    order: Order,
    relation: str,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    detail = await queries.detail(session, order=order, relation=relation)
    purchase = await session.get(Purchase, order.purchase_id)
    merchant = await session.get(Merchant, order.merchant_id)
    is_buyer = relation == "buyer"
    return page.render(
        "orders/detail.html",
        status=status,
        order=detail,
        merchant=merchant,
        address=purchase.shipping_address if purchase else {},
        timeline=await timeline(page, session, detail.history, viewer_is_buyer=is_buyer, show_notes=False),
        pay_url=await open_payment_url(session, state, order.purchase_id) if order.status == S.pending_payment else "",
        can_act=is_buyer,
        pay_by=when(page, detail.pay_by) if detail.pay_by else "",
        error=error,
        done=page.request.query_params.get("done", ""),
    )


async def _buyer_order(page: Page, session: AsyncSession, order_ref: str) -> tuple[User, Order, str]:
    user = page.require_user()
    order, relation = await lifecycle.load_for_actor(session, order_id=path_id(order_ref, "order"), actor=user)
    return user, order, relation


@router.get("/orders/{order_ref}")
async def order_page(order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    _user, order, relation = await _buyer_order(page, session, order_ref)
    if relation == "merchant":
        # The seller's team works on orders from the console.
        return RedirectResponse(f"/console/m/{order.merchant_id}/orders/{order.id}", status_code=303)
    return await _order_page(page, session, state, order, relation)


async def _buyer_transition(
    page: Page, session: AsyncSession, state: State, order_ref: str, steps: list[OrderStatus], done: str
) -> Response:
    user, order, _relation = await _buyer_order(page, session, order_ref)
    order_id = order.id
    try:
        # A savepoint: both steps of a confirmation apply, or neither.
        async with session.begin_nested():
            for to_status in steps:
                await lifecycle.request_transition(
                    session, actor=user, order_id=order_id, to_status=to_status, now=state.clock.now()
                )
    except DomainError as error:
        if error.status_code in (401, 404):
            raise
        order, relation = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
        message = order_error(page, error)
        return await _order_page(page, session, state, order, relation, error=message, status=error.status_code)
    return RedirectResponse(f"/orders/{order_id}?done={done}", status_code=303)


@router.post("/orders/{order_ref}/cancel")
async def cancel_order(order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    return await _buyer_transition(page, session, state, order_ref, [S.cancelled], "cancelled")


@router.post("/orders/{order_ref}/confirm")
async def confirm_delivery(order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    """'I received it and all is well': shipped becomes delivered, then completed."""
    _user, order, _relation = await _buyer_order(page, session, order_ref)
    steps = [S.delivered, S.completed] if order.status == S.shipped else [S.completed]
    return await _buyer_transition(page, session, state, order_ref, steps, "completed")
