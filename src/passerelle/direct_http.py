"""The festival's busiest routes answered by the HTTP protocol itself, below ASGI.

Measured on the 2-core machine: a bare uvloop + httptools protocol answers ~80,000 small
POSTs/s, the same server with a raw ASGI app ~12,000. Most of the difference is the ASGI
cycle uvicorn builds per request (scope dict, an Event, a task, message dicts, two writes)
and its keep-alive timer, re-armed per request. For a claim that was about a quarter of
the server's CPU (185 -> 141 µs per claim, 66 -> 45 µs per no-op request, bench http).

`passerelle serve` runs uvicorn with `DirectHttpProtocol`: uvicorn's own httptools
protocol, except that `POST /api/v1/deals/{id}/claims` and `POST /api/v1/noop` (the
ceiling `bench http` compares against) and the gateways' `POST /api/v1/claims:batch` and
`POST /api/v1/claims:edge` are
answered from the parser callbacks with one socket write, through the same functions
(`claims_api.answer_claim`, `claims_batch.answer_batch`, `claims_edge.answer_edge`) the
documented FastAPI routes use.
Everything else (and any claim that needs more care: pipelined behind another request,
`Expect: 100-continue`, an escaped path) goes through ASGI exactly as before.

The buying requests of API clients (cart add, checkout, sandbox pay; `buying_fastpath.match`
says which) are served here too, in a task: the same `buying_fastpath.serve` FastPath
calls, with a Request built from the parser's data. uvicorn's ASGI cycle was ~250 µs of
each such request (a tenth of a paid order's CPU, bench checkout).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httptools
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from passerelle.festival import claims_api, claims_batch, claims_edge
from passerelle.orders import buying_fastpath
from passerelle.orders.buying_fastpath import secured as _secured
from passerelle.orders.buying_route import PREREAD_MAX_BYTES
from passerelle.state import AppState

logger = logging.getLogger(__name__)

CLAIMS_PREFIX = b"/api/v1/deals/"
CLAIMS_SUFFIX = b"/claims"
NOOP_PATH = b"/api/v1/noop"
BATCH_PATH = b"/api/v1/claims:batch"
EDGE_PATH = b"/api/v1/claims:edge"
# Route ids: claims carry their deal id (> 0).
NOOP = 0
BATCH = -1
BUYING = -2
EDGE = -3
GATEWAY_ROUTES = (BATCH, EDGE)  # answer 401 before 413, whatever the body

NOOP_REPLY = claims_api.ClaimReply(200, b'{"ok":true}')


def direct_route(url: bytes) -> int | None:
    """NOOP, BATCH, EDGE, a claim's deal id, or None for a request ASGI should serve."""
    path = url.split(b"?", 1)[0]
    if path == NOOP_PATH:
        return NOOP
    if path == BATCH_PATH:
        return BATCH
    if path == EDGE_PATH:
        return EDGE
    if path.startswith(CLAIMS_PREFIX) and path.endswith(CLAIMS_SUFFIX):
        middle = path[len(CLAIMS_PREFIX) : -len(CLAIMS_SUFFIX)]
        if middle.isdigit() and len(middle) < 19 and int(middle) > 0:
            return int(middle)
    return None


class _NoEvent:
    """What uvicorn sets on a cycle's event when the connection drops; nobody waits here."""

    def set(self) -> None:
        return None


class DirectCycle:
    """Stands in for uvicorn's RequestResponseCycle while a direct request is answered, so
    the protocol's own bookkeeping (pipelining, shutdown, lost connections) keeps working."""

    message_event = _NoEvent()

    def __init__(self, route: int, keep_alive: bool, headers: list[tuple[bytes, bytes]]) -> None:
        self.route = route
        self.keep_alive = keep_alive
        self.headers = headers
        self.chunks: list[bytes] = []
        self.size = 0
        self.limit = claims_batch.MAX_BATCH_BODY if route in GATEWAY_ROUTES else claims_api.MAX_CLAIM_BODY
        if route == BUYING:
            self.limit = PREREAD_MAX_BYTES
        self.buying: tuple[buying_fastpath.BuyingRoute, str] | None = None  # with BUYING
        self.url = b""  # with BUYING: the protocol's own is the next request's once pipelined
        self.http_version = "1.1"
        self.too_large = False
        self.response_complete = False
        self.disconnected = False


def _front_state(app: Any) -> tuple[AppState, ProxyHeadersMiddleware | None, Any] | None:
    """The passerelle state behind uvicorn's wrappers, the proxy-headers layer if any, and
    the FastAPI app (what a Request's `app` must be)."""
    from passerelle.fastpath import FastPath  # the app module imports this one's neighbours

    proxy: ProxyHeadersMiddleware | None = None
    for _ in range(8):
        if isinstance(app, FastPath):
            return app.state.passerelle, proxy, app.app
        if isinstance(app, ProxyHeadersMiddleware):
            proxy = app
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class DirectHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._front = _front_state(self.app)
        self._last_activity = 0.0
        self._idle_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        self._last_activity = self.loop.time()  # a request arriving is not an idle connection
        super().data_received(data)

    def on_message_begin(self) -> None:
        # uvicorn builds the ASGI scope here; a direct request never reads it, so it is
        # built in on_headers_complete, only for requests that go through ASGI.
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def _build_scope(self) -> None:
        self.scope = {  # type: ignore[typeddict-item]
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }

    def on_headers_complete(self) -> None:
        cycle = self.cycle
        if (
            self._front is not None
            and (cycle is None or cycle.response_complete)
            and not self.expect_100_continue
            and self.limit_concurrency is None
            and self.parser.get_method() == b"POST"
            and not self.parser.should_upgrade()
        ):
            route = direct_route(self.url)
            buying = None if route is not None else self._buying_route()
            if route is not None or buying is not None:
                keep_alive = self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()
                direct = DirectCycle(BUYING if buying is not None else route, keep_alive, self.headers)  # type: ignore[arg-type]
                direct.buying = buying
                direct.url = self.url
                direct.http_version = self.parser.get_http_version()
                if buying is not None:  # set when the answer is out or the client leaves
                    direct.message_event = asyncio.Event()  # type: ignore[assignment]
                self.cycle = direct  # type: ignore[assignment]
                return
        self._build_scope()
        super().on_headers_complete()

    def _buying_route(self) -> tuple[buying_fastpath.BuyingRoute, str] | None:
        """A buying request FastPath would serve below FastAPI (group commit on, no cookie...),
        with a plain path (an escaped one goes through ASGI, which decodes it)."""
        assert self._front is not None
        if self._front[0].db.group_commit is None:
            return None
        path = self.url.split(b"?", 1)[0]
        if b"%" in path or not path.isascii():
            return None
        return buying_fastpath.match(path.decode("ascii"), self.headers)

    def on_body(self, body: bytes) -> None:
        cycle: RequestResponseCycle | DirectCycle = self.cycle
        if type(cycle) is not DirectCycle:
            super().on_body(body)
            return
        if cycle.too_large:
            return
        cycle.size += len(body)
        if cycle.size > cycle.limit:
            cycle.too_large = True
            cycle.chunks = []
        else:
            cycle.chunks.append(body)

    def on_message_complete(self) -> None:
        cycle: RequestResponseCycle | DirectCycle = self.cycle
        if type(cycle) is not DirectCycle:
            super().on_message_complete()
            return
        if cycle.route == NOOP:
            self._reply(cycle, NOOP_REPLY)
        elif cycle.route == BUYING:
            task = self.loop.create_task(self._answer_buying(cycle))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)
        elif cycle.too_large and cycle.route not in GATEWAY_ROUTES:
            self._reply(cycle, claims_api.BODY_TOO_LARGE)
        elif cycle.route > 0 and self._claim_now(cycle):
            pass  # answered, or to be answered from the engine's batch
        else:
            task = self.loop.create_task(self._answer(cycle))
            task.add_done_callback(self.tasks.discard)
            self.tasks.add(task)

    def _claim_now(self, cycle: DirectCycle) -> bool:
        """Most claims need no task: the buyer is in the token cache and the embedded
        engine answers through a callback once the batch is durable."""
        assert self._front is not None
        chunks = cycle.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        asked = claims_api.claim_request(self._client_ip(cycle.headers), cycle.headers, body)
        try:
            return claims_api.claim_then(self._front[0], cycle.route, asked, lambda reply: self._reply(cycle, reply))
        except Exception:
            logger.exception("claim on deal %s failed", cycle.route)
            self._reply(cycle, claims_api.FAILED)
            return True

    def _client_ip(self, headers: list[tuple[bytes, bytes]]) -> str:
        peer = self.client[0] if self.client else "unknown"
        forwarded = self._forwarded_client(headers)
        return forwarded[0] if forwarded is not None else peer

    def _trusted_proxy(self) -> ProxyHeadersMiddleware | None:
        """uvicorn's proxy-headers layer when the peer is one of its trusted proxies."""
        assert self._front is not None
        proxy = self._front[1]
        peer = self.client[0] if self.client else None
        return proxy if proxy is not None and peer in proxy.trusted_hosts else None

    def _forwarded_client(self, headers: list[tuple[bytes, bytes]]) -> tuple[str, int] | None:
        """The client a trusted proxy's X-Forwarded-For names, as ProxyHeadersMiddleware reads it
        (claims run this per request: nothing more than that header is looked at)."""
        proxy = self._trusted_proxy()
        if proxy is None:
            return None
        forwarded_for = [value for name, value in headers if name == b"x-forwarded-for"]
        if not forwarded_for:
            return None
        host, port = proxy.trusted_hosts.get_trusted_client_address(b", ".join(forwarded_for).decode("latin-1"))
        return (host, port) if host else None

    def _forwarded_scheme(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """The scheme a trusted proxy's X-Forwarded-Proto gives (http or https), else None."""
        if self._trusted_proxy() is None:
            return None
        protos = [value for name, value in headers if name == b"x-forwarded-proto"]
        scheme = protos[-1].decode("latin-1").strip() if protos else None
        return scheme if scheme in ("http", "https") else None

    async def _answer(self, cycle: DirectCycle) -> None:
        assert self._front is not None
        state = self._front[0]
        chunks = cycle.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            if cycle.route in GATEWAY_ROUTES:
                authorization = next((v for n, v in cycle.headers if n == b"authorization"), b"").decode("latin-1")
                answer = claims_batch.answer_batch if cycle.route == BATCH else claims_edge.answer_edge
                reply = await answer(state, authorization, None if cycle.too_large else body)
            else:
                asked = claims_api.claim_request(self._client_ip(cycle.headers), cycle.headers, body)
                reply = await claims_api.answer_claim(state, cycle.route, asked)
        except Exception:
            logger.exception("claim on route %s failed", cycle.route)
            reply = claims_api.FAILED
        self._reply(cycle, reply)

    async def _answer_buying(self, cycle: DirectCycle) -> None:
        """Like uvicorn's run_asgi: whatever happens, the client gets an answer (a 500 that
        closes the connection when it is not `serve`'s), so the connection never hangs."""
        scope = self._buying_scope(cycle)
        try:
            response = await self._buying_response(cycle, scope)
            self._reply_response(cycle, scope, response)
        except BaseException as failed:
            if not isinstance(failed, asyncio.CancelledError):
                logger.exception("buying request on %s failed", scope["path"])
            if not cycle.response_complete:
                self._reply_response(cycle, scope, _secured(_failure(500)), close=True)
            if isinstance(failed, asyncio.CancelledError):
                raise
            return
        if response.background is not None:
            try:
                await response.background()
            except Exception:
                logger.exception("background task after %s failed", scope["path"])

    def _buying_scope(self, cycle: DirectCycle) -> dict[str, Any]:
        """The ASGI scope uvicorn and its ProxyHeadersMiddleware would have built."""
        assert self._front is not None
        parsed = httptools.parse_url(cycle.url)
        raw_path: bytes = parsed.path
        client = self._forwarded_client(cycle.headers) or self.client
        scheme = self._forwarded_scheme(cycle.headers) or self.scheme or "http"
        return {
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": cycle.http_version,
            "server": self.server,
            "client": client,
            "scheme": scheme,
            "method": "POST",
            "root_path": self.root_path,
            "path": self.root_path + raw_path.decode("ascii"),
            "raw_path": raw_path,
            "query_string": parsed.query or b"",
            "headers": cycle.headers,
            "state": self.app_state.copy(),
            "app": self._front[2],
        }

    async def _buying_response(self, cycle: DirectCycle, scope: dict[str, Any]) -> Response:
        assert cycle.buying is not None
        body = b"".join(cycle.chunks)
        read = False

        async def receive() -> dict[str, Any]:
            nonlocal read
            if not read:
                read = True
                return {"type": "http.request", "body": body, "more_body": False}
            await cycle.message_event.wait()  # type: ignore[attr-defined]  # as uvicorn's: until answered or gone
            return {"type": "http.disconnect"}

        if cycle.too_large:  # cannot happen after `match` (Content-Length checked), refused anyway
            return _secured(_failure(413))
        return await buying_fastpath.serve(Request(scope, receive), *cycle.buying)

    def _reply_response(
        self, cycle: DirectCycle, scope: dict[str, Any], response: Response, close: bool = False
    ) -> None:
        """A Starlette response written as one HTTP/1.1 answer (its own headers, body and
        length, uvicorn's server and date lines), refused as uvicorn would if its headers are
        malformed; `Connection: close` from the response or the client closes after it."""
        cycle.message_event.set()
        if cycle.disconnected or self.transport.is_closing():
            return
        body = response.body  # a streamed response (none of `serve`'s) has none: it fails here
        lines = [STATUS_LINE[response.status_code]]
        lines.extend(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)
        keep_alive = cycle.keep_alive and not close
        for name, value in response.raw_headers:
            if HEADER_RE.search(name) or HEADER_VALUE_RE.search(value):
                raise RuntimeError("invalid HTTP header in a buying response")
            if name == b"connection" and value.lower() == b"close":
                keep_alive = False
                continue
            lines.append(name + b": " + value + b"\r\n")
        if not keep_alive:
            lines.append(b"connection: close\r\n")
        lines.append(b"\r\n")
        lines.append(bytes(body))
        self.transport.write(b"".join(lines))
        cycle.response_complete = True
        if self.access_log:
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d',
                get_client_addr(scope),  # type: ignore[arg-type]
                "POST",
                get_path_with_query_string(scope),  # type: ignore[arg-type]
                scope["http_version"],
                response.status_code,
            )
        if not keep_alive:
            self.transport.close()
        self._after_reply()

    def _reply(self, cycle: DirectCycle, reply: claims_api.ClaimReply) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        head = _common_head(self.server_state.default_headers)
        if cycle.route == EDGE and reply.status == 200:  # answer lines, not JSON
            head = head.replace(b"application/json", claims_edge.ANSWER_TYPE.encode())
        if reply.retry_after:
            head += b"retry-after: " + reply.retry_after.encode("latin-1") + b"\r\n"
        if not cycle.keep_alive:
            head += b"connection: close\r\n"
        body = reply.body
        self.transport.write(b"%s%scontent-length: %d\r\n\r\n%s" % (STATUS_LINE[reply.status], head, len(body), body))
        cycle.response_complete = True
        if not cycle.keep_alive:
            self.transport.close()
        self._after_reply()

    def _after_reply(self) -> None:
        """uvicorn's on_response_complete, less its per-request keep-alive timer (creating
        and cancelling one per request cost more than the no-op route's whole answer)."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            pipelined, app = self.pipeline.pop()
            self._start_asgi_task(pipelined, app)
            return
        self._last_activity = self.loop.time()
        if self._idle_timer is None:
            self._idle_timer = self.loop.call_later(self.timeout_keep_alive, self._close_if_idle)

    def _close_if_idle(self) -> None:
        """Close a keep-alive connection quiet for `timeout_keep_alive` (no reply sent, no
        byte received); one timer per connection, re-armed for the time left."""
        self._idle_timer = None
        if self.transport.is_closing() or not (self.cycle is None or self.cycle.response_complete):
            return  # closed, or a request is being answered (its reply re-arms the timer)
        left = self._last_activity + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self._idle_timer = self.loop.call_later(left, self._close_if_idle)
        else:
            self.transport.close()


_head_cache: tuple[list[tuple[bytes, bytes]], bytes] | None = None


def _common_head(default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """The header lines every direct reply shares.
    uvicorn swaps its default header list (the date) once a second: rebuilt then only."""
    global _head_cache
    cached = _head_cache
    if cached is not None and cached[0] is default_headers:
        return cached[1]
    lines = b"".join(name + b": " + value + b"\r\n" for name, value in default_headers)
    head = lines + b"content-type: application/json\r\nx-content-type-options: nosniff\r\n"
    _head_cache = (default_headers, head)
    return head


def _failure(status: int) -> Response:
    if status == 413:
        return JSONResponse({"code": "payload_too_large", "message": "Body too large"}, status_code=413)
    return JSONResponse({"code": "internal_error", "message": "Something went wrong on our side"}, status_code=500)
