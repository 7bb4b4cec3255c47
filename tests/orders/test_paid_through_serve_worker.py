"""The embedded default on two cores, end to end on both backends: `passerelle serve` runs
its outbox worker beside itself, and that worker is what turns a sandbox payment into a
paid order, its mails and its ledger entries."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.bench.fixtures import make_buyers, make_catalog
from passerelle.bench.server import children_of
from passerelle.config import Settings
from passerelle.ledger.models import LedgerEntry
from passerelle.state import AppState
from tests import live_server
from tests.commerce import ADDRESS, GOOD_CARD


async def _shop(settings: Settings) -> tuple[int, str]:
    state = AppState.from_settings(settings)
    try:
        catalog = await make_catalog(state, merchants_count=1, products_each=1)
        (token,) = await make_buyers(state, 1)
    finally:
        await state.db.dispose()
    return catalog.scarce_sku_id, token  # 50 in stock


async def _ledger_sum(settings: Settings) -> tuple[int, int]:
    state = AppState.from_settings(settings)
    try:
        async with state.db.read_sessions() as session:
            count, total = (await session.execute(select(func.count(), func.sum(LedgerEntry.amount)))).one()
    finally:
        await state.db.dispose()
    return int(count), int(total or 0)


def _made(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.both_backends
async def test_given_serve_with_its_worker_then_a_sandbox_payment_ends_in_a_paid_order_with_mail_and_ledger(
    settings: Settings,
) -> None:
    sku_id, token = await _shop(settings)
    data_dir = _made(Path(settings.data_dir))
    server = live_server.start(
        data_dir,
        extra_env={
            "PASSERELLE_DATABASE_URL": settings.resolved_database_url,
            "PASSERELLE_SECRET_KEY": settings.secret_key,
            "PASSERELLE_OUTBOX": "worker",
        },
    )
    try:
        (worker,) = children_of(server.process.pid)
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            added = await client.post("/api/v1/cart/items", json={"sku_id": sku_id, "quantity": 2}, headers=headers)
            assert added.status_code == 201, added.text
            placed = await client.post(
                "/api/v1/checkout",
                json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
                headers={**headers, "Idempotency-Key": "serve-worker-1"},
            )
            assert placed.status_code == 201, placed.text
            (order,) = placed.json()["orders"]
            paying = await client.post(
                f"/api/v1/payments/sandbox/{placed.json()['payment']['id']}/pay", json={"card_number": GOOD_CARD}
            )
            assert paying.status_code == 202, paying.text
            deadline = time.monotonic() + 30
            status = ""
            while time.monotonic() < deadline:
                status = (await client.get(f"/api/v1/orders/{order['id']}", headers=headers)).json()["status"]
                if status == "paid":
                    break
                await asyncio.sleep(0.1)
        assert status == "paid", server.log()[-3000:]
        mails = data_dir / "mail"
        for _ in range(100):  # the confirmation follows the payment, from the worker too
            if mails.is_dir() and any(mails.glob("*.eml")):
                break
            await asyncio.sleep(0.1)
        assert any(mails.glob("*.eml")), server.log()[-3000:]
        count, total = await _ledger_sum(settings)
        assert count > 0 and total == 0  # double entry: the sale's entries sum to zero
        assert "passerelle.cli worker" in _command(worker)
    finally:
        server.stop()
