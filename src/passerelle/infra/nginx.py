"""Running Debian's nginx unprivileged, in the foreground, for the servers passerelle starts
(`passerelle media`, `passerelle edge`): own pid, error log and temp paths under a data dir."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def process_directives(root: Path, *, master: bool = False, workers: int | str = 1) -> str:
    """The main-context lines: foreground, our own pid and error log (a non-root user cannot
    write /run or /var/log). Started as root, a master would hand its workers to `nobody`, who
    cannot use our data dir: the workers stay the launching user (run it as a service user)."""
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if master and os.geteuid() == 0 else ""
    return f"""{user}daemon off;
master_process {"on" if master else "off"};
worker_processes {workers};
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;"""


def temp_paths(root: Path) -> str:
    """http-context temp paths under our dir (the compiled-in /var/lib/nginx is root's)."""
    temp = root / "temp"
    dirs = {"client_body": "body", "proxy": "proxy", "fastcgi": "fastcgi", "uwsgi": "uwsgi", "scgi": "scgi"}
    return "\n    ".join(f"{kind}_temp_path {temp / name};" for kind, name in dirs.items())


class NginxProcess:
    """One nginx we own: started on a config file, ready when its ports accept connections."""

    def __init__(self, root: Path, config: Path, ports: tuple[int, ...]) -> None:
        self.root = root
        self.config = config
        self.ports = ports
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, binary: str) -> list[str]:
        return [binary, "-p", str(self.root), "-c", str(self.config)]

    def start(self, binary: str, *, wait: float = 10.0, environment: dict[str, str] | None = None) -> None:
        """`environment`: variables added to ours (a config's `env` directive passes them on)."""
        (self.root / "temp").mkdir(parents=True, exist_ok=True)
        log = (self.root / "stdout.log").open("wb")
        env = {**os.environ, **environment} if environment else None
        self.process = subprocess.Popen(self.command(binary), stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log()}")
            if all(listening(port) for port in self.ports):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start: {self.error_log()}")

    def error_log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def stop(self) -> None:
        """Graceful (SIGQUIT): open requests finish and buffered logs are written."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return True
    except OSError:
        return False
