"""Chat over WebSockets between two real server processes joined by a real Redis: fan-out,
history, reactions, viewer counts, batched storage, moderation, and XSS shown as text."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import live_server as live
from tests.live.conftest import Cast, api, connect, seed_cast
from tests.services import RedisServer

XSS = '<img src=x onerror="window.__xss=1">'


@dataclass
class Pair:
    a: live.LiveServer
    b: live.LiveServer
    cast: Cast


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[Pair]:
    data_a: Path = tmp_path_factory.mktemp("live-a")
    data_b: Path = tmp_path_factory.mktemp("live-b")
    cast = seed_cast(data_a, viewers=5)
    shared = {
        "PASSERELLE_REDIS_URL": redis_server.url,
        "PASSERELLE_DATABASE_URL": f"sqlite+aiosqlite:///{data_a / 'passerelle.db'}",
    }
    started: list[live.LiveServer] = []
    try:
        # One after the other: on a busy machine two starting at once can both miss the deadline.
        for data in (data_a, data_b):
            started.append(live.start(data, extra_env=shared))
        yield Pair(started[0], started[1], cast)
    finally:
        for server in started:
            server.stop()


async def test_given_viewers_on_two_processes_when_one_posts_then_the_other_sees_it_and_it_is_stored(
    pair: Pair,
) -> None:
    cast = pair.cast
    poster = await connect(pair.a.url, cast.room_id, cast.viewers[0])
    guest = await connect(pair.b.url, cast.room_id)
    try:
        assert guest.of_type("hello")[0]["user"] is None
        await poster.send(type="message", text="Bonjour de A")
        await poster.send(type="message", text=XSS)
        await guest.wait_for(lambda: len(guest.texts()) >= 2)
        assert guest.texts()[:2] == ["Bonjour de A", XSS]  # JSON text; the page renders it with textContent
        message = guest.of_type("message")[0]
        assert message["user"] == {"id": cast.viewers[0].user.id, "name": cast.viewers[0].user.display_name}

        await guest.send(type="message", text="guests cannot post")
        await guest.wait_for(lambda: any(e.get("code") == "login_required" for e in guest.of_type("error")))

        for _ in range(3):
            await guest.send(type="react", kind="heart")
        await poster.wait_for(
            lambda: sum(e["counts"].get("heart", 0) for e in poster.of_type("reactions")) >= 3, within=4
        )
        await poster.wait_for(lambda: any(e["count"] == 2 for e in poster.of_type("viewers")), within=6)

        stored = await api(pair.b.url, "GET", f"/rooms/{cast.room_id}/messages", cast.host)
        await asyncio.sleep(1.0)  # the writer stores a batch every 0.5 s
        stored = await api(pair.b.url, "GET", f"/rooms/{cast.room_id}/messages", cast.host)
        assert [m["text"] for m in stored.json()["items"]][-2:] == ["Bonjour de A", XSS]

        late = await connect(pair.b.url, cast.room_id)
        history = late.of_type("history")[0]["messages"]
        assert [m["text"] for m in history][-2:] == ["Bonjour de A", XSS]
        await late.close()
    finally:
        await poster.close()
        await guest.close()


def _errors(events: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in events if e.get("type") == "error"]


async def test_given_moderation_when_viewers_post_then_length_words_slow_mode_mute_and_ban_apply(pair: Pair) -> None:
    cast = pair.cast
    host, talker, troll = cast.host, cast.viewers[1], cast.viewers[2]
    room = f"/rooms/{cast.room_id}"
    watcher = await connect(pair.b.url, cast.room_id)
    speaker = await connect(pair.a.url, cast.room_id, talker)
    bad = await connect(pair.b.url, cast.room_id, troll)
    try:
        await speaker.send(type="message", text="x" * 301)
        await speaker.wait_for(lambda: "message_too_long" in _errors(speaker.events))

        settings = await api(
            pair.a.url, "PUT", f"{room}/chat", host, json={"blocked_words": ["Arnaque"], "slow_mode_seconds": 0}
        )
        assert settings.status_code == 200, settings.text
        await asyncio.sleep(0.3)  # the "_policy" event reaches both processes
        await speaker.send(type="message", text="Quelle ARNAQUE ce live")
        await speaker.wait_for(lambda: "message_blocked" in _errors(speaker.events))
        await speaker.send(type="message", text="message propre")
        await watcher.wait_for(lambda: "message propre" in watcher.texts())
        assert not any("ARNAQUE" in t for t in watcher.texts())

        await api(pair.a.url, "PUT", f"{room}/chat", host, json={"blocked_words": [], "slow_mode_seconds": 30})
        await asyncio.sleep(0.3)
        slow = await connect(pair.a.url, cast.room_id, cast.viewers[4])
        await slow.send(type="message", text="premier")
        await slow.send(type="message", text="second trop tôt")
        await slow.wait_for(lambda: "slow_mode" in _errors(slow.events))
        await watcher.wait_for(lambda: "premier" in watcher.texts())
        assert "second trop tôt" not in watcher.texts()
        await slow.close()
        await api(pair.a.url, "PUT", f"{room}/chat", host, json={"slow_mode_seconds": 0})

        muted = await api(
            pair.a.url, "POST", f"{room}/sanctions", host, json={"user_id": talker.user.id, "kind": "mute"}
        )
        assert muted.status_code == 204, muted.text
        await asyncio.sleep(0.3)
        await speaker.send(type="message", text="je suis muet")
        await speaker.wait_for(lambda: "muted" in _errors(speaker.events))

        banned = await api(
            pair.a.url, "POST", f"{room}/sanctions", host, json={"user_id": troll.user.id, "kind": "ban"}
        )
        assert banned.status_code == 204, banned.text
        await bad.wait_for(lambda: bad.closed_code == 4403)  # kicked on process B by a ban made on A
        again = await connect(pair.a.url, cast.room_id, troll)
        await again.wait_for(lambda: again.closed_code == 4403)
        assert "banned" in _errors(again.events)

        stranger = await api(
            pair.a.url, "POST", f"{room}/sanctions", talker, json={"user_id": troll.user.id, "kind": "ban"}
        )
        assert stranger.status_code == 403 and stranger.json()["code"] == "not_room_moderator"
    finally:
        for viewer in (watcher, speaker, bad):
            await viewer.close()


async def test_given_an_html_payload_when_posted_then_the_browser_shows_it_as_text(pair: Pair, browser: Any) -> None:
    cast = pair.cast
    page = await browser.new_page(viewport={"width": 390, "height": 844})  # phone width
    try:
        await page.goto(f"{pair.b.url}/live/{cast.room_id}")
        await page.wait_for_selector("[data-live-room][data-connected='true']")
        poster = await connect(pair.a.url, cast.room_id, cast.viewers[3])
        await poster.send(type="message", text=XSS + " fin")
        await page.wait_for_function(
            "() => [...document.querySelectorAll('.chat-text')].some(e => e.textContent.endsWith(' fin'))"
        )
        await poster.close()
        assert await page.locator(".chat-list img").count() == 0
        assert await page.evaluate("() => window.__xss === undefined")
        shown = await page.locator(".chat-text").last.text_content()
        assert shown == XSS + " fin"
        assert await page.locator("text=Live parfums").count() >= 1
    finally:
        await page.close()


async def test_given_a_moderator_chosen_by_the_host_when_muting_from_the_chat_then_the_viewer_cannot_post(
    pair: Pair,
) -> None:
    cast = pair.cast
    host, moderator, viewer = cast.host, cast.viewers[0], cast.viewers[3]
    chosen = await api(
        pair.a.url, "PUT", f"/rooms/{cast.room_id}/moderators", host, json={"users": [moderator.user.email]}
    )
    assert [m["id"] for m in chosen.json()["moderators"]] == [moderator.user.id]
    await asyncio.sleep(0.3)
    mod = await connect(pair.b.url, cast.room_id, moderator)
    target = await connect(pair.a.url, cast.room_id, viewer)
    chatty = await connect(pair.a.url, cast.room_id, host)
    try:
        assert mod.of_type("hello")[0]["moderator"] is True
        assert target.of_type("hello")[0]["moderator"] is False
        await target.send(type="mute", user_id=moderator.user.id)
        await target.wait_for(lambda: "not_room_moderator" in _errors(target.events))
        await mod.send(type="mute", user_id=viewer.user.id)
        await asyncio.sleep(0.5)
        await target.send(type="message", text="encore moi")
        await target.wait_for(lambda: "muted" in _errors(target.events))

        for n in range(8):  # the per-viewer limit: 5 at once, then 1 per second (moderators too)
            await chatty.send(type="message", text=f"rafale {n}")
        await chatty.wait_for(lambda: "rate_limited" in _errors(chatty.events))
    finally:
        for socket in (mod, target, chatty):
            await socket.close()
