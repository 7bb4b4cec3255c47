"""The sandbox PSP's hosted payment page. It stands in for a real provider's page: the
payment's public id is the capability (no login needed, as at a real PSP), the card goes
to the same service as POST /api/v1/payments/sandbox/{id}/pay, and the outcome arrives
later as a signed webhook, which the page waits for (static JS polls the payment)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, NotFound
from passerelle.i18n.messages import N_
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.orders.models import Order
from passerelle.payments import service
from passerelle.payments.models import Payment
from passerelle.payments.providers.sandbox import SandboxProvider
from passerelle.web.context import Page, PageContext, form_text, page_guard
from passerelle.web.errors import error_text

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

MAX_ID_LENGTH = 60
TEST_CARDS = (
    ("4242 4242 4242 4242", N_("Payment succeeds")),
    ("4000 0000 0000 0002", N_("Card declined")),
    ("4000 0000 0000 9995", N_("Declined: insufficient funds")),
)
FAILURES = {
    "card_declined": N_("The card was declined."),
    "insufficient_funds": N_("The card was declined for insufficient funds."),
}


async def _payment(session: AsyncSession, payment_ref: str) -> Payment:
    if len(payment_ref) > MAX_ID_LENGTH:
        raise NotFound("payment")
    payment = await service.by_public_id(session, public_id=payment_ref)
    if payment.provider != "sandbox":
        raise NotFound("payment")
    return payment


async def _payees(session: AsyncSession, payment: Payment) -> list[tuple[str, Money]]:
    """Each merchant paid by this payment, with its share in the buyer's currency."""
    rows = await session.execute(
        select(Merchant.name, Order.buyer_total_amount, Order.buyer_currency)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(Order.purchase_id == payment.purchase_id)
        .order_by(Order.id)
    )
    return [(name, Money(amount, currency)) for name, amount, currency in rows.all()]


async def _pay_page(
    page: Page, session: AsyncSession, payment: Payment, *, error: str = "", card: str = "", status: int = 200
) -> Response:
    failure = FAILURES.get(payment.failure_reason)
    return page.render(
        "payments/sandbox.html",
        status=status,
        payment=payment,
        amount=Money(payment.amount, payment.currency),
        payees=await _payees(session, payment),
        test_cards=[(number, page.gettext(label)) for number, label in TEST_CARDS],
        failure=page.gettext(failure) if failure else "",
        error=error,
        card=card,
    )


@router.get("/pay/sandbox/{payment_ref}")
async def pay_page(payment_ref: str, page: PageContext, session: Session) -> Response:
    payment = await _payment(session, payment_ref)
    response = await _pay_page(page, session, payment)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/pay/sandbox/{payment_ref}")
async def pay(payment_ref: str, page: PageContext, session: Session, state: State) -> Response:
    payment = await _payment(session, payment_ref)
    form = await page.form()
    card = form_text(form, "card_number", max_length=30)
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)
    try:
        await service.sandbox_charge(session, provider=provider, public_id=payment.public_id, card_number=card)
    except DomainError as error:
        if error.code == "payment_not_pending":
            # A second submit (double click, back button): show where the payment is.
            return RedirectResponse(f"/pay/sandbox/{payment.public_id}", status_code=303)
        message = (
            page.gettext("This card number is not valid")
            if error.code == "invalid_card_number"
            else error_text(page.translations, error)
        )
        return await _pay_page(page, session, payment, error=message, card=card, status=error.status_code)
    return RedirectResponse(f"/pay/sandbox/{payment.public_id}", status_code=303)
