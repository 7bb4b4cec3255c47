"""Account rules: registration, credentials, sessions and API tokens. Never commits."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import ApiToken, Role, User, WebSession
from passerelle.accounts.passwords import hash_password, needs_rehash, verify_password
from passerelle.accounts.tokens import new_token, token_hash
from passerelle.db.base import utcnow
from passerelle.db.prepared import Prepared
from passerelle.errors import Conflict, DomainError, Unauthorized
from passerelle.i18n.countries import check_country
from passerelle.i18n.languages import check_language
from passerelle.money import check_currency

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def register(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    country: str,
    language: str,
    currency: str,
    display_name: str | None = None,
    role: Role = Role.buyer,
) -> User:
    email = normalise_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            "weak_password",
            f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
            status=422,
        )
    user = User(
        email=email,
        password_hash=await asyncio.to_thread(hash_password, password),
        display_name=(display_name or email.split("@")[0])[:100],
        role=role,
        country=check_country(country),
        language=check_language(language),
        currency=check_currency(currency),
    )
    if await get_by_email(session, email=email) is not None:
        raise Conflict("email_taken", "An account with this e-mail already exists", field="email")
    session.add(user)
    await session.flush()
    return user


async def get_by_email(session: AsyncSession, *, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == normalise_email(email)))
    return result.scalar_one_or_none()


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User:
    user = await get_by_email(session, email=email)
    # argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    if not await asyncio.to_thread(verify_password, user.password_hash if user else None, password) or user is None:
        raise Unauthorized("Wrong e-mail or password")
    if not user.is_active:
        raise Unauthorized("This account is disabled")
    if needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(hash_password, password)
    return user


async def update_preferences(
    session: AsyncSession,
    *,
    user: User,
    language: str | None = None,
    currency: str | None = None,
    country: str | None = None,
) -> User:
    if language is not None:
        user.language = check_language(language)
    if currency is not None:
        user.currency = check_currency(currency)
    if country is not None:
        user.country = check_country(country)
    await session.flush()
    return user


async def open_web_session(session: AsyncSession, *, user: User, days: int) -> str:
    token = new_token()
    session.add(WebSession(token_hash=token_hash(token), user_id=user.id, expires_at=utcnow() + timedelta(days=days)))
    await session.flush()
    return token


async def close_web_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


async def user_for_web_session(session: AsyncSession, *, token: str) -> User | None:
    row = await session.execute(
        select(User)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > utcnow())
    )
    user = row.scalar_one_or_none()
    return user if user is not None and user.is_active else None


async def issue_api_token(session: AsyncSession, *, user: User, days: int, name: str = "api") -> str:
    token = new_token()
    session.add(
        ApiToken(
            token_hash=token_hash(token),
            user_id=user.id,
            name=name[:100],
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    await session.flush()
    return token


# Built once: every API request runs it, and building a statement costs about as much as running it.
_USER_FOR_API_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.expires_at > bindparam("now"))
)


async def user_for_api_token(session: AsyncSession, *, token: str) -> User | None:
    row = await session.execute(_USER_FOR_API_TOKEN, {"token_hash": token_hash(token), "now": utcnow()})
    user = row.scalar_one_or_none()
    return user if user is not None and user.is_active else None


_USERS: Table = User.__table__  # type: ignore[assignment]
_TOKENS: Table = ApiToken.__table__  # type: ignore[assignment]
# Without the password hash: the rows are kept in memory (accounts/token_users.py).
_USER_ROW_FOR_API_TOKEN = Prepared(
    select(*(c for c in _USERS.c if c.key != "password_hash"), _TOKENS.c.expires_at.label("token_expires_at"))
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("b_token_hash"), _TOKENS.c.expires_at > bindparam("b_now"))
)


async def user_row_for_api_token(session: AsyncSession, *, digest: str) -> tuple[dict[str, Any], datetime] | None:
    """The active user's columns (by attribute name, all but the password hash) and the
    token's expiry, for the token whose hash is `digest`; None for an unknown, expired or
    deactivated one."""
    row = await _USER_ROW_FOR_API_TOKEN.first(session, {"b_token_hash": digest, "b_now": utcnow()})
    if row is None or not row.is_active:
        return None
    values = row._asdict()
    return values, values.pop("token_expires_at")


async def revoke_api_token(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash(token)))


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())
