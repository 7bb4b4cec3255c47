"""The three buying routes for API clients, served without FastAPI's router and dependencies.

`passerelle bench checkout` profiled the server at ~100 paid orders/s: for the three
requests of an order (cart add, checkout, sandbox pay), Starlette's middleware, the router's
walk over ~150 routes, FastAPI's dependency solving and its body and response handling took
about a fifth of the main thread, more than the checkout's own Python.

`FastPath` (fastpath.py) sends these routes here when the request comes from an API client
(a bearer token or none, like the sandbox's hosted page, but no cookies: no session, CSRF or
locale cookie to honour), with a small body and its Content-Length, and group commit on. The same endpoint functions as the
documented FastAPI routes answer, in the same savepoint of the group's transaction
(`buying_route.in_group_commit`); the body is validated by the same model and refused with
the same 422 body; domain errors get the same JSON problem. Anything else (a browser, a
guest, PostgreSQL) goes through FastAPI as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from passerelle.cart import api as cart_api
from passerelle.cart.schemas import CartItemIn
from passerelle.deps import app_state
from passerelle.errors import DomainError, validation_problem
from passerelle.http import read_capped
from passerelle.infra.idempotency import MAX_KEY_LENGTH
from passerelle.orders import api as orders_api
from passerelle.orders.buying_route import PREREAD_MAX_BYTES, in_group_commit
from passerelle.orders.schemas import CheckoutIn
from passerelle.payments import api as payments_api
from passerelle.web.middleware import SECURITY_HEADERS

log = logging.getLogger(__name__)

# (validated body, request, a response for cookies and headers, path parameter) -> answer
Endpoint = Callable[[Any, Request, Response, str], Awaitable[BaseModel | Response]]


class BuyingRoute(NamedTuple):
    body: type[BaseModel]
    endpoint: Endpoint
    status_code: int  # when the endpoint returns a model rather than a response


def _key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


ADD_TO_CART = BuyingRoute(CartItemIn, lambda body, rq, rs, _: cart_api.add_item(body, rq, rs), 201)
CHECKOUT = BuyingRoute(CheckoutIn, lambda body, rq, rs, _: orders_api.checkout(body, rq, _key(rq)), 201)
SANDBOX_PAY = BuyingRoute(
    payments_api.CardIn, lambda body, rq, rs, payment: payments_api.sandbox_pay(payment, body, rq, _key(rq)), 202
)

PAY_PREFIX = "/api/v1/payments/sandbox/"
PAY_SUFFIX = "/pay"
MAX_PAYMENT_ID = 60  # the FastAPI route's limit on the path parameter


def match(path: str, headers: list[tuple[bytes, bytes]]) -> tuple[BuyingRoute, str] | None:
    """The route and its path parameter when this POST can be served here, else None."""
    if path == "/api/v1/cart/items":
        route, parameter = ADD_TO_CART, ""
    elif path == "/api/v1/checkout":
        route, parameter = CHECKOUT, ""
    elif path.startswith(PAY_PREFIX) and path.endswith(PAY_SUFFIX):
        route, parameter = SANDBOX_PAY, path[len(PAY_PREFIX) : -len(PAY_SUFFIX)]
        if not parameter or len(parameter) > MAX_PAYMENT_ID or "/" in parameter:
            return None
    else:
        return None
    length = False
    for name, value in headers:
        if name == b"cookie":
            return None
        if name == b"content-length":
            length = value.isdigit() and int(value) <= PREREAD_MAX_BYTES
        elif name == b"idempotency-key" and len(value) > MAX_KEY_LENGTH:
            return None  # FastAPI's header validation answers that one
        elif name == b"content-type" and b"json" not in value.lower():
            return None  # FastAPI reads such a body as something other than JSON
    return (route, parameter) if length else None


async def serve(request: Request, route: BuyingRoute, parameter: str) -> Response:
    """The route's answer; only with group commit on (FastPath checks)."""
    committer = app_state(request).db.group_commit
    assert committer is not None
    raw = await read_capped(request.receive, PREREAD_MAX_BYTES)
    if raw is None:
        return secured(JSONResponse({"code": "payload_too_large", "message": "Body too large"}, status_code=413))
    try:
        body = route.body.model_validate_json(raw)
    except ValidationError as invalid:
        located = [{**error, "loc": ("body", *error["loc"])} for error in invalid.errors()]
        return secured(JSONResponse(validation_problem(located), status_code=422))
    request._body = raw  # what Starlette's Request.body() returns from now on

    async def answer(request: Request) -> Response:
        extra = _Headers()
        try:
            result = await route.endpoint(body, request, extra, parameter)
        except DomainError as refused:
            return _problem(refused)
        if isinstance(result, Response):
            response = result
        else:
            response = Response(result.model_dump_json(), status_code=route.status_code, media_type="application/json")
        if extra.raw_headers:
            response.raw_headers.extend(extra.raw_headers)
        return response

    try:
        return secured(await in_group_commit(request, committer, answer))
    except DomainError as refused:  # raised before the endpoint ran (joining the group)
        return secured(_problem(refused))
    except Exception:
        log.exception("unhandled error on POST %s", request.url.path)
        return secured(
            JSONResponse({"code": "internal_error", "message": "Something went wrong on our side"}, status_code=500)
        )


def _problem(refused: DomainError) -> Response:
    headers = {"Retry-After": str(refused.extra["retry_after"])} if "retry_after" in refused.extra else None
    return JSONResponse(refused.as_problem(), status_code=refused.status_code, headers=headers)


class _Headers(Response):
    """What FastAPI's `response` parameter gives an endpoint, for the headers and cookies it
    sets (`set_cookie`...): no body, no status, no headers of its own to filter out."""

    def __init__(self) -> None:  # Response's would build a body and its headers for nothing
        self.raw_headers = []
        self.background = None


_SECURITY_RAW = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]


def secured(response: Response) -> Response:
    """The security headers the middleware sets, those the response has not set itself."""
    raw = response.raw_headers
    present = {name for name, _ in raw}
    raw.extend(pair for pair in _SECURITY_RAW if pair[0] not in present)
    return response
