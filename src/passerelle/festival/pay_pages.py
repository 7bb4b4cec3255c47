"""Paying festival purchases from the browser: a claimed deal (reservation), a presale
deposit, a presale balance; and /presales, the buyer's presales.

Each payment form is one page (what is paid, the shipping address) whose POST runs the
same service as the JSON API under a form idempotency key, then sends the buyer to the
payment page. A double submit lands on the same payment.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog import views
from passerelle.catalog.models import Sku
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, NotFound
from passerelle.festival import presale as presales
from passerelle.festival import reservations
from passerelle.festival.engine import rules
from passerelle.festival.models import Deal, DealStatus, Festival, PresaleStatus
from passerelle.infra import idempotency
from passerelle.merchants import service as merchants
from passerelle.money import Money
from passerelle.orders.pages.checkout import FIELD_LIMITS, PAYMENT_PROVIDER, country_choices, read_address
from passerelle.orders.pages.views import order_error
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


@dataclass(frozen=True)
class PaySummary:
    """What the form pays for, as shown above the address."""

    heading: str
    title: str
    image_url: str | None
    quantity: int
    unit: Money
    total: Money
    shipping_included: bool  # False for a deposit, which ships nothing
    time_zone: str  # the festival's, for the times shown
    pay_by: datetime | None = None
    rules: PresaleRules | None = None


@dataclass(frozen=True)
class PresaleRules:
    """The presale's terms, shown to the buyer before they pay a deposit."""

    credit: Money
    balance: Money
    balance_from: datetime
    balance_due: datetime


def _login(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={next_url}", status_code=303)


async def _card_of(page: Page, session: AsyncSession, deal: Deal) -> tuple[str, str | None]:
    sku = await session.get(Sku, deal.sku_id)
    if sku is None:
        raise NotFound("deal")
    found = await views.cards(
        session, product_ids=[sku.product_id], language=page.locale.language, currency=deal.currency, fx=page.locale.fx
    )
    return (found[0].title, found[0].image_url) if found else (sku.code, None)


async def _form(
    page: Page,
    session: AsyncSession,
    *,
    action: str,
    deal: Deal,
    summary: PaySummary,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    user = page.require_user()
    if values is None:
        values = {name: "" for name in FIELD_LIMITS}
        values["name"] = user.display_name
        values["country"] = user.country
    preferred, others = country_choices(page, set(await merchants.ships_to(session, merchant_id=deal.merchant_id)))
    return page.render(
        "festival/pay.html",
        status=status,
        action=action,
        summary=summary,
        values=values,
        errors=errors or {},
        preferred_countries=preferred,
        other_countries=others,
        idempotency_key=secrets.token_urlsafe(24),
    )


async def _submit(
    page: Page,
    session: AsyncSession,
    state: AppState,
    *,
    scope: str,
    action: str,
    deal: Deal,
    summary: PaySummary,
    place: Callable[[CheckoutTerms], Awaitable[PlacedCheckout]],
) -> Response:
    """Read the address, place under the form's idempotency key, go to the payment page."""
    user = page.require_user()
    form = await page.form()
    values, errors = read_address(page, form)
    if errors:
        return await _form(page, session, action=action, deal=deal, summary=summary, values=values, errors=errors)

    async def work() -> tuple[int, Any]:
        terms = CheckoutTerms(
            address=placement.Address(**values),
            provider=state.payment_providers[PAYMENT_PROVIDER],
            currency=page.locale.currency,
            fx=page.locale.fx,
            language=page.locale.language,
            hold_for=timedelta(seconds=state.settings.reservation_ttl_seconds),
        )
        done = await place(terms)
        return 201, {"pay_url": done.pay_url}

    try:
        _status, result, _replayed = await idempotency.run(
            session,
            key=form_text(form, "idempotency_key", max_length=idempotency.MAX_KEY_LENGTH) or None,
            user_id=user.id,
            scope=scope,
            body={"address": values, "currency": page.locale.currency},
            work=work,
        )
    except DomainError as error:
        message = order_error(page, error, country=values["country"], titles={}, merchant_names={})
        return await _form(
            page,
            session,
            action=action,
            deal=deal,
            summary=summary,
            values=values,
            errors={"": message},
            status=error.status_code,
        )
    return RedirectResponse(str(result["pay_url"]), status_code=303)


# -- a claimed flash deal ---------------------------------------------------------------


async def _reservation(page: Page, session: AsyncSession, state: AppState, ref: str) -> tuple[Deal, PaySummary, int]:
    user = page.require_user()
    seq = path_id(ref, "reservation")
    found = await state.engine.reservation(seq) if state.engine is not None else None
    if found is None or found[1] != user.id:
        raise NotFound("reservation")
    deal_id, _, quantity, expires_at, status = found
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("reservation")
    title, image = await _card_of(page, session, deal)
    summary = PaySummary(
        heading=page.gettext("Pay for your reservation"),
        title=title,
        image_url=image,
        quantity=quantity,
        unit=Money(deal.price_amount, deal.currency),
        total=Money(deal.price_amount * quantity, deal.currency),
        time_zone=await _time_zone(session, deal),
        shipping_included=True,
        pay_by=datetime.fromtimestamp(expires_at, UTC) if status == rules.HELD else None,
    )
    return deal, summary, seq


@router.get("/reservations/{ref}/pay")
async def reservation_form(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return _login(f"/reservations/{ref}/pay")
    deal, summary, _seq = await _reservation(page, session, state, ref)
    return await _form(page, session, action=f"/reservations/{ref}/pay", deal=deal, summary=summary)


@router.post("/reservations/{ref}/pay")
async def reservation_pay(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return _login(f"/reservations/{ref}/pay")
    deal, summary, seq = await _reservation(page, session, state, ref)
    user, engine = page.user, state.engine
    assert engine is not None

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        return await reservations.checkout(
            session, engine=engine, buyer=user, seq=seq, terms=terms, now=state.clock.now()
        )

    action = f"/reservations/{ref}/pay"
    return await _submit(
        page, session, state, scope="reservation-page", action=action, deal=deal, summary=summary, place=place
    )


# -- presale deposit and balance ---------------------------------------------------------


def presale_rules(deal: Deal) -> PresaleRules:
    terms = presales.terms_text_values(deal)
    return PresaleRules(
        credit=Money(terms["credit"], deal.currency),
        balance=Money(terms["balance"], deal.currency),
        balance_from=deal.starts_at,
        balance_due=terms["balance_due"],
    )


async def _time_zone(session: AsyncSession, deal: Deal) -> str:
    festival = await session.get(Festival, deal.festival_id)
    return festival.time_zone if festival is not None else "UTC"


async def _presale_deal(session: AsyncSession, deal_ref: str) -> Deal:
    deal = await session.get(Deal, path_id(deal_ref, "deal"))
    if deal is None or deal.status == DealStatus.draft or not deal.is_presale:
        raise NotFound("deal")
    return deal


def _quantity(page: Page, deal: Deal) -> int:
    raw = page.request.query_params.get("quantity", "1")
    return max(1, min(deal.per_buyer_limit, int(raw) if raw.isdigit() and len(raw) < 5 else 1))


async def _deposit_summary(page: Page, session: AsyncSession, deal: Deal, quantity: int) -> PaySummary:
    assert deal.deposit_amount is not None
    title, image = await _card_of(page, session, deal)
    return PaySummary(
        heading=page.gettext("Pay a presale deposit"),
        title=title,
        image_url=image,
        quantity=quantity,
        unit=Money(deal.deposit_amount, deal.currency),
        total=Money(deal.deposit_amount * quantity, deal.currency),
        time_zone=await _time_zone(session, deal),
        shipping_included=False,
        rules=presale_rules(deal),
    )


@router.get("/deals/{deal_ref}/deposit")
async def deposit_form(deal_ref: str, page: PageContext, session: Session) -> Response:
    if page.user is None:
        return _login(f"/deals/{deal_ref}/deposit")
    deal = await _presale_deal(session, deal_ref)
    quantity = _quantity(page, deal)
    summary = await _deposit_summary(page, session, deal, quantity)
    action = f"/deals/{deal.id}/deposit?quantity={quantity}"
    return await _form(page, session, action=action, deal=deal, summary=summary)


@router.post("/deals/{deal_ref}/deposit")
async def deposit_pay(deal_ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return _login(f"/deals/{deal_ref}/deposit")
    deal = await _presale_deal(session, deal_ref)
    quantity = _quantity(page, deal)
    summary = await _deposit_summary(page, session, deal, quantity)
    user = page.user

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        _presale, done = await presales.take_deposit(
            session, buyer=user, deal_id=deal.id, quantity=quantity, terms=terms, now=state.clock.now()
        )
        return done

    action = f"/deals/{deal.id}/deposit?quantity={quantity}"
    return await _submit(
        page, session, state, scope=f"deposit-page:{quantity}", action=action, deal=deal, summary=summary, place=place
    )


async def _balance(page: Page, session: AsyncSession, ref: str) -> tuple[Deal, PaySummary, int]:
    user = page.require_user()
    rows = {p.id: (p, d) for p, d in await presales.of_buyer(session, buyer_id=user.id)}
    presale_id = path_id(ref, "presale")
    if presale_id not in rows:
        raise NotFound("presale")
    presale, deal = rows[presale_id]
    title, image = await _card_of(page, session, deal)
    unit = presales.balance_unit_amount(deal)
    summary = PaySummary(
        heading=page.gettext("Pay the balance of your presale"),
        title=title,
        image_url=image,
        quantity=presale.quantity,
        unit=Money(unit, deal.currency),
        total=Money(unit * presale.quantity, deal.currency),
        time_zone=await _time_zone(session, deal),
        shipping_included=True,
        pay_by=deal.balance_due_at,
        rules=presale_rules(deal),
    )
    return deal, summary, presale_id


@router.get("/presales/{ref}/balance")
async def balance_form(ref: str, page: PageContext, session: Session) -> Response:
    if page.user is None:
        return _login(f"/presales/{ref}/balance")
    deal, summary, presale_id = await _balance(page, session, ref)
    return await _form(page, session, action=f"/presales/{presale_id}/balance", deal=deal, summary=summary)


@router.post("/presales/{ref}/balance")
async def balance_pay(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return _login(f"/presales/{ref}/balance")
    deal, summary, presale_id = await _balance(page, session, ref)
    user = page.user

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        return await presales.pay_balance(
            session, buyer=user, presale_id=presale_id, terms=terms, now=state.clock.now()
        )

    action = f"/presales/{presale_id}/balance"
    return await _submit(
        page, session, state, scope="balance-page", action=action, deal=deal, summary=summary, place=place
    )


@dataclass(frozen=True)
class PresaleRow:
    id: int
    deal_id: int
    title: str
    quantity: int
    status: str
    deposit: Money
    balance: Money
    balance_from: datetime
    balance_due: datetime
    time_zone: str
    payable_now: bool


@router.get("/presales")
async def my_presales(page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return _login("/presales")
    now = state.clock.now()
    rows = []
    for presale, deal in await presales.of_buyer(session, buyer_id=page.user.id):
        assert deal.deposit_amount is not None and deal.balance_due_at is not None
        title, _image = await _card_of(page, session, deal)
        rows.append(
            PresaleRow(
                id=presale.id,
                deal_id=deal.id,
                title=title,
                quantity=presale.quantity,
                status=presale.status.value,
                deposit=Money(deal.deposit_amount * presale.quantity, deal.currency),
                balance=Money(presales.balance_unit_amount(deal) * presale.quantity, deal.currency),
                balance_from=deal.starts_at,
                balance_due=deal.balance_due_at,
                time_zone=await _time_zone(session, deal),
                payable_now=presale.status == PresaleStatus.deposit_paid
                and deal.starts_at <= now < deal.balance_due_at,
            )
        )
    return page.render("festival/presales.html", presales=rows)
