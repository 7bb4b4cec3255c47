"""A thin ASGI front for the festival hot path.

FastAPI matches a request against every route in turn (well over a hundred here), which
costs more than the claim itself. The few festival-scale routes are recognised first by
their exact shape and sent straight to the same handler functions that FastAPI routes
and documents; everything else goes to FastAPI untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from passerelle.assistant import api as assistant_api
from passerelle.connect import redirect
from passerelle.festival import claims_api
from passerelle.logistics import api as logistics_api

CLAIMS_PREFIX = "/api/v1/deals/"
CLAIMS_SUFFIX = "/claims"
CARRIER_PREFIX = "/api/v1/logistics/carriers/"
CARRIER_SUFFIX = "/events"

Handler = Callable[[Request], Awaitable[Response]]


def _route(method: str, path: str) -> tuple[Handler, dict[str, int | str]] | None:
    if method != "POST":
        return None
    if path.startswith(CLAIMS_PREFIX) and path.endswith(CLAIMS_SUFFIX):
        middle = path[len(CLAIMS_PREFIX) : -len(CLAIMS_SUFFIX)]
        if middle.isdigit() and len(middle) < 19:
            return _claim, {"deal_id": int(middle)}
        return None
    if path == "/api/v1/claims:batch":
        return claims_api.claim_batch, {}
    if path == "/api/v1/assistant/messages":
        return assistant_api.post_message, {}
    if path == "/api/v1/noop":
        return claims_api.noop, {}
    if path.startswith(CARRIER_PREFIX) and path.endswith(CARRIER_SUFFIX):
        name = path[len(CARRIER_PREFIX) : -len(CARRIER_SUFFIX)]
        return (_carrier_events, {"carrier": name}) if name.isalnum() and len(name) <= 30 else None
    return None


async def _claim(request: Request) -> Response:
    return await claims_api.claim(request.path_params["deal_id"], request)


async def _carrier_events(request: Request) -> Response:
    return await logistics_api.handle_carrier_events(request, request.path_params["carrier"])


class FastPath:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.state = app.state  # what request.app.state reads on the fast path too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["method"] == "GET" and scope["path"].startswith(redirect.PREFIX):
                # Tracked links: raw ASGI, the cheapest answer there is (see connect/redirect.py).
                code = redirect.code_of(scope["path"])
                if code is not None:
                    await redirect.serve(scope, send, self.state.passerelle, code)
                    return
            if scope["method"] == "GET" and scope["path"].startswith(redirect.EDGE_PREFIX):
                code = redirect.code_of(scope["path"], redirect.EDGE_PREFIX)
                if code is not None:
                    await redirect.serve_edge(send, self.state.passerelle, code)
                    return
            found = _route(scope["method"], scope["path"])
            if found is not None:
                handler, params = found
                scope["path_params"] = params
                scope["app"] = self.app
                response = await handler(Request(scope, receive))
                response.headers.setdefault("x-content-type-options", "nosniff")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
