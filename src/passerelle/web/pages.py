"""Page routes are installed here; each domain's pages.py adds its own router."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from passerelle.i18n.messages import N_
from passerelle.web.context import PAGE_STATE_KEY, fallback_chrome
from passerelle.web.templating import render_template

# Status -> (title, explanation); the service message is shown too where it helps.
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("That did not work"), N_("The request could not be understood.")),
    401: (N_("Please log in"), N_("You need to be logged in to see this page.")),
    403: (N_("Access denied"), N_("You are not allowed to see this page.")),
    404: (N_("Page not found"), N_("This page does not exist, or is not available any more.")),
    409: (N_("That did not work"), N_("Someone changed this in the meantime.")),
    413: (N_("That did not work"), N_("This file is too large.")),
    422: (N_("That did not work"), N_("Some of the information given is not valid.")),
    429: (N_("Slow down"), N_("Too many requests in a short time; wait a minute and try again.")),
    500: (N_("Something went wrong"), N_("Something went wrong on our side. Please try again in a moment.")),
}
# Statuses whose message could tell an outsider more than "no" (or nothing useful).
GENERIC_ONLY = frozenset({401, 404, 500})


def install(app: FastAPI) -> None:
    # Imported here: the domain page modules import web helpers, never the other way round.
    from passerelle.accounts.pages import router as accounts_pages
    from passerelle.assistant.pages import router as assistant_pages
    from passerelle.auctions.pages import router as auction_pages
    from passerelle.cart.pages import router as cart_pages
    from passerelle.catalog.pages import console_router as catalog_console_pages
    from passerelle.catalog.pages import router as catalog_pages
    from passerelle.connect.pages import router as connect_pages
    from passerelle.festival.pages import router as festival_pages
    from passerelle.festival.pay_pages import router as festival_pay_pages
    from passerelle.infra.outbox_routes import page_router as outbox_pages
    from passerelle.live.commerce_pages import router as live_commerce_pages
    from passerelle.live.pages import router as live_pages
    from passerelle.logistics.pages import buyer_router as logistics_pages
    from passerelle.logistics.pages import console_router as logistics_console_pages
    from passerelle.merchants.pages import router as merchants_pages
    from passerelle.orders.pages import buyer_router as order_pages
    from passerelle.orders.pages import checkout_router as checkout_pages
    from passerelle.orders.pages import console_router as order_console_pages
    from passerelle.payments.pages import router as payment_pages
    from passerelle.traceability.pages import console_router as trace_console_pages
    from passerelle.traceability.pages import router as trace_pages

    for router in (
        accounts_pages,
        catalog_pages,
        merchants_pages,
        catalog_console_pages,
        cart_pages,
        checkout_pages,
        order_pages,
        order_console_pages,
        payment_pages,
        festival_pages,
        festival_pay_pages,
        auction_pages,
        live_commerce_pages,
        live_pages,
        logistics_pages,
        logistics_console_pages,
        trace_pages,
        trace_console_pages,
        assistant_pages,
        connect_pages,
        outbox_pages,
    ):
        app.include_router(router)


def error_page(request: Request, status: int, message: str) -> Response:
    chrome: dict[str, Any] | None = getattr(request.state, PAGE_STATE_KEY, None)
    if chrome is None:
        state = request.app.state.passerelle
        chrome = fallback_chrome(request, state.settings.default_language)
    translations = chrome["translations"]
    title, explanation = ERROR_TEXTS.get(status, ERROR_TEXTS[400 if status < 500 else 500])
    detail = "" if status in GENERIC_ONLY else translations.gettext(message)
    html = render_template(
        "errors/error.html",
        {
            **chrome,
            "status": status,
            "title": translations.gettext(title),
            "explanation": translations.gettext(explanation),
            "detail": detail if detail != translations.gettext(explanation) else "",
            "login_next": chrome["current_path"],
        },
    )
    headers = {"Retry-After": "60"} if status == 429 else None
    return HTMLResponse(html, status_code=status, headers=headers)
