"""POST /api/v1/claims:batch: trusted edge gateways hand over many buyers' claims at once.

The gateway has authenticated its buyers; the server checks the gateway's token, decodes
and validates the whole body in C (msgspec: strict types, no coercion, unknown fields
refused), and applies the claims as one group of the engine's next batch. Nothing is
applied when any claim is malformed. Two body shapes:

- `{"claims": [{"deal_id", "buyer_id", "key", "quantity"}, ...]}` answered with
  `{"answers": [{"code", "reservation_id"}, ...]}`;
- the compact `{"rows": [[deal_id, buyer_id, key, quantity], ...]}` answered with
  `{"answers": [[code, reservation_id], ...]}`: a third of the decoding and encoding,
  for gateways that send thousands of claims a second.

Answers come in the order of the claims; `reservation_id` is null when nothing is held.
"""

from __future__ import annotations

import hmac
from typing import Annotated

import msgspec
import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from passerelle.festival.claims_api import ClaimReply, as_response, refusal
from passerelle.festival.engine.rules import RESERVED
from passerelle.http import json_body_doc, read_capped
from passerelle.state import AppState

router = APIRouter(tags=["festival"])

MAX_BATCH_CLAIMS = 10_000
# 10,000 claims with 200-character keys and large ids stay under this.
MAX_BATCH_BODY = 4 * 1024 * 1024

GatewayKey = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ClaimObject(msgspec.Struct, forbid_unknown_fields=True):
    deal_id: int
    buyer_id: int
    key: GatewayKey
    quantity: int


ClaimRow = tuple[int, int, GatewayKey, int]


class BatchBody(msgspec.Struct, forbid_unknown_fields=True):
    claims: Annotated[list[ClaimObject], msgspec.Meta(max_length=MAX_BATCH_CLAIMS)] | None = None
    rows: Annotated[list[ClaimRow], msgspec.Meta(max_length=MAX_BATCH_CLAIMS)] | None = None


_decode = msgspec.json.Decoder(BatchBody).decode

CLAIM_OBJECT_SCHEMA = {
    "type": "object",
    "required": ["deal_id", "buyer_id", "key", "quantity"],
    "additionalProperties": False,
    "properties": {
        "deal_id": {"type": "integer"},
        "buyer_id": {"type": "integer"},
        "key": {"type": "string", "minLength": 1, "maxLength": 200},
        "quantity": {"type": "integer", "minimum": 1},
    },
}
BATCH_BODY = json_body_doc(
    {
        "type": "object",
        "description": "Exactly one of `claims` (objects) or `rows` ([deal_id, buyer_id, key, quantity]).",
        "additionalProperties": False,
        "properties": {
            "claims": {"type": "array", "maxItems": MAX_BATCH_CLAIMS, "items": CLAIM_OBJECT_SCHEMA},
            "rows": {
                "type": "array",
                "maxItems": MAX_BATCH_CLAIMS,
                "items": {"type": "array", "minItems": 4, "maxItems": 4},
            },
        },
    }
)


class BatchRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse(body: bytes) -> tuple[list[tuple[int, int, str, int]], bool]:
    """The claims as engine tuples, and whether they came as compact rows."""
    try:
        decoded = _decode(body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError: says which field
        raise BatchRefused(str(exc)) from exc
    if (decoded.claims is None) == (decoded.rows is None):
        raise BatchRefused("Send exactly one of 'claims' or 'rows'")
    if decoded.rows is not None:
        return decoded.rows, True
    assert decoded.claims is not None
    return [(c.deal_id, c.buyer_id, c.key, c.quantity) for c in decoded.claims], False


BODY_TOO_LARGE = refusal(413, "body_too_large", f"At most {MAX_BATCH_BODY} bytes per batch")


def gateway_refusal(state: AppState, authorization: str, body: bytes | None) -> ClaimReply | None:
    """What a gateway's batch is refused before its body is read: a wrong gateway token,
    the engine offline or its queue full, a body over the cap. None when it may go on."""
    expected = state.settings.gateway_token
    given = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
        return refusal(401, "unauthorized", "Gateway token required")
    engine = state.engine
    if engine is None:
        return refusal(503, "engine_offline", "The festival engine is not running")
    if engine.queue_depth >= state.settings.claim_queue_limit:
        return refusal(429, "busy", "Engine queue full; retry in a moment", "1", queue_position=engine.queue_depth)
    if body is None:
        return BODY_TOO_LARGE
    return None


async def answer_batch(state: AppState, authorization: str, body: bytes | None) -> ClaimReply:
    """The whole batch, from the gateway's token to the answers; no HTTP objects (the
    FastAPI route and `passerelle serve`'s protocol both answer through here)."""
    refused = gateway_refusal(state, authorization, body)
    if refused is not None:
        return refused
    assert state.engine is not None and body is not None
    engine = state.engine
    try:
        claims, compact = parse(body)
    except BatchRefused as malformed:
        message = f"{malformed.message} (at most {MAX_BATCH_CLAIMS} claims)"
        return refusal(422, "invalid_request", message, field="claims")
    outcomes = await engine.claim_many(claims)
    pairs = [(RESERVED, outcome) if type(outcome) is int else (outcome, None) for outcome in outcomes]
    if compact:
        return ClaimReply(200, orjson.dumps({"answers": pairs}))
    return ClaimReply(200, orjson.dumps({"answers": [{"code": code, "reservation_id": seq} for code, seq in pairs]}))


@router.post("/claims:batch", openapi_extra=BATCH_BODY)
async def claim_batch(request: Request) -> Response:
    """For trusted edge gateways that aggregate buyers' claims (authenticated by the
    gateway token, having authenticated the buyers themselves): many claims, one request,
    answered in order. See the module's notes for the two body shapes."""
    state: AppState = request.app.state.passerelle
    body = await read_capped(request.receive, MAX_BATCH_BODY)
    return as_response(await answer_batch(state, request.headers.get("authorization", ""), body))
