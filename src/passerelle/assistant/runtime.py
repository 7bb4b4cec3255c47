"""Per-process state of the assistant: the catalog index, public facts and answers, cached.

One per app (kept on `app.state`), created on first use. Stale data is refreshed in the
background while the previous copy keeps answering, so no question waits for a rebuild.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.assistant import facts as facts_module
from passerelle.assistant import index as index_module
from passerelle.assistant import lang as lang_module
from passerelle.assistant.config import AssistantSettings
from passerelle.assistant.facts import OrderFact, PublicFacts
from passerelle.assistant.index import CatalogIndex
from passerelle.assistant.llm import LlmBackend
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.state import AppState

log = logging.getLogger("passerelle.assistant")
PROFILE_TTL = 60.0
STALE_ORDERS_SECONDS = 10.0  # past the TTL and within this, the last copy answers while a read refreshes it


@dataclass(frozen=True, slots=True)
class Profile:
    language: str
    currency: str


class Runtime:
    def __init__(self, state: AppState, settings: AssistantSettings | None = None) -> None:
        self.state = state
        self.settings = settings or AssistantSettings()
        s = self.settings
        self.ip_limiter = MemoryTokenBucket(rate=s.per_ip_per_second, burst=s.per_ip_per_second * 4)
        self.account_limiter = MemoryTokenBucket(rate=s.per_account_per_second, burst=s.per_account_per_second * 5)
        self.llm = (
            LlmBackend(url=s.llm_url, model=s.llm_model, api_key=s.llm_api_key, timeout=s.llm_timeout_seconds)
            if s.llm_url
            else None
        )
        self._index: CatalogIndex | None = None
        self._index_at = 0.0
        self._facts: PublicFacts | None = None
        self._facts_at = 0.0
        self._refreshing: set[str] = set()
        self._first_load = asyncio.Lock()  # many first questions at once build the index once
        self._tasks: set[asyncio.Task[None]] = set()
        self._answers: OrderedDict[tuple[Any, ...], tuple[float, bytes]] = OrderedDict()
        self._profiles: dict[int, tuple[float, Profile]] = {}
        self._orders: OrderedDict[tuple[int, int | None], tuple[float, list[OrderFact]]] = OrderedDict()
        self._orders_loading: dict[tuple[int, int | None], asyncio.Future[list[OrderFact]]] = {}

    async def index(self) -> CatalogIndex:
        if self._index is None:
            async with self._first_load:
                if self._index is None:
                    await self._load_index()
        elif time.monotonic() - self._index_at > self.settings.index_ttl_seconds:
            self._background("index", self._load_index)
        assert self._index is not None
        return self._index

    async def public_facts(self) -> PublicFacts:
        if self._facts is None:
            async with self._first_load:
                if self._facts is None:
                    await self._load_facts()
        elif time.monotonic() - self._facts_at > self.settings.facts_ttl_seconds:
            self._background("facts", self._load_facts)
        assert self._facts is not None
        return self._facts

    def invalidate(self) -> None:
        """Forget everything cached (tests, and after bulk catalog changes)."""
        self._index = None
        self._facts = None
        self._answers.clear()
        self._orders.clear()

    async def _load_index(self) -> None:
        lang_module.warm_up()
        async with self.state.db.read_sessions() as session:
            self._index = await index_module.build(session)
        self._index_at = time.monotonic()
        # The index is a few hundred thousand long-lived objects: keep the cyclic collector
        # from rescanning them (they are acyclic, so refcounting still frees an old index).
        gc.freeze()

    async def _load_facts(self) -> None:
        async with self.state.db.read_sessions() as session:
            self._facts = await facts_module.public_facts(session, now=self.state.clock.now())
        self._facts_at = time.monotonic()

    def _background(self, name: str, load: Any) -> None:
        if name in self._refreshing:
            return
        self._refreshing.add(name)

        async def run() -> None:
            try:
                await load()
            except Exception:  # noqa: BLE001 - the previous copy keeps serving
                log.exception("assistant: refreshing %s failed", name)
            finally:
                self._refreshing.discard(name)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def profile(self, user_id: int) -> Profile | None:
        now = time.monotonic()
        hit = self._profiles.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self.state.db.read_sessions() as session:
            row = (await session.execute(select(User.language, User.currency).where(User.id == user_id))).first()
        if row is None:
            return None
        profile = Profile(language=row[0], currency=row[1])
        if len(self._profiles) > 100_000:
            self._profiles.clear()
        self._profiles[user_id] = (now + PROFILE_TTL, profile)
        return profile

    async def buyer_orders(self, user_id: int, order_id: int | None) -> list[OrderFact]:
        """The asker's orders, read for them only, reused for a few seconds (a buyer asks in bursts)."""
        key = (user_id, order_id)
        now = time.monotonic()
        hit = self._orders.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        if hit is not None and hit[0] + STALE_ORDERS_SECONDS > now:
            # Answer from the copy a few seconds old and refresh behind it: a read can wait
            # for SQLite's thread for a long time when the loop is busy.
            if key not in self._orders_loading:
                self._background(f"orders:{user_id}:{order_id}", lambda: self._read_orders(key))
            return hit[1]
        return await self._read_orders(key)

    async def _read_orders(self, key: tuple[int, int | None]) -> list[OrderFact]:
        user_id, order_id = key
        pending = self._orders_loading.get(key)
        if pending is not None:  # the same asker's questions in flight share one read
            return await asyncio.shield(pending)
        future: asyncio.Future[list[OrderFact]] = asyncio.get_running_loop().create_future()
        self._orders_loading[key] = future
        try:
            async with self.state.db.read_sessions() as session:
                found = await facts_module.buyer_orders(session, buyer_id=user_id, order_id=order_id)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            self._orders_loading.pop(key, None)
        future.set_result(found)
        if self.settings.orders_ttl_seconds > 0:
            self._orders[key] = (time.monotonic() + self.settings.orders_ttl_seconds, found)
            if len(self._orders) > 50_000:
                self._orders.popitem(last=False)
        return found

    def cached_answer(self, key: tuple[Any, ...]) -> bytes | None:
        hit = self._answers.get(key)
        if hit is None:
            return None
        if hit[0] < time.monotonic():
            self._answers.pop(key, None)
            return None
        return hit[1]

    def keep_answer(self, key: tuple[Any, ...], body: bytes) -> None:
        if self.settings.answer_cache_seconds <= 0:
            return
        self._answers[key] = (time.monotonic() + self.settings.answer_cache_seconds, body)
        if len(self._answers) > self.settings.answer_cache_size:
            self._answers.popitem(last=False)


def runtime_of(app_state: Any, state: AppState) -> Runtime:
    """The app's runtime (`app_state` is FastAPI's `app.state`)."""
    runtime: Runtime | None = getattr(app_state, "assistant_runtime", None)
    if runtime is None:
        runtime = Runtime(state)
        app_state.assistant_runtime = runtime
    return runtime
