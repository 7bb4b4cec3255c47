"""Small HTTP helpers shared by routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import orjson
from fastapi import Header, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Receive

from passerelle.infra import idempotency


def client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers sets request.client from X-Forwarded-For.
    return request.client.host if request.client else "unknown"


class CompactJSONResponse(JSONResponse):
    """The same compact UTF-8 JSON as Starlette's, written by orjson (the stdlib encoder
    cost ~1 % of a paid order's CPU)."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:  # what orjson refuses (an int beyond 64 bits): Starlette's way
            return super().render(content)


async def idempotent_json(
    session: AsyncSession,
    *,
    key: str | None,
    user_id: int,
    scope: str,
    body: Any,
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> JSONResponse:
    """Run `work` under the Idempotency-Key rules and answer JSON (a replay says so in a header)."""
    status, result, replayed = await idempotency.run(
        session, key=key, user_id=user_id, scope=scope, body=body, work=work
    )
    return CompactJSONResponse(
        result, status_code=status, headers={"Idempotent-Replayed": "true"} if replayed else None
    )


# Every id in a URL: bounded so that no request can carry a number the database cannot
# hold (it gets a 422 like any other bad input, never a 500).
MAX_ID = 2**62
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


# The header every retry-safe POST takes (checkout, deposits, quotes, offers...).
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


async def read_capped(receive: Receive, limit: int) -> bytes | None:
    """An ASGI request's body, or None when it is over `limit` bytes or the client left."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def json_body_doc(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself: the body's schema (and
    whatever else the operation documents, such as header `parameters`)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}, **extra}
