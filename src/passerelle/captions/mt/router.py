"""Picks an engine per language pair (configured order), pivots through a third language when no
engine has the pair directly (fr -> es -> en on Apertium), and caches results."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from passerelle.captions.cache import TranslationCache
from passerelle.captions.mt.base import TranslationEngine
from passerelle.captions.types import Translation, TranslationFailed, UnsupportedPair

log = logging.getLogger("passerelle.captions")


@dataclass(frozen=True, slots=True)
class Route:
    """One or two hops, each (engine, source, target)."""

    hops: tuple[tuple[TranslationEngine, str, str], ...]

    @property
    def label(self) -> str:
        names = {engine.name for engine, _s, _t in self.hops}
        if len(self.hops) == 1:
            return self.hops[0][0].name
        path = "-".join([self.hops[0][1], *(t for _e, _s, t in self.hops)])
        return f"{'+'.join(sorted(names))}:{path}"


class Translator:
    def __init__(
        self,
        engines: Sequence[TranslationEngine],
        *,
        pivots: Sequence[str] = ("es", "en"),
        cache: TranslationCache | None = None,
    ) -> None:
        self.engines = list(engines)
        self.pivots = list(pivots)
        self.cache = cache or TranslationCache()
        self._routes: dict[tuple[str, str], Route | None] = {}
        self._inflight: dict[tuple[str, str, str], Future[str]] = {}
        self._lock = threading.Lock()

    def _direct(self, source: str, target: str) -> TranslationEngine | None:
        return next((e for e in self.engines if (source, target) in e.pairs()), None)

    def route(self, source: str, target: str) -> Route | None:
        key = (source, target)
        if key not in self._routes:
            direct = self._direct(source, target)
            found: Route | None = Route(((direct, source, target),)) if direct else None
            for pivot in self.pivots if found is None else ():
                first, second = self._direct(source, pivot), self._direct(pivot, target)
                if first and second and pivot not in (source, target):
                    found = Route(((first, source, pivot), (second, pivot, target)))
                    break
            self._routes[key] = found
        return self._routes[key]

    def supports(self, source: str, target: str) -> bool:
        return source == target or self.route(source, target) is not None

    def is_direct(self, source: str, target: str) -> bool:
        route = self.route(source, target)
        return route is not None and len(route.hops) == 1

    def engine_label(self, source: str, target: str) -> str:
        if source == target:
            return "identity"
        route = self.route(source, target)
        return route.label if route else "none"

    def pairs(self) -> list[tuple[str, str]]:
        """Every pair reachable directly or through one pivot."""
        languages = sorted({lang for e in self.engines for pair in e.pairs() for lang in pair})
        return [(s, t) for s in languages for t in languages if s != t and self.route(s, t)]

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[Translation]:
        """Translate in a worker thread's context: cache misses go to the engines in one batch per hop."""
        if source == target:
            return [Translation(t, "identity") for t in texts]
        route = self.route(source, target)
        if route is None:
            raise UnsupportedPair(source, target)
        results: list[Translation | None] = [self.cache.get(source, target, t) for t in texts]
        missing = sorted({t for t, r in zip(texts, results, strict=True) if r is None and t.strip()})
        fresh: dict[str, Translation] = {}
        if missing:
            current = missing
            for engine, hop_source, hop_target in route.hops:
                current = self._hop(engine, current, hop_source, hop_target)
            for text, out in zip(missing, current, strict=True):
                fresh[text] = Translation(out, route.label)
                self.cache.put(source, target, text, fresh[text])
        return [r or fresh.get(t) or Translation(t, "empty") for t, r in zip(texts, results, strict=True)]

    def _hop(self, engine: TranslationEngine, texts: list[str], source: str, target: str) -> list[str]:
        """One hop. A pivot hop reuses (and fills) the cache of its own pair, and a text already being
        translated by another thread is waited for: en->fr via es next to en->es costs one en->es call."""
        cached = [self.cache.get(source, target, t) for t in texts]
        mine: list[str] = []
        theirs: dict[str, Future[str]] = {}
        late: dict[str, str] = {}
        with self._lock:
            for text in {t for t, c in zip(texts, cached, strict=True) if c is None}:
                pending = self._inflight.get((source, target, text))
                # Re-checked under the lock: another thread may have cached it and left in between.
                hit = self.cache.get(source, target, text) if pending is None else None
                if hit is not None:
                    late[text] = hit.text
                elif pending is None:
                    self._inflight[(source, target, text)] = Future()
                    mine.append(text)
                else:
                    theirs[text] = pending
        done: dict[str, str] = {}
        try:
            if mine:
                out = engine.translate_batch(mine, source, target)
                if len(out) != len(mine):
                    raise TranslationFailed(f"{engine.name} returned {len(out)} texts for {len(mine)}")
                done = dict(zip(mine, out, strict=True))
                if self.route(source, target) == Route(((engine, source, target),)):
                    for text, translated in done.items():
                        self.cache.put(source, target, text, Translation(translated, engine.name))
        except BaseException as error:
            with self._lock:
                for text in mine:
                    self._inflight.pop((source, target, text)).set_exception(error)
            raise
        with self._lock:
            for text in mine:
                self._inflight.pop((source, target, text)).set_result(done[text])
        done.update({text: future.result() for text, future in theirs.items()})
        done.update(late)
        return [c.text if c is not None else done[t] for t, c in zip(texts, cached, strict=True)]

    def translate(self, text: str, source: str, target: str) -> Translation:
        return self.translate_batch([text], source, target)[0]

    async def atranslate_batch(self, texts: list[str], source: str, target: str) -> list[Translation]:
        """Cache hits answered on the loop; misses translated in a thread so the loop keeps serving."""
        if source == target:
            return [Translation(t, "identity") for t in texts]
        if self.route(source, target) is None:
            raise UnsupportedPair(source, target)
        hits = [self.cache.get(source, target, t) for t in texts]
        if all(h is not None for h in hits):
            return [h for h in hits if h is not None]
        return await asyncio.to_thread(self.translate_batch, texts, source, target)
