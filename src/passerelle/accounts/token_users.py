"""The buying routes' bearer tokens, looked up once and kept briefly in memory.

A cart add, a checkout and a sandbox pay each looked their bearer token up (users joined to
api_tokens): ~6 % of the server's time in `bench checkout`, for three lookups of one token
within a second. An entry lives `TTL_SECONDS` at most and never past the token's expiry.
This process forgets a token when it is revoked and a user when their preferences change
(the routes call `forget_token`/`forget_user`); other processes (PostgreSQL scale-out)
see either within the TTL. Unknown tokens are not kept: a flood of made-up tokens costs
queries, not memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.accounts.models import User
from passerelle.accounts.tokens import token_hash
from passerelle.db.base import utcnow
from passerelle.db.prepared import plain_copy

TTL_SECONDS = 30.0
MAX_ENTRIES = 100_000


class _Entry(NamedTuple):
    user_id: int
    values: dict[str, Any]  # the user's columns: each request gets its own plain copy
    until: float  # monotonic


class ApiTokenUsers:
    def __init__(self, *, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.monotonic: Callable[[], float] = time.monotonic
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # by token hash, oldest first
        self._tokens_of: dict[int, set[str]] = {}  # user id -> token hashes kept
        # Bumped by every forget: a row read before a forget is not kept after it (a logout
        # committing while a request read the token, on PostgreSQL where they run side by side).
        self._generation = 0

    async def user_copy(self, session: AsyncSession, *, token: str) -> User | None:
        """The token's active user as a plain `User` (not in the session: the buying routes
        only read it; loading the entity cost several times the query), or None."""
        digest = token_hash(token)
        now = self.monotonic()
        hit = self._entries.get(digest)
        if hit is not None and hit.until > now:
            return plain_copy(User, hit.values)
        generation = self._generation
        found = await accounts.user_row_for_api_token(session, digest=digest)
        if found is None:
            self._drop(digest)
            return None
        values, expires_at = found
        if generation == self._generation:
            self._keep(digest, _Entry(values["id"], values, now + min(self.ttl, _seconds_until(expires_at))), now)
        return plain_copy(User, values)

    def _keep(self, digest: str, entry: _Entry, now: float) -> None:
        self._drop(digest)
        self._entries[digest] = entry
        self._tokens_of.setdefault(entry.user_id, set()).add(digest)
        # Oldest first: drop the expired ones at the front, and the oldest beyond the cap.
        for oldest, kept in list(islice(self._entries.items(), 2)):
            if kept.until <= now:
                self._drop(oldest)
        while len(self._entries) > self.max_entries:
            self._drop(next(iter(self._entries)))

    def _drop(self, digest: str) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None:
            tokens = self._tokens_of.get(entry.user_id)
            if tokens is not None:
                tokens.discard(digest)
                if not tokens:
                    del self._tokens_of[entry.user_id]

    def forget_token(self, token: str) -> None:
        self._generation += 1
        self._drop(token_hash(token))

    def forget_user(self, user_id: int) -> None:
        """After a change to the user's row (language, currency, country...)."""
        self._generation += 1
        for digest in list(self._tokens_of.get(user_id, ())):
            self._drop(digest)


def _seconds_until(moment: datetime) -> float:
    return (moment - utcnow()).total_seconds()
