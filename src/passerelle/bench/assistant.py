"""`passerelle bench assistant`: the shopping assistant through the real server.

The demo marketplace is seeded into a fresh embedded database; a labelled question set
(fr, en, es) is generated from its catalog. The bench process first asks every labelled
question once and checks the answers, then wrk (its own process) drives the same mix at
full speed. A second server with the answer cache turned off measures the engine itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from passerelle.accounts import service as accounts
from passerelle.accounts.models import User
from passerelle.assistant.index import build
from passerelle.assistant.labelled import Labelled, generate, is_correct
from passerelle.bench import wrk_scripts
from passerelle.bench.server import BenchServer
from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.orders.models import Order
from passerelle.seed.demo import seed_demo
from passerelle.state import AppState

SUMMARY = """
local non2xx = 0
response = function(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "non_2xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors, summary.errors.status))
end
"""


async def _prepare(settings: Settings) -> list[Labelled]:
    state = AppState.from_settings(settings)
    try:
        await seed_demo(state)
        async with state.db.read_sessions() as session:
            index = await build(session)
        async with state.db.sessions() as session:
            # The demo buyers who have orders ask about them, signed in with a bearer token.
            buyer_ids = (await session.execute(select(Order.buyer_id).distinct().order_by(Order.buyer_id))).scalars()
            tokens = []
            for buyer_id in list(buyer_ids)[:2]:
                user = await session.get(User, buyer_id)
                assert user is not None
                tokens.append(await accounts.issue_api_token(session, user=user, days=1, name="bench"))
            await session.commit()
        return generate(index, await state.fx(), tokens=tuple(tokens))
    finally:
        await state.db.dispose()


def _lua(questions: list[Labelled]) -> str:
    bodies = ",\n".join("[==[" + json.dumps({"text": q.text}) + "]==]" for q in questions)
    tokens = ",\n".join('"' + (q.token or "") + '"' for q in questions)
    return (
        f"""
local bodies = {{
{bodies}
}}
local tokens = {{
{tokens}
}}
local counter = 0
request = function()
  counter = counter + 1
  local i = (counter % #bodies) + 1
  local headers = {{["Content-Type"] = "application/json", ["Accept-Language"] = "fr"}}
  if tokens[i] ~= "" then headers["Authorization"] = "Bearer " .. tokens[i] end
  return wrk.format("POST", "/api/v1/assistant/messages", headers, bodies[i])
end
"""
        + SUMMARY
    )


def _check(url: str, questions: list[Labelled]) -> tuple[float, list[dict[str, Any]]]:
    wrong: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=30, headers={"Accept-Language": "fr"}) as client:
        for question in questions:
            headers = {"Authorization": f"Bearer {question.token}"} if question.token else None
            body = client.post("/api/v1/assistant/messages", json={"text": question.text}, headers=headers).json()
            if not is_correct(question, body):
                wrong.append(
                    {**question.as_dict(), "got_intent": body.get("intent"), "got_language": body.get("language")}
                )
    return 1 - len(wrong) / len(questions), wrong


def _wrk(url: str, script: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench assistant needs wrk: apt-get install wrk")
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    return dict(json.loads(line))


def _measure(data_dir: Path, script: Path, env: dict[str, str], *, seconds: int, connections: int) -> dict[str, Any]:
    with BenchServer(data_dir, env=env) as server:
        _wrk(server.url, script, seconds=2, connections=connections)  # warm-up: index built, caches filled
        return _wrk(server.url, script, seconds=seconds, connections=connections)


def run(*, seconds: int = 8, connections: int = 32, uncached: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="passerelle-assistant-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        migrate.upgrade(settings.resolved_database_url)
        questions = asyncio.run(_prepare(settings))
        script = data_dir / "assistant.lua"
        script.write_text(_lua(questions))
        env = {
            "PASSERELLE_ASSISTANT_PER_IP_PER_SECOND": "1000000000",
            "PASSERELLE_ASSISTANT_PER_ACCOUNT_PER_SECOND": "1000000000",
            "PASSERELLE_RUN_WORKER": "false",
        }
        with BenchServer(data_dir, env=env) as server:
            correct, wrong = _check(server.url, questions)
            _wrk(server.url, script, seconds=2, connections=connections)
            cached = _wrk(server.url, script, seconds=seconds, connections=connections)
            # The same server's no-op route: what the HTTP stack alone allows on this machine now.
            (data_dir / "noop.lua").write_text(wrk_scripts.noop_script())
            ceiling = _wrk(server.url, data_dir / "noop.lua", seconds=seconds, connections=connections)
        result: dict[str, Any] = {
            "requests_per_s": round(cached["requests"] / (cached["duration_us"] / 1e6)),
            "p50_ms": round(cached["p50_us"] / 1000, 2),
            "p99_ms": round(cached["p99_us"] / 1000, 2),
            "answered_correctly": round(correct, 4),
            "questions": len(questions),
            "languages": ["fr", "en", "es"],
            "errors": cached["socket_errors"],
            "non_2xx": cached["non_2xx"],
            "connections": connections,
            "seconds": seconds,
            "wrong": wrong[:10],
            "ceiling_per_s": round(ceiling["requests"] / (ceiling["duration_us"] / 1e6)),
            "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews the figures
        }
        if uncached:
            raw = _measure(
                data_dir,
                script,
                {**env, "PASSERELLE_ASSISTANT_ANSWER_CACHE_SECONDS": "0"},
                seconds=seconds,
                connections=connections,
            )
            result["uncached_requests_per_s"] = round(raw["requests"] / (raw["duration_us"] / 1e6))
            result["uncached_p99_ms"] = round(raw["p99_us"] / 1000, 2)
            result["uncached_non_2xx"] = raw["non_2xx"]
    return result
