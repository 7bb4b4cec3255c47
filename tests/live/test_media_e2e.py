"""The real video path: nginx-rtmp (started by passerelle's media module) calls back a real
`passerelle serve`, ffmpeg pushes a test pattern, HLS appears and Chromium plays it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from passerelle.config import Settings
from passerelle.live.media import MediaServer, config_for, nginx_binary
from tests import live_server as live
from tests.live.conftest import Cast, seed_cast
from tests.services import free_port, unavailable


@dataclass
class Studio:
    server: live.LiveServer
    media: MediaServer
    cast: Cast
    rtmp: str

    def room(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.server.url}/api/v1/live/rooms/{self.cast.room_id}", timeout=5).json())


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    if nginx_binary() is None:
        unavailable("nginx with the RTMP module is not installed (apt-get install nginx libnginx-mod-rtmp)")
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg is not installed (apt-get install ffmpeg)")
    data_dir = tmp_path_factory.mktemp("studio")
    cast = seed_cast(data_dir, viewers=1)
    rtmp_port, http_port = free_port(), free_port()
    server = live.start(data_dir, extra_env={"PASSERELLE_MEDIA_HTTP_PORT": str(http_port)})
    settings = Settings(data_dir=data_dir, secret_key="live-test", media_rtmp_port=rtmp_port, media_http_port=http_port)
    media = MediaServer(config_for(settings, app_url=server.url, bind="127.0.0.1"))
    try:
        media.start()
    except Exception:
        server.stop()
        raise
    try:
        yield Studio(server, media, cast, f"rtmp://127.0.0.1:{rtmp_port}/live")
    finally:
        media.stop()
        server.stop()


def push(rtmp_url: str, stream_key: str, *, seconds: float | None = None) -> subprocess.Popen[bytes]:
    limit = ["-t", str(seconds)] if seconds else []
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-re"]
        + ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p"]
        + ["-c:a", "aac", *limit, "-f", "flv", f"{rtmp_url}/{stream_key}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def eventually(check: Any, within: float = 10.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(check)
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("timed out")


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
