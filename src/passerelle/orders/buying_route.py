"""The unit of work of the buying path (cart add, checkout, sandbox pay): group commit.

When the database has group commit on (SQLite, unless `PASSERELLE_GROUP_COMMIT=false`),
the request's work runs in the shared write transaction of
`Database.group_commit` (db/group_commit.py), in its own savepoint: released when the
handler answers below 400, rolled back otherwise or when it raises. The response leaves
only once the group's COMMIT is durable; then, as in `UnitOfWorkRoute`, the outbox runner
is woken and the after-commit callbacks run. Otherwise (PostgreSQL, or switched off) it is
`UnitOfWorkRoute` as is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.db.group_commit import GroupCommit, MemberSession
from passerelle.deps import (
    UnitOfWorkRoute,
    app_state,
    db_session,
    discard_after_commit,
    resolve_user,
    run_after_commit,
)
from passerelle.state import AppState

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])


PREREAD_MAX_BYTES = 16_384


class GroupCommitRoute(UnitOfWorkRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        one_by_one = super().get_route_handler()
        handler = APIRoute.get_route_handler(self)

        async def group_commit(request: Request) -> Response:
            committer = app_state(request).db.group_commit
            if committer is None:
                return await one_by_one(request)
            # A small body is read before joining the group (Starlette keeps it on the request
            # for FastAPI): a client slow to send it must not hold the shared transaction open.
            # Others (no length, or a large one) are left to FastAPI and its size limits.
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) <= PREREAD_MAX_BYTES:
                await request.body()
            return await in_group_commit(request, committer, handler)

        return group_commit


async def in_group_commit(
    request: Request, committer: GroupCommit, handler: Callable[[Request], Awaitable[Response]]
) -> Response:
    """`handler` in its own savepoint of the group's transaction (released below 400, rolled
    back otherwise or when it raises); answered once the group's COMMIT is durable, then the
    after-commit work of `run_after_commit`. Its body must already be read."""

    async def work(session: MemberSession) -> Response:
        request.state.db_session = session
        response = await handler(request)
        if response.status_code < 400:
            await session.commit()  # keeps this request's writes in the group's transaction
        else:
            discard_after_commit(session)  # the group undoes its writes: nothing to follow up
        return response

    try:
        response, info = await committer.run(work)
    finally:
        request.state.db_session = None
    await run_after_commit(app_state(request), info)
    return response


async def request_context(request: Request) -> tuple[AppState, AsyncSession, User | None]:
    """What the State, Session and OptionalUser dependencies give, called directly: FastAPI's
    dependency solving cost more than these three lookups on the buying routes."""
    state = app_state(request)
    session = await db_session(request)
    # These routes only read the buyer: a plain copy of the row serves (cheaper than the
    # entity), kept briefly in memory (accounts/token_users.py).
    return state, session, await resolve_user(request, session, state.api_token_users.user_copy)


def buying_post(router: APIRouter, path: str, **options: Any) -> Callable[[_Endpoint], _Endpoint]:
    """`@router.post(path, ...)` with `GroupCommitRoute` as the route's unit of work."""

    def register(endpoint: _Endpoint) -> _Endpoint:
        router.add_api_route(path, endpoint, methods=["POST"], route_class_override=GroupCommitRoute, **options)
        return endpoint

    return register
