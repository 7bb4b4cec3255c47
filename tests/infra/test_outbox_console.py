"""The operators' view of the outbox (infra/outbox_console.py, infra/outbox_routes.py): the
backlog per topic and how long it has waited, the messages given up after their last
attempt, and queuing one again; operators only, CSRF on the page's form."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from passerelle.accounts.models import Role
from passerelle.infra import outbox, outbox_console
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import MAX_ATTEMPTS, OutboxMessage, OutboxRunner
from passerelle.infra.outbox_wake import WakeListener
from passerelle.state import AppState
from tests.factories import make_user
from tests.web.helpers import HTML, log_in, submit, text_of


async def _emit(state: AppState, topic: str, *, at: datetime | None = None) -> int:
    async with state.db.writing() as session:
        outbox.emit(session, topic=topic, payload={}, at=at)
        await session.flush()
        found = await session.execute(select(OutboxMessage.id).order_by(OutboxMessage.id.desc()).limit(1))
        return int(found.scalar_one())


async def _message(state: AppState, message_id: int) -> OutboxMessage:
    async with state.db.read_sessions() as session:
        message = await session.get(OutboxMessage, message_id)
        assert message is not None
        return message


async def _given_up_message(state: AppState) -> int:
    """A message whose handler fails on its last allowed attempt."""
    message_id = await _emit(state, "console.flaky")
    async with state.db.writing() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(attempts=MAX_ATTEMPTS - 1)
        )

    async def fails(_state: Any, _payload: dict[str, Any]) -> None:
        raise ConnectionError("smtp.example.org refused the connection")

    assert await OutboxRunner(state, {"console.flaky": fails}).run_once() == 1
    return message_id


@pytest.mark.both_backends
async def test_given_due_scheduled_and_retrying_messages_then_the_backlog_counts_them_per_topic(
    state: AppState,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await _emit(state, "console.mail", at=now - timedelta(seconds=90))
    await _emit(state, "console.mail", at=now - timedelta(seconds=5))
    await _emit(state, "console.mail", at=now + timedelta(minutes=15))  # scheduled ahead
    retrying = await _emit(state, "console.credit", at=now - timedelta(seconds=30))
    async with state.db.writing() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == retrying).values(attempts=2, last_error="timeout")
        )
    done = await _emit(state, "console.done", at=now - timedelta(hours=1))
    async with state.db.writing() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == done).values(processed_at=now))

    async with state.db.read_sessions() as session:
        health = await outbox_console.health(session, now=now)

    by_topic = {topic.topic: topic for topic in health.topics}
    assert set(by_topic) == {"console.mail", "console.credit"}  # the done one is no backlog
    mail, credit = by_topic["console.mail"], by_topic["console.credit"]
    assert (mail.due, mail.later, mail.retrying, mail.oldest_due_seconds) == (2, 1, 0, 90.0)
    assert (credit.due, credit.later, credit.retrying, credit.oldest_due_seconds) == (1, 0, 1, 30.0)
    assert (health.due, health.oldest_due_seconds, health.given_up_total) == (3, 90.0, 0)
    assert outbox_console.TopicBacklog("orders.paid#1", 0, 0, 0, None).consumer == "orders.paid"


@pytest.mark.both_backends
async def test_given_a_message_failing_its_last_attempt_then_it_is_given_up_kept_and_can_run_again(
    state: AppState,
) -> None:
    message_id = await _given_up_message(state)
    given_up = await _message(state, message_id)
    assert given_up.gave_up_at is not None and given_up.processed_at is not None
    assert given_up.attempts == MAX_ATTEMPTS and "refused the connection" in given_up.last_error
    async with state.db.read_sessions() as session:
        health = await outbox_console.health(session, now=datetime.now(UTC))
    assert health.given_up_total == 1 and [m.id for m in health.given_up] == [message_id]
    assert health.topics == []  # given up is not waiting

    clock = FrozenClock(datetime.now(UTC) + timedelta(seconds=1))
    state.clock = clock
    async with state.db.writing() as session:
        assert await outbox_console.retry(session, message_id=message_id, now=clock.now())
        assert session.info["outbox_emitted"] is True  # the runner is woken after the commit
    async with state.db.writing() as session:
        assert not await outbox_console.retry(session, message_id=message_id, now=clock.now())  # queued already

    handled: list[int] = []

    async def succeeds(_state: Any, _payload: dict[str, Any]) -> None:
        handled.append(message_id)

    assert await OutboxRunner(state, {"console.flaky": succeeds}).run_once() == 1
    again = await _message(state, message_id)
    assert handled == [message_id]
    assert again.processed_at is not None and again.gave_up_at is None and again.attempts == 1


async def test_given_the_api_then_only_operators_read_the_outbox_and_queue_a_message_again(
    client: httpx.AsyncClient, state: AppState
) -> None:
    message_id = await _given_up_message(state)
    buyer = await make_user(state)
    operator = await make_user(state, role=Role.operator)

    assert (await client.get("/api/v1/operator/outbox")).status_code == 401
    assert (await client.get("/api/v1/operator/outbox", headers=buyer.headers)).status_code == 403
    refused = await client.post(f"/api/v1/operator/outbox/{message_id}/retry", headers=buyer.headers)
    assert refused.status_code == 403

    seen = await client.get("/api/v1/operator/outbox", headers=operator.headers)
    assert seen.status_code == 200
    body = seen.json()
    assert body["given_up_total"] == 1 and body["given_up"][0]["id"] == message_id
    assert body["given_up"][0]["topic"] == "console.flaky" and body["given_up"][0]["attempts"] == MAX_ATTEMPTS

    queued = await client.post(f"/api/v1/operator/outbox/{message_id}/retry", headers=operator.headers)
    assert queued.status_code == 200 and queued.json() == {"id": message_id, "status": "queued"}
    twice = await client.post(f"/api/v1/operator/outbox/{message_id}/retry", headers=operator.headers)
    assert twice.status_code == 404
    after = (await client.get("/api/v1/operator/outbox", headers=operator.headers)).json()
    assert after["given_up_total"] == 0 and [t["topic"] for t in after["topics"]] == ["console.flaky"]


async def test_given_the_page_then_an_operator_sees_the_error_escaped_and_retries_with_the_form(
    client: httpx.AsyncClient, state: AppState
) -> None:
    message_id = await _given_up_message(state)
    async with state.db.writing() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(last_error="<script>alert(1)</script>")
        )
    client.headers.update(HTML)
    buyer = await make_user(state)
    await log_in(client, buyer.user.email)
    assert (await client.get("/operator/outbox")).status_code == 403

    client.cookies.clear()
    operator = await make_user(state, role=Role.operator, language="fr")
    await log_in(client, operator.user.email)
    page = await client.get("/operator/outbox")
    assert page.status_code == 200
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    words = text_of(page.text)
    assert "Travail en arrière-plan" in words and "console.flaky" in words and "Réessayer" in words

    no_csrf = await client.post(f"/operator/outbox/{message_id}/retry")
    assert no_csrf.status_code == 403
    retried = await submit(client, f"/operator/outbox/{message_id}/retry", {}, token_from="/operator/outbox")
    assert retried.status_code == 303 and retried.headers["location"] == f"/operator/outbox?done={message_id}"
    after = await client.get(retried.headers["location"])
    assert f"Le message {message_id} est de nouveau en file." in text_of(after.text)
    assert (await _message(state, message_id)).gave_up_at is None

    client.cookies.set("passerelle_lang", "en")
    english = await client.get("/operator/outbox?lang=en")
    assert "Background work" in text_of(english.text)


async def test_given_the_outbox_left_to_workers_then_the_console_says_how_many_listen_and_warns_when_none(
    client: httpx.AsyncClient, state: AppState
) -> None:
    operator = await make_user(state, role=Role.operator, language="fr")
    alone = (await client.get("/api/v1/operator/outbox", headers=operator.headers)).json()
    assert (alone["consumed_by"], alone["workers_listening"]) == ("server", None)

    state.settings = state.settings.model_copy(update={"outbox_process": True})
    none = (await client.get("/api/v1/operator/outbox", headers=operator.headers)).json()
    assert (none["consumed_by"], none["workers_listening"]) == ("workers", 0)
    client.headers.update(HTML)
    await log_in(client, operator.user.email)
    warned = text_of((await client.get("/operator/outbox")).text)
    assert "Aucun worker de l’outbox ne tourne sur cette machine" in warned and "0 worker" in warned

    listener = WakeListener(state.settings.resolved_database_url, lambda: None)
    try:
        one = (await client.get("/api/v1/operator/outbox", headers=operator.headers)).json()
        assert one["workers_listening"] == 1
        calm = text_of((await client.get("/operator/outbox")).text)
        assert "Aucun worker" not in calm and "1 worker" in calm
    finally:
        listener.close()
