"""Payout batches: SEPA pain.001 that validates against the official schema, CSV, and a re-run
(or a second batch) that pays nobody twice."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from passerelle.accounts.models import Role
from passerelle.connect.models import Commission
from passerelle.connect.service.ledger import owed_account
from passerelle.connect.service.payouts import XSD_PATH
from passerelle.infra.clock import FrozenClock
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.commerce import drain
from tests.connect.helpers import buy, click, deliver, make_creator, make_link, make_shop
from tests.factories import make_user

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.mark.both_backends
async def test_given_approved_commissions_when_a_batch_is_paid_and_re_run_then_each_creator_is_paid_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))
    state.clock = clock
    shop = await make_shop(client, state, price=12345, rate_bp=1000)
    anna, anna_id = await make_creator(client, state)
    bob, bob_id = await make_creator(client, state)
    for creator in (anna, bob):
        client.cookies.clear()
        await click(client, await make_link(client, creator, shop))
        await state.connect.recorder.flush()
        _, order_id = await buy(client, state, shop)
        await deliver(client, state, shop, order_id)
    bad = await client.put(
        "/api/v1/creators/me/payout-details",
        json={"iban": "FR7630006000011234567890188", "account_holder": "Anna Dupont"},
        headers=anna.headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_iban"
    for creator, iban, name in (
        (anna, "FR76 3000 6000 0112 3456 7890 189", "Anna Dupont"),
        (bob, "DE89370400440532013000", "Bob Müller"),
    ):
        ok = await client.put(
            "/api/v1/creators/me/payout-details", json={"iban": iban, "account_holder": name}, headers=creator.headers
        )
        assert ok.status_code == 204, ok.text
    clock.advance(days=15)
    await drain(state)

    operator = await make_user(state, role=Role.operator)
    assert (
        await client.post("/api/v1/operator/payout-batches", json={"currency": "EUR"}, headers=anna.headers)
    ).status_code == 403
    batch = await client.post(
        "/api/v1/operator/payout-batches", json={"currency": "EUR", "threshold": 100}, headers=operator.headers
    )
    assert batch.status_code == 201, batch.text
    body = batch.json()
    assert sorted((p["creator_id"], p["amount"]) for p in body["payouts"]) == [(anna_id, 1234), (bob_id, 1234)]

    rerun = await client.post(
        f"/api/v1/operator/payout-batches/{body['id']}/run",
        json={"currency": "EUR", "threshold": 100},
        headers=operator.headers,
    )
    assert rerun.json()["total"] == body["total"] == 2468 and len(rerun.json()["payouts"]) == 2
    second = await client.post(
        "/api/v1/operator/payout-batches", json={"currency": "EUR", "threshold": 1}, headers=operator.headers
    )
    assert second.json()["payouts"] == []

    xml = await client.get(f"/api/v1/operator/payout-batches/{body['id']}/sepa.xml", headers=operator.headers)
    assert xml.status_code == 200
    schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
    document = etree.fromstring(xml.content)
    schema.assertValid(document)
    assert document.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    assert document.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) == "24.68"
    assert {e.text for e in document.findall(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=NS)} == {
        "FR7630006000011234567890189",
        "DE89370400440532013000",
    }

    exported = await client.get(f"/api/v1/operator/payout-batches/{body['id']}/payouts.csv", headers=operator.headers)
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["amount"] for r in rows] == ["12.34", "12.34"]

    async with state.db.read_sessions() as session:
        for creator_id in (anna_id, bob_id):
            assert await ledger.balance(session, account=owed_account(creator_id), currency="EUR") == 0
        statuses = set((await session.execute(select(Commission.status))).scalars())
        assert statuses == {"paid"}
        assert all(total == 0 for total in (await ledger.total_of_all_entries(session)).values())
