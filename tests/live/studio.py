"""A real video studio for the e2e tests: `passerelle serve`, nginx-rtmp started by the media
module (recording on or off), and ffmpeg pushing a test pattern."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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


@contextmanager
def open_studio(
    data_dir: Path, *, record: bool = False, viewers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[Studio]:
    if nginx_binary() is None:
        unavailable("nginx with the RTMP module is not installed (apt-get install nginx libnginx-mod-rtmp)")
    if shutil.which("ffmpeg") is None:
        unavailable("ffmpeg is not installed (apt-get install ffmpeg)")
    cast = seed_cast(data_dir, viewers=viewers)
    rtmp_port, http_port = free_port(), free_port()
    env = {
        "PASSERELLE_MEDIA_RTMP_PORT": str(rtmp_port),
        "PASSERELLE_MEDIA_HTTP_PORT": str(http_port),
        **(extra_env or {}),
    }
    if record:
        env["PASSERELLE_MEDIA_RECORD"] = "true"
    server = live.start(data_dir, extra_env=env)
    settings = Settings(
        data_dir=data_dir, secret_key="live-test", media_rtmp_port=rtmp_port, media_http_port=http_port,
        media_record=record,
    )  # fmt: skip
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
