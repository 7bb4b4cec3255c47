"""The single-writer machinery both shards share: claims wait in a list, one writer task
takes everything waiting (up to MAX_BATCH), makes it durable its own way, then answers
each group of claims through its future. No timer: a batch is whatever arrived while the
previous one was being made durable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from passerelle.festival.engine.rules import Claim, Outcome

MAX_BATCH = 8192

log = logging.getLogger(__name__)

Answers = list[Outcome]
OnAnswers = Callable[[Answers | None, BaseException | None], None]


class Callback:
    """A group's answers handed to a function instead of a future: the HTTP protocol
    answers a claim from here, without a task and a future per claim (~15 µs each)."""

    __slots__ = ("_on_answers",)

    def __init__(self, on_answers: OnAnswers) -> None:
        self._on_answers = on_answers

    def done(self) -> bool:
        return False

    def set_result(self, answers: Answers) -> None:
        self._call(answers, None)

    def set_exception(self, error: BaseException) -> None:
        self._call(None, error)

    def _call(self, answers: Answers | None, error: BaseException | None) -> None:
        try:
            self._on_answers(answers, error)
        except Exception:  # one failing answer must not keep the rest of the batch waiting
            log.exception("a claim's answer callback failed")


Group = tuple[list[Claim], "asyncio.Future[Answers] | Callback"]


class ClaimBatcher:
    def __init__(self, *, clock: Callable[[], float] = time.time, name: str) -> None:
        self.clock = clock
        self.name = name
        # Groups of claims (one from an HTTP request, thousands from a batch intake).
        self._waiting: list[Group] = []
        self._waiting_claims = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batch_seconds: list[float] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def queue_depth(self) -> int:
        """Claims waiting for a batch: what admission control watches."""
        return self._waiting_claims

    async def claim_many(self, claims: list[Claim]) -> Answers:
        """One outcome per claim (reservation id or refusal code, see `rules.Outcome`), in
        order, once their batch is durable."""
        self.ensure_started()
        future: asyncio.Future[Answers] = asyncio.get_running_loop().create_future()
        self._waiting.append((claims, future))
        self._waiting_claims += len(claims)
        self._wake.set()
        return await future

    def submit(self, claims: list[Claim], on_answers: OnAnswers) -> None:
        """Like claim_many, answered through `on_answers(answers, error)` once durable."""
        self.ensure_started()
        self._waiting.append((claims, Callback(on_answers)))
        self._waiting_claims += len(claims)
        self._wake.set()

    def _has_work(self) -> bool:
        return bool(self._waiting)

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._has_work():
                await self._one_batch()

    async def _one_batch(self) -> None:
        raise NotImplementedError

    def _take_batch(self) -> list[Group]:
        taken, count = 0, 0
        for claims, _ in self._waiting:
            if taken and count + len(claims) > MAX_BATCH:
                break
            taken += 1
            count += len(claims)
        batch, self._waiting = self._waiting[:taken], self._waiting[taken:]
        self._waiting_claims -= count
        return batch

    @staticmethod
    def _answer(batch: list[Group], answers: Answers) -> None:
        position = 0
        for claims, future in batch:
            size = len(claims)
            if not future.done():
                future.set_result(answers[position : position + size])
            position += size

    @staticmethod
    def _fail(batch: list[Group], error: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(error)
