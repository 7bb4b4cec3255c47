"""`passerelle serve` starting its outbox worker beside itself (cli/outbox_worker.py): where
the outbox goes, a worker started again when it dies, and none left behind by the server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from passerelle.bench.server import children_of
from passerelle.cli.outbox_worker import OutboxPlace, runs_in_worker
from passerelle.config import Settings
from tests import live_server


@pytest.mark.parametrize(
    ("place", "cores", "expected"),
    [
        (OutboxPlace.auto, 1, False),  # on one core the two processes would only take turns
        (OutboxPlace.auto, 2, True),
        (OutboxPlace.worker, 1, True),
        (OutboxPlace.server, 8, False),
    ],
)
def test_given_a_place_and_cores_then_serve_starts_a_worker_only_where_it_helps(
    tmp_path: Path, place: OutboxPlace, cores: int, expected: bool
) -> None:
    assert runs_in_worker(place, Settings(data_dir=tmp_path), cores) is expected


def test_given_the_outbox_off_or_workers_run_by_the_operator_then_serve_starts_none(tmp_path: Path) -> None:
    assert not runs_in_worker(OutboxPlace.worker, Settings(data_dir=tmp_path, run_worker=False), 2)
    assert not runs_in_worker(OutboxPlace.worker, Settings(data_dir=tmp_path, outbox_process=True), 2)


def _command(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def _serving(directory: Path, outbox: str) -> Iterator[live_server.LiveServer]:
    live_server.prepare(directory)
    server = live_server.start(directory, extra_env={"PASSERELLE_OUTBOX": outbox})
    try:
        yield server
    finally:
        server.stop()


def _started_worker(server: live_server.LiveServer, starts: int = 1) -> int:
    server.wait_for_worker(starts)
    (worker,) = children_of(server.process.pid)
    assert "passerelle.cli worker" in _command(worker)
    return worker


def test_given_outbox_worker_then_serve_runs_one_restarts_it_and_stops_it_after_itself(tmp_path: Path) -> None:
    with _serving(tmp_path, "worker") as server:
        worker = _started_worker(server)
        assert os.getsid(worker) == worker  # its own session: a terminal's Ctrl-C reaches serve alone

        os.kill(worker, signal.SIGKILL)
        replacement = _started_worker(server, starts=2)
        assert replacement != worker
        assert "outbox worker exited with -9" in server.log()

        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 128 + signal.SIGTERM  # stopped its worker first
        assert not _alive(replacement)


def test_given_serve_killed_outright_then_its_worker_leaves_by_itself(tmp_path: Path) -> None:
    with _serving(tmp_path, "worker") as server:
        worker = _started_worker(server)
        server.process.kill()
        server.process.wait(timeout=10)
        _wait_for(lambda: not _alive(worker), "the orphaned worker to leave", timeout=15)
        assert "the server that started us is gone" in server.log()


def test_given_outbox_server_then_serve_starts_no_worker(tmp_path: Path) -> None:
    with _serving(tmp_path, "server") as server:
        time.sleep(1)
        assert children_of(server.process.pid) == []
