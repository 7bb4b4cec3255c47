"""Buyer lookups for the claim hot path: token -> user id, cached in memory for a minute,
so a claim costs no database query. Revoked tokens stop working within the TTL."""

from __future__ import annotations

import hmac
import time
from collections import OrderedDict

from starlette.requests import cookie_parser

from passerelle.accounts import service as accounts
from passerelle.db.engine import Database
from passerelle.deps import CSRF_COOKIE, SESSION_COOKIE

TTL_SECONDS = 60.0
MAX_ENTRIES = 200_000


class Missing:
    """What `cached` answers when only the database can tell."""


MISSING = Missing()


class CsrfFailed:
    """A session cookie came without the CSRF header that must echo the CSRF cookie."""


CSRF_FAILED = CsrfFailed()


def credentials(authorization: str, cookie_header: str, csrf_header: str) -> tuple[str, str] | CsrfFailed | None:
    """(token, kind) a request is signed in with, for `TokenCache`: a bearer token, or the
    session cookie when the page's script echoed the CSRF cookie in its header; None when
    it is signed in with neither. Read from raw header values, as the hot paths have them."""
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip(), "bearer"
    if not cookie_header:
        return None
    cookies = cookie_parser(cookie_header)
    session = cookies.get(SESSION_COOKIE)
    if not session:
        return None
    expected = cookies.get(CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_header):
        return CSRF_FAILED
    return session, "session"


class TokenCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._entries: OrderedDict[tuple[str, str], tuple[int | None, float]] = OrderedDict()

    def cached(self, token: str, kind: str) -> int | None | Missing:
        """The user id (None: no such token) when the cache knows it still, else MISSING."""
        hit = self._entries.get((kind, token))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        return MISSING

    async def user_id(self, token: str, kind: str) -> int | None:
        now = time.monotonic()
        hit = self._entries.get((kind, token))
        if hit is not None and hit[1] > now:
            return hit[0]
        async with self.db.read_sessions() as session:
            if kind == "bearer":
                user = await accounts.user_for_api_token(session, token=token)
            else:
                user = await accounts.user_for_web_session(session, token=token)
        user_id = user.id if user is not None else None
        self._entries[(kind, token)] = (user_id, now + TTL_SECONDS)
        if len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
        return user_id
