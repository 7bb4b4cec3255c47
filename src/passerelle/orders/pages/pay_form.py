"""A payment form for one thing already decided (a claimed deal, a presale deposit or
balance, a won auction): what is paid, the shipping address, then the payment page.

The POST runs the caller's placing function under the form's idempotency key, so a
double submit lands on the same payment.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import DomainError
from passerelle.infra import idempotency
from passerelle.merchants import service as merchants
from passerelle.money import Money
from passerelle.orders.pages.checkout import FIELD_LIMITS, PAYMENT_PROVIDER, country_choices, read_address
from passerelle.orders.pages.views import order_error
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout
from passerelle.state import AppState
from passerelle.web.context import Page, form_text


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
    time_zone: str  # for the times shown (a festival's zone)
    pay_by: datetime | None = None
    rules: Any = None  # terms the buyer must read first (a presale's), rendered by `rules_template`
    rules_template: str = ""


def login_first(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={next_url}", status_code=303)


async def render_pay_form(
    page: Page,
    session: AsyncSession,
    *,
    action: str,
    merchant_id: int,
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
    preferred, others = country_choices(page, set(await merchants.ships_to(session, merchant_id=merchant_id)))
    return page.render(
        "orders/pay.html",
        status=status,
        action=action,
        summary=summary,
        values=values,
        errors=errors or {},
        preferred_countries=preferred,
        other_countries=others,
        idempotency_key=secrets.token_urlsafe(24),
    )


async def submit_pay_form(
    page: Page,
    session: AsyncSession,
    state: AppState,
    *,
    scope: str,
    action: str,
    merchant_id: int,
    summary: PaySummary,
    place: Callable[[CheckoutTerms], Awaitable[PlacedCheckout]],
) -> Response:
    """Read the address, place under the form's idempotency key, go to the payment page."""
    user = page.require_user()
    form = await page.form()
    values, errors = read_address(page, form)
    if errors:
        return await render_pay_form(
            page, session, action=action, merchant_id=merchant_id, summary=summary, values=values, errors=errors
        )

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
        return await render_pay_form(
            page,
            session,
            action=action,
            merchant_id=merchant_id,
            summary=summary,
            values=values,
            errors={"": message},
            status=error.status_code,
        )
    return RedirectResponse(str(result["pay_url"]), status_code=303)
