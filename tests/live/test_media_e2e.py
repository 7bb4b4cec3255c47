"""The real video path: nginx-rtmp (started by passerelle's media module) calls back a real
`passerelle serve`, ffmpeg pushes a test pattern, HLS appears and Chromium plays it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.live.studio import Studio, eventually, open_studio, push


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    with open_studio(tmp_path_factory.mktemp("studio")) as opened:
        yield opened


async def test_given_a_wrong_key_when_ffmpeg_pushes_then_nginx_refuses_and_the_room_stays_offline(
    studio: Studio,
) -> None:
    name = studio.cast.stream_key.partition("?")[0]
    encoder = push(studio.rtmp, f"{name}?key=not-the-key", seconds=3)
    _, errors = await asyncio.to_thread(encoder.communicate, timeout=15)
    assert encoder.returncode != 0, "nginx let a wrong key publish"
    assert b"Input/output error" in errors or b"error" in errors.lower()
    room = studio.room()
    assert room["status"] == "scheduled" and not room["on_air"]


async def test_given_the_key_when_ffmpeg_pushes_then_the_room_goes_live_and_chromium_plays_it(
    studio: Studio, browser: Any
) -> None:
    encoder = push(studio.rtmp, studio.cast.stream_key)
    page = await browser.new_page()
    try:
        await eventually(lambda: studio.room()["on_air"])
        assert studio.room()["status"] == "live" and studio.room()["went_live_at"]
        playlist = f"{studio.server.url}/live/hls/room-{studio.cast.room_id}.m3u8"
        await eventually(lambda: ".ts" in httpx.get(playlist, timeout=2).text)
        nginx_copy = f"http://127.0.0.1:{studio.media.config.http_port}/hls/room-{studio.cast.room_id}.m3u8"
        async with httpx.AsyncClient(timeout=2) as client:
            assert (await client.get(nginx_copy)).status_code == 200
            assert studio.cast.stream_key.partition("key=")[2] not in (await client.get(playlist)).text

        await page.goto(f"{studio.server.url}/live/{studio.cast.room_id}")
        await page.wait_for_function(
            "() => { const v = document.querySelector('[data-live-video]'); return v && v.currentTime > 1.0; }",
            timeout=20_000,
        )
        assert await page.locator("[data-live-offline]").is_hidden()

        encoder.terminate()
        await asyncio.to_thread(encoder.wait, 10)
        await eventually(lambda: not studio.room()["on_air"])
        assert studio.room()["status"] == "live"  # off air, not ended: the host may resume
        await page.wait_for_selector("[data-live-offline]:not([hidden])", timeout=5_000)
    finally:
        if encoder.poll() is None:
            encoder.kill()
        await page.close()


async def test_given_a_stream_on_air_when_the_host_ends_the_room_then_nginx_drops_the_encoder_for_good(
    studio: Studio,
) -> None:
    encoder = push(studio.rtmp, studio.cast.stream_key)
    try:
        await eventually(lambda: studio.room()["on_air"])
        async with httpx.AsyncClient(base_url=studio.server.url, headers=studio.cast.host.headers) as client:
            ended = await client.post(f"/api/v1/live/rooms/{studio.cast.room_id}/end")
        assert ended.status_code == 200 and ended.json()["status"] == "ended"
        await asyncio.to_thread(encoder.wait, 10)  # dropped through nginx's control endpoint
        assert studio.room()["status"] == "ended" and not studio.room()["on_air"]
        again = push(studio.rtmp, studio.cast.stream_key, seconds=3)
        await asyncio.to_thread(again.communicate, timeout=15)
        assert again.returncode != 0
    finally:
        if encoder.poll() is None:
            encoder.kill()
