"""Pages of the follow-ups: the operator's payouts (batches, per-currency totals, SEPA and CSV) and
fraud review (release or confirm, with HTMX or without), operators only and CSRF on every form;
the creator asks for a sample and follows it on the dashboard; the merchant answers it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from lxml import etree
from sqlalchemy import select

from passerelle.accounts.models import Role
from passerelle.connect.models import Commission, Creator, FraudFlag
from passerelle.connect.service.payouts import XSD_PATH
from passerelle.infra.clock import FrozenClock
from passerelle.state import AppState
from tests.commerce import drain
from tests.connect.helpers import buy, click, deliver, make_creator, make_link, make_shop
from tests.factories import make_user
from tests.web.helpers import HTML, csrf_token, log_in, submit, text_of


async def _self_referral(client: httpx.AsyncClient, state: AppState) -> tuple[int, int]:
    """A creator buys through their own link: a held commission and an open flag."""
    shop = await make_shop(client, state)
    creator, _ = await make_creator(client, state)
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop, buyer=creator)
    async with state.db.read_sessions() as session:
        commission = (await session.execute(select(Commission).where(Commission.order_id == order_id))).scalar_one()
        flag = (await session.execute(select(FraudFlag))).scalar_one()
    assert commission.status == "held"
    return commission.id, flag.id


async def _status(state: AppState, commission_id: int) -> str:
    async with state.db.read_sessions() as session:
        found = await session.get(Commission, commission_id)
        assert found is not None
        return found.status


async def test_given_a_held_commission_then_only_an_operator_reviews_it_and_htmx_swaps_the_row(
    client: httpx.AsyncClient, state: AppState
) -> None:
    commission_id, flag_id = await _self_referral(client, state)
    client.cookies.clear()
    client.headers.update(HTML)
    someone = await make_user(state)
    await log_in(client, someone.user.email)
    assert (await client.get("/operator/connect/review")).status_code == 403

    client.cookies.clear()
    operator = await make_user(state, role=Role.operator)
    await log_in(client, operator.user.email)
    page = await client.get("/operator/connect/review")
    assert page.status_code == 200
    assert f'id="commission-{commission_id}"' in page.text and f'id="flag-{flag_id}"' in page.text
    assert "Auto-parrainage" in text_of(page.text) or "Self-referral" in text_of(page.text)

    no_csrf = await client.post(f"/operator/connect/commissions/{commission_id}/release")
    assert no_csrf.status_code == 403
    token = await csrf_token(client, "/operator/connect/review")
    swapped = await client.post(
        f"/operator/connect/flags/{flag_id}/clear",
        data={"csrf_token": token},
        headers={"hx-request": "true"},
    )
    assert swapped.status_code == 200, swapped.text
    assert swapped.text.lstrip().startswith(f'<tr id="flag-{flag_id}"')
    assert await _status(state, commission_id) == "pending"  # released: approves after delivery as usual
    again = await client.post(f"/operator/connect/flags/{flag_id}/clear", data={"csrf_token": token})
    assert again.status_code == 409


async def test_given_a_confirmed_fraud_then_the_held_commission_goes_back_to_the_merchant(
    client: httpx.AsyncClient, state: AppState
) -> None:
    commission_id, _ = await _self_referral(client, state)
    client.cookies.clear()
    client.headers.update(HTML)
    operator = await make_user(state, role=Role.operator)
    await log_in(client, operator.user.email)
    voided = await submit(
        client, f"/operator/connect/commissions/{commission_id}/void", {}, token_from="/operator/connect/review"
    )
    assert voided.status_code == 303 and voided.headers["location"] == "/operator/connect/review?done=confirmed"
    assert await _status(state, commission_id) == "reversed"
    async with state.db.read_sessions() as session:
        from passerelle.ledger import service as ledger

        assert all(total == 0 for total in (await ledger.total_of_all_entries(session)).values())


async def test_given_paid_creators_then_the_operator_sees_batches_totals_and_downloads_the_files(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))
    state.clock = clock
    state.settings.connect_payout_threshold = 100
    shop = await make_shop(client, state, price=12345, rate_bp=1000)
    creator, creator_id = await make_creator(client, state)
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop)
    await deliver(client, state, shop, order_id)
    async with state.db.writing() as session:
        row = await session.get(Creator, creator_id)
        assert row is not None
        row.iban, row.account_holder = "FR7630006000011234567890189", "Anna Dupont"
    clock.advance(days=15)
    await drain(state)

    client.cookies.clear()
    client.headers.update(HTML)
    operator = await make_user(state, role=Role.operator)
    await log_in(client, operator.user.email)
    ran = await submit(client, "/operator/payouts", {"currency": "eur"}, token_from="/operator/payouts")
    assert ran.status_code == 303 and ran.headers["location"].startswith("/operator/payouts?done=")
    batch_id = ran.headers["location"].rsplit("=", 1)[1]

    page = await client.get("/operator/payouts")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "12,34" in shown or "12.34" in shown
    assert f"/operator/payouts/{batch_id}/sepa.xml" in page.text

    xml = await client.get(f"/operator/payouts/{batch_id}/sepa.xml")
    assert xml.status_code == 200
    etree.XMLSchema(etree.parse(str(XSD_PATH))).assertValid(etree.fromstring(xml.content))
    exported = await client.get(f"/operator/payouts/{batch_id}/payouts.csv")
    assert exported.status_code == 200 and "Anna Dupont" in exported.text

    client.cookies.clear()
    await log_in(client, creator.user.email)
    assert (await client.get(f"/operator/payouts/{batch_id}/payouts.csv")).status_code == 403


async def test_given_a_sample_campaign_then_the_creator_asks_on_the_dashboard_and_the_merchant_answers(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    made = await client.post(
        "/api/v1/campaigns",
        json={
            "merchant_id": shop.merchant.id,
            "kind": "sample",
            "title": "Serum trial",
            "sample_sku_id": shop.sku_id,
            "sample_stock": 3,
        },
        headers=shop.seller.headers,
    )
    campaign_id = made.json()["id"]
    creator, _ = await make_creator(client, state)

    client.headers.update(HTML)
    client.cookies.clear()
    await log_in(client, creator.user.email)
    dashboard = await client.get("/connect")
    assert f'action="/connect/samples/{campaign_id}"' in dashboard.text
    asked = await submit(
        client,
        f"/connect/samples/{campaign_id}",
        {"name": "Anna", "line1": "3 rue des Lilas", "postal_code": "69001", "city": "Lyon", "country": "fr"},
        token_from="/connect",
    )
    assert asked.status_code == 303
    mine = await client.get("/connect")
    assert 'class="badge sample-requested"' in mine.text

    client.cookies.clear()
    await log_in(client, shop.seller.user.email)
    console = await client.get(f"/console/m/{shop.merchant.id}/creators")
    assert "Serum trial" in console.text and "Lyon" in console.text
    (request_id,) = [
        int(part.split("/")[0])
        for part in console.text.split(f"/console/m/{shop.merchant.id}/samples/")[1:]
        if part.split("/")[1].startswith("approve")
    ]
    approved = await submit(
        client,
        f"/console/m/{shop.merchant.id}/samples/{request_id}/approve",
        {},
        token_from=f"/console/m/{shop.merchant.id}/creators",
    )
    assert approved.status_code == 303 and approved.headers["location"].endswith("?sample=approved")

    client.cookies.clear()
    await log_in(client, creator.user.email)
    assert 'class="badge sample-approved"' in (await client.get("/connect")).text
