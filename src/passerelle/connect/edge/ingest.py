"""Reads the edge's click log back into the click pipeline (ClickRecorder.record), in process.

The read position (file inode + byte offset of whole lines read) is stored in
connect_edge_cursors by the click flusher, in the same transaction as the clicks read before
it (ClickRecorder.checkpoint). A checkpoint is registered before every point where this task
can yield, so whatever the flusher has written is always covered by a stored position: after a
restart or a crash, reading resumes exactly after the last line whose clicks are stored.

Rotation: when the log path names a new file (renamed, then nginx reopened it on SIGUSR1), the
old file is read to its end and left once it has been quiet for ROTATION_GRACE; a restart in
between finds the old file under `<log>.1`. A file that shrank (copytruncate) is read from 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from passerelle.connect.clicks import ClickRecorder, SessionUsers
from passerelle.connect.cookies import valid_visitor
from passerelle.connect.models import EdgeCursor
from passerelle.db.engine import Database

log = logging.getLogger("passerelle.connect.edge")
SOURCE = "clicks"
LOG_TAG = "c1"  # first field of every click-log line (nginx.py writes the format): its version
CHUNK = 1 << 20
GROUP = 1000  # lines between two yields to the event loop
ROTATION_GRACE = 3.0  # seconds; longer than nginx's log flush interval
MAX_PENDING = 20_000  # queued clicks above which reading pauses (the flusher is behind)
_TAG = LOG_TAG.encode()
_ESCAPED = re.compile(rb"\\x([0-9A-Fa-f]{2})")


@dataclass
class IngestStats:
    lines: int = 0
    malformed: int = 0
    unknown_links: int = 0


def _text(raw: bytes) -> str:
    """A log field as the Python path sees the header: nginx writes "-" for empty and escapes
    `"`, `\\` and bytes outside printable ASCII as \\xXX; headers are latin-1 there too."""
    if raw == b"-":
        return ""
    if b"\\x" in raw:
        raw = _ESCAPED.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return raw.decode("latin-1")


def _cursor(inode: int, offset: int) -> Callable[[], Any]:
    return lambda: update(EdgeCursor).where(EdgeCursor.source == SOURCE).values(inode=inode, offset=offset)


@dataclass
class EdgeIngester:
    path: Path
    recorder: ClickRecorder
    users: SessionUsers
    db: Database
    poll_seconds: float = 0.2
    stats: IngestStats = field(default_factory=IngestStats)

    def __post_init__(self) -> None:
        self._fd: int | None = None
        self.inode = 0
        self.offset = 0
        self._quiet_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="connect-edge-ingest")

    async def stop(self) -> None:
        # Safe to cancel at any await: each one is preceded by a checkpoint.
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close()

    async def _run(self) -> None:
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep ingesting; the position on disk is consistent
                log.exception("edge click log ingestion failed; retrying")
                self._close()
                await asyncio.sleep(1.0)

    async def _follow(self) -> None:
        self._resume(*await self._stored_position())
        while True:
            if self._fd is None and not self._open(self.path, 0):
                await asyncio.sleep(self.poll_seconds)
                continue
            if self.recorder.pending() > MAX_PENDING:
                await asyncio.sleep(self.recorder.flush_seconds)
                continue
            assert self._fd is not None
            data = os.pread(self._fd, CHUNK, self.offset)
            end = data.rfind(b"\n")
            if end < 0:  # nothing new (or half a line): look for a rotation, then wait
                if not self._rotated():
                    await asyncio.sleep(self.poll_seconds)
                continue
            self._quiet_since = None
            await self._ingest(data, end + 1)

    async def _stored_position(self) -> tuple[int, int]:
        async with self.db.writing() as session:
            row = (
                await session.execute(select(EdgeCursor.inode, EdgeCursor.offset).where(EdgeCursor.source == SOURCE))
            ).first()
            if row is None:
                session.add(EdgeCursor(source=SOURCE, inode=0, offset=0))
                return 0, 0
            return int(row[0]), int(row[1])

    def _resume(self, inode: int, offset: int) -> None:
        self._close()
        for candidate in (self.path, self.path.with_name(self.path.name + ".1")):
            with contextlib.suppress(FileNotFoundError):
                if inode and os.stat(candidate).st_ino == inode and self._open(candidate, offset):
                    return
        if inode:
            log.warning("edge click log: the file read last is gone; reading %s from the start", self.path)
        self._open(self.path, 0)

    def _open(self, path: Path, offset: int) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return False
        st = os.fstat(fd)
        self._close()
        self._fd, self.inode = fd, st.st_ino
        self.offset = offset if st.st_size >= offset else 0  # shorter than our position: truncated
        self.recorder.checkpoint(_cursor(self.inode, self.offset))
        return True

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _rotated(self) -> bool:
        """At the end of our file: move on if it was truncated or replaced. True if we moved."""
        assert self._fd is not None
        if os.fstat(self._fd).st_size < self.offset:
            log.warning("edge click log truncated; reading from the start")
            self.offset = 0
            self.recorder.checkpoint(_cursor(self.inode, 0))
            return True
        try:
            current = os.stat(self.path).st_ino
        except FileNotFoundError:
            return False  # renamed, nginx not reopened yet: it still writes to ours
        if current == self.inode:
            return False
        now = time.monotonic()
        if self._quiet_since is None:
            self._quiet_since = now
        if now - self._quiet_since < ROTATION_GRACE:
            return False  # nginx may still flush its buffer into the old file
        self._quiet_since = None
        return self._open(self.path, 0)

    async def _ingest(self, data: bytes, size: int) -> None:
        """Offer the whole lines in data[:size], registering the position before each yield."""
        recorder, users = self.recorder, self.users
        offset = self.offset
        in_group = 0
        start = 0
        while start < size:
            stop = data.index(b"\n", start)
            line = data[start:stop]
            start = stop + 1
            parts = line.split(b"\t")
            self.stats.lines += 1
            if len(parts) != 8 or parts[0] != _TAG:
                self.stats.malformed += 1
                self.offset = offset + start
                continue
            _, msec, code_raw, ip, visitor_raw, session_raw, agent, referer = parts
            code = code_raw.decode("latin-1")
            visitor = visitor_raw.decode("latin-1")
            try:
                now = float(msec)
            except ValueError:
                now = 0.0
            if not now or not valid_visitor(visitor):
                self.stats.malformed += 1
                self.offset = offset + start
                continue
            session = _text(session_raw) or None
            target = recorder.cached_target(code)
            if target is None or session is not None:
                # May wait on the database: the flusher can run meanwhile, so record where we are.
                recorder.checkpoint(_cursor(self.inode, self.offset))
                if target is None:
                    target = await recorder.target(code)
            if target is None:
                self.stats.unknown_links += 1  # deleted since nginx cached it
            else:
                await recorder.record(
                    target,
                    visitor=visitor,
                    session=session,
                    users=users,
                    ip=ip.decode("latin-1"),
                    agent=_text(agent),
                    referer=_text(referer),
                    now=now,
                )
            self.offset = offset + start
            in_group += 1
            if in_group >= GROUP:
                in_group = 0
                recorder.checkpoint(_cursor(self.inode, self.offset))
                await asyncio.sleep(0)
        recorder.checkpoint(_cursor(self.inode, self.offset))
