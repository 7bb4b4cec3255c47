"""`GET /r/{code}`: redirect at once, count the click in memory (see clicks.py).

Served by the fast path (fastpath.py) before FastAPI's router: no ORM object, no session,
no commit on this route; one indexed lookup the first time a code is seen.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from passerelle.connect.cookies import VISITOR_COOKIE, VISITOR_MAX_AGE, new_visitor, visitor_of
from passerelle.deps import SESSION_COOKIE
from passerelle.http import client_ip
from passerelle.state import AppState

PREFIX = "/r/"


def code_of(path: str) -> str | None:
    code = path[len(PREFIX) :]
    return code if 4 <= len(code) <= 16 and code.isalnum() else None


async def follow(request: Request) -> Response:
    state: AppState = request.app.state.passerelle
    recorder = state.connect.recorder
    code = request.path_params.get("code", "")
    target = await recorder.target(code) if isinstance(code, str) else None
    if target is None:
        return HTMLResponse("<!doctype html><title>404</title><p>Unknown link. <a href='/'>Home</a>", status_code=404)
    visitor = visitor_of(request)
    fresh = visitor is None
    if visitor is None:
        visitor = new_visitor()
    session_cookie = request.cookies.get(SESSION_COOKIE)
    user_id = await state.token_cache.user_id(session_cookie, kind="session") if session_cookie else None
    referrer = urlsplit(request.headers.get("referer", "")).hostname or ""
    recorder.offer(
        target,
        visitor=visitor,
        user_id=user_id,
        ip=client_ip(request),
        agent=request.headers.get("user-agent", ""),
        referrer=referrer,
        now=state.clock.now().timestamp(),
    )
    response = Response(status_code=302, headers={"location": target.url, "cache-control": "no-store"})
    if fresh:
        response.set_cookie(
            VISITOR_COOKIE,
            visitor,
            max_age=VISITOR_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=state.settings.cookie_secure,
        )
    return response
