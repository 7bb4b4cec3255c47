"""The write lock between processes (db/write_lock.py): a writer waits for another process's
transaction without blocking its event loop, gives the lock back when cancelled, and two
processes writing back to back both get their turns on one SQLite database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from passerelle.db.write_lock import WriteLock
from tests.loop_ticks import counting_ticks

HOLD = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.lockf(fd, fcntl.LOCK_EX)
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)

# Back-to-back write transactions for a while; prints how many it committed.
WRITER = textwrap.dedent(
    """
    import asyncio, sys, time
    from sqlalchemy import text
    from passerelle.db.engine import Database

    async def main():
        db = Database(sys.argv[1])
        done, until = 0, time.monotonic() + float(sys.argv[3])
        while time.monotonic() < until:
            async with db.writing() as session:
                await session.execute(text("INSERT INTO beats (writer) VALUES (:w)"), {"w": sys.argv[2]})
                time.sleep(0.002)  # a transaction that holds the lock a little, as real ones do
            done += 1
        await db.dispose()
        print(done)

    asyncio.run(main())
    """
)


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


async def test_given_another_process_writing_then_the_lock_waits_without_blocking_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "db.write-lock"
    lock = WriteLock(path)
    holder = hold(path, 0.4)
    async with counting_ticks() as ticks:
        started = time.monotonic()
        async with lock:
            waited = time.monotonic() - started
            assert holder.wait(timeout=5) == 0  # it had let go before we got in
    assert waited >= 0.2
    assert ticks.count >= 10  # the event loop kept running while we waited
    lock.close()


async def abandoned_wait(path: Path) -> tuple[WriteLock, subprocess.Popen[str]]:
    """A lock whose writer was cancelled while another process (returned) held the file lock."""
    lock = WriteLock(path)
    holder = hold(path, 0.3)
    waiting = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0.1)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    return lock, holder


async def test_given_a_waiting_writer_cancelled_then_the_lock_is_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "db.write-lock"
    lock, holder = await abandoned_wait(path)
    holder.wait(timeout=5)
    await asyncio.sleep(0.2)  # our thread got the file lock when the holder left, then gave it back
    assert not lock.locked()
    after = hold(path, 0)  # another process takes it at once
    assert after.wait(timeout=5) == 0
    lock.close()


PROBE = textwrap.dedent(
    """
    import fcntl, os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("free")
    except OSError:
        print("taken")
    """
)


def probe(path: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


async def test_given_a_cancelled_wait_then_the_next_writer_still_holds_the_file_lock_once_in(tmp_path: Path) -> None:
    path = tmp_path / "db.write-lock"
    lock, holder = await abandoned_wait(path)
    # The next writer of this process waits for the abandoned thread to return and give the
    # file lock back; then it takes the file lock for itself and keeps it.
    async with lock:
        assert holder.wait(timeout=5) == 0
        await asyncio.sleep(0.1)  # the abandoned thread's give-back would have run by now
        assert probe(path) == "taken"
    assert probe(path) == "free"
    lock.close()


def test_given_two_processes_writing_back_to_back_then_both_get_their_turns(tmp_path: Path) -> None:
    import sqlite3

    database = tmp_path / "shared.db"
    with sqlite3.connect(database) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE beats (id INTEGER PRIMARY KEY, writer TEXT)")
    url = f"sqlite+aiosqlite:///{database}"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, name, "1.5"], stdout=subprocess.PIPE, text=True)
        for name in ("a", "b")
    ]
    counts = [int(writer.communicate(timeout=60)[0]) for writer in writers]
    assert all(writer.returncode == 0 for writer in writers)
    # Without the file lock one of them got a handful of turns in the same time (SQLite's busy
    # handler sleeps between its tries while the other commits back to back).
    assert min(counts) >= max(counts) / 4, counts
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM beats").fetchone()[0] == sum(counts)
