"""Rooms over the JSON API: scheduling with co-hosts and a checked showcase, owner checks,
stream keys, and nginx's publish callbacks (secret, key, live/offline/ended)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from passerelle.state import AppState
from tests.factories import Actor, make_merchant, make_product, make_user


def room_body(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Soirée parfums",
        "language": "fr",
        "starts_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        **extra,
    }


async def create_room(client: httpx.AsyncClient, host: Actor, **extra: Any) -> dict[str, Any]:
    made = await client.post("/api/v1/live/rooms", json=room_body(**extra), headers=host.headers)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def publish(client: httpx.AsyncClient, state: AppState, event: str, **form: str) -> httpx.Response:
    secret = state.settings.resolved_media_secret
    return await client.post(f"/api/v1/live/media/{event}", params={"secret": secret}, data={"app": "live", **form})


def key_parts(stream_key: str) -> tuple[str, str]:
    name, _, query = stream_key.partition("?key=")
    return name, query


async def test_given_a_host_when_scheduling_with_cohosts_and_products_then_the_room_is_listed_with_a_one_time_key(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host, cohost = await make_user(state), await make_user(state)
    merchant = await make_merchant(state, await make_user(state))
    products = [await make_product(state, merchant) for _ in range(2)]
    room = await create_room(client, host, cohosts=[cohost.user.email], product_ids=products)
    assert room["status"] == "scheduled" and room["on_air"] is False
    assert [c["id"] for c in room["cohosts"]] == [cohost.user.id]
    assert room["product_ids"] == products
    assert room["stream"]["stream_key"].startswith(f"room-{room['id']}?key=")
    assert room["hls_url"].endswith(f"/room-{room['id']}.m3u8")
    fetched = (await client.get(f"/api/v1/live/rooms/{room['id']}")).json()
    assert "stream" not in fetched and fetched["title"] == "Soirée parfums"
    listed = (await client.get("/api/v1/live/rooms")).json()["items"]
    assert [r["id"] for r in listed] == [room["id"]]


async def test_given_bad_products_or_too_many_cohosts_when_scheduling_then_it_is_refused_with_a_code(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host = await make_user(state)
    merchant = await make_merchant(state, await make_user(state))
    draft = await make_product(state, merchant, status="draft")
    refused = await client.post("/api/v1/live/rooms", json=room_body(product_ids=[draft]), headers=host.headers)
    assert refused.status_code == 422 and refused.json()["code"] == "unknown_product"
    missing = await client.post("/api/v1/live/rooms", json=room_body(product_ids=[987654]), headers=host.headers)
    assert missing.json()["code"] == "unknown_product"
    crowd = await client.post(
        "/api/v1/live/rooms", json=room_body(cohosts=[f"x{i}@example.fr" for i in range(5)]), headers=host.headers
    )
    assert crowd.status_code == 422
    stranger = await client.post(
        "/api/v1/live/rooms", json=room_body(cohosts=["nobody@example.fr"]), headers=host.headers
    )
    assert stranger.json()["code"] == "unknown_user"
    anonymous = await client.post("/api/v1/live/rooms", json=room_body())
    assert anonymous.status_code == 401


async def test_given_another_user_when_managing_the_room_then_403_not_room_host(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host, other = await make_user(state), await make_user(state)
    room = await create_room(client, host)
    base = f"/api/v1/live/rooms/{room['id']}"
    attempts = [
        client.put(f"{base}/showcase", json={"product_ids": []}, headers=other.headers),
        client.post(f"{base}/stream-key", headers=other.headers),
        client.post(f"{base}/end", headers=other.headers),
        client.put(f"{base}/chat", json={"slow_mode_seconds": 5}, headers=other.headers),
        client.put(f"{base}/moderators", json={"users": []}, headers=other.headers),
        client.post(f"{base}/sanctions", json={"user_id": host.user.id, "kind": "ban"}, headers=other.headers),
    ]
    for attempt in attempts:
        answer = await attempt
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] in ("not_room_host", "not_room_moderator")
    assert (await client.get(base)).json()["status"] == "scheduled"
    page = await client.get(f"/live/{room['id']}/host", headers={**other.headers, "accept": "text/html"})
    assert page.status_code in (401, 403)


async def test_given_the_key_when_nginx_asks_then_only_the_right_key_and_secret_publish(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host = await make_user(state)
    room = await create_room(client, host)
    name, key = key_parts(room["stream"]["stream_key"])
    base = f"/api/v1/live/rooms/{room['id']}"

    no_secret = await client.post("/api/v1/live/media/on_publish", data={"name": name, "key": key})
    assert no_secret.status_code == 403
    assert (await publish(client, state, "on_publish", name=name, key="wrong")).status_code == 403
    assert (await publish(client, state, "on_publish", name="room-999", key=key)).status_code == 403
    assert (await client.get(base)).json()["status"] == "scheduled"

    assert (await publish(client, state, "on_publish", name=name, key=key)).status_code == 200
    live = (await client.get(base)).json()
    assert live["status"] == "live" and live["on_air"] and live["went_live_at"]
    assert (await publish(client, state, "on_publish_done", name=name, key=key)).status_code == 200
    offline = (await client.get(base)).json()
    assert offline["status"] == "live" and not offline["on_air"]

    rotated = (await client.post(f"{base}/stream-key", headers=host.headers)).json()
    assert (await publish(client, state, "on_publish", name=name, key=key)).status_code == 403
    _, new_key = key_parts(rotated["stream_key"])
    assert (await publish(client, state, "on_publish", name=name, key=new_key)).status_code == 200

    ended = (await client.post(f"{base}/end", headers=host.headers)).json()
    assert ended["status"] == "ended" and not ended["on_air"]
    assert (await publish(client, state, "on_publish", name=name, key=new_key)).status_code == 403
    listed = (await client.get("/api/v1/live/rooms")).json()["items"]
    assert listed == []
