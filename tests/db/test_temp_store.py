"""Write connections keep a savepoint's statement journal in memory (db/engine.py): on disk
it is a temporary file created and unlinked once per group commit or so, whose cost on this
machine's ext4 grows with the inodes such files leave deleted behind them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import text

from passerelle.state import AppState

ROWS = 2_000  # ~250 KiB of pages: past SQLite's 64 KiB before a statement journal spills


def _open_temp_files() -> list[str]:
    """SQLite's temporary files open in this process (unlinked, named etilqs_...)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # closed meanwhile (the listing's own descriptor)
        if "etilqs_" in target:
            found.append(target)
    return found


def test_given_sqlite_defaults_then_a_large_savepoint_spills_its_journal_to_a_temporary_file(tmp_path: Path) -> None:
    """What the next test guards against, seen with sqlite3's defaults: the check can fail."""
    raw = sqlite3.connect(tmp_path / "defaults.db", isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode=WAL")  # as the product's connections
        raw.execute("CREATE TABLE scratch (id INTEGER PRIMARY KEY, v TEXT)")
        raw.executemany("INSERT INTO scratch (v) VALUES (?)", [("x" * 100,)] * ROWS)
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("SAVEPOINT member")
        raw.execute("UPDATE scratch SET v = 'y'")
        assert _open_temp_files()
        raw.execute("ROLLBACK")
    finally:
        raw.close()


async def test_given_a_write_transaction_with_a_savepoint_then_its_journal_stays_in_memory(state: AppState) -> None:
    async with state.db.writing() as session:
        await session.execute(text("CREATE TABLE scratch (id INTEGER PRIMARY KEY, v TEXT)"))
        await session.execute(text("INSERT INTO scratch (v) VALUES (:v)"), [{"v": "x" * 100}] * ROWS)
    async with state.db.writing() as session:
        async with session.begin_nested():  # SAVEPOINT, as a group commit member's
            await session.execute(text("UPDATE scratch SET v = 'y'"))
            assert _open_temp_files() == []
        assert (await session.execute(text("SELECT count(*) FROM scratch WHERE v = 'y'"))).scalar_one() == ROWS
