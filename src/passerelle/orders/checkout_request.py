"""From a checkout request (the JSON body every buying route takes) to checkout terms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.deps import Locale
from passerelle.http import idempotent_json
from passerelle.orders.schemas import CheckoutIn
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, checkout_terms
from passerelle.state import AppState


def terms_for(body: CheckoutIn, *, state: AppState, locale: Locale) -> CheckoutTerms:
    """Address, provider, currency (the viewer's when the body names none) and hold time."""
    return checkout_terms(
        shipping_address=body.shipping_address,
        payment_provider=body.payment_provider,
        currency=body.currency,
        providers=state.payment_providers,
        default_currency=locale.currency,
        fx=locale.fx,
        language=locale.language,
        hold_for=timedelta(seconds=state.settings.reservation_ttl_seconds),
        coupon_code=body.coupon_code,
    )


async def idempotent_checkout(
    session: AsyncSession,
    *,
    body: CheckoutIn,
    user: User,
    state: AppState,
    locale: Locale,
    key: str | None,
    scope: str,
    place: Callable[[CheckoutTerms], Awaitable[PlacedCheckout]],
) -> JSONResponse:
    """The shape of every buying route: terms from the body, place under the
    Idempotency-Key rules, answer 201 with the checkout (or the stored answer)."""

    async def work() -> tuple[int, Any]:
        done = await place(terms_for(body, state=state, locale=locale))
        return 201, done.as_checkout_json()

    return await idempotent_json(
        session, key=key, user_id=user.id, scope=scope, body=body.model_dump(mode="json"), work=work
    )
