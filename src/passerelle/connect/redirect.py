"""`GET /r/{code}`: redirect at once, count the click in memory (see clicks.py).

Served as raw ASGI by the fast path (fastpath.py), before FastAPI and without Starlette's
request/response objects: no ORM object, no session, no commit; one indexed lookup the first
time a code is seen, then memory only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import Scope, Send

from passerelle.connect.cookies import VISITOR_COOKIE, VISITOR_MAX_AGE, new_visitor, valid_visitor
from passerelle.deps import SESSION_COOKIE
from passerelle.state import AppState

PREFIX = "/r/"
NOT_FOUND = b"<!doctype html><meta charset=utf-8><title>404</title><p>Unknown link. <a href='/'>Home</a>"
_VISITOR_KEY = VISITOR_COOKIE + "="
_SESSION_KEY = SESSION_COOKIE + "="


def code_of(path: str) -> str | None:
    code = path[len(PREFIX) :]
    return code if 4 <= len(code) <= 16 and code.isalnum() else None


def cookie(raw: str, key: str) -> str | None:
    """One cookie's value from a Cookie header (`key` ends with "=")."""
    for part in raw.split(";"):
        part = part.strip()
        if part.startswith(key):
            return part[len(key) :]
    return None


async def serve(scope: Scope, send: Send, state: AppState, code: str) -> None:
    recorder = state.connect.recorder
    target = await recorder.target(code)
    if target is None:
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(NOT_FOUND)).encode())]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": NOT_FOUND})
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
    session_token = cookie(raw_cookie, _SESSION_KEY) if raw_cookie else None
    user_id = await state.token_cache.user_id(session_token, kind="session") if session_token else None
    client = scope.get("client")
    recorder.offer(
        target,
        visitor=visitor,
        user_id=user_id,
        ip=client[0] if client else "unknown",
        agent=agent,
        referrer=(urlsplit(referer).hostname or "") if referer else "",
        now=state.clock.now().timestamp(),
    )
    headers = [
        (b"location", target.url.encode()),
        (b"cache-control", b"no-store"),
        (b"content-length", b"0"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if fresh:
        secure = "; Secure" if state.settings.cookie_secure else ""
        value = f"{VISITOR_COOKIE}={visitor}; Max-Age={VISITOR_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"
        headers.append((b"set-cookie", value.encode()))
    await send({"type": "http.response.start", "status": 302, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
