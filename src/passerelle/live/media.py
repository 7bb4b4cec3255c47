"""The media server: nginx with the RTMP module (Debian's nginx + libnginx-mod-rtmp).

Hosts push RTMP (OBS, ffmpeg) to `rtmp://<host>:<rtmp_port>/live` with the stream key
`room-<id>?key=<secret>`. nginx-rtmp takes `room-<id>` as the stream name (so the HLS files
and recordings are named after the room and the secret never appears in a public URL) and
passes `key` to passerelle's `on_publish` callback, itself guarded by a shared secret in the
callback URL: a wrong key gets a 403 and nginx drops the encoder. (An `on_publish` redirect
would rename the stream, but Debian's module 1.2.2 still names the HLS files after the
original name, so the key would leak.) nginx cuts 1 s HLS segments into
`<data_dir>/live/hls`, which passerelle serves at `/live/hls/` (same origin as the pages,
so no CORS or CSP change) and nginx also serves on its HTTP port for a CDN or reverse proxy,
with `/control` on loopback so passerelle can drop a publisher when the host ends the room.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from passerelle.config import Settings
from passerelle.infra import nginx

RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
APP = "live"


@dataclass(frozen=True)
class MediaPaths:
    root: Path

    @property
    def hls(self) -> Path:
        return self.root / "hls"

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def config(self) -> Path:
        return self.nginx / "nginx.conf"

    def create(self) -> None:
        for path in (self.hls, self.recordings, self.nginx / "temp"):
            path.mkdir(parents=True, exist_ok=True)


def media_paths(settings: Settings) -> MediaPaths:
    return MediaPaths(settings.data_dir.resolve() / "live")


def stream_name(room_id: int) -> str:
    """The public name of a room's stream: HLS files are `<name>.m3u8` and `<name>-<n>.ts`."""
    return f"room-{room_id}"


def room_of_stream(name: str) -> int | None:
    prefix, _, number = name.partition("-")
    return int(number) if prefix == "room" and number.isdigit() and len(number) < 18 else None


@dataclass(frozen=True)
class MediaConfig:
    paths: MediaPaths
    rtmp_port: int
    http_port: int
    app_url: str  # where nginx reaches passerelle, e.g. http://127.0.0.1:8000
    secret: str
    record: bool = False
    bind: str = "0.0.0.0"

    def callback(self, event: str) -> str:
        return f"{self.app_url.rstrip('/')}/api/v1/live/media/{event}?secret={quote(self.secret, safe='')}"

    def render(self) -> str:
        p = self.paths
        record = (
            f"record all;\n            record_path {p.recordings};\n            record_unique on;"
            if self.record
            else "record off;"
        )
        # Recording also keeps the HLS playlist whole: it is the replay's video (browsers play
        # HLS, not the FLV recordings).
        # hls_continuous: an encoder that drops and resumes appends to the kept playlist instead
        # of restarting at segment 0 over the first recorded files.
        window = (
            "hls_playlist_length 6h;\n            hls_cleanup off;\n            hls_continuous on;"
            if self.record
            else "hls_playlist_length 6s;\n            hls_cleanup on;"
        )
        return f"""# Written by `passerelle media`; rewritten on every start.
load_module {RTMP_MODULE};
{nginx.process_directives(p.nginx)}
events {{ worker_connections 4096; }}

rtmp {{
    server {{
        listen {self.bind}:{self.rtmp_port};
        chunk_size 4096;
        application {APP} {{
            live on;
            allow play 127.0.0.1;
            deny play all;
            hls on;
            hls_path {p.hls};
            hls_fragment 1s;
            {window}
            {record}
            notify_method post;
            on_publish {self.callback("on_publish")};
            on_publish_done {self.callback("on_publish_done")};
        }}
    }}
}}

http {{
    access_log off;
    {nginx.temp_paths(p.nginx)}
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    server {{
        listen {self.bind}:{self.http_port};
        location /hls/ {{
            alias {p.hls}/;
            add_header Cache-Control no-cache;
            add_header Access-Control-Allow-Origin *;
        }}
        location /control {{
            rtmp_control all;
            allow 127.0.0.1;
            deny all;
        }}
    }}
}}
"""


ENDLIST = b"#EXT-X-ENDLIST\n"


def playlist_path(paths: MediaPaths, room_id: int) -> Path:
    return paths.hls / f"{stream_name(room_id)}.m3u8"


def recording_finished(paths: MediaPaths, room_id: int) -> bool:
    """Whether the room's kept playlist exists and is marked complete (a VOD playlist)."""
    try:
        with playlist_path(paths, room_id).open("rb") as playlist:
            playlist.seek(0, 2)
            playlist.seek(max(0, playlist.tell() - len(ENDLIST)))
            return playlist.read() == ENDLIST
    except FileNotFoundError:
        return False


def finish_recording(paths: MediaPaths, room_id: int) -> bool:
    """Mark an ended room's kept playlist complete: nginx-rtmp never writes #EXT-X-ENDLIST, and
    without it players treat the recording as a live stream (start at the live edge, keep
    reloading, no duration). Call it once nginx no longer writes the playlist (the room ended
    and its publisher is gone); idempotent. False when there is no playlist."""
    path = playlist_path(paths, room_id)
    if recording_finished(paths, room_id):
        return True
    try:
        with path.open("r+b") as playlist:
            playlist.seek(0, 2)
            if playlist.tell() == 0:
                return False
            playlist.seek(-1, 2)
            # nginx swaps in each new playlist by a rename: an append racing it lands in the old
            # file, and the caller that runs after nginx's last write (on_publish_done) marks it.
            playlist.write(ENDLIST if playlist.read(1) == b"\n" else b"\n" + ENDLIST)
        return True
    except FileNotFoundError:
        return False


def config_for(settings: Settings, *, app_url: str, bind: str = "0.0.0.0") -> MediaConfig:
    return MediaConfig(
        paths=media_paths(settings),
        rtmp_port=settings.media_rtmp_port,
        http_port=settings.media_http_port,
        app_url=app_url,
        secret=settings.resolved_media_secret,
        record=settings.media_record,
        bind=bind,
    )


def nginx_binary() -> str | None:
    found = nginx.nginx_binary()
    return found if found and RTMP_MODULE.exists() else None


class MediaServer:
    """nginx in the foreground (`daemon off; master_process off;`), one process we own."""

    def __init__(self, config: MediaConfig) -> None:
        self.config = config
        ports = (config.rtmp_port, config.http_port)
        self.nginx = nginx.NginxProcess(config.paths.nginx, config.paths.config, ports)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.nginx.process

    def write(self) -> Path:
        self.config.paths.create()
        self.config.paths.config.write_text(self.config.render())
        return self.config.paths.config

    def command(self) -> list[str]:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx with the RTMP module is not installed (apt-get install nginx libnginx-mod-rtmp)")
        return self.nginx.command(binary)

    def start(self, *, wait: float = 10.0) -> None:
        self.write()
        binary = self.command()[0]
        self.nginx.start(binary, wait=wait)

    def error_log(self) -> str:
        return self.nginx.error_log()

    def stop(self) -> None:
        self.nginx.stop()  # graceful: publishers get on_publish_done
