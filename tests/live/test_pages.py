"""The live pages as a browser gets them: list, schedule form, room page, host console."""

from __future__ import annotations

import re

import httpx

from passerelle.state import AppState
from tests.factories import make_merchant, make_product, make_user
from tests.web.helpers import HTML, log_in, submit, text_of


async def test_given_a_logged_in_user_when_scheduling_from_the_page_then_the_console_shows_the_key_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    client.headers.update(HTML)
    host = await make_user(state, language="en")
    product = await make_product(state, await make_merchant(state, await make_user(state)), title_en="Rose perfume")
    await log_in(client, host.user.email)
    made = await submit(
        client,
        "/live",
        {
            "title": "Evening <b>live</b>",
            "language": "en",
            "starts_at": "2030-01-02T18:30",
            "product_ids": f"{product}",
        },
        token_from="/live",
    )
    assert made.status_code == 201, made.text
    key = re.search(r"data-stream-key>(room-\d+\?key=[^<]+)<", made.text)
    assert key, "the new key is shown"
    room_id = int(key.group(1).split("-")[1].split("?")[0])
    console = await client.get(f"/live/{room_id}/host")
    assert console.status_code == 200 and "data-stream-key" not in console.text  # shown once only
    assert "rtmp://" in console.text

    listing = await client.get("/live")
    assert "Evening &lt;b&gt;live&lt;/b&gt;" in listing.text and "Coming up" in text_of(listing.text)
    room = await client.get(f"/live/{room_id}")
    assert room.status_code == 200
    assert "Video offline" in text_of(room.text) and "Rose perfume" in room.text
    assert f'data-ws-url="/api/v1/live/rooms/{room_id}/ws"' in room.text

    ended = await submit(client, f"/live/{room_id}/host/end", {}, token_from=f"/live/{room_id}/host")
    assert ended.status_code == 303
    assert (await client.get(f"/api/v1/live/rooms/{room_id}")).json()["status"] == "ended"


async def test_given_a_french_guest_when_opening_a_room_then_the_page_is_in_french_and_the_console_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host, other = await make_user(state), await make_user(state)
    made = await client.post(
        "/api/v1/live/rooms", json={"title": "Live", "starts_at": "2030-01-02T18:30:00Z"}, headers=host.headers
    )
    room_id = made.json()["id"]
    page = await client.get(f"/live/{room_id}", headers={**HTML, "accept-language": "fr"})
    assert "Vidéo hors ligne" in text_of(page.text) and "Connectez-vous pour participer" in page.text
    await log_in(client, other.user.email)
    refused = await client.get(f"/live/{room_id}/host", headers=HTML)
    assert refused.status_code == 403
    forged = await client.post(f"/live/{room_id}/host/end", data={}, headers=HTML)
    assert forged.status_code == 403  # no CSRF token
