"""The operators' background-work page in a real browser, at phone width: the backlog's
figures, a message given up with its last error, and "Retry" queuing it again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role
from passerelle.infra import outbox
from passerelle.infra.outbox import MAX_ATTEMPTS, OutboxMessage
from passerelle.state import AppState
from tests import live_server as live
from tests.e2e.conftest import _in_thread
from tests.e2e.test_checkout_journey import no_sideways_scroll
from tests.e2e.test_shopping_journey import PHONE, new_page
from tests.factories import PASSWORD

pytestmark = pytest.mark.e2e
OPERATOR = "chloe@operations.fr"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("e2e-outbox")

    async def seed(state: AppState) -> None:
        async with state.db.sessions() as session:
            await accounts.register(
                session,
                email=OPERATOR,
                password=PASSWORD,
                country="FR",
                language="fr",
                currency="EUR",
                role=Role.operator,
            )
            await session.commit()
        # Scheduled far ahead (the running server's runner leaves them be) ...
        later = datetime.now(UTC) + timedelta(days=1)
        async with state.db.writing() as session:
            for _ in range(3):
                outbox.emit(session, topic="orders.expire_due", payload={}, at=later)
            # ... and one the runner gave up on, with its last error.
            outbox.emit(session, topic="notifications.mail", payload={}, at=later)
        async with state.db.writing() as session:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.topic == "notifications.mail")
                .values(
                    attempts=MAX_ATTEMPTS,
                    last_error="SMTPConnectError(421, 'mail.example.org: service not available')",
                    processed_at=datetime.now(UTC),
                    gave_up_at=datetime.now(UTC),
                )
            )

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir, extra_env={"PASSERELLE_OUTBOX": "worker"})  # whatever the cores
    try:
        server.wait_for_worker()  # the page counts it
        yield server.url
    finally:
        server.stop()


async def test_given_a_given_up_mail_when_the_operator_retries_it_from_the_phone_then_it_is_queued_again(
    console: str, browser: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser, viewport=PHONE)
    await page.goto(f"{console}/login")
    await page.fill("#login-email", OPERATOR)
    await page.fill("#login-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator(".menu-name")).to_have_count(1)

    await page.goto(f"{console}/operator/outbox")
    await expect(page.locator("h1")).to_have_text("Travail en arrière-plan")
    stats = page.locator("[data-testid=outbox-stats] .stat strong")
    # Nothing due, no wait, one given up, and the worker `serve` runs beside itself.
    await expect(stats).to_have_text(["0", "–", "1", "1 worker"])
    await expect(page.locator("[data-testid=outbox-topics]")).to_contain_text("orders.expire_due")
    given_up = page.locator("[data-testid=outbox-given-up]")
    await expect(given_up).to_contain_text("notifications.mail")
    await expect(given_up).to_contain_text("service not available")
    await no_sideways_scroll(page, "outbox page")
    await page.screenshot(path=str(artifacts / "outbox-phone.png"), full_page=True)

    await given_up.get_by_role("button", name="Réessayer").click()
    await expect(page.locator(".alert-ok")).to_contain_text("est de nouveau en file")
    await expect(page.locator("[data-testid=outbox-stats] .stat strong").nth(2)).to_have_text("0")
    await expect(page.get_by_text("Aucun message n’a été abandonné.")).to_be_visible()
    assert not problems, problems
