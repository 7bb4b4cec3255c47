"""The merchant console's orders: a list with a status filter, the order page (accept,
ship, deliver, refund), the balance owed and the statement CSV. Every route is scoped
to one merchant the user works for; another merchant's order is a plain 404."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from passerelle.accounts.models import User
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, Invalid, NotFound
from passerelle.ledger import service as ledger
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.orders import queries
from passerelle.orders.models import Order, OrderLine, OrderStatus, Purchase, Refund
from passerelle.orders.pages.views import order_error, status_label, timeline
from passerelle.orders.service import lifecycle, refunds
from passerelle.payments import service as payments
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id
from passerelle.web.paging import paginate

console_router = APIRouter(
    prefix="/console/m/{merchant_ref}",
    include_in_schema=False,
    route_class=UnitOfWorkRoute,
    dependencies=[Depends(page_guard)],
)

PER_PAGE = 50
S = OrderStatus
# The buttons a merchant gets, by the order's status: (target status, label key).
MERCHANT_ACTIONS: dict[OrderStatus, list[OrderStatus]] = {
    S.pending_payment: [S.cancelled],
    S.paid: [S.accepted, S.shipped],
    S.accepted: [S.shipped],
    S.shipped: [S.delivered],
}


async def _staff(page: Page, session: AsyncSession, merchant_ref: str) -> tuple[User, Merchant]:
    user = page.require_user()
    return user, await merchants.require_staff(session, user=user, merchant_id=path_id(merchant_ref, "merchant"))


async def _merchant_order(session: AsyncSession, user: User, merchant: Merchant, order_ref: str) -> Order:
    order, _relation = await lifecycle.load_for_actor(session, order_id=path_id(order_ref, "order"), actor=user)
    # The console URL names the merchant: an order of another shop is not here, whoever asks.
    if order.merchant_id != merchant.id:
        raise NotFound("order")
    return order


async def balances(session: AsyncSession, merchant_id: int, merchant_currency: str) -> list[Money]:
    """What the platform owes the merchant, per currency."""
    owed = []
    for currency in await ledger.merchant_currencies(session, merchant_id=merchant_id):
        amount = -await ledger.balance(session, account=ledger.merchant_account(merchant_id), currency=currency)
        owed.append(Money(amount, currency))
    return owed or [Money(0, merchant_currency)]


@console_router.get("/orders")
async def merchant_orders(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff(page, session, merchant_ref)
    params = page.request.query_params
    wanted = params.get("status", "")
    status = S.__members__.get(wanted)
    raw_page = params.get("page", "1")
    number = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 10_000 else 1
    orders, total = await queries.list_orders(
        session, merchant_id=merchant.id, status=status, limit=PER_PAGE, offset=(number - 1) * PER_PAGE
    )
    counts = dict(
        (
            await session.execute(
                select(Order.status, func.count()).where(Order.merchant_id == merchant.id).group_by(Order.status)
            )
        ).all()
    )
    base = f"/console/m/{merchant.id}/orders"
    return page.render(
        "orders/console_list.html",
        merchant=merchant,
        orders=orders,
        order_totals={o.id: Money(o.total_amount, o.currency) for o in orders},
        total=total,
        selected_status=status.value if status else "",
        statuses=[(s.value, status_label(page, s.value), counts.get(s, 0)) for s in S],
        all_count=sum(counts.values()),
        pages=paginate(
            path=base, params=[("status", status.value if status else "")], total=total, page=number, per_page=PER_PAGE
        ),
        owed=await balances(session, merchant.id, merchant.currency),
    )


async def _order_page(
    page: Page,
    session: AsyncSession,
    user: User,
    merchant: Merchant,
    order: Order,
    *,
    error: str = "",
    refund_values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    detail = await queries.detail(session, order=order, relation="merchant")
    purchase = await session.get(Purchase, order.purchase_id)
    refund_rows = list(
        (await session.execute(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))).scalars()
    )
    return page.render(
        "orders/console_detail.html",
        status=status,
        merchant=merchant,
        order=detail,
        address=purchase.shipping_address if purchase else {},
        timeline=await timeline(page, session, detail.history, viewer_is_buyer=False, show_notes=True),
        actions=[a.value for a in MERCHANT_ACTIONS.get(order.status, [])],
        refundable=order.status in refunds.REFUNDABLE and order.refunded_amount < order.total_amount,
        remaining=Money(order.total_amount - order.refunded_amount, order.currency),
        refunds=refund_rows,
        refund_values=refund_values or {},
        owed=await balances(session, merchant.id, merchant.currency),
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@console_router.get("/orders/{order_ref}")
async def merchant_order(merchant_ref: str, order_ref: str, page: PageContext, session: Session) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    order = await _merchant_order(session, user, merchant, order_ref)
    return await _order_page(page, session, user, merchant, order)


async def _refused(
    page: Page,
    session: AsyncSession,
    user: User,
    merchant: Merchant,
    order_id: int,
    error: DomainError,
    *,
    refund_values: dict[str, str] | None = None,
) -> Response:
    """Show the order again with the refusal (the attempt's savepoint was rolled back)."""
    order, _ = await lifecycle.load_for_actor(session, order_id=order_id, actor=user)
    message = order_error(page, error)
    if error.code == "invalid_amount":
        remaining = Money(order.total_amount - order.refunded_amount, order.currency)
        message = page.gettext(
            "Enter an amount between %(low)s and %(high)s.",
            low=Money(1, order.currency).format(page.locale.language),
            high=remaining.format(page.locale.language),
        )
    return await _order_page(
        page, session, user, merchant, order, error=message, refund_values=refund_values, status=error.status_code
    )


@console_router.post("/orders/{order_ref}/status")
async def change_status(
    merchant_ref: str, order_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    order = await _merchant_order(session, user, merchant, order_ref)
    form = await page.form()
    wanted = S.__members__.get(form_text(form, "status", max_length=20))
    if wanted is None or wanted not in MERCHANT_ACTIONS.get(order.status, []):
        error: DomainError = Invalid(
            "invalid_transition", "This action is not available for this order", field="status"
        )
        return await _refused(page, session, user, merchant, order.id, error)
    order_id = order.id
    try:
        # A savepoint: a refusal undoes the attempt and the page shows the order as it was.
        async with session.begin_nested():
            await lifecycle.request_transition(
                session,
                actor=user,
                order_id=order_id,
                to_status=wanted,
                now=state.clock.now(),
                note=form_text(form, "note", max_length=500),
            )
    except DomainError as refused:
        return await _refused(page, session, user, merchant, order_id, refused)
    return RedirectResponse(f"/console/m/{merchant.id}/orders/{order.id}?done={wanted.value}", status_code=303)


def _refund_amount(raw: str, currency: str) -> int | None:
    """'12,50' or '12.50' in major units; None when left empty (then the returned lines decide)."""
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise Invalid("invalid_amount", "Enter an amount such as 12.50", field="amount") from None
    if not value.is_finite() or value <= 0:
        raise Invalid("invalid_amount", "Enter an amount such as 12.50", field="amount")
    return Money.from_major(value, currency).amount


def _returned_lines(form: FormData, lines: list[OrderLine]) -> list[refunds.ReturnedLine]:
    returned = []
    for line in lines:
        raw = form_text(form, f"return_{line.id}", max_length=6)
        if not raw or raw == "0":
            continue
        if not raw.isdigit():
            raise Invalid("invalid_quantity", "More units returned than were bought", field="lines")
        returned.append(
            refunds.ReturnedLine(
                line_id=line.id, quantity=int(raw), restock=form_text(form, f"restock_{line.id}", max_length=3) != ""
            )
        )
    return returned


@console_router.post("/orders/{order_ref}/refunds")
async def refund(merchant_ref: str, order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    order = await _merchant_order(session, user, merchant, order_ref)
    form = await page.form()
    values = {key: value for key, value in form.multi_items() if isinstance(value, str) and key != "csrf_token"}
    lines = list((await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars())
    order_id, currency, purchase_id = order.id, order.currency, order.purchase_id
    try:
        amount = _refund_amount(form_text(form, "amount", max_length=30), currency)
        returned = _returned_lines(form, lines)
        if amount is None and not returned:
            raise Invalid("nothing_to_refund", "Give an amount to refund or the returned items", field="amount")
        payment = await payments.succeeded_payment_of(session, purchase_id=purchase_id)
        async with session.begin_nested():
            await refunds.refund(
                session,
                actor=user,
                order_id=order_id,
                amount=amount,
                returned=returned,
                reason=form_text(form, "reason", max_length=500),
                provider=state.payment_providers[payment.provider],
                provider_ref=payment.provider_ref,
                now=state.clock.now(),
            )
    except DomainError as refused:
        return await _refused(page, session, user, merchant, order_id, refused, refund_values=values)
    return RedirectResponse(f"/console/m/{merchant.id}/orders/{order_id}?done=refunded", status_code=303)


@console_router.get("/statement.csv")
async def statement_csv(merchant_ref: str, page: PageContext, session: Session) -> Response:
    """The same statement as GET /api/v1/me/merchants/{id}/statement.csv, for the console's link."""
    _user, merchant = await _staff(page, session, merchant_ref)
    text = await ledger.merchant_statement_csv(session, merchant_id=merchant.id)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="statement-{merchant.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )
