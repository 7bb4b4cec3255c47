"""The live-commerce pages as a browser gets them: the selling console (pin, CSRF), the
shelf, "buy" from a card, the replay page and the analytics page (owner checks)."""

from __future__ import annotations

import httpx

from passerelle.live.runtime import start_live
from passerelle.state import AppState
from tests.factories import make_merchant, make_product, make_user
from tests.web.helpers import HTML, log_in, submit, text_of


async def test_given_a_host_when_pinning_from_the_console_then_the_shelf_sells_it_and_the_pages_render(
    client: httpx.AsyncClient, state: AppState
) -> None:
    client.headers.update(HTML)
    host, buyer = await make_user(state, language="en"), await make_user(state, language="en")
    product = await make_product(state, await make_merchant(state, host), title_en="Silk <scarf>")
    made = await client.post(
        "/api/v1/live/rooms",
        json={"title": "Scarves", "starts_at": "2030-01-02T18:30:00Z", "product_ids": [product]},
        headers=host.headers,
    )
    room_id = made.json()["id"]
    await log_in(client, host.user.email)
    console = await client.get(f"/live/{room_id}/host/shop")
    assert console.status_code == 200 and "Silk &lt;scarf&gt;" in console.text
    forged = await client.post(f"/live/{room_id}/host/pins", data={"product_id": str(product)})
    assert forged.status_code == 403  # no CSRF token
    pinned = await submit(
        client, f"/live/{room_id}/host/pins", {"product_id": str(product)}, token_from=f"/live/{room_id}/host/shop"
    )
    assert pinned.status_code == 303
    shelf = await client.get(f"/live/{room_id}/shelf")
    assert f'data-pinned-product="{product}"' in shelf.text and "Silk &lt;scarf&gt;" in shelf.text
    assert "Selling in this live" in text_of((await client.get(f"/live/{room_id}/host")).text)
    assert (await client.get(f"/live/{room_id}/analytics")).status_code == 200
    replay = await client.get(f"/live/{room_id}/replay")
    assert replay.status_code == 200 and "data-replay-events" in replay.text and "Silk &lt;scarf&gt;" in replay.text

    await client.post("/logout", data={})
    client.cookies.clear()
    await log_in(client, buyer.user.email)
    assert (await client.get(f"/live/{room_id}/host/shop")).status_code == 403
    assert (await client.get(f"/live/{room_id}/analytics")).status_code == 403
    bought = await submit(client, f"/live/{room_id}/buy", {"product_id": str(product)}, token_from=f"/live/{room_id}")
    assert bought.status_code == 303 and bought.headers["location"] == "/cart"
    cart = (await client.get("/api/v1/cart", headers=buyer.headers)).json()
    assert len(cart["items"]) == 1


async def test_given_four_showcased_products_when_pinning_then_three_at_most_and_merchants_see_only_their_rows(
    client: httpx.AsyncClient, state: AppState
) -> None:
    live = await start_live(state)  # the click recorder (no lifespan in-process)
    host, seller = await make_user(state), await make_user(state)
    own = [await make_product(state, await make_merchant(state, host)) for _ in range(3)]
    theirs = await make_product(state, await make_merchant(state, seller))
    outside = await make_product(state, await make_merchant(state, seller))
    made = await client.post(
        "/api/v1/live/rooms",
        json={"title": "Quatre", "starts_at": "2030-01-02T18:30:00Z", "product_ids": [*own, theirs]},
        headers=host.headers,
    )
    room_id = made.json()["id"]
    for product in own:
        assert (
            await client.put(f"/api/v1/live/rooms/{room_id}/pins/{product}", headers=host.headers)
        ).status_code == 200
    fourth = await client.put(f"/api/v1/live/rooms/{room_id}/pins/{theirs}", headers=host.headers)
    assert fourth.status_code == 409 and fourth.json()["code"] == "too_many_pins"
    stray = await client.put(f"/api/v1/live/rooms/{room_id}/pins/{outside}", headers=host.headers)
    assert stray.status_code == 422 and stray.json()["code"] == "not_in_showcase"
    for product in (own[0], theirs, theirs):
        await client.post(f"/api/v1/live/rooms/{room_id}/clicks", json={"product_id": product})

    await live.recorder.flush()  # clicks are written in batches

    figures = (await client.get(f"/api/v1/live/rooms/{room_id}/analytics", headers=seller.headers)).json()
    assert [(row["product_id"], row["clicks"]) for row in figures["products"]] == [(theirs, 2)]
    assert figures["card_clicks"] == 2
    everything = (await client.get(f"/api/v1/live/rooms/{room_id}/analytics", headers=host.headers)).json()
    assert everything["card_clicks"] == 3
    await live.stop()
    state.live = None
