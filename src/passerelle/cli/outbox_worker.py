"""The outbox worker `passerelle serve` runs beside itself, so that one command uses both cores.

On a machine with two cores or more the server's event loop keeps to the requests and a
`passerelle worker` child consumes the outbox (payment webhooks, paid-order bookings, mails)
on the other core: bench checkout measured 663-713 paid orders/s that way against 584-605
with the outbox inside the server, alternated (docs/performance.md, Checkout). On one core the two would
only take turns, so the server keeps its outbox there.

The child runs in a session of its own (a terminal's Ctrl-C reaches `serve` alone, which
then stops the child after the server, so no message is leased by a worker already gone),
is started again when it dies, and leaves by itself when `serve` is killed outright
(`PARENT_ENV`, checked by `passerelle worker`).
"""

from __future__ import annotations

import enum
import os
import subprocess
import sys
import threading
import time

from passerelle.config import Settings

# The pid of the `serve` that started this worker: the worker leaves once it is gone.
PARENT_ENV = "PASSERELLE_WORKER_PARENT"
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)  # seconds, a little longer after each quick death
STEADY_SECONDS = 60.0  # a worker that ran this long starts again from the first delay


class OutboxPlace(enum.StrEnum):
    auto = "auto"  # a worker process when the machine has two cores or more
    worker = "worker"
    server = "server"


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def runs_in_worker(place: OutboxPlace, settings: Settings, cores: int | None = None) -> bool:
    """Whether `serve` should start a worker. Not when the outbox is off (`run_worker`) or
    when the operator runs workers of their own (`outbox_process` already set)."""
    if not settings.run_worker or settings.outbox_process or place is OutboxPlace.server:
        return False
    return place is OutboxPlace.worker or (cores if cores is not None else usable_cores()) >= 2


class WorkerSupervisor:
    """One `passerelle worker` child, started again (after a growing pause) when it exits
    while the server runs."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self._watcher = threading.Thread(target=self._watch, name="outbox-worker-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watcher.start()

    def _spawn(self) -> None:
        env = {**os.environ, "PASSERELLE_OUTBOX_PROCESS": "true", PARENT_ENV: str(os.getpid())}
        with self._lock:
            if self._stopping.is_set():
                return
            # Its output goes where the server's does.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "passerelle.cli", "worker"], env=env, start_new_session=True
            )

    def _watch(self) -> None:
        quick_deaths = 0
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            quick_deaths = 1 if time.monotonic() - started >= STEADY_SECONDS else quick_deaths + 1
            delay = RESTART_DELAYS[min(quick_deaths, len(RESTART_DELAYS)) - 1]
            print(f"outbox worker exited with {code}: starting another in {delay:.1f}s", file=sys.stderr, flush=True)
            if self._stopping.wait(delay):
                return
            self._spawn()

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the worker finishes the messages in hand first; killed after `timeout`."""
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
