"""Selling in a live room against a real server: pins, buy with attribution, an in-stream
deal sold out exactly at its stock, an auction bid published, replay order, analytics."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from tests.live.commerce_fixtures import Shop, call, pay_checkout, shop_fixture  # noqa: F401 - fixture
from tests.live.conftest import connect


def attribution_of(shop: Shop, order_id: int) -> dict[str, object]:
    rows = shop.rows("SELECT attribution FROM order_lines WHERE order_id = ?", order_id)
    return dict(json.loads(rows[0][0]))


async def test_given_a_split_room_when_a_viewer_buys_from_the_card_then_the_order_line_credits_room_host_and_cohost(
    shop: Shop,
) -> None:
    refused = await call(shop, "PUT", f"/live/rooms/{shop.room_id}/credit", shop.host, json={"host_bp": 9000})
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_split"
    split = {"host_bp": 7500, "cohosts": [{"user_id": shop.cohost.user.id, "share_bp": 2500}]}
    assert (await call(shop, "PUT", f"/live/rooms/{shop.room_id}/credit", shop.cohost, json=split)).status_code == 403
    assert (await call(shop, "PUT", f"/live/rooms/{shop.room_id}/credit", shop.host, json=split)).status_code == 200

    buyer = shop.buyers[0]
    added = await call(shop, "POST", f"/live/rooms/{shop.room_id}/cart", buyer, json={"product_id": shop.product_id})
    assert added.status_code == 201, added.text
    order_id = await pay_checkout(shop, buyer)

    assert attribution_of(shop, order_id) == {
        "room_id": shop.room_id,
        "host_id": shop.host.user.id,
        "cohosts": [{"user_id": shop.cohost.user.id, "share_bp": 2500}],
    }


async def test_given_a_pin_when_the_host_pins_then_viewers_get_the_event_and_strangers_are_refused(
    shop: Shop,
) -> None:
    viewer = await connect(shop.server.url, shop.room_id)
    try:
        stranger = await call(shop, "PUT", f"/live/rooms/{shop.room_id}/pins/{shop.product_id}", shop.buyers[1])
        assert stranger.status_code == 403
        pinned = await call(shop, "PUT", f"/live/rooms/{shop.room_id}/pins/{shop.product_id}", shop.cohost)
        assert pinned.status_code == 200 and pinned.json()["product_ids"] == [shop.product_id]
        await viewer.wait_for(lambda: [e for e in viewer.of_type("pin") if e["product_ids"] == [shop.product_id]], 1.0)
    finally:
        await viewer.close()


async def test_given_an_in_stream_deal_when_buyers_rush_then_it_sells_exactly_its_stock_and_viewers_see_it_count_down(
    shop: Shop,
) -> None:
    viewer = await connect(shop.server.url, shop.room_id)
    try:
        body = {"product_id": shop.product_id, "price_amount": 2900, "stock": 5, "per_buyer_limit": 1, "seconds": 60}
        launched = await call(shop, "POST", f"/live/rooms/{shop.room_id}/deals", shop.host, json=body)
        assert launched.status_code == 201, launched.text
        deal_id = launched.json()["deal_id"]
        await viewer.wait_for(lambda: [e for e in viewer.of_type("deal") if e["remaining"] == 5])

        buyers = shop.buyers[2:14]
        answers = await asyncio.gather(
            *(call(shop, "POST", f"/deals/{deal_id}/claims", b, json={"quantity": 1}) for b in buyers)
        )
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] * 5 + [409] * 7
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {"sold_out"}
        await viewer.wait_for(lambda: [e for e in viewer.of_type("deal") if e["remaining"] == 0], 3.0)

        winner, answer = next((b, a) for b, a in zip(buyers, answers, strict=True) if a.status_code == 201)
        seq = answer.json()["reservation_id"]
        order_id = await pay_checkout(shop, winner, f"/deals/reservations/{seq}/checkout")
        credit = attribution_of(shop, order_id)
        assert credit["room_id"] == shop.room_id and credit["host_id"] == shop.host.user.id
        assert credit["deal_id"] == deal_id and "cohosts" in credit
    finally:
        await viewer.close()


async def test_given_a_room_auction_when_a_viewer_bids_then_the_room_gets_the_new_price(shop: Shop) -> None:
    viewer = await connect(shop.server.url, shop.room_id)
    try:
        body = {"product_id": shop.item_id, "starting_amount": 1000, "increment_amount": 100, "seconds": 120}
        started = await call(shop, "POST", f"/live/rooms/{shop.room_id}/auctions", shop.host, json=body)
        assert started.status_code == 201, started.text
        auction_id = started.json()["auction_id"]
        bid = await call(shop, "POST", f"/auctions/{auction_id}/bids", shop.buyers[1], json={"max_amount": 1500})
        assert bid.status_code == 201, bid.text
        found = await viewer.wait_for(
            lambda: [e for e in viewer.of_type("auction") if e["auction_id"] == auction_id and e["bids"] == 1]
        )
        assert found[0]["price"] == {"amount": 1000, "currency": "EUR"} and found[0]["ends_at"]
    finally:
        await viewer.close()


async def test_given_a_finished_live_when_asking_the_replay_then_events_come_in_video_order(shop: Shop) -> None:
    chatter = await connect(shop.server.url, shop.room_id, shop.buyers[1])
    await chatter.send(type="message", text="Quel prix ?")
    await chatter.wait_for(lambda: chatter.texts())
    await chatter.close()
    await call(shop, "DELETE", f"/live/rooms/{shop.room_id}/pins/{shop.product_id}", shop.host)
    for _ in range(50):  # chat is stored in batches
        replay = (await call(shop, "GET", f"/live/rooms/{shop.room_id}/replay")).json()
        if any(e["event"]["type"] == "message" for e in replay["events"]):
            break
        await asyncio.sleep(0.1)
    offsets = [e["offset_ms"] for e in replay["events"]]
    kinds = [e["event"]["type"] for e in replay["events"]]
    assert offsets == sorted(offsets)
    assert kinds[0] == "pin" and {"deal", "auction", "message"} <= set(kinds) and kinds[-1] == "pin"
    assert replay["events"][-1]["event"]["product_ids"] == []


async def test_given_what_a_room_did_when_the_host_reads_analytics_then_the_figures_match(shop: Shop) -> None:
    made = await call(
        shop,
        "POST",
        "/live/rooms",
        shop.host,
        json={"title": "Mesures", "starts_at": "2030-01-01T10:00:00Z", "product_ids": [shop.product_id]},
    )
    room_id = made.json()["id"]
    fan = shop.buyers[0]
    viewers = [await connect(shop.server.url, room_id, fan) for _ in range(2)] + [
        await connect(shop.server.url, room_id)
    ]
    await viewers[0].send(type="message", text="Top")
    for _ in range(3):
        assert (
            await call(shop, "POST", f"/live/rooms/{room_id}/clicks", json={"product_id": shop.product_id})
        ).status_code == 204
    await call(shop, "POST", f"/live/rooms/{room_id}/cart", fan, json={"product_id": shop.product_id, "quantity": 2})
    await pay_checkout(shop, fan)
    for viewer in viewers:
        await viewer.close()
    assert (await call(shop, "GET", f"/live/rooms/{room_id}/analytics", shop.buyers[3])).status_code == 403
    for _ in range(50):  # sessions, clicks and chat are written in batches
        figures = (await call(shop, "GET", f"/live/rooms/{room_id}/analytics", shop.host)).json()
        if figures["chat_messages"] == 1 and figures["card_clicks"] == 3 and figures["unique_viewers"] == 2:
            break
        await asyncio.sleep(0.1)
    assert figures["peak_viewers"] == 3 and figures["unique_viewers"] == 2
    assert figures["chat_messages"] == 1 and figures["card_clicks"] == 3 and figures["watch_seconds"] >= 0
    assert figures["orders"] == 1 and figures["gmv"] == {"amount": 9800, "currency": "EUR"}
    assert figures["products"] == [
        {"product_id": shop.product_id, "clicks": 3, "orders": 1, "units": 2,
         "gmv": {"amount": 9800, "currency": "EUR"}, "conversion": 0.3333}
    ]  # fmt: skip


async def test_given_two_viewers_in_browsers_when_the_host_pins_then_both_see_the_card_within_a_second(
    shop: Shop, browser: Any
) -> None:
    await call(shop, "DELETE", f"/live/rooms/{shop.room_id}/pins/{shop.product_id}", shop.host)
    contexts = [await browser.new_context(viewport={"width": 390, "height": 844}) for _ in range(2)]
    try:
        pages = [await context.new_page() for context in contexts]
        for page in pages:
            await page.goto(f"{shop.server.url}/live/{shop.room_id}")
            await page.wait_for_selector("[data-live-room][data-connected='true']", timeout=15_000)
        card = f"[data-pinned-product='{shop.product_id}']"
        started = time.monotonic()
        pinned = await call(shop, "PUT", f"/live/rooms/{shop.room_id}/pins/{shop.product_id}", shop.host)
        assert pinned.status_code == 200
        for page in pages:
            await page.wait_for_selector(card, state="visible", timeout=1000)
        assert time.monotonic() - started < 1.0
        assert "Buy" in (await pages[1].inner_text(card)) or "Acheter" in (await pages[1].inner_text(card))
    finally:
        for context in contexts:
            await context.close()
