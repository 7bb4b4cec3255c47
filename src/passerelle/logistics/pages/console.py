"""The seller console's logistics: shipping an order (carrier service, parcels, packaging,
labels, packing slip, unit scans), returns to refund, packaging types and green figures,
the return window. Scoped to one merchant the user works for; anything else is a 404."""

from __future__ import annotations

from collections.abc import Awaitable

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, NotFound
from passerelle.logistics.carriers.registry import carriers
from passerelle.logistics.models import ReturnStatus
from passerelle.logistics.pages.texts import error_message, event_label, return_label
from passerelle.logistics.present import label_url
from passerelle.logistics.service import packaging, returns, shipments
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant
from passerelle.orders.models import Order
from passerelle.payments import service as payments
from passerelle.state import AppState
from passerelle.traceability import service as traceability
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

console_router = APIRouter(
    prefix="/console/m/{merchant_ref}",
    include_in_schema=False,
    route_class=UnitOfWorkRoute,
    dependencies=[Depends(page_guard)],
)
OPEN_RETURNS = (ReturnStatus.label_issued, ReturnStatus.in_transit, ReturnStatus.received)


async def _staff(page: Page, session: AsyncSession, merchant_ref: str) -> tuple[User, Merchant]:
    user = page.require_user()
    return user, await merchants.require_staff(session, user=user, merchant_id=path_id(merchant_ref, "merchant"))


async def _order(session: AsyncSession, merchant: Merchant, order_ref: str) -> Order:
    order = await session.get(Order, path_id(order_ref, "order"), populate_existing=True)
    if order is None or order.merchant_id != merchant.id:
        raise NotFound("order")
    return order


def _int(value: str, default: int = 0) -> int:
    return int(value) if value.isdigit() and len(value) < 9 else default


async def _logistics_page(
    page: Page, session: AsyncSession, merchant: Merchant, *, error: str = "", status: int = 200
) -> Response:
    open_returns = await returns.for_merchant(session, merchant_id=merchant.id, statuses=OPEN_RETURNS)
    return page.render(
        "logistics/console.html",
        status=status,
        merchant=merchant,
        stats=(await packaging.stats(session, merchant_id=merchant.id)).as_dict(),
        types=await packaging.types_for(session, merchant_id=merchant.id),
        window=await packaging.return_window_days(session, merchant_id=merchant.id),
        open_returns=[(r, return_label(page, r.status.value)) for r in open_returns],
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@console_router.get("/logistics")
async def logistics_console(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff(page, session, merchant_ref)
    return await _logistics_page(page, session, merchant)


async def _attempt(
    page: Page, session: AsyncSession, merchant: Merchant, work: Awaitable[object], done: str
) -> Response:
    merchant_id = merchant.id
    try:
        async with session.begin_nested():
            await work
    except DomainError as refused:
        if refused.status_code in (401, 404):
            raise
        fresh = await merchants.get(session, merchant_id=merchant_id)
        return await _logistics_page(
            page, session, fresh, error=error_message(page, refused), status=refused.status_code
        )
    return RedirectResponse(f"/console/m/{merchant_id}/logistics?done={done}", status_code=303)


@console_router.post("/logistics/packaging")
async def add_packaging(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff(page, session, merchant_ref)
    form = await page.form()
    work = packaging.add_type(
        session,
        merchant_id=merchant.id,
        name=form_text(form, "name", max_length=100),
        material=form_text(form, "material", max_length=40),
        recyclable=form_text(form, "recyclable") == "yes",
        weight_g=_int(form_text(form, "weight_g", max_length=8), -1),
    )
    return await _attempt(page, session, merchant, work, "packaging")


@console_router.post("/logistics/settings")
async def save_settings(merchant_ref: str, page: PageContext, session: Session) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    await merchants.require_owner(session, user=user, merchant_id=merchant.id)
    form = await page.form()
    days = _int(form_text(form, "return_window_days", max_length=4), -1)
    return await _attempt(
        page, session, merchant, packaging.set_return_window(session, merchant_id=merchant.id, days=days), "settings"
    )


@console_router.post("/returns/{return_ref}/refund")
async def refund_return(
    merchant_ref: str, return_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    request, _relation = await returns.visible_return(session, actor=user, return_id=path_id(return_ref, "return"))
    if request.merchant_id != merchant.id:
        raise NotFound("return")
    order = await session.get(Order, request.order_id)
    assert order is not None
    payment = await payments.succeeded_payment_of(session, purchase_id=order.purchase_id)
    form = await page.form()
    work = returns.refund_return(
        session,
        actor=user,
        return_id=request.id,
        resellable=form_text(form, "resellable") == "yes",
        provider=state.payment_providers[payment.provider],
        provider_ref=payment.provider_ref,
        now=state.clock.now(),
    )
    return await _attempt(page, session, merchant, work, "refunded")


async def _shipping_page(
    page: Page,
    session: AsyncSession,
    state: AppState,
    merchant: Merchant,
    order: Order,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    found = await shipments.for_order(session, order_id=order.id)
    return page.render(
        "logistics/shipping.html",
        status=status,
        merchant=merchant,
        order=order,
        shipments=[(s, event_label(page, s.status.value), label_url(s)) for s in found],
        services=[(c.name, s) for c in carriers(state.settings).values() for s in c.services.values()],
        types=await packaging.types_for(session, merchant_id=merchant.id),
        units=await traceability.units_of_order(session, order_id=order.id),
        can_ship=order.status in shipments.SHIPPABLE,
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@console_router.get("/orders/{order_ref}/shipping")
async def shipping_page(
    merchant_ref: str, order_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    _user, merchant = await _staff(page, session, merchant_ref)
    return await _shipping_page(page, session, state, merchant, await _order(session, merchant, order_ref))


async def _order_attempt(
    page: Page,
    session: AsyncSession,
    state: AppState,
    merchant: Merchant,
    order: Order,
    work: Awaitable[object],
    done: str,
) -> Response:
    merchant_id, order_id = merchant.id, order.id
    try:
        async with session.begin_nested():
            await work
    except DomainError as refused:
        if refused.status_code in (401, 404):
            raise
        fresh = await merchants.get(session, merchant_id=merchant_id)
        again = await _order(session, fresh, str(order_id))
        message = error_message(page, refused)
        return await _shipping_page(page, session, state, fresh, again, error=message, status=refused.status_code)
    return RedirectResponse(f"/console/m/{merchant_id}/orders/{order_id}/shipping?done={done}", status_code=303)


@console_router.post("/orders/{order_ref}/shipments")
async def create_shipment(
    merchant_ref: str, order_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    user, merchant = await _staff(page, session, merchant_ref)
    order = await _order(session, merchant, order_ref)
    form = await page.form()
    carrier_name, _, service = form_text(form, "service", max_length=61).partition(":")
    chosen = carriers(state.settings).get(carrier_name)
    packaging_ref = form_text(form, "packaging_type_id", max_length=12)
    count = max(1, min(_int(form_text(form, "parcels", max_length=2), 1), 20))
    parcel = shipments.ParcelSpec(
        weight_g=_int(form_text(form, "weight_g", max_length=8)),
        length_mm=_int(form_text(form, "length_mm", max_length=8)),
        width_mm=_int(form_text(form, "width_mm", max_length=8)),
        height_mm=_int(form_text(form, "height_mm", max_length=8)),
        packaging_type_id=int(packaging_ref) if packaging_ref.isdigit() else None,
    )
    if chosen is None:
        return await _shipping_page(
            page,
            session,
            state,
            merchant,
            order,
            error=page.gettext("Choose a carrier service from the list."),
            status=422,
        )
    work = shipments.create_shipment(
        session,
        actor=user,
        order_id=order.id,
        carrier=chosen,
        service=service,
        parcels=[parcel] * count,
        now=state.clock.now(),
        signing_secret=state.settings.resolved_secret_key,
    )
    return await _order_attempt(page, session, state, merchant, order, work, "shipped")


@console_router.post("/orders/{order_ref}/units")
async def scan_unit(merchant_ref: str, order_ref: str, page: PageContext, session: Session, state: State) -> Response:
    _user, merchant = await _staff(page, session, merchant_ref)
    order = await _order(session, merchant, order_ref)
    form = await page.form()
    work = traceability.pack_unit(
        session,
        merchant_id=merchant.id,
        order_id=order.id,
        serial=form_text(form, "serial", max_length=64),
        now=state.clock.now(),
        secret=state.settings.resolved_secret_key,
    )
    return await _order_attempt(page, session, state, merchant, order, work, "packed")
