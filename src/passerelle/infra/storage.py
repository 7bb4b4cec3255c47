"""Blob storage for uploaded files (product images). Local disk by default."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobStorage(Protocol):
    def put(self, data: bytes, *, suffix: str) -> str:
        """Store `data`, return its key."""
        ...

    def open(self, key: str) -> bytes: ...

    def path(self, key: str) -> Path | None:
        """A local path for efficient serving, when the backend has one."""
        ...


class LocalDiskStorage:
    """Content-addressed files under a directory: the same bytes are stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, *, suffix: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{digest[:2]}/{digest}{suffix}"
        target = self.root / key
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        return key

    def open(self, key: str) -> bytes:
        return self._safe(key).read_bytes()

    def path(self, key: str) -> Path | None:
        candidate = self._safe(key)
        return candidate if candidate.is_file() else None

    def _safe(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if not candidate.is_relative_to(self.root.resolve()):
            raise ValueError("key escapes the storage root")
        return candidate
