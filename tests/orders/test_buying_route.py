"""The buying routes' unit of work under group commit (orders/buying_route.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from passerelle.db.group_commit import GroupCommit
from passerelle.deps import after_commit
from passerelle.orders.buying_route import in_group_commit
from passerelle.state import AppState


async def test_given_a_refused_request_in_a_group_then_its_after_commit_work_is_dropped_with_its_writes(
    app: Any, state: AppState
) -> None:
    assert state.db.write_lock is not None
    committer = GroupCommit(state.db.engine, state.db.write_lock)
    ran: list[str] = []

    def answering(status: int, name: str) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            after_commit(request.state.db_session, lambda: ran.append(name))
            return Response(status_code=status)

        return handle

    def request() -> Request:
        return Request({"type": "http", "app": app, "method": "POST", "path": "/", "headers": [], "state": {}})

    refused = await in_group_commit(request(), committer, answering(409, "refused"))
    accepted = await in_group_commit(request(), committer, answering(201, "accepted"))

    assert (refused.status_code, accepted.status_code) == (409, 201)
    assert ran == ["accepted"]
