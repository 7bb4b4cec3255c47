"""The nginx configuration `passerelle media` writes is valid for Debian's nginx-rtmp."""

from __future__ import annotations

import subprocess
from pathlib import Path

from passerelle.live.media import (
    MediaConfig,
    MediaPaths,
    MediaServer,
    finish_recording,
    nginx_binary,
    playlist_path,
    recording_finished,
)
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
    assert "hls_cleanup off;" in text and "hls_continuous on;" in text  # the whole playlist is kept
    assert "on_publish http://127.0.0.1:8000/api/v1/live/media/on_publish?secret=s3cret%2F%26%3F;" in text
    checked = subprocess.run([*server.command(), "-t"], capture_output=True, text=True, timeout=20)
    assert checked.returncode == 0, checked.stderr


def test_given_a_kept_playlist_when_the_recording_is_finished_then_it_ends_with_endlist_once(tmp_path: Path) -> None:
    paths = MediaPaths(tmp_path / "live")
    paths.create()
    assert not finish_recording(paths, 7) and not recording_finished(paths, 7)  # nothing recorded
    playlist = playlist_path(paths, 7)
    playlist.write_bytes(b"#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.000,\nroom-7-0.ts")  # no final newline
    assert finish_recording(paths, 7) and finish_recording(paths, 7)
    assert playlist.read_bytes().endswith(b"room-7-0.ts\n#EXT-X-ENDLIST\n")
    assert playlist.read_bytes().count(b"#EXT-X-ENDLIST") == 1 and recording_finished(paths, 7)
