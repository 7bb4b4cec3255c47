"""The edge's nginx config and process.

`/r/{code}` is answered from a map file of the links (code -> target, written from the
database at start and refreshed by `passerelle edge`; links never change target), the cheapest
answer nginx has: no file or upstream per request. A code not in the map yet (a link made since
the last refresh) is answered from nginx's proxy cache, keyed on the code: on a miss nginx asks the
server `/_edge/r/{code}` (redirect.serve_edge), which answers the target with X-Accel-Expires;
one request per code goes upstream at a time (cache lock), and a stale answer is served while
the server restarts. The visitor cookie is decided per request (never cached): a valid `pc_v`
cookie is kept, otherwise `$request_id` (32 hex characters, a valid visitor id) becomes the
visitor and is set with the same attributes as redirect.py. Each redirect is one line of the
click log (buffered writes), which the server ingests (ingest.py). With a gateway token and
Debian's Lua module, the edge also gathers flash-deal claims into batches (festival/edge).
Everything else is proxied.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from passerelle.config import Settings
from passerelle.connect.cookies import VISITOR_COOKIE, VISITOR_MAX_AGE
from passerelle.connect.edge.ingest import LOG_TAG
from passerelle.deps import SESSION_COOKIE
from passerelle.festival import edge as claims_edge
from passerelle.infra import nginx

PING = "/_edge/ping"
_VALID_VISITOR = "~^[A-Za-z0-9_-]{16,32}$"  # cookies.valid_visitor, in nginx's regex syntax


@dataclass(frozen=True)
class EdgeConfig:
    root: Path  # config, pid, error log, temp and cache live here
    log: Path  # the click log the server ingests
    port: int
    upstream: str  # host:port of passerelle
    bind: str = "0.0.0.0"
    workers: int | str = 1
    cookie_secure: bool = False
    log_flush: str = "1s"  # how long a click may wait in nginx's log buffer
    gateway_token: str = field(default="", repr=False)  # the claims batch route's; never in the config file
    claims_batch_bytes: int = claims_edge.BATCH_BYTES  # claims' bytes per exchange with the server
    claims_queue_limit: int = claims_edge.QUEUE_LIMIT  # claims waiting per worker before the edge's own 429

    @property
    def claims(self) -> bool:
        """Whether the edge gathers flash-deal claims itself (else they are proxied)."""
        return bool(self.gateway_token) and claims_edge.lua_available()

    @property
    def config_path(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def links_path(self) -> Path:
        return self.root / "links.map"

    def render(self) -> str:
        secure = "; Secure" if self.cookie_secure else ""
        new_cookie = f"{VISITOR_COOKIE}=$request_id; Max-Age={VISITOR_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"
        fields = "\\t".join(
            [LOG_TAG, "$msec", "$pc_code", "$remote_addr", "$pc_visitor", f"$cookie_{SESSION_COOKIE}"]
            + ["$http_user_agent", "$http_referer"]
        )
        claims_main = claims_http = claims_location = ""
        if self.claims:
            claims_main = claims_edge.main_directives()
            claims_http = claims_edge.http_directives(
                _numeric(self.upstream), self.claims_batch_bytes, self.claims_queue_limit
            )
            claims_location = claims_edge.claims_location()
        return f"""# Written by `passerelle edge`; rewritten on every start.
{claims_main}
{nginx.process_directives(self.root, master=True, workers=self.workers)}
events {{ worker_connections 8192; }}

http {{
    access_log off;
    server_tokens off;
    {nginx.temp_paths(self.root)}
    {claims_http}
    proxy_cache_path {self.root / "cache"} levels=1:2 keys_zone=pc_links:16m max_size=512m inactive=1h
                     use_temp_path=off;
    map $cookie_{VISITOR_COOKIE} $pc_visitor {{
        "{_VALID_VISITOR}" $cookie_{VISITOR_COOKIE};
        default $request_id;
    }}
    map $cookie_{VISITOR_COOKIE} $pc_set_cookie {{
        "{_VALID_VISITOR}" "";
        default "{new_cookie}";
    }}
    map $pc_code $pc_target {{
        default "";
        include {self.links_path};
    }}
    map "$request_method $status" $pc_click {{
        "GET 302" 1;
        default 0;
    }}
    log_format pc_clicks "{fields}";
    upstream passerelle {{
        server {self.upstream};
        keepalive 256;  # above the busiest moment's concurrent requests: no connection churn
    }}
    server {{
        listen {self.bind}:{self.port} backlog=4096;
        keepalive_requests 100000;
        location ~ "^/r/(?<pc_code>[A-Za-z0-9]{{4,16}})$" {{
            absolute_redirect off;  # the Location redirect.py gives, as is
            if ($pc_target) {{
                return 302 $pc_target;
                add_header Set-Cookie $pc_set_cookie;
                add_header Cache-Control no-store;
                add_header X-Content-Type-Options nosniff;
                add_header Referrer-Policy strict-origin-when-cross-origin;
            }}
            proxy_pass http://passerelle/_edge/r/$pc_code;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Cookie "";
            proxy_redirect off;
            proxy_cache pc_links;
            proxy_cache_key $pc_code;  # the query string never changes the target (as in redirect.py)
            proxy_cache_valid 302 60s;  # fallbacks: the server's X-Accel-Expires decides
            proxy_cache_valid 404 5s;
            proxy_ignore_headers Cache-Control Expires;  # no-store is for browsers, not for us
            proxy_hide_header Set-Cookie;
            proxy_cache_lock on;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            proxy_cache_background_update on;
            add_header Set-Cookie $pc_set_cookie;  # per request, after the cache: never shared
            access_log {self.log} pc_clicks buffer=256k flush={self.log_flush} if=$pc_click;
        }}
        location = {PING} {{
            return 204;
        }}
        {claims_location}
        location / {{
            {_PROXY}
        }}
        location @passerelle {{  # where the Lua hands what is not its own (a GET on the claim path)
            {_PROXY}
        }}
    }}
}}
"""


def config_for(
    settings: Settings, *, upstream: str, bind: str = "0.0.0.0", port: int = 0, workers: int | str = 1
) -> EdgeConfig:
    return EdgeConfig(
        root=settings.data_dir.resolve() / "edge" / "nginx",
        log=settings.resolved_edge_log,
        port=port or settings.connect_edge_port,
        upstream=upstream,
        bind=bind,
        workers=workers,
        cookie_secure=settings.cookie_secure,
        gateway_token=settings.gateway_token or "",
    )


_PROXY = """proxy_pass http://passerelle;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_buffering off;  # server-sent events and long answers stream through
            client_max_body_size 50m;"""


def _numeric(upstream: str) -> str:
    """host:port with the host as an address (an IPv6 one in brackets, as nginx and the Lua
    socket take it): Lua's sockets have no resolver configured."""
    host, _, port = upstream.rpartition(":")
    address = str(socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)[0][4][0])
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def map_line(code: str, url: str) -> str | None:
    """One links.map entry, or None for a URL nginx would read as more than text (a `$`
    variable, quotes, separators): that link is served by the cached upstream path instead."""
    if not code.isalnum() or any(c in url for c in '$"\\;{}') or not url.isprintable() or " " in url:
        return None
    return f'{code} "{url}";\n'


class EdgeServer:
    """nginx in the foreground with a master (SIGHUP reloads, SIGUSR1 reopens the log)."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.nginx = nginx.NginxProcess(config.root, config.config_path, (config.port,))

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.config.bind in ("0.0.0.0", "::") else self.config.bind
        return f"http://{host}:{self.config.port}"

    def write(self, links: Iterable[tuple[str, str]] = ()) -> Path:
        self.config.root.mkdir(parents=True, exist_ok=True)
        self.config.log.parent.mkdir(parents=True, exist_ok=True)
        self.write_links(links)
        self.config.config_path.write_text(self.config.render())
        return self.config.config_path

    def write_links(self, links: Iterable[tuple[str, str]]) -> None:
        """Replace the map file atomically (nginx reads it whole on start and on reload)."""
        temp = self.config.links_path.with_suffix(".tmp")
        with temp.open("w") as out:
            out.writelines(line for code, url in links if (line := map_line(code, url)))
        temp.replace(self.config.links_path)

    def reload(self) -> None:
        self.nginx.signal(signal.SIGHUP)

    def start(self, links: Iterable[tuple[str, str]] = (), *, wait: float = 10.0) -> None:
        binary = nginx.nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        self.write(links)
        environment = {claims_edge.TOKEN_ENV: self.config.gateway_token} if self.config.claims else {}
        self.nginx.start(binary, wait=wait, environment=environment)

    def reopen_log(self) -> None:
        """After the click log was renamed (log rotation): nginx flushes and opens a new file."""
        self.nginx.signal(signal.SIGUSR1)

    def stop(self) -> None:
        self.nginx.stop()  # graceful: the buffered click log is written out
