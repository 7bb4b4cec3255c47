"""The claim hot path: POST /api/v1/deals/{deal_id}/claims (the gateways' batched intake is
claims_batch.py).

Lean on purpose: no ORM object and no database session per request (the buyer's token is
cached in memory), orjson in and out, admission control before anything else, and the
answer only once the claim's batch is durable in the engine's journal.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from passerelle.deps import CSRF_HEADER
from passerelle.festival.engine import rules
from passerelle.festival.engine.shard import Answer
from passerelle.festival.token_cache import CSRF_FAILED, Missing, credentials
from passerelle.http import PathId, client_ip, json_body_doc
from passerelle.state import AppState

if TYPE_CHECKING:
    from passerelle.festival.engine.engine import DealEngine

log = logging.getLogger(__name__)

router = APIRouter(tags=["festival"])

STATUS = {
    rules.SOLD_OUT: 409,
    rules.LIMIT_REACHED: 409,
    rules.NOT_STARTED: 409,
    rules.ENDED: 409,
    rules.TOO_MANY_RESERVATIONS: 409,
    rules.KEY_REUSED: 422,
    rules.INVALID_QUANTITY: 422,
    rules.UNKNOWN_DEAL: 404,
}
MESSAGES = {
    rules.SOLD_OUT: "This deal is sold out",
    rules.LIMIT_REACHED: "You already have the most units this deal allows per buyer",
    rules.NOT_STARTED: "This deal has not started yet",
    rules.ENDED: "This deal has ended",
    rules.TOO_MANY_RESERVATIONS: "Pay or release your other reservations first",
    rules.KEY_REUSED: "This Idempotency-Key was used with a different request",
    rules.INVALID_QUANTITY: "Quantity must be a positive whole number",
    rules.UNKNOWN_DEAL: "deal not found",
}
CLAIM_BODY = json_body_doc(
    {
        "type": "object",
        "required": ["quantity"],
        "properties": {"quantity": {"type": "integer", "minimum": 1, "maximum": 1000}},
        "additionalProperties": False,
    },
    parameters=[
        {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200}}
    ],
)


# Named tuples, not frozen dataclasses: a frozen dataclass sets each field through
# object.__setattr__, several µs per claim on the hot path for nothing.
class ClaimRequest(NamedTuple):
    """What a claim needs from its HTTP request, read by the FastAPI route or the raw fast path."""

    ip: str
    authorization: str
    cookie_header: str
    csrf_header: str
    idempotency_key: str
    body: bytes


class ClaimReply(NamedTuple):
    status: int
    body: bytes
    retry_after: str | None = None


MAX_CLAIM_BODY = 16 * 1024  # a claim is {"quantity": n}; anything bigger is refused with 413


def claim_request(ip: str, headers: list[tuple[bytes, bytes]], body: bytes) -> ClaimRequest:
    """A claim's inputs from raw (lower-cased) header pairs, as servers below ASGI see them."""
    authorization = cookie = csrf = key = ""
    for name, value in headers:
        if name == b"authorization":
            authorization = value.decode("latin-1")
        elif name == b"cookie":
            cookie = value.decode("latin-1")
        elif name == b"x-csrf-token":
            csrf = value.decode("latin-1")
        elif name == b"idempotency-key":
            key = value.decode("latin-1")
    return ClaimRequest(ip, authorization, cookie, csrf, key, body)


BODY_TOO_LARGE = ClaimReply(413, b'{"code":"body_too_large","message":"A claim body is a few bytes"}')


def refusal(status: int, code: str, message: str, retry_after: str | None = None, **extra: Any) -> ClaimReply:
    return ClaimReply(status, orjson.dumps({"code": code, "message": message, **extra}), retry_after)


def as_response(reply: ClaimReply) -> Response:
    headers = {"Retry-After": reply.retry_after} if reply.retry_after else None
    return Response(reply.body, status_code=reply.status, media_type="application/json", headers=headers)


@functools.lru_cache(maxsize=256)
def _iso_utc(timestamp: float) -> str:
    # A batch's claims share their expiry per deal: formatting a time zone-aware datetime
    # was a twentieth of a claim's cost, now paid once per batch and deal.
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


ENGINE_OFFLINE = refusal(503, "engine_offline", "The festival engine is not running")
UNAUTHORIZED = refusal(401, "unauthorized", "Authentication required")
CSRF_REFUSED = refusal(403, "csrf_failed", "This page has expired; reload it and retry")


def address_refusal(state: AppState, asked: ClaimRequest) -> ClaimReply | None:
    allowed, wait = state.claim_ip_limiter.allow(asked.ip)
    if allowed:
        return None
    return refusal(429, "rate_limited", "Too many claims from this address", str(max(1, round(wait))))


def admit(state: AppState, engine: DealEngine, buyer: int, asked: ClaimRequest) -> ClaimReply | tuple[str, int]:
    """After the buyer is known: a refusal, or the claim's (idempotency key, quantity)."""
    allowed, wait = state.claim_account_limiter.allow(str(buyer))
    if not allowed:
        return refusal(429, "rate_limited", "Slow down", str(max(1, round(wait))))
    depth = engine.queue_depth
    if depth >= state.settings.claim_queue_limit:
        # The waiting room: shed load with a clear answer instead of a timeout.
        return refusal(429, "busy", "Many buyers right now; retry in a moment", "1", queue_position=depth)
    try:
        body = orjson.loads(asked.body)
        quantity = body["quantity"]
        if type(quantity) is not int or len(body) != 1:
            raise ValueError
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return refusal(422, "invalid_request", 'Send {"quantity": <positive integer>}', field="quantity")
    key = asked.idempotency_key or secrets.token_hex(12)
    if len(key) > 200:
        return refusal(
            422, "invalid_idempotency_key", "Idempotency-Key is at most 200 characters", field="Idempotency-Key"
        )
    return key, quantity


def reply_for(answer: Answer, deal_id: int, quantity: int) -> ClaimReply:
    if answer.code != rules.RESERVED:
        return refusal(STATUS.get(answer.code, 409), answer.code, MESSAGES.get(answer.code, answer.code))
    return ClaimReply(
        201,
        orjson.dumps(
            {
                "status": "reserved",
                "reservation_id": answer.seq,
                "deal_id": deal_id,
                "quantity": quantity,
                "pay_by": _iso_utc(answer.expires_at),
                "checkout_url": f"/api/v1/deals/reservations/{answer.seq}/checkout",
            }
        ),
    )


async def answer_claim(state: AppState, deal_id: int, asked: ClaimRequest) -> ClaimReply:
    """The whole claim, from admission control to the durable reservation; no HTTP objects."""
    engine = state.engine
    if engine is None:
        return ENGINE_OFFLINE
    refused = address_refusal(state, asked)
    if refused is not None:
        return refused
    signed_in = credentials(asked.authorization, asked.cookie_header, asked.csrf_header)
    if signed_in is CSRF_FAILED:
        return CSRF_REFUSED
    buyer = await state.token_cache.user_id(*signed_in) if isinstance(signed_in, tuple) else None
    if buyer is None:
        return UNAUTHORIZED
    admitted = admit(state, engine, buyer, asked)
    if isinstance(admitted, ClaimReply):
        return admitted
    key, quantity = admitted
    answer = await engine.claim(deal_id=deal_id, buyer_id=buyer, key=key, quantity=quantity)
    return reply_for(answer, deal_id, quantity)


FAILED = ClaimReply(500, b'{"code":"internal_error","message":"Something went wrong on our side"}')


def claim_then(state: AppState, deal_id: int, asked: ClaimRequest, reply_to: Callable[[ClaimReply], None]) -> bool:
    """`answer_claim` without a task or a future, when nothing in it has to wait but the
    engine's commit: the embedded engine and a buyer already in the token cache. Returns
    False, having done nothing, otherwise (then await `answer_claim`)."""
    engine = state.engine
    if engine is None or engine.local is None:
        return False
    signed_in = credentials(asked.authorization, asked.cookie_header, asked.csrf_header)
    buyer = state.token_cache.cached(*signed_in) if isinstance(signed_in, tuple) else None
    if isinstance(buyer, Missing):
        return False
    refused = address_refusal(state, asked)
    if refused is not None:
        reply_to(refused)
        return True
    if signed_in is CSRF_FAILED:
        reply_to(CSRF_REFUSED)
        return True
    if buyer is None:
        reply_to(UNAUTHORIZED)
        return True
    admitted = admit(state, engine, buyer, asked)
    if isinstance(admitted, ClaimReply):
        reply_to(admitted)
        return True
    key, quantity = admitted

    def answered(answer: Answer | None, error: BaseException | None) -> None:
        if answer is None:
            log.error("claim on deal %s failed: %r", deal_id, error)
            reply_to(FAILED)
        else:
            reply_to(reply_for(answer, deal_id, quantity))

    return engine.claim_then(deal_id=deal_id, buyer_id=buyer, key=key, quantity=quantity, on_answer=answered)


@router.post("/deals/{deal_id}/claims", status_code=201, openapi_extra=CLAIM_BODY)
async def claim(deal_id: PathId, request: Request) -> Response:
    """Claim units of a flash deal. 201 reserved (pay before `pay_by`); 409 sold_out,
    limit_reached, not_started, ended, too_many_reservations; 422 idempotency_key_reused;
    429 busy (with Retry-After and a queue position) when admission control sheds load.
    (Served by the raw fast path, fastpath.py; this route documents it and answers alike.)"""
    headers = request.headers
    asked = ClaimRequest(
        ip=client_ip(request),
        authorization=headers.get("authorization", ""),
        cookie_header=headers.get("cookie", ""),
        csrf_header=headers.get(CSRF_HEADER, ""),
        idempotency_key=headers.get("idempotency-key", ""),
        body=await request.body(),
    )
    return as_response(await answer_claim(request.app.state.passerelle, deal_id, asked))


@router.post("/noop", include_in_schema=False)
async def noop(request: Request) -> Response:
    """The lightest JSON route of the same stack: the ceiling `bench http` compares against."""
    await request.body()
    return Response(b'{"ok":true}', media_type="application/json")
