"""The operators' view of the outbox (infra/outbox_console.py): a page in the operator
console, and the same figures as JSON for monitoring (alert when the oldest due message
has waited too long). Operators only; the page's retry buttons carry the CSRF token."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from passerelle.deps import Operator, Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.infra import outbox_console
from passerelle.infra.outbox import MAX_ATTEMPTS
from passerelle.state import AppState
from passerelle.web.context import PageContext, page_guard, path_id

api_router = APIRouter(tags=["operations"], route_class=UnitOfWorkRoute)
page_router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


def _consumers(state: AppState) -> outbox_console.Consumers:
    settings = state.settings
    return outbox_console.consumers(settings.resolved_database_url, in_workers=settings.outbox_process)


def _as_json(health: outbox_console.OutboxHealth, consumers: outbox_console.Consumers) -> dict[str, Any]:
    """The figures as the page shows them (FastAPI writes the datetimes in ISO 8601)."""
    return {
        "consumed_by": "workers" if consumers.in_workers else "server",
        "workers_listening": consumers.workers_listening,
        "due": health.due,
        "oldest_due_seconds": health.oldest_due_seconds,
        "topics": [asdict(topic) for topic in health.topics],
        "given_up_total": health.given_up_total,
        "given_up": [asdict(message) for message in health.given_up],
    }


@api_router.get("/operator/outbox")
async def outbox_health(session: Session, state: State, operator: Operator) -> dict[str, Any]:
    return _as_json(await outbox_console.health(session, now=state.clock.now()), _consumers(state))


@api_router.post("/operator/outbox/{message_id}/retry")
async def retry_message(message_id: int, session: Session, state: State, operator: Operator) -> dict[str, Any]:
    if not await outbox_console.retry(session, message_id=message_id, now=state.clock.now()):
        raise NotFound("given-up message")
    return {"id": message_id, "status": "queued"}


@page_router.get("/operator/outbox")
async def outbox_page(page: PageContext, session: Session, state: State) -> Response:
    page.require_operator()
    health = await outbox_console.health(session, now=state.clock.now())
    return page.render(
        "operations/outbox.html",
        health=health,
        consumers=_consumers(state),
        time_zone=state.settings.operator_time_zone,
        max_attempts=MAX_ATTEMPTS,
        done=done if (done := page.request.query_params.get("done", "")).isdigit() else "",
    )


@page_router.post("/operator/outbox/{message_ref}/retry")
async def retry_page(message_ref: str, page: PageContext, session: Session, state: State) -> Response:
    page.require_operator()
    message_id = path_id(message_ref, "message")
    if not await outbox_console.retry(session, message_id=message_id, now=state.clock.now()):
        raise NotFound("given-up message")
    return RedirectResponse(f"/operator/outbox?done={message_id}", status_code=303)
