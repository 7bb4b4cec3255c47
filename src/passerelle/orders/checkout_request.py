"""From a checkout request (the JSON body every buying route takes) to checkout terms."""

from __future__ import annotations

from datetime import timedelta

from passerelle.deps import Locale
from passerelle.orders.schemas import CheckoutIn
from passerelle.orders.service.checkout import CheckoutTerms, checkout_terms
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
