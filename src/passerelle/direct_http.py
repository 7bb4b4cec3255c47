"""The festival's busiest routes answered by the HTTP protocol itself, below ASGI.

Measured on the 2-core machine: a bare uvloop + httptools protocol answers ~80,000 small
POSTs/s, the same server with a raw ASGI app ~12,000. Most of the difference is the ASGI
cycle uvicorn builds per request (scope dict, an Event, a task, message dicts, two writes)
and its keep-alive timer, re-armed per request. For a claim that was about a quarter of
the server's CPU (185 -> 141 µs per claim, 66 -> 45 µs per no-op request, bench http).

`passerelle serve` runs uvicorn with `DirectHttpProtocol`: uvicorn's own httptools
protocol, except that `POST /api/v1/deals/{id}/claims` and `POST /api/v1/noop` (the
ceiling `bench http` compares against) and the gateways' `POST /api/v1/claims:batch` are
answered from the parser callbacks with one socket write, through the same functions
(`claims_api.answer_claim`, `claims_batch.answer_batch`) the documented FastAPI routes use.
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
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from passerelle.festival import claims_api, claims_batch
from passerelle.orders import buying_fastpath
from passerelle.orders.buying_route import PREREAD_MAX_BYTES
from passerelle.state import AppState

logger = logging.getLogger(__name__)

CLAIMS_PREFIX = b"/api/v1/deals/"
CLAIMS_SUFFIX = b"/claims"
NOOP_PATH = b"/api/v1/noop"
BATCH_PATH = b"/api/v1/claims:batch"
# Route ids: claims carry their deal id (> 0).
NOOP = 0
BATCH = -1
BUYING = -2

NOOP_REPLY = claims_api.ClaimReply(200, b'{"ok":true}')


def direct_route(url: bytes) -> int | None:
    """NOOP, BATCH, a claim's deal id, or None for a request ASGI should serve."""
    path = url.split(b"?", 1)[0]
    if path == NOOP_PATH:
        return NOOP
    if path == BATCH_PATH:
        return BATCH
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
        self.limit = claims_batch.MAX_BATCH_BODY if route == BATCH else claims_api.MAX_CLAIM_BODY
        if route == BUYING:
            self.limit = PREREAD_MAX_BYTES
        self.buying: tuple[buying_fastpath.BuyingRoute, str] | None = None  # with BUYING
        self.url = b""  # with BUYING: the protocol's own is the next request's once pipelined
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
        elif cycle.too_large and cycle.route != BATCH:  # the batch answers 401 before 413
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
        assert self._front is not None
        proxy = self._front[1]
        if proxy is not None and peer in proxy.trusted_hosts:
            forwarded = [value for name, value in headers if name == b"x-forwarded-for"]
            if forwarded:
                host, _ = proxy.trusted_hosts.get_trusted_client_address(b", ".join(forwarded).decode("latin-1"))
                if host:
                    return host
        return peer

    async def _answer(self, cycle: DirectCycle) -> None:
        assert self._front is not None
        state = self._front[0]
        chunks = cycle.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            if cycle.route == BATCH:
                authorization = next((v for n, v in cycle.headers if n == b"authorization"), b"").decode("latin-1")
                reply = await claims_batch.answer_batch(state, authorization, None if cycle.too_large else body)
            else:
                asked = claims_api.claim_request(self._client_ip(cycle.headers), cycle.headers, body)
                reply = await claims_api.answer_claim(state, cycle.route, asked)
        except Exception:
            logger.exception("claim on route %s failed", cycle.route)
            reply = claims_api.FAILED
        self._reply(cycle, reply)

    async def _answer_buying(self, cycle: DirectCycle) -> None:
        assert self._front is not None and cycle.buying is not None
        state, _, app = self._front
        body = b"".join(cycle.chunks)
        parsed = httptools.parse_url(cycle.url)
        raw_path: bytes = parsed.path
        scope = {
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1" if cycle.keep_alive else "1.0",
            "server": self.server,
            "client": (self._client_ip(cycle.headers), self.client[1] if self.client else 0),
            "scheme": self.scheme,
            "method": "POST",
            "root_path": self.root_path,
            "path": self.root_path + raw_path.decode("ascii"),
            "raw_path": raw_path,
            "query_string": parsed.query or b"",
            "headers": cycle.headers,
            "state": self.app_state.copy(),
            "app": app,
        }
        read = False

        async def receive() -> dict[str, Any]:
            nonlocal read
            if read:
                return {"type": "http.disconnect"}
            read = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            if cycle.too_large:  # a body longer than its Content-Length said: refused as serve does
                response: Response = JSONResponse({"code": "payload_too_large", "message": "Body too large"}, 413)
            else:
                response = await buying_fastpath.serve(Request(scope, receive), *cycle.buying)
        except Exception:  # serve answers its own errors; this is a bug in building its request
            logger.exception("buying request on %s failed", scope["path"])
            response = JSONResponse({"code": "internal_error", "message": "Something went wrong on our side"}, 500)
        self._reply_response(cycle, response)
        if response.background is not None:
            await response.background()

    def _reply_response(self, cycle: DirectCycle, response: Response) -> None:
        """A Starlette response written as one HTTP/1.1 answer (its own headers, body and
        length, uvicorn's server and date lines)."""
        if cycle.disconnected or self.transport.is_closing():
            return
        lines = [STATUS_LINE[response.status_code]]
        lines.extend(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)
        lines.extend(name + b": " + value + b"\r\n" for name, value in response.raw_headers)
        if not cycle.keep_alive:
            lines.append(b"connection: close\r\n")
        lines.append(b"\r\n")
        lines.append(bytes(response.body))
        self.transport.write(b"".join(lines))
        cycle.response_complete = True
        if not cycle.keep_alive:
            self.transport.close()
        self._after_reply()

    def _reply(self, cycle: DirectCycle, reply: claims_api.ClaimReply) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        head = _common_head(self.server_state.default_headers)
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
