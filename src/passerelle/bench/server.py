"""Start a real `passerelle serve` on a fresh embedded database for a benchmark."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """A process's children (Linux /proc), whichever of its threads started them."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def process_cpu_seconds(pid: int, *, children: bool = False) -> float | None:
    """User + system CPU a process (and, with `children`, its direct children: nginx's
    workers) has used so far, from Linux /proc; None when the process is gone."""
    pids = [pid]
    if children:
        pids += children_of(pid)
    ticks = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            if each == pid:
                return None
            continue  # a child that just exited
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class BenchServer:
    def __init__(self, data_dir: Path, *, env: dict[str, str] | None = None, workers: int = 1) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.env = {
            **os.environ,
            "PASSERELLE_DATA_DIR": str(data_dir),
            "PASSERELLE_LOG_LEVEL": "warning",
            **(env or {}),
        }
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BenchServer:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "passerelle.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def cpu_seconds(self) -> float:
        """User + system CPU the server process has used so far (Linux /proc): dividing a
        run's share by its requests gives a cost that another busy process cannot inflate."""
        assert self.process is not None
        return process_cpu_seconds(self.process.pid) or 0.0

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
