"""The nginx configuration `passerelle media` writes is valid for Debian's nginx-rtmp."""

from __future__ import annotations

import subprocess
from pathlib import Path

from passerelle.live.media import MediaConfig, MediaPaths, MediaServer, nginx_binary
from tests.services import unavailable


def test_given_recording_on_when_the_config_is_written_then_nginx_accepts_it(tmp_path: Path) -> None:
    if nginx_binary() is None:
        unavailable("nginx with the RTMP module is not installed (apt-get install nginx libnginx-mod-rtmp)")
    config = MediaConfig(
        paths=MediaPaths(tmp_path / "live"),
        rtmp_port=19350,
        http_port=18080,
        app_url="http://127.0.0.1:8000",
        secret="s3cret/&?",
        record=True,
        bind="127.0.0.1",
    )
    server = MediaServer(config)
    server.write()
    text = config.paths.config.read_text()
    assert "record all;" in text and f"record_path {config.paths.recordings};" in text
    assert "hls_fragment 1s;" in text and "daemon off;" in text
    assert "on_publish http://127.0.0.1:8000/api/v1/live/media/on_publish?secret=s3cret%2F%26%3F;" in text
    checked = subprocess.run([*server.command(), "-t"], capture_output=True, text=True, timeout=20)
    assert checked.returncode == 0, checked.stderr
