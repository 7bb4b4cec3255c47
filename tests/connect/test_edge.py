"""The nginx edge for tracked links, for real: nginx (started by passerelle's edge module) in
front of a real `passerelle serve` that ingests the edge's click log. Each test clicks from its
own loopback address and its own links, so the per-address flood cap of one test (burst 5,
no refill) does not touch another."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from passerelle.bench.clicks import prepare_links
from passerelle.config import Settings
from passerelle.connect.cookies import VISITOR_MAX_AGE, valid_visitor
from passerelle.connect.edge.links import all_links
from passerelle.connect.edge.nginx import EdgeConfig, EdgeServer
from passerelle.db import migrate
from passerelle.infra.nginx import nginx_binary
from tests import live_server as live
from tests.connect.helpers import BROWSER
from tests.services import free_port, unavailable

BURST = 5
ENV = {
    "PASSERELLE_CONNECT_EDGE": "true",
    "PASSERELLE_CONNECT_CLICK_BURST": str(BURST),
    "PASSERELLE_CONNECT_CLICKS_PER_IP_PER_SECOND": "0.0001",
    "PASSERELLE_RUN_WORKER": "false",
}


@dataclass
class Edge:
    data_dir: Path
    server: live.LiveServer
    nginx: EdgeServer
    codes: list[str]
    port: int
    _next_code: int = 0
    _next_address: int = 10
    logged: int = field(default=0)  # redirects nginx should have logged

    @property
    def log(self) -> Path:
        return self.nginx.config.log

    def new_code(self) -> str:
        self._next_code += 1
        return self.codes[self._next_code - 1]

    def client(self) -> httpx.Client:
        """A client from its own loopback address (its own flood bucket)."""
        self._next_address += 1
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{self._next_address}")
        return httpx.Client(base_url=self.nginx.url, transport=transport, timeout=5)

    def click(self, client: httpx.Client, code: str, *, agent: str = BROWSER, visitor: str = "") -> httpx.Response:
        cookies = f"pc_v={visitor}" if visitor else ""
        response = client.get(f"/r/{code}", headers={"User-Agent": agent, "Cookie": cookies})
        if response.status_code == 302:
            self.logged += 1
        return response

    def db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data_dir / "passerelle.db", timeout=5)

    def settle(self, within: float = 15.0) -> None:
        """Wait until nginx has written every logged redirect and the server has stored its
        position at the end of the log (so every click from it is stored too)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            lines = sum(p.read_bytes().count(b"\n") for p in self.log.parent.glob(self.log.name + "*"))
            if lines >= self.logged and self.log.exists():
                stat = self.log.stat()
                with self.db() as db:
                    row = db.execute("SELECT inode, offset FROM connect_edge_cursors").fetchone()
                if row == (stat.st_ino, stat.st_size):
                    return
            time.sleep(0.05)
        raise AssertionError(f"ingestion did not settle; server log: {self.server.log()[-2000:]}")

    def clicks(self, code: str) -> int:
        with self.db() as db:
            query = "SELECT count(*) FROM connect_clicks c JOIN connect_links l ON l.id = c.link_id WHERE l.code = ?"
            return int(db.execute(query, (code,)).fetchone()[0])

    def total(self) -> int:
        with self.db() as db:
            return int(db.execute("SELECT count(*) FROM connect_clicks").fetchone()[0])


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    if nginx_binary() is None:
        unavailable("nginx is not installed (apt-get install nginx)")
    data_dir = tmp_path_factory.mktemp("edge")
    settings = Settings(data_dir=data_dir, secret_key="live-test")
    migrate.upgrade(settings.resolved_database_url)
    codes = asyncio.run(prepare_links(settings, 12))
    port = free_port()
    server = live.start(data_dir, extra_env=ENV, port=port)
    config = EdgeConfig(
        root=data_dir / "edge" / "nginx",
        log=settings.resolved_edge_log,
        port=free_port(),
        upstream=f"127.0.0.1:{port}",
        bind="127.0.0.1",
        log_flush="100ms",
    )
    nginx = EdgeServer(config)
    try:
        nginx.start(asyncio.run(all_links(settings.resolved_database_url))[:-1])  # the last: made "later"
    except Exception:
        server.stop()
        raise
    found = Edge(data_dir, server, nginx, codes, port)
    try:
        yield found
    finally:
        nginx.stop()
        found.server.stop()  # the one running now: a test may have restarted it


def test_given_a_new_visitor_when_they_click_through_the_edge_then_redirected_with_a_cookie_and_counted_once(
    edge: Edge,
) -> None:
    code = edge.new_code()
    with edge.client() as client:
        first = edge.click(client, code)
        second = edge.click(client, code)  # another new visitor: the cached answer, its own cookie
    assert first.status_code == 302
    with edge.db() as db:
        (url,) = db.execute("SELECT url FROM connect_links WHERE code = ?", (code,)).fetchone()
    assert first.headers["location"] == url
    assert first.headers["cache-control"] == "no-store"
    cookies = [r.headers["set-cookie"] for r in (first, second)]
    visitors = [c.split(";")[0].removeprefix("pc_v=") for c in cookies]
    assert all(valid_visitor(v) for v in visitors) and visitors[0] != visitors[1]
    assert f"Max-Age={VISITOR_MAX_AGE}; Path=/; HttpOnly; SameSite=Lax" in cookies[0]
    edge.settle()
    assert edge.clicks(code) == 2
    with edge.db() as db:
        stored = {v for (v,) in db.execute("SELECT visitor FROM connect_clicks")}
    assert set(visitors) <= stored


def test_given_a_returning_visitor_within_the_window_then_counted_once_and_no_new_cookie(edge: Edge) -> None:
    code = edge.new_code()
    with edge.client() as client:
        first = edge.click(client, code)
        visitor = first.headers["set-cookie"].split(";")[0].removeprefix("pc_v=")
        again = [edge.click(client, code, visitor=visitor) for _ in range(3)]
    assert all(r.status_code == 302 and "set-cookie" not in r.headers for r in again)
    edge.settle()
    assert edge.clicks(code) == 1


def test_given_known_bots_then_redirected_but_not_counted(edge: Edge) -> None:
    code = edge.new_code()
    bots = ["Googlebot/2.1 (+http://www.google.com/bot.html)", "curl/8.5.0", "python-requests/2.32.3", ""]
    with edge.client() as client:
        assert all(edge.click(client, code, agent=agent).status_code == 302 for agent in bots)
        edge.click(client, code)  # a person, for contrast
    edge.settle()
    assert edge.clicks(code) == 1


def test_given_a_flood_from_one_address_then_only_the_burst_counts_and_the_link_is_flagged(edge: Edge) -> None:
    code = edge.new_code()
    with edge.client() as client:
        assert all(edge.click(client, code).status_code == 302 for _ in range(BURST + 100))
    edge.settle()
    assert edge.clicks(code) == BURST
    with edge.db() as db:
        (link_id,) = db.execute("SELECT id FROM connect_links WHERE code = ?", (code,)).fetchone()
        flags = db.execute(
            "SELECT count(*) FROM connect_fraud_flags WHERE kind = 'click_flood' AND subject = ?", (f"link:{link_id}",)
        ).fetchone()[0]
    assert flags == 1


def test_given_an_unknown_code_then_404_and_nothing_logged(edge: Edge) -> None:
    with edge.client() as client:
        edge.settle()
        size = edge.log.stat().st_size
        assert edge.click(client, "Nope1234").status_code == 404
        assert edge.click(client, "Nope1234").status_code == 404  # the cached miss
        assert edge.click(client, "ab").status_code == 404  # not a code: the server's own 404
    time.sleep(0.3)
    assert edge.log.stat().st_size == size


def test_given_the_server_is_killed_and_restarted_then_ingestion_resumes_without_loss_or_double_count(
    edge: Edge,
) -> None:
    code = edge.new_code()
    with edge.client() as client:
        edge.click(client, code)
        edge.settle()
        before = edge.total()
        edge.server.process.send_signal(signal.SIGKILL)  # whatever was in memory is gone
        edge.server.process.wait(timeout=10)
        # While the server is down the edge still redirects (cached target) and logs the clicks.
        down = [edge.click(client, code) for _ in range(2)]
        assert all(r.status_code == 302 for r in down)
        edge.server = live.start(edge.data_dir, extra_env=ENV, port=edge.port)
    edge.settle()
    assert edge.total() == before + 2 and edge.clicks(code) == 3


def test_given_the_log_is_rotated_then_both_files_are_read_once(edge: Edge) -> None:
    code = edge.new_code()
    with edge.client() as client:
        edge.click(client, code)
        time.sleep(0.3)  # in the old file
        os.replace(edge.log, edge.log.with_name(edge.log.name + ".1"))
        edge.click(client, code)  # still the old file: nginx has not reopened yet
        edge.nginx.reopen_log()
        time.sleep(0.3)
        edge.click(client, code)  # the new file
    edge.settle()
    assert edge.clicks(code) == 3


def test_given_a_link_newer_than_the_edge_map_then_served_through_the_cached_upstream_the_same_way(
    edge: Edge,
) -> None:
    code = edge.codes[-1]  # left out of the map the edge started with
    with edge.client() as client:
        first = edge.click(client, code)
        visitor = first.headers["set-cookie"].split(";")[0].removeprefix("pc_v=")
        again = edge.click(client, code, visitor=visitor)
    with edge.db() as db:
        (url,) = db.execute("SELECT url FROM connect_links WHERE code = ?", (code,)).fetchone()
    assert first.status_code == 302 and first.headers["location"] == url and valid_visitor(visitor)
    assert first.headers["cache-control"] == "no-store" and "set-cookie" not in again.headers
    edge.settle()
    assert edge.clicks(code) == 1
