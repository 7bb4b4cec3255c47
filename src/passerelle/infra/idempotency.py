"""Idempotency keys for unsafe API calls (checkout, payments, claims).

A key is per account. The first call records the key as in flight and commits that at
once; the response is stored in the same transaction as the work it answers.
- same key, same body, finished  -> the stored response, again;
- same key, different body       -> 422 idempotency_key_reused;
- same key while the first runs  -> 409 in_progress.
Keys are kept at least 24 hours. A key left in flight by a crash is taken over after a
grace period, since its work was rolled back with the crashed transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, Integer, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow
from passerelle.db.group_commit import SERIALIZED_WRITES
from passerelle.db.prepared import Prepared, bound
from passerelle.errors import Conflict, Invalid

KEEP_FOR = timedelta(hours=24)
IN_FLIGHT_GRACE = timedelta(seconds=60)
MAX_KEY_LENGTH = 200


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: Any


def request_hash(scope: str, body: Any) -> str:
    return hashlib.sha256(scope.encode() + b"\0" + orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(
            "invalid_idempotency_key", "Idempotency-Key must be 1-200 printable characters", field="Idempotency-Key"
        )
    return key


_KEYS: Table = IdempotencyKey.__table__  # type: ignore[assignment]
# Built once (every keyed request runs them), on the table: Core, not the ORM's bulk path.
_COMPLETE = Prepared(
    update(_KEYS)
    .where(_KEYS.c.user_id == bindparam("for_user"), _KEYS.c.key == bindparam("for_key"))
    .values(status_code=bindparam("new_status"), response=bindparam("new_response"))
)
_RESERVE = Prepared(insert(_KEYS).values(bound("user_id", "key", "scope", "request_hash", "created_at")))
# Where writes are serialized, the key is written once, with its answer, after the work.
_KEEP_ANSWER = Prepared(
    insert(_KEYS).values(bound("user_id", "key", "scope", "request_hash", "status_code", "response", "created_at"))
)
_FIND = Prepared(
    select(_KEYS.c.scope, _KEYS.c.request_hash, _KEYS.c.status_code, _KEYS.c.response, _KEYS.c.created_at).where(
        _KEYS.c.user_id == bindparam("b_user_id"), _KEYS.c.key == bindparam("b_key")
    )
)


async def begin(
    session: AsyncSession, *, user_id: int, key: str, scope: str, digest: str, commit: bool = True
) -> StoredResponse | None:
    """Reserve `key` and COMMIT that on `session`, or return what a finished earlier call
    answered. The work that follows runs in the session's next transaction.

    `commit=False` (writes serialized on SQLite: a request holding the write lock, or a
    group commit member, db/group_commit.py): the reservation stays in the work's
    transaction. Committing it early only serves to show other transactions the key in
    flight; there, no other transaction can see it before the COMMIT anyway (one writer; a
    concurrent duplicate waits for the lock, then finds the stored answer), and the key
    becomes durable with the work and its answer, or not at all (a crash leaves no key in
    flight). It also saves a transaction and its fsync per keyed request."""
    reservation = {"user_id": user_id, "key": key, "scope": scope, "request_hash": digest}
    try:
        await _RESERVE.rowcount(session, {**reservation, "created_at": utcnow()})
        if commit:
            await session.commit()
        return None
    except IntegrityError:
        await session.rollback()
    existing = await session.get(IdempotencyKey, (user_id, key), populate_existing=True)
    if existing is None:  # purged in between: reserve again
        await _RESERVE.rowcount(session, {**reservation, "created_at": utcnow()})
        if commit:
            await session.commit()
        return None
    if existing.request_hash != digest or existing.scope != scope:
        await session.rollback()
        raise Invalid(
            "idempotency_key_reused", "This Idempotency-Key was used with a different request", field="Idempotency-Key"
        )
    if existing.status_code is not None:
        stored = StoredResponse(existing.status_code, existing.response)
        await session.rollback()
        return stored
    if utcnow() - existing.created_at > IN_FLIGHT_GRACE:
        # The first attempt died without finishing; its work was rolled back. Take over.
        taken = await session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.key == key,
                IdempotencyKey.created_at == existing.created_at,
                IdempotencyKey.status_code.is_(None),
            )
            .values(created_at=utcnow())
        )
        if commit:
            await session.commit()
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return None
    await session.rollback()
    raise Conflict("in_progress", "A request with this Idempotency-Key is still being processed")


async def complete(session: AsyncSession, *, user_id: int, key: str, status_code: int, body: Any) -> None:
    """Store the answer in the caller's transaction, so it commits with the work."""
    await _COMPLETE.rowcount(
        session, {"for_user": user_id, "for_key": key, "new_status": status_code, "new_response": body}
    )


async def abandon(session: AsyncSession, *, user_id: int, key: str) -> None:
    """Forget an in-flight key whose work failed (after the work was rolled back), so a retry runs again."""
    await session.rollback()
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.status_code.is_(None)
        )
    )
    await session.commit()


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - KEEP_FOR))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def run(
    session: AsyncSession,
    *,
    key: str | None,
    user_id: int,
    scope: str,
    body: Any,
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any, bool]:
    """Run `work` at most once per (user, key). Returns (status, body, replayed)."""
    key = check_key(key)
    if key is None:
        status, result = await work()
        return status, result, False
    digest = request_hash(scope, body)
    if session.info.get(SERIALIZED_WRITES, False):
        return await _run_serialized(session, key=key, user_id=user_id, scope=scope, digest=digest, work=work)
    stored = await begin(session, user_id=user_id, key=key, scope=scope, digest=digest)
    if stored is not None:
        return stored.status_code, stored.body, True
    try:
        status, result = await work()
    except BaseException:
        await abandon(session, user_id=user_id, key=key)
        raise
    await complete(session, user_id=user_id, key=key, status_code=status, body=result)
    return status, result, False


async def _run_serialized(
    session: AsyncSession,
    *,
    key: str,
    user_id: int,
    scope: str,
    digest: str,
    work: Callable[[], Awaitable[tuple[int, Any]]],
) -> tuple[int, Any, bool]:
    """`run` where no other writer runs before this transaction's COMMIT (see `begin`,
    `commit=False`): nobody can see the key in flight, so it is written once, with the answer,
    after the work (a read and an INSERT, where reserving then completing took two writes)."""
    found = await _FIND.first(session, {"b_user_id": user_id, "b_key": key})
    if found is not None and found.status_code is None:
        # Left in flight by a writer that committed its reservation early: its rules apply.
        stored = await begin(session, user_id=user_id, key=key, scope=scope, digest=digest, commit=False)
        if stored is not None:
            return stored.status_code, stored.body, True
        try:
            status, result = await work()
        except BaseException:
            await session.rollback()  # the takeover was in this transaction: gone with it
            raise
        await complete(session, user_id=user_id, key=key, status_code=status, body=result)
        return status, result, False
    if found is not None:
        if found.request_hash != digest or found.scope != scope:
            raise Invalid(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request",
                field="Idempotency-Key",
            )
        return found.status_code, found.response, True
    try:
        status, result = await work()
    except BaseException:
        await session.rollback()
        raise
    await _KEEP_ANSWER.rowcount(
        session,
        {
            "user_id": user_id,
            "key": key,
            "scope": scope,
            "request_hash": digest,
            "status_code": status,
            "response": result,
            "created_at": utcnow(),
        },
    )
    return status, result, False
