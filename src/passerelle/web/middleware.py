"""Pure-ASGI middleware: security headers and the CSRF cookie every browser gets."""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passerelle.deps import CSRF_COOKIE

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
        "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss:; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, secure_cookies: bool = False) -> None:
        self.app = app
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        new_csrf: str | None = None
        cookie_header = next((v for k, v in scope.get("headers", []) if k == b"cookie"), b"").decode("latin-1")
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:
            cookies = SimpleCookie()
        if CSRF_COOKIE not in cookies:
            new_csrf = secrets.token_urlsafe(32)
            # Let this request's pages embed the token they are about to set.
            scope.setdefault("state", {})["csrf_token"] = new_csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if new_csrf is not None:
                    flags = "Path=/; SameSite=Lax" + ("; Secure" if self.secure else "")
                    headers.append("set-cookie", f"{CSRF_COOKIE}={new_csrf}; {flags}")
            await send(message)

        await self.app(scope, receive, send_with_headers)
