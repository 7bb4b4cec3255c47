"""Paying festival purchases from the browser: a claimed deal (reservation), a presale
deposit, a presale balance; and /presales, the buyer's presales.

Each payment form is one page (what is paid, the shipping address) whose POST runs the
same service as the JSON API under a form idempotency key, then sends the buyer to the
payment page. A double submit lands on the same payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog import views
from passerelle.catalog.models import Sku
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.festival import presale as presales
from passerelle.festival import reservations
from passerelle.festival.engine import rules
from passerelle.festival.models import Deal, DealStatus, Festival, PresaleStatus
from passerelle.money import Money
from passerelle.orders.pages.pay_form import PaySummary, login_first, render_pay_form, submit_pay_form
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


@dataclass(frozen=True)
class PresaleRules:
    """The presale's terms, shown to the buyer before they pay a deposit."""

    credit: Money
    balance: Money
    balance_from: datetime
    balance_due: datetime


async def _card_of(page: Page, session: AsyncSession, deal: Deal) -> tuple[str, str | None]:
    sku = await session.get(Sku, deal.sku_id)
    if sku is None:
        raise NotFound("deal")
    found = await views.cards(
        session, product_ids=[sku.product_id], language=page.locale.language, currency=deal.currency, fx=page.locale.fx
    )
    return (found[0].title, found[0].image_url) if found else (sku.code, None)


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
        return login_first(f"/reservations/{ref}/pay")
    deal, summary, _seq = await _reservation(page, session, state, ref)
    return await render_pay_form(
        page, session, action=f"/reservations/{ref}/pay", merchant_id=deal.merchant_id, summary=summary
    )


@router.post("/reservations/{ref}/pay")
async def reservation_pay(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return login_first(f"/reservations/{ref}/pay")
    deal, summary, seq = await _reservation(page, session, state, ref)
    user, engine = page.user, state.engine
    assert engine is not None

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        return await reservations.checkout(
            session, engine=engine, buyer=user, seq=seq, terms=terms, now=state.clock.now()
        )

    action = f"/reservations/{ref}/pay"
    return await submit_pay_form(
        page,
        session,
        state,
        scope="reservation-page",
        action=action,
        merchant_id=deal.merchant_id,
        summary=summary,
        place=place,
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
        rules_template="festival/_presale_rules.html",
    )


@router.get("/deals/{deal_ref}/deposit")
async def deposit_form(deal_ref: str, page: PageContext, session: Session) -> Response:
    if page.user is None:
        return login_first(f"/deals/{deal_ref}/deposit")
    deal = await _presale_deal(session, deal_ref)
    quantity = _quantity(page, deal)
    summary = await _deposit_summary(page, session, deal, quantity)
    action = f"/deals/{deal.id}/deposit?quantity={quantity}"
    return await render_pay_form(page, session, action=action, merchant_id=deal.merchant_id, summary=summary)


@router.post("/deals/{deal_ref}/deposit")
async def deposit_pay(deal_ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return login_first(f"/deals/{deal_ref}/deposit")
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
    return await submit_pay_form(
        page,
        session,
        state,
        scope=f"deposit-page:{quantity}",
        action=action,
        merchant_id=deal.merchant_id,
        summary=summary,
        place=place,
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
        rules_template="festival/_presale_rules.html",
    )
    return deal, summary, presale_id


@router.get("/presales/{ref}/balance")
async def balance_form(ref: str, page: PageContext, session: Session) -> Response:
    if page.user is None:
        return login_first(f"/presales/{ref}/balance")
    deal, summary, presale_id = await _balance(page, session, ref)
    return await render_pay_form(
        page, session, action=f"/presales/{presale_id}/balance", merchant_id=deal.merchant_id, summary=summary
    )


@router.post("/presales/{ref}/balance")
async def balance_pay(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return login_first(f"/presales/{ref}/balance")
    deal, summary, presale_id = await _balance(page, session, ref)
    user = page.user

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        return await presales.pay_balance(
            session, buyer=user, presale_id=presale_id, terms=terms, now=state.clock.now()
        )

    action = f"/presales/{presale_id}/balance"
    return await submit_pay_form(
        page,
        session,
        state,
        scope="balance-page",
        action=action,
        merchant_id=deal.merchant_id,
        summary=summary,
        place=place,
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
        return login_first("/presales")
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
