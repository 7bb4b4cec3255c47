"""`passerelle bench clicks`: `GET /r/{code}` over loopback, driven by wrk from a separate
process: through the nginx edge (the headline figure, when nginx is installed) and through the
Python redirect of the real server (`python_*`). Every request is a new visitor, so every
redirect must become a stored click: `lost` = redirects answered - clicks in the database once
the edge's log is ingested and the server has stopped (each path has its own links)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from passerelle.bench import clicks_edge, wrk_scripts
from passerelle.bench.fixtures import make_catalog
from passerelle.bench.server import BenchServer
from passerelle.catalog.models import Sku
from passerelle.config import Settings
from passerelle.connect.models import Click, Creator, Link
from passerelle.connect.service.links import new_code
from passerelle.db import migrate
from passerelle.state import AppState

LINKS = 50

SCRIPT = """
local codes = {%s}
local counter = 0
local tag = "t"
redirects = 0
others = 0
local threads = {}
function setup(thread)
  thread:set("tag", string.format("v%%09d", math.random(1, 999999999)))
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local code = codes[(counter %% #codes) + 1]
  return wrk.format("GET", "/r/" .. code, {
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    ["Cookie"] = string.format("pc_v=%%s%%012d", tag, counter)})
end
response = function(status, headers, body)
  if status == 302 then redirects = redirects + 1 else others = others + 1 end
end
done = function(summary, latency, requests)
  local r, o = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("redirects"); o = o + t:get("others") end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "redirects": %%d, "others": %%d, "socket_errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), r, o, errors))
end
"""


async def prepare_links(settings: Settings, count: int = LINKS) -> list[str]:
    """One approved creator with `count` product links; returns their codes."""
    state = AppState.from_settings(settings)
    try:
        catalog = await make_catalog(state, merchants_count=1, products_each=5)
        async with state.db.sessions() as session:
            product_ids = list(
                (await session.execute(select(Sku.product_id).where(Sku.id.in_(catalog.sku_ids)))).scalars()
            )
            creator = Creator(handle="benchcreator", display_name="Bench", status="approved")
            session.add(creator)
            await session.flush()
            codes = [new_code() for _ in range(count)]
            for i, code in enumerate(codes):
                product_id = product_ids[i % len(product_ids)]
                session.add(
                    Link(
                        code=code,
                        creator_id=creator.id,
                        target_kind="product",
                        target_id=product_id,
                        url=f"/p/{product_id}",
                    )
                )
            await session.commit()
        return codes
    finally:
        await state.db.dispose()


async def _stored(settings: Settings, codes: list[str]) -> int:
    state = AppState.from_settings(settings)
    try:
        async with state.db.read_sessions() as session:
            query = select(func.count()).select_from(Click).join(Link, Link.id == Click.link_id)
            return int((await session.execute(query.where(Link.code.in_(codes)))).scalar_one())
    finally:
        await state.db.dispose()


def _wrk(url: str, script: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench clicks needs wrk: apt-get install wrk")
    done = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    out = done.stdout
    return dict(json.loads(next(line for line in out.splitlines() if line.startswith("{"))))


def _rate(result: dict[str, Any], key: str = "redirects") -> float:
    return float(result[key]) / (float(result["duration_us"]) / 1e6)


def run(*, seconds: int = 10, connections: int = 64, workers: int = 1, edge: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="passerelle-clicks-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        migrate.upgrade(settings.resolved_database_url)
        codes = asyncio.run(prepare_links(settings, 2 * LINKS))
        python_codes, edge_codes = codes[:LINKS], codes[LINKS:]  # separate links: separate counts
        script = data_dir / "clicks.lua"
        script.write_text(SCRIPT % ",".join(f'"{c}"' for c in python_codes))
        edge_script = data_dir / "edge.lua"
        edge_script.write_text(SCRIPT % ",".join(f'"{c}"' for c in edge_codes))
        edge = edge and clicks_edge.available()
        env = {
            # Loopback is one address: lift the per-address flood cap for the load generator.
            "PASSERELLE_CONNECT_CLICKS_PER_IP_PER_SECOND": "1000000000",
            "PASSERELLE_CONNECT_CLICK_BURST": "1000000000",
            "PASSERELLE_RUN_WORKER": "false",
            "PASSERELLE_CONNECT_EDGE": "true" if edge else "false",
        }
        noop = data_dir / "noop.lua"
        noop.write_text(wrk_scripts.noop_script())
        through_edge: dict[str, Any] | None = None
        with BenchServer(data_dir, env=env, workers=workers) as server:
            # The same server's no-op route: the stack's ceiling on this machine, right now.
            ceiling = _wrk(server.url, noop, seconds=max(3, seconds // 2), connections=connections)
            print("bench clicks: through the Python redirect...", file=sys.stderr)
            result = _wrk(server.url, script, seconds=seconds, connections=connections)
            if edge:
                through_edge = clicks_edge.measure(
                    settings, server.port, edge_script, _wrk, seconds=seconds, connections=connections
                )
        # The server flushed its queue on shutdown: every redirect must be a stored click.
        stored = asyncio.run(_stored(settings, python_codes))
        edge_stored = asyncio.run(_stored(settings, edge_codes)) if through_edge else 0
    python_per_s, ceiling_per_s = _rate(result), _rate(ceiling, "requests")
    # Requests still in flight when wrk stops are stored but not counted by wrk: never negative.
    python = {
        "python_clicks_per_s": round(python_per_s),
        "python_p50_ms": round(result["p50_us"] / 1000, 2),
        "python_p99_ms": round(result["p99_us"] / 1000, 2),
        "python_lost": max(0, result["redirects"] - stored),
        "python_ceiling_per_s": round(ceiling_per_s),
        "python_ratio": round(python_per_s / ceiling_per_s, 2),
    }
    main, main_stored, main_ceiling = (
        (through_edge, edge_stored, through_edge["ceiling_per_s"]) if through_edge else (result, stored, ceiling_per_s)
    )
    return {
        "mode": "edge" if through_edge else "python",
        "clicks_per_s": round(_rate(main)),
        "p50_ms": round(main["p50_us"] / 1000, 2),
        "p99_ms": round(main["p99_us"] / 1000, 2),
        "lost": max(0, main["redirects"] - main_stored),
        "ceiling_per_s": round(main_ceiling),
        "ratio": round(_rate(main) / main_ceiling, 2),
        "redirects": main["redirects"],
        "stored": main_stored,
        "non_redirects": main["others"],
        "socket_errors": main["socket_errors"],
        **({"ingest_wait_s": through_edge["ingest_wait_s"]} if through_edge else {}),
        **python,
        "connections": connections,
        "workers": workers,
        "seconds": seconds,
    }
