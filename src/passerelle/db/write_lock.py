"""SQLite's single writer, queued in order within a process and between processes.

Inside a process an asyncio lock queues the writers. Between processes (a `passerelle` CLI
command while the server runs, an outbox consumer in a process of its own) SQLite's own
busy handler would be the only arbiter, and it waits by sleeping (1, 2, 5 ... 100 ms): a
process whose write transactions follow each other back to back never leaves a sleeper a
gap, and the other starves. So each write transaction also holds an advisory lock on a file
beside the database (`<database>.write-lock`): a process blocked on it wakes as soon as it
is released. Uncontended it costs two `lockf` calls; contended, the wait happens on a
thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from types import TracebackType


class WriteLock:
    def __init__(self, path: Path | None) -> None:
        self._local = asyncio.Lock()
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600) if path is not None else None

    def locked(self) -> bool:
        return self._local.locked()

    async def acquire(self) -> bool:
        await self._local.acquire()
        await self._lock_file()  # gives the local lock back itself when it fails
        return True

    async def _lock_file(self) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            pass  # another process writes: wait for it off the event loop
        except BaseException:
            self._local.release()
            raise
        try:
            waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.lockf, fd, fcntl.LOCK_EX)
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread may still get the file lock. Until it has returned (and given the file
            # lock back), this process's writers stay queued on the local lock: one let in
            # meanwhile would share the file lock with that thread (POSIX locks belong to the
            # process), and lose it when the thread unlocks.
            def give_back(done: asyncio.Future[None]) -> None:
                try:
                    if not done.cancelled() and done.exception() is None:
                        fcntl.lockf(fd, fcntl.LOCK_UN)
                finally:
                    self._local.release()

            waiting.add_done_callback(give_back)
            raise
        except BaseException:
            self._local.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._local.release()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
