"""`GET /r/{code}`: redirect at once, count the click in memory (see clicks.py).

Served as raw ASGI by the fast path (fastpath.py), before FastAPI and without Starlette's
request/response objects: no ORM object, no session, no commit; one indexed lookup the first
time a code is seen, then memory only.
"""

from __future__ import annotations

from starlette.types import Scope, Send

from passerelle.connect.cookies import VISITOR_COOKIE, VISITOR_MAX_AGE, new_visitor, valid_visitor
from passerelle.deps import SESSION_COOKIE
from passerelle.state import AppState

PREFIX = "/r/"
EDGE_PREFIX = "/_edge/r/"  # what the nginx edge asks (connect/edge): the target only, cacheable
EDGE_MISS_SECONDS = 5  # unknown codes: short, so a new link works at once, yet a guessing bot hits the cache
NOT_FOUND = b"<!doctype html><meta charset=utf-8><title>404</title><p>Unknown link. <a href='/'>Home</a>"
_VISITOR_KEY = VISITOR_COOKIE + "="
_SESSION_KEY = SESSION_COOKIE + "="


def code_of(path: str, prefix: str = PREFIX) -> str | None:
    code = path[len(prefix) :]
    return code if 4 <= len(code) <= 16 and code.isalnum() else None


def cookie(raw: str, key: str) -> str | None:
    """One cookie's value from a Cookie header (`key` ends with "=")."""
    for part in raw.split(";"):
        part = part.strip()
        if part.startswith(key):
            return part[len(key) :]
    return None


async def _not_found(send: Send, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(NOT_FOUND)).encode())]
    await send({"type": "http.response.start", "status": 404, "headers": headers + extra})
    await send({"type": "http.response.body", "body": NOT_FOUND})


def _redirect_headers(url: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"location", url.encode()),
        (b"cache-control", b"no-store"),
        (b"content-length", b"0"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]


async def serve_edge(send: Send, state: AppState, code: str) -> None:
    """The edge's question "where does this code go?": the redirect without cookie or click
    (the edge sets the cookie per visitor and logs the click), plus how long nginx may keep it.
    Harmless if asked directly: nothing is counted."""
    target = await state.connect.recorder.target(code)
    if target is None:
        await _not_found(send, [(b"x-accel-expires", str(EDGE_MISS_SECONDS).encode())])
        return
    seconds = str(state.settings.connect_edge_link_seconds).encode()
    headers = [(b"x-accel-expires", seconds), *_redirect_headers(target.url)]
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def serve(scope: Scope, send: Send, state: AppState, code: str) -> None:
    recorder = state.connect.recorder
    target = await recorder.target(code)
    if target is None:
        await _not_found(send, [])
        return
    agent = raw_cookie = referer = ""
    for name, value in scope["headers"]:
        if name == b"user-agent":
            agent = value.decode("latin-1")
        elif name == b"cookie":
            raw_cookie = value.decode("latin-1")
        elif name == b"referer":
            referer = value.decode("latin-1")
    visitor = cookie(raw_cookie, _VISITOR_KEY) if raw_cookie else None
    fresh = visitor is None or not valid_visitor(visitor)
    if fresh:
        visitor = new_visitor()
    assert visitor is not None
    client = scope.get("client")
    await recorder.record(
        target,
        visitor=visitor,
        session=cookie(raw_cookie, _SESSION_KEY) if raw_cookie else None,
        users=state.token_cache,
        ip=client[0] if client else "unknown",
        agent=agent,
        referer=referer,
        now=state.clock.now().timestamp(),
    )
    headers = _redirect_headers(target.url)
    if fresh:
        secure = "; Secure" if state.settings.cookie_secure else ""
        value = f"{VISITOR_COOKIE}={visitor}; Max-Age={VISITOR_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"
        headers.append((b"set-cookie", value.encode()))
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
