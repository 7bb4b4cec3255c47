"""Provenance chains: records are signed and hash-linked per unit; changing a date,
dropping a record (middle or newest) or reordering records is detected and located."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from passerelle.state import AppState
from passerelle.traceability.models import ProvenanceRecord, Unit
from passerelle.traceability.verify import verify_serial
from tests.logistics.helpers import ship
from tests.traceability.helpers import traced_order


async def _records(state: AppState, serial: str) -> list[ProvenanceRecord]:
    async with state.db.read_sessions() as session:
        unit = (await session.execute(select(Unit).where(Unit.serial == serial))).scalar_one()
        rows = await session.execute(
            select(ProvenanceRecord).where(ProvenanceRecord.unit_id == unit.id).order_by(ProvenanceRecord.seq)
        )
        return list(rows.scalars())


async def _verify(state: AppState, serial: str) -> dict[str, object]:
    async with state.db.read_sessions() as session:
        return (await verify_serial(session, serial=serial)).as_dict()


@pytest.mark.both_backends
async def test_given_a_packed_and_shipped_unit_then_its_chain_is_valid_and_the_key_is_published(
    client: httpx.AsyncClient, state: AppState
) -> None:
    traced = await traced_order(client, state)
    await ship(client, traced.paid)
    serial = traced.serials[0]
    assert [r.kind for r in await _records(state, serial)] == ["made", "packed", "shipped"]
    verdict = (await client.get(f"/api/v1/trace/units/{serial}/verify")).json()
    assert verdict["valid"] is True and verdict["records"] == 3
    keys = (await client.get(f"/api/v1/trace/merchants/{traced.paid.merchant.id}/keys")).json()["keys"]
    assert len(keys) == 1 and keys[0]["algorithm"] == "Ed25519" and "private" not in str(keys)
    # Another merchant cannot pack this unit, and it cannot be packed twice.
    again = await client.post(
        f"/api/v1/orders/{traced.paid.order_id}/units", json={"serial": serial}, headers=traced.paid.seller.headers
    )
    assert again.status_code == 409


async def test_given_a_changed_date_then_verification_names_that_record(
    client: httpx.AsyncClient, state: AppState
) -> None:
    traced = await traced_order(client, state)
    serial = traced.serials[0]
    made = (await _records(state, serial))[0]
    async with state.db.sessions() as session:
        await session.execute(
            update(ProvenanceRecord)
            .where(ProvenanceRecord.id == made.id)
            .values(occurred_at=made.occurred_at - timedelta(days=30))
        )
        await session.commit()
    verdict = await _verify(state, serial)
    assert verdict["valid"] is False
    assert verdict["broken_record"] == {"seq": 1, "id": made.id}
    assert "changed" in str(verdict["reason"])


async def test_given_a_dropped_record_in_the_middle_or_at_the_end_then_verification_fails(
    client: httpx.AsyncClient, state: AppState
) -> None:
    traced = await traced_order(client, state)
    await ship(client, traced.paid)
    first, second = traced.serials
    middle = (await _records(state, first))[1]
    newest = (await _records(state, second))[-1]
    async with state.db.sessions() as session:
        await session.execute(delete(ProvenanceRecord).where(ProvenanceRecord.id.in_([middle.id, newest.id])))
        await session.commit()
    gap = await _verify(state, first)
    assert gap["valid"] is False and gap["broken_record"] == {"seq": 3, "id": (await _records(state, first))[1].id}
    tail = await _verify(state, second)
    assert tail["valid"] is False and "newest were removed" in str(tail["reason"])


async def test_given_reordered_records_then_verification_fails_at_the_first_moved_one(
    client: httpx.AsyncClient, state: AppState
) -> None:
    traced = await traced_order(client, state)
    await ship(client, traced.paid)
    serial = traced.serials[0]
    made, packed, shipped = await _records(state, serial)
    async with state.db.sessions() as session:
        # Swap the seq of two records (through a free number: (unit, seq) is unique).
        await session.execute(update(ProvenanceRecord).where(ProvenanceRecord.id == packed.id).values(seq=99))
        await session.execute(update(ProvenanceRecord).where(ProvenanceRecord.id == shipped.id).values(seq=2))
        await session.execute(update(ProvenanceRecord).where(ProvenanceRecord.id == packed.id).values(seq=3))
        await session.commit()
    verdict = await _verify(state, serial)
    assert verdict["valid"] is False
    assert verdict["broken_record"] == {"seq": 2, "id": shipped.id}


async def test_given_the_cli_then_it_exits_0_with_valid_and_1_naming_the_broken_record(
    client: httpx.AsyncClient, state: AppState, monkeypatch: object
) -> None:
    import asyncio

    from passerelle.cli import app as cli_app

    traced = await traced_order(client, state)
    serial = traced.serials[0]
    env = {"PASSERELLE_DATABASE_URL": state.settings.resolved_database_url, "PASSERELLE_SECRET_KEY": "test-secret"}
    runner = CliRunner()
    ok = await asyncio.to_thread(runner.invoke, cli_app, ["trace", "verify", serial], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "valid"
    made = (await _records(state, serial))[0]
    async with state.db.sessions() as session:
        await session.execute(
            update(ProvenanceRecord).where(ProvenanceRecord.id == made.id).values(data={"factory": "Elsewhere"})
        )
        await session.commit()
    broken = await asyncio.to_thread(runner.invoke, cli_app, ["trace", "verify", serial], env=env)
    assert broken.exit_code == 1
    assert f"record #1 (id {made.id})" in broken.output
