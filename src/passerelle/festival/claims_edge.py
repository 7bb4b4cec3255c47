"""POST /api/v1/claims:edge: buyers' single claims, gathered by `passerelle edge` (nginx).

The edge answers `POST /api/v1/deals/{id}/claims` itself: it queues each claim as it arrives
and, whenever the previous exchange with the server is over, hands everything waiting over
in one request (festival/edge/claims.lua). So one request here carries tens of buyers, and
its durable batch is one commit for all of them.

The edge only forwards; every rule is applied here, per row, exactly as on the direct route
(claims_api): the per-address and per-account buckets, the buyer's bearer token or session
cookie with its CSRF header, the open-reservation cap, the waiting room, the body's shape,
the idempotency key. The edge is trusted for one thing: the buyer's address (the peer nginx
saw), because it proves itself with the gateway token.

Body (JSON): `{"rows": [[deal_id, ip, authorization, cookie, csrf, idempotency_key, body], ...]}`
with the claim's own body as a string. Answer (text): one line per row, in order,
`<status> <retry-after or -> <json body>`: what the buyer gets. JSON bodies never hold a raw
newline, so the edge splits the answer without a JSON parser.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from passerelle.festival import claims_api
from passerelle.festival.claims_api import ClaimReply, ClaimRequest, refusal
from passerelle.festival.claims_batch import MAX_BATCH_BODY, MAX_BATCH_CLAIMS, gateway_refusal
from passerelle.festival.token_cache import CSRF_FAILED, CsrfFailed, Missing, credentials
from passerelle.http import json_body_doc, read_capped
from passerelle.state import AppState

router = APIRouter(tags=["festival"])

Header = Annotated[str, msgspec.Meta(max_length=8192)]
# deal id, buyer's address, Authorization, Cookie, X-CSRF-Token, Idempotency-Key, claim body
EdgeRow = tuple[int, Header, Header, Header, Header, Header, Annotated[str, msgspec.Meta(max_length=16384)]]


class EdgeBody(msgspec.Struct, forbid_unknown_fields=True):
    rows: Annotated[list[EdgeRow], msgspec.Meta(max_length=MAX_BATCH_CLAIMS)]


_decode = msgspec.json.Decoder(EdgeBody).decode
ANSWER_TYPE = "text/plain; charset=utf-8"

EDGE_BODY = json_body_doc(
    {
        "type": "object",
        "required": ["rows"],
        "additionalProperties": False,
        "properties": {
            "rows": {
                "type": "array",
                "maxItems": MAX_BATCH_CLAIMS,
                "description": "[deal_id, ip, authorization, cookie, csrf, idempotency_key, body]",
                "items": {"type": "array", "minItems": 7, "maxItems": 7},
            }
        },
    }
)


Signed = tuple[str, str] | CsrfFailed | None


def answer_line(reply: ClaimReply) -> bytes:
    return b"%d %s %s\n" % (reply.status, (reply.retry_after or "-").encode("latin-1"), reply.body)


async def _buyers(state: AppState, signed: list[Signed]) -> list[int | None]:
    """Each row's buyer: from the token cache, or looked up (all at once, once per
    credential) for buyers the cache does not hold yet."""
    cache = state.token_cache
    found = [cache.cached(*credential) if isinstance(credential, tuple) else None for credential in signed]
    unknown = list({c for c, b in zip(signed, found, strict=True) if isinstance(b, Missing) and isinstance(c, tuple)})
    looked_up = dict(zip(unknown, await asyncio.gather(*(cache.user_id(*c) for c in unknown)), strict=True))
    buyers: list[int | None] = []
    for credential, buyer in zip(signed, found, strict=True):
        if isinstance(buyer, Missing):
            assert isinstance(credential, tuple)  # only a credential's lookup can be missing
            buyer = looked_up[credential]
        buyers.append(buyer)
    return buyers


async def answer_edge(state: AppState, authorization: str, body: bytes | None) -> ClaimReply:
    """The edge's gathered claims, answered line by line (no HTTP objects: the FastAPI route
    and `passerelle serve`'s protocol both answer through here)."""
    refused = gateway_refusal(state, authorization, body)
    if refused is not None:
        return refused
    assert state.engine is not None and body is not None
    engine = state.engine
    try:
        rows = _decode(body).rows
    except msgspec.DecodeError as exc:
        return refusal(422, "invalid_request", f"{exc} (at most {MAX_BATCH_CLAIMS} rows)", field="rows")
    replies: list[ClaimReply | None] = [None] * len(rows)
    asked: list[ClaimRequest] = []
    signed: list[Signed] = []
    for i, (_deal, ip, auth, cookie, csrf, key, claim_body) in enumerate(rows):
        request = ClaimRequest(ip, auth, cookie, csrf, key, claim_body.encode())
        asked.append(request)
        # The address bucket first, as on the direct route: a flood never reaches a lookup.
        replies[i] = claims_api.address_refusal(state, request)
        signed.append(credentials(auth, cookie, csrf) if replies[i] is None else None)
    buyers = await _buyers(state, signed)
    admitted: list[tuple[int, int, str, int]] = []
    where: list[int] = []
    for i, buyer in enumerate(buyers):
        if replies[i] is not None:
            continue
        if signed[i] is CSRF_FAILED:
            replies[i] = claims_api.CSRF_REFUSED
            continue
        if buyer is None:
            replies[i] = claims_api.UNAUTHORIZED
            continue
        outcome = claims_api.admit(state, engine, buyer, asked[i])
        if isinstance(outcome, ClaimReply):
            replies[i] = outcome
            continue
        key, quantity = outcome
        admitted.append((rows[i][0], buyer, key, quantity))
        where.append(i)
    if admitted:
        answers = await engine.claim_answers(admitted)
        for i, claim, answer in zip(where, admitted, answers, strict=True):
            replies[i] = claims_api.reply_for(answer, claim[0], claim[3])
    # One line per row, always: the edge hands the n-th line to the n-th buyer.
    return ClaimReply(200, b"".join(answer_line(reply or claims_api.FAILED) for reply in replies))


@router.post("/claims:edge", openapi_extra=EDGE_BODY, response_class=Response)
async def claim_edge(request: Request) -> Response:
    """For `passerelle edge` (gateway token): buyers' single claims gathered by the edge,
    answered one text line per claim (`<status> <retry-after or -> <json>`). See the module."""
    state: AppState = request.app.state.passerelle
    body = await read_capped(request.receive, MAX_BATCH_BODY)
    reply = await answer_edge(state, request.headers.get("authorization", ""), body)
    media_type = ANSWER_TYPE if reply.status == 200 else "application/json"
    return Response(reply.body, status_code=reply.status, media_type=media_type)
