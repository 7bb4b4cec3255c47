"""create_app(): the one ASGI app. The lifespan picks the backends once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from passerelle import __version__
from passerelle.accounts.api import router as accounts_api
from passerelle.assistant.api import conversations as assistant_conversations_api
from passerelle.assistant.api import router as assistant_api
from passerelle.auctions.api import router as auctions_api
from passerelle.captions.api import router as captions_api
from passerelle.captions.pages import router as captions_pages
from passerelle.cart.api import router as cart_api
from passerelle.catalog.api import router as catalog_api
from passerelle.catalog.csv_api import router as catalog_csv_api
from passerelle.companies.api import router as companies_api
from passerelle.config import Settings, load_settings
from passerelle.connect.api import router as connect_api
from passerelle.errors import DomainError, NotFound, validation_problem
from passerelle.fastpath import FastPath
from passerelle.festival.api import router as festival_api
from passerelle.festival.claims_api import router as claims_api
from passerelle.festival.claims_batch import router as claims_batch
from passerelle.festival.claims_edge import router as claims_edge
from passerelle.festival.coupons_api import router as coupons_api
from passerelle.festival.engine.tuning import tune_collector
from passerelle.festival.presale_api import router as presale_api
from passerelle.festival.startup import start_engine
from passerelle.i18n.api import router as reference_api
from passerelle.infra.outbox import OutboxRunner
from passerelle.infra.outbox_routes import api_router as outbox_api
from passerelle.infra.outbox_wake import WakeSender
from passerelle.live.api import router as live_api
from passerelle.live.captions import start_captions, stop_captions
from passerelle.live.captions_routes import api_router as live_captions_api
from passerelle.live.captions_routes import pages_router as live_captions_pages
from passerelle.live.commerce_api import router as live_commerce_api
from passerelle.live.runtime import start_live
from passerelle.logistics.api import router as logistics_api
from passerelle.merchants.api import router as merchants_api
from passerelle.offers.api import router as offers_api
from passerelle.orders.api import router as orders_api
from passerelle.payments.api import router as payments_api
from passerelle.quotes.api import router as quotes_api
from passerelle.state import AppState
from passerelle.tasks import HANDLERS, SERVER_HANDLERS
from passerelle.traceability.api import router as traceability_api
from passerelle.web import pages as web_pages
from passerelle.web.middleware import SecurityHeadersMiddleware

log = logging.getLogger("passerelle")
API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings | None = None, *, state: AppState | None = None) -> FastPath:
    """The ASGI app: FastAPI behind the festival fast path (see fastpath.py)."""
    return FastPath(build_fastapi(settings, state=state))


def build_fastapi(settings: Settings | None = None, *, state: AppState | None = None) -> FastAPI:
    settings = settings or (state.settings if state else load_settings())
    app_state = state or AppState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.run_worker and app_state.outbox_runner is None:
            if settings.outbox_process:  # `passerelle worker` takes the rest, nudged after our commits
                app_state.outbox_runner = OutboxRunner(app_state, SERVER_HANDLERS, own_topics_only=True)
                app_state.outbox_wake = WakeSender(settings.resolved_database_url)
            else:
                app_state.outbox_runner = OutboxRunner(app_state, HANDLERS)
            app_state.outbox_runner.start()
        await start_engine(app_state)
        await start_live(app_state)
        await start_captions(app, app_state)  # only with PASSERELLE_CAPTIONS=true (live/captions.py)
        app_state.connect.start()
        await app_state.connect.schedule_payouts(app_state.clock)  # monthly creator payouts run by themselves
        tune_collector()  # a server process keeps the shard's millions of tuples alive
        yield
        await app_state.connect.stop()  # flush the queued clicks before the database goes
        if app_state.outbox_runner is not None:
            await app_state.outbox_runner.stop()
        if app_state.outbox_wake is not None:
            app_state.outbox_wake.close()
            app_state.outbox_wake = None
        if app_state.engine is not None:
            await app_state.engine.stop()
        await stop_captions(app)
        if app_state.live is not None:
            await app_state.live.stop()
            app_state.live = None
        await app_state.db.dispose()

    app = FastAPI(
        title="passerelle",
        version=__version__,
        description="Marketplace and shopping-festival API. Money is always integer minor units + ISO 4217.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.passerelle = app_state
    # The sandbox PSP calls our webhook endpoint through the app itself unless a public URL is set.
    app_state.webhook_transport = httpx.ASGITransport(app=app)
    app.add_middleware(SecurityHeadersMiddleware, secure_cookies=settings.cookie_secure)

    # Routes are matched in order, one by one: the buying path's routers come first (each
    # of its requests used to be tried against every accounts, catalog... route before).
    # tests/web/test_route_order.py checks that no path changes hands.
    for router in (
        cart_api,
        orders_api,
        payments_api,
        accounts_api,
        merchants_api,
        catalog_api,
        catalog_csv_api,
        reference_api,
        companies_api,
        quotes_api,
        offers_api,
        festival_api,
        claims_api,
        claims_batch,
        claims_edge,
        coupons_api,
        presale_api,
        auctions_api,
        live_api,
        logistics_api,
        traceability_api,
        assistant_api,
        assistant_conversations_api,
        live_commerce_api,
        connect_api,
        outbox_api,
    ):
        app.include_router(router, prefix=API_PREFIX)
    if settings.captions:  # caption routes exist where engines load; elsewhere a 404, never a 5xx
        for router in (captions_api, live_captions_api):
            app.include_router(router, prefix=API_PREFIX)
        app.include_router(captions_pages)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/media/{key:path}", include_in_schema=False)
    async def media(key: str) -> Response:
        try:
            path = app_state.storage.path(key)
        except ValueError:
            path = None
        if path is None:
            raise NotFound("file")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=31536000, immutable"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    web_pages.install(app)
    app.include_router(live_captions_pages)  # replay tracks stay served if captions are later turned off
    _install_screen_extras()
    _install_error_handlers(app)
    return app


def _install_screen_extras() -> None:
    """Other domains' figures on the festival's big screen (deliveries, live rooms...)."""
    from passerelle.festival import screen
    from passerelle.live.screen_extras import live_rooms
    from passerelle.logistics.screen import add_to_screen as logistics_figures

    screen.EXTRAS.providers[:] = [logistics_figures, live_rooms]


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or "text/html" not in request.headers.get("accept", "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if _wants_json(request):
            headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
            return JSONResponse(exc.as_problem(), status_code=exc.status_code, headers=headers)
        return web_pages.error_page(request, exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(validation_problem(exc.errors()), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        if _wants_json(request):
            return JSONResponse(
                {"code": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return web_pages.error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if _wants_json(request):
            return JSONResponse(
                {"code": "internal_error", "message": "Something went wrong on our side"}, status_code=500
            )
        return web_pages.error_page(request, 500, "Something went wrong on our side")
