"""HTTP dependencies shared by the API and the pages: session, user, locale, CSRF."""

from __future__ import annotations

import hmac
import inspect
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role, User
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.db.group_commit import SERIALIZED_WRITES
from passerelle.errors import DomainError, Forbidden, Unauthorized
from passerelle.i18n.languages import negotiate
from passerelle.money import FxTable, is_currency
from passerelle.state import AppState

SESSION_COOKIE = "passerelle_session"
CSRF_COOKIE = "passerelle_csrf"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
CURRENCY_COOKIE = "currency"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.passerelle
    return state


async def _state_dependency(request: Request) -> AppState:
    # async: FastAPI runs a plain `def` dependency in a worker thread (a hop per request).
    return app_state(request)


State = Annotated[AppState, Depends(_state_dependency)]


async def db_session(request: Request) -> AsyncSession:
    """The request's one session, committed by `UnitOfWorkRoute` before the response leaves.
    async only so that FastAPI calls it inline rather than in a worker thread."""
    existing: AsyncSession | None = getattr(request.state, "db_session", None)
    if existing is not None:
        return existing
    state = app_state(request)
    maker = state.db.read_sessions if request.method in SAFE_METHODS else state.db.sessions
    session = maker()
    if getattr(request.state, "writes_serialized", False):
        session.info[SERIALIZED_WRITES] = True
    request.state.db_session = session
    return session


Session = Annotated[AsyncSession, Depends(db_session)]


async def run_after_commit(state: AppState, info: dict[Any, Any]) -> None:
    """What a request's transaction asked for once it is committed (in its session's
    `info`): wake the outbox worker if messages were queued, then the callbacks registered."""
    topics = info.pop("outbox_topics", None)
    if info.pop("outbox_emitted", False):
        state.wake_worker(topics)
    for callback in info.pop("after_commit", []):
        result = callback()
        if inspect.isawaitable(result):
            await result


def discard_after_commit(session: AsyncSession) -> None:
    """Forget what `run_after_commit` would do: the transaction's writes are being undone."""
    session.info.pop("outbox_emitted", None)
    session.info.pop("outbox_topics", None)
    session.info.pop("after_commit", None)


class UnitOfWorkRoute(APIRoute):
    """Commit once, after the handler and before the response is sent; roll back on error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def unit_of_work(request: Request) -> Response:
            state = app_state(request)
            writes = request.method not in SAFE_METHODS
            guard = state.db.write_guard() if writes else nullcontext()
            async with guard:
                # SQLite's write lock, held until the response: this request's writes are
                # seen by no one before its COMMIT (group_commit.SERIALIZED_WRITES).
                request.state.writes_serialized = writes and state.db.write_lock is not None
                try:
                    response = await handler(request)
                    session: AsyncSession | None = getattr(request.state, "db_session", None)
                    if session is not None:
                        if response.status_code < 400:
                            await session.commit()
                            await run_after_commit(state, session.info)
                        else:
                            await session.rollback()
                    return response
                except BaseException:
                    session = getattr(request.state, "db_session", None)
                    if session is not None:
                        await session.rollback()
                    raise
                finally:
                    session = getattr(request.state, "db_session", None)
                    if session is not None:
                        request.state.db_session = None
                        await session.close()

        return unit_of_work


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def current_user_optional(request: Request, session: Session) -> User | None:
    return await resolve_user(request, session, accounts.user_for_api_token)


async def resolve_user(
    request: Request, session: AsyncSession, by_api_token: Callable[..., Awaitable[User | None]]
) -> User | None:
    """The signed-in user (bearer token or session cookie, CSRF checked), once per request.
    `by_api_token(session, token=...)` looks the bearer token up."""
    if "user" in request.state:  # not hasattr: a miss raised and caught two exceptions
        cached: User | None = request.state.user
        return cached
    user: User | None = None
    bearer = _bearer(request)
    if bearer:
        user = await by_api_token(session, token=bearer)
        if user is None:
            raise Unauthorized("Invalid or expired API token")
        request.state.auth_via = "bearer"
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user = await accounts.user_for_web_session(session, token=cookie)
            request.state.auth_via = "cookie"
            if user is not None and request.method not in SAFE_METHODS:
                check_csrf_header_or_form(request)
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(current_user_optional)]


async def current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthorized()
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_operator(user: CurrentUser) -> User:
    if user.role != Role.operator:
        raise Forbidden("Operators only")
    return user


Operator = Annotated[User, Depends(current_operator)]


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (double-submit cookie, set by the middleware)."""
    token: str = getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE, "")
    return token


def check_csrf_header_or_form(request: Request, form_token: str | None = None) -> None:
    """Cookie-authenticated writes must echo the CSRF cookie in a header or form field."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form_token or request.headers.get(CSRF_HEADER, "")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise DomainError("csrf_failed", "This form has expired; reload the page and retry", status=403)


@dataclass(frozen=True)
class Locale:
    """What the viewer reads in: content language and display currency."""

    language: str
    currency: str
    fx: FxTable


async def request_locale(request: Request, user: OptionalUser, state: State) -> Locale:
    settings = state.settings
    # Parsed only when there is one (most API calls have none; parsing showed in bench checkout).
    query = request.query_params if request.scope.get("query_string") else {}
    query_lang = (query.get("lang") or "").lower()
    if query_lang in SUPPORTED_LANGUAGES:
        language = query_lang
    elif user is not None:
        language = user.language
    elif request.cookies.get(LANG_COOKIE) in SUPPORTED_LANGUAGES:
        language = request.cookies[LANG_COOKIE]
    else:
        language = negotiate(request.headers.get("accept-language"), settings.default_language)

    fx = await state.fx()
    query_currency = (query.get("currency") or "").upper()
    cookie_currency = (request.cookies.get(CURRENCY_COOKIE) or "").upper()
    if query_currency:
        if not (is_currency(query_currency) and fx.knows(query_currency)):
            raise DomainError(
                "unknown_currency", f"Unknown or unpriced currency: {query_currency}", field="currency", status=422
            )
        currency = query_currency
    elif user is not None and fx.knows(user.currency):
        currency = user.currency
    elif cookie_currency and fx.knows(cookie_currency):
        currency = cookie_currency
    else:
        currency = settings.base_currency
    return Locale(language=language, currency=currency, fx=fx)


RequestLocale = Annotated[Locale, Depends(request_locale)]


def after_commit(session: AsyncSession, callback: Callable[[], object]) -> None:
    """Run `callback` once the request's transaction has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(callback)
