"""A thin ASGI front for the festival hot path.

FastAPI matches a request against every route in turn (well over a hundred here), which
costs more than the claim itself. The few festival-scale routes are recognised first by
their exact shape and sent straight to the same handler functions that FastAPI routes
and documents (the buying routes of API clients too: orders/buying_fastpath.py);
everything else goes to FastAPI untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from passerelle.assistant import api as assistant_api
from passerelle.connect import redirect
from passerelle.festival import claims_api, claims_batch, claims_edge
from passerelle.http import read_capped
from passerelle.logistics import api as logistics_api
from passerelle.orders import buying_fastpath
from passerelle.state import AppState

CLAIMS_PREFIX = "/api/v1/deals/"
CLAIMS_SUFFIX = "/claims"
CARRIER_PREFIX = "/api/v1/logistics/carriers/"
CARRIER_SUFFIX = "/events"

Handler = Callable[[Request], Awaitable[Response]]


def _route(method: str, path: str) -> tuple[Handler, dict[str, int | str]] | None:
    if method != "POST":
        return None
    if path == "/api/v1/claims:batch":
        return claims_batch.claim_batch, {}
    if path == "/api/v1/claims:edge":
        return claims_edge.claim_edge, {}
    if path == "/api/v1/assistant/messages":
        return assistant_api.post_message, {}
    if path == "/api/v1/noop":
        return claims_api.noop, {}
    if path.startswith(CARRIER_PREFIX) and path.endswith(CARRIER_SUFFIX):
        name = path[len(CARRIER_PREFIX) : -len(CARRIER_SUFFIX)]
        return (_carrier_events, {"carrier": name}) if name.isalnum() and len(name) <= 30 else None
    return None


def _claim_deal(method: str, path: str) -> int | None:
    if method == "POST" and path.startswith(CLAIMS_PREFIX) and path.endswith(CLAIMS_SUFFIX):
        middle = path[len(CLAIMS_PREFIX) : -len(CLAIMS_SUFFIX)]
        if middle.isdigit() and len(middle) < 19:
            return int(middle)
    return None


async def _serve_claim(scope: Scope, receive: Receive, send: Send, state: AppState, deal_id: int) -> None:
    """A claim as raw ASGI: no Request or Response object on the festival's busiest route."""
    body = await read_capped(receive, claims_api.MAX_CLAIM_BODY)
    if body is None:
        reply = claims_api.BODY_TOO_LARGE
    else:
        client = scope.get("client")
        asked = claims_api.claim_request(client[0] if client else "unknown", scope["headers"], body)
        reply = await claims_api.answer_claim(state, deal_id, asked)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(reply.body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if reply.retry_after:
        headers.append((b"retry-after", reply.retry_after.encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


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
            deal_id = _claim_deal(scope["method"], scope["path"])
            if deal_id is not None:
                await _serve_claim(scope, receive, send, self.state.passerelle, deal_id)
                return
            if scope["method"] == "POST" and self.state.passerelle.db.group_commit is not None:
                buying = buying_fastpath.match(scope["path"], scope["headers"])
                if buying is not None:
                    scope["app"] = self.app
                    response = await buying_fastpath.serve(Request(scope, receive), *buying)
                    await response(scope, receive, send)
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
