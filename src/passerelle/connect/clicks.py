"""The click hot path: `/r/{code}` answers from memory and queues the click; a flusher writes
queued clicks in batches (one transaction per batch), never one commit per click.

Clicks come from two sources and go through this one pipeline (`ClickRecorder.record`): the
Python redirect (redirect.py) and the nginx edge's click log (edge/ingest.py). A source that
must remember how far it has read registers a checkpoint: a statement the flusher runs in the
same transaction as the clicks queued before it.

Filtering, in order: known bots (user agent, via crawlerdetect, cached per agent string), a
token bucket per client address (floods are redirected but not counted), then a repeat of
the same visitor on the same link within the dedup window.
Dedup and flood state live in the process: with N processes a visitor may count once per
process at worst, which the window makes rare.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from passerelle.connect.models import Click, Creator, FraudFlag, Link
from passerelle.db.engine import Database
from passerelle.infra.ratelimit import MemoryTokenBucket

log = logging.getLogger("passerelle.connect")
CLICKS: Table = Click.__table__  # type: ignore[assignment]
CREATORS: Table = Creator.__table__  # type: ignore[assignment]

DEDUP_SECONDS = 3600
FLOOD_FLAG_AFTER = 100  # capped clicks on one link (per process) before it is flagged for review
MAX_AGENTS = 50_000
MAX_LINKS = 200_000
MAX_SEEN = 2_000_000  # (visitor, link) pairs remembered for dedup


class SessionUsers(Protocol):
    async def user_id(self, token: str, *, kind: str) -> int | None: ...


@dataclass(frozen=True, slots=True)
class LinkTarget:
    link_id: int
    creator_id: int
    campaign_id: int | None
    url: str


class BotFilter:
    def __init__(self) -> None:
        self._detect = CrawlerDetect()
        self._seen: OrderedDict[str, bool] = OrderedDict()

    def is_bot(self, agent: str) -> bool:
        if not agent:
            return True  # real browsers always send one
        hit = self._seen.get(agent)
        if hit is None:
            hit = bool(self._detect.isCrawler(agent))
            self._seen[agent] = hit
            if len(self._seen) > MAX_AGENTS:
                self._seen.popitem(last=False)
        return hit


@dataclass
class ClickStats:
    counted: int = 0
    bots: int = 0
    floods: int = 0
    repeats: int = 0
    written: int = 0


@dataclass
class ClickRecorder:
    db: Database
    ip_rate: float = 2.0
    ip_burst: float = 30.0
    flush_seconds: float = 0.1
    max_batch: int = 2000  # small batches keep each pause of the event loop short (p99)
    flood_flag_after: int = FLOOD_FLAG_AFTER
    stats: ClickStats = field(default_factory=ClickStats)

    def __post_init__(self) -> None:
        self.bots = BotFilter()
        self.limiter = MemoryTokenBucket(rate=self.ip_rate, burst=self.ip_burst, max_keys=200_000)
        self._seen: OrderedDict[tuple[str, int], float] = OrderedDict()
        self._queue: list[dict[str, Any]] = []
        self._queued = 0  # clicks ever queued; with _written, places checkpoints in the queue
        self._written = 0
        self._checkpoints: deque[tuple[int, Callable[[], Any]]] = deque()  # (clicks queued before, statement)
        self._floods: dict[int, int] = {}
        self._flagged: set[int] = set()
        self._flood_creator: dict[int, int] = {}
        self._links: OrderedDict[str, LinkTarget | None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lock = asyncio.Lock()

    def cached_target(self, code: str) -> LinkTarget | None:
        """The target if this process already knows the code (no database, no await)."""
        return self._links.get(code)

    async def target(self, code: str) -> LinkTarget | None:
        if code in self._links:
            return self._links[code]
        async with self.db.read_sessions() as session:
            row = (
                await session.execute(
                    select(Link.id, Link.creator_id, Link.campaign_id, Link.url).where(Link.code == code)
                )
            ).first()
        found = LinkTarget(row[0], row[1], row[2], row[3]) if row is not None else None
        if found is not None:  # unknown codes are not cached: a new link must work at once
            self._links[code] = found
            if len(self._links) > MAX_LINKS:
                self._links.popitem(last=False)
        return found

    async def record(
        self,
        link: LinkTarget,
        *,
        visitor: str,
        session: str | None,
        users: SessionUsers,
        ip: str,
        agent: str,
        referer: str,
        now: float,
    ) -> str:
        """A click as either source sees it (raw Referer, session token): the one entry point."""
        user_id = await users.user_id(session, kind="session") if session else None
        host = (urlsplit(referer).hostname or "") if referer else ""
        return self.offer(link, visitor=visitor, user_id=user_id, ip=ip, agent=agent, referrer=host, now=now)

    def offer(
        self, link: LinkTarget, *, visitor: str, user_id: int | None, ip: str, agent: str, referrer: str, now: float
    ) -> str:
        """Decide whether this click counts; queue it if so. Returns the outcome."""
        if self.bots.is_bot(agent):
            self.stats.bots += 1
            return "bot"
        if not self.limiter.allow(ip, now=now)[0]:
            self.stats.floods += 1
            self._floods[link.link_id] = self._floods.get(link.link_id, 0) + 1
            self._flood_creator[link.link_id] = link.creator_id
            return "flood"
        key = (visitor, link.link_id)
        last = self._seen.get(key)
        if last is not None and now - last < DEDUP_SECONDS:
            self.stats.repeats += 1
            return "repeat"
        self._seen[key] = now
        self._seen.move_to_end(key)
        while self._seen and (now - next(iter(self._seen.values())) >= DEDUP_SECONDS or len(self._seen) > MAX_SEEN):
            self._seen.popitem(last=False)  # oldest first; the cap bounds memory under a flood of new visitors
        self._queue.append(
            {
                "link_id": link.link_id,
                "creator_id": link.creator_id,
                "campaign_id": link.campaign_id,
                "visitor": visitor[:32],
                "user_id": user_id,
                "referrer_host": referrer[:100],
                "at": datetime.fromtimestamp(now, UTC),
            }
        )
        self._queued += 1
        self.stats.counted += 1
        return "counted"

    def checkpoint(self, statement: Callable[[], Any]) -> None:
        """Run `statement()` in the transaction that writes the last click queued so far (or in
        the next flush if there is none): a source's read position, stored with its clicks."""
        if self._checkpoints and self._checkpoints[-1][0] == self._queued:
            self._checkpoints[-1] = (self._queued, statement)  # a later position supersedes
        else:
            self._checkpoints.append((self._queued, statement))

    async def flush(self) -> int:
        """Write everything queued in one transaction. Returns how many clicks were written."""
        async with self._lock:
            written = self._batch_end()
            size = written - self._written
            batch, self._queue = self._queue[:size], self._queue[size:]
            floods = [(link_id, n) for link_id, n in self._floods.items() if n >= self.flood_flag_after]
            floods = [(link_id, n) for link_id, n in floods if link_id not in self._flagged]
            reached = sum(1 for mark, _ in self._checkpoints if mark <= written)
            checkpoint = self._checkpoints[reached - 1][1] if reached else None
            if not batch and not floods and checkpoint is None:
                return 0
            try:
                async with self.db.writing() as session:
                    if batch:
                        await session.execute(insert(CLICKS), batch)
                        per_creator: dict[int, int] = {}
                        for row in batch:
                            per_creator[row["creator_id"]] = per_creator.get(row["creator_id"], 0) + 1
                        await session.execute(
                            update(CREATORS)
                            .where(CREATORS.c.id == bindparam("cid"))
                            .values(clicks=CREATORS.c.clicks + bindparam("n")),
                            [{"cid": cid, "n": n} for cid, n in per_creator.items()],
                        )
                    for link_id, n in floods:
                        await session.execute(
                            _flag_statement(self.db.is_sqlite, link_id, self._flood_creator.get(link_id), n)
                        )
                    if checkpoint is not None:
                        await session.execute(checkpoint())
            except BaseException:
                # Failed or cancelled mid-write (rolled back): keep them for the next try.
                self._queue[:0] = batch
                raise
            self._flagged.update(link_id for link_id, _ in floods)
            for _ in range(reached):
                self._checkpoints.popleft()
            self._written = written
            self.stats.written += len(batch)
            return len(batch)

    def _batch_end(self) -> int:
        """How many clicks will have been written after the next batch: up to max_batch, but
        never ending between two checkpoints, where the stored position would not match the
        clicks stored (a crash would then count the lines in between twice)."""
        end = self._written + min(len(self._queue), self.max_batch)
        marks = [mark for mark, _ in self._checkpoints]
        ahead = [mark for mark in marks if mark > end]
        if not ahead:
            return end  # past the last checkpoint: clicks of the Python redirect only
        inside = [mark for mark in marks if self._written < mark <= end]
        return inside[-1] if inside else ahead[0]  # the last boundary, or finish this segment

    def pending(self) -> int:
        return len(self._queue)

    def settled(self) -> bool:
        """Nothing queued and every checkpoint written."""
        return not self._queue and not self._checkpoints

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="connect-click-flusher")

    async def stop(self) -> None:
        """Let the flusher finish its current batch (never cancel a write), then drain the queue."""
        self._stopping = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self.settled():
            await self.flush()

    async def _loop(self) -> None:
        while not self._stopping:
            if len(self._queue) < self.max_batch:
                await asyncio.sleep(self.flush_seconds)
            else:
                await asyncio.sleep(0)
            try:
                # One batch per turn, then back to the requests: a backlog drains over several turns.
                await self.flush()
            except Exception:  # noqa: BLE001 - the flusher must survive a failed batch; it retries
                log.exception("click flush failed")
                await asyncio.sleep(self.flush_seconds * 10)  # back off; the batch is kept


def _flag_statement(is_sqlite: bool, link_id: int, creator_id: int | None, n: int) -> Any:
    values = {
        "creator_id": creator_id,
        "kind": "click_flood",
        "subject": f"link:{link_id}",
        "detail": {"capped_clicks": n},
        "status": "open",
        "created_at": datetime.now(UTC),
    }
    maker = sqlite_insert if is_sqlite else pg_insert
    return maker(FraudFlag).values(**values).on_conflict_do_nothing(index_elements=["kind", "subject"])


def now_seconds() -> float:
    return time.time()
