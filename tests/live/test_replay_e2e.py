"""Replay with a real recording: nginx-rtmp (recording on, so it keeps the whole HLS playlist)
records a few seconds of ffmpeg's test pattern, the host pins a product while on air and ends
the room; Chromium plays the recording on the replay page, the pin shows at its video time and
the card still sells, credited to the room."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD
from tests.live.studio import Studio, eventually, open_studio, push

STREAM_SECONDS = 4.0
PIN_AFTER = 1.5  # seconds on air before the host pins


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    with open_studio(tmp_path_factory.mktemp("recorded"), record=True) as opened:
        yield opened


async def test_given_a_recorded_live_with_a_pin_when_replayed_then_the_video_plays_the_pin_shows_and_it_sells(
    recorded: Studio, browser: Any
) -> None:
    from playwright.async_api import expect

    cast, base = recorded.cast, recorded.server.url
    host = httpx.AsyncClient(base_url=base, headers=cast.host.headers, timeout=10)
    encoder = push(recorded.rtmp, cast.stream_key, seconds=STREAM_SECONDS + 4)  # the host ends it first
    context = await browser.new_context()
    try:
        # Given a live, recorded, with a pin a little way in; the host ends it while on air.
        await eventually(lambda: recorded.room()["on_air"])
        await asyncio.sleep(PIN_AFTER)
        assert (await host.put(f"/api/v1/live/rooms/{cast.room_id}/pins/{cast.product_id}")).status_code == 200
        await asyncio.sleep(STREAM_SECONDS - PIN_AFTER)
        assert (await host.post(f"/api/v1/live/rooms/{cast.room_id}/end")).status_code == 200
        await asyncio.to_thread(encoder.wait, 10)
        await eventually(lambda: not recorded.room()["on_air"])

        # The recording is a finished playlist (VOD) from the first segment.
        playlist_url = f"{base}/live/hls/room-{cast.room_id}.m3u8"
        playlist = await eventually(
            lambda: (t := httpx.get(playlist_url, timeout=2).text).endswith("#EXT-X-ENDLIST\n") and t
        )
        assert "#EXT-X-MEDIA-SEQUENCE:0\n" in playlist
        recorded_seconds = sum(
            float(line[8:].rstrip(",")) for line in playlist.splitlines() if line.startswith("#EXTINF:")
        )
        assert recorded_seconds >= STREAM_SECONDS - 1, playlist
        replay = (await host.get(f"/api/v1/live/rooms/{cast.room_id}/replay")).json()
        pin_at = next(e["offset_ms"] for e in replay["events"] if e["event"]["type"] == "pin") / 1000
        assert PIN_AFTER - 0.5 <= pin_at <= PIN_AFTER + 1.5, replay

        # When a viewer opens the replay and plays it.
        page = await context.new_page()
        await page.goto(f"{base}/login")
        await page.fill("#login-email", cast.viewers[0].user.email)
        await page.fill("#login-password", PASSWORD)
        await page.click("form[action='/login'] button[type=submit]")
        await expect(page.locator("form[action='/login']")).to_have_count(0)
        await page.goto(f"{base}/live/{cast.room_id}/replay")
        badge = page.locator(f"[data-replay-product='{cast.product_id}'] [data-replay-pinned]")
        await expect(badge).to_be_hidden()  # video time 0: not pinned yet
        await page.wait_for_function("() => document.querySelector('[data-replay-video]').readyState >= 1")
        duration = await page.evaluate("() => document.querySelector('[data-replay-video]').duration")
        assert abs(duration - recorded_seconds) < 1.0  # finite: the whole recording, not a live edge
        await page.evaluate(
            "() => { const v = document.querySelector('[data-replay-video]'); v.muted = true; v.play(); }"
        )

        # Then the video plays from the recording and the pin shows once it reaches its offset.
        await page.wait_for_function(
            "() => document.querySelector('[data-replay-video]').currentTime > 0.5", timeout=10_000
        )
        await expect(badge).to_be_visible(timeout=(pin_at + 5) * 1000)
        now = await page.evaluate("() => document.querySelector('[data-replay-video]').currentTime")
        assert now >= pin_at - 0.3  # applied by video time, not before
        await page.evaluate("() => { document.querySelector('[data-replay-video]').currentTime = 0; }")
        await expect(badge).to_be_hidden(timeout=3_000)  # seeking back replays from the start

        # And the pinned product still sells from the replay, credited to the room and its host.
        await page.click(f"[data-replay-product='{cast.product_id}'] form button[type=submit]")
        await page.wait_for_url(f"{base}/cart")
        with sqlite3.connect(recorded.server.data_dir / "passerelle.db") as db:
            rows = db.execute(
                "SELECT ci.attribution FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.user_id = ?",
                (cast.viewers[0].user.id,),
            ).fetchall()
        assert len(rows) == 1
        credit = json.loads(rows[0][0])
        assert credit["room_id"] == cast.room_id and credit["host_id"] == cast.host.user.id
    finally:
        if encoder.poll() is None:
            encoder.kill()
        await context.close()
        await host.aclose()
