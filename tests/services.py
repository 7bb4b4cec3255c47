"""Real servers for the test suite, started by the harness itself.

PostgreSQL: PASSERELLE_TEST_POSTGRES_URL when given, otherwise a throw-away cluster made
with Debian's initdb in a temp dir. Under CI=true a missing server is a failure, never a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Fail under CI, skip on a developer machine that lacks the service."""
    if IN_CI:
        pytest.fail(f"required test service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    admin_db: str = "postgres"
    data_dir: Path | None = None
    pg_ctl: str | None = None
    run_as: str | None = None

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        if self.data_dir and self.pg_ctl:
            _run_pg([self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"], self.run_as, check=False)
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _run_pg(cmd: list[str], run_as: str | None, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    if run_as:
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)


def start_postgres() -> PostgresServer:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(candidates[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="passerelle-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    run_as = None
    if os.geteuid() == 0:
        # initdb refuses to run as root: use the account Debian's package created.
        run_as = "postgres"
        pw = pwd.getpwnam(run_as)
        os.chown(root, pw.pw_uid, pw.pw_gid)
        os.chown(sockets, pw.pw_uid, pw.pw_gid)
    password = "passerelle-test"
    pwfile = root / "pw"
    pwfile.write_text(password)
    if run_as:
        pw = pwd.getpwnam(run_as)
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    _run_pg(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "passerelle",
            "--pwfile",
            str(pwfile),
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        run_as,
    )
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    _run_pg([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], run_as)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return PostgresServer(
        host="127.0.0.1",
        port=port,
        user="passerelle",
        password=password,
        data_dir=data,
        pg_ctl=str(bindir / "pg_ctl"),
        run_as=run_as,
    )


def postgres_from_env() -> PostgresServer | None:
    url = os.environ.get("PASSERELLE_TEST_POSTGRES_URL")
    if not url:
        return None
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return PostgresServer(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or "",
        admin_db=parsed.database or "postgres",
    )


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen[bytes] | None
    directory: Path | None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_redis(directory: Path | None = None, port: int | None = None) -> RedisServer:
    """A throw-away redis-server with every write fsynced (appendfsync always), as the
    festival engine requires of Redis for durability. Given the directory and port of a
    killed one, it restarts from that one's append-only file."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    directory = directory or Path(tempfile.mkdtemp(prefix="passerelle-redis-"))
    port = port or free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
            "--protected-mode",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return RedisServer(port, process, directory)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("redis-server did not start")
