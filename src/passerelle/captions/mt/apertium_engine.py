"""Apertium (Debian packages apertium + apertium-xx-yy), in-process in a worker process when Debian's
Python bindings and the PyPI `apertium` package are installed, else through its command line.

The bindings abort the whole process on some pairs (field notes), hence the separate worker: when it
dies on a pair, that pair goes to the command line from then on. The command line (`apertium -z`
streaming hangs on Debian 12) is one process per batch (~200 ms-1 s); texts of a batch are separated
by blank lines, which Apertium keeps.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from passerelle.captions.types import TranslationFailed

log = logging.getLogger("passerelle.captions")

# Apertium names pairs with ISO 639-1 or 639-3 codes depending on the package.
_ISO3 = {
    "eng": "en",
    "spa": "es",
    "fra": "fr",
    "cat": "ca",
    "ita": "it",
    "por": "pt",
    "oci": "oc",
    "ron": "ro",
    "deu": "de",
    "glg": "gl",
    "eus": "eu",
    "nld": "nl",
    "rus": "ru",
    "ukr": "uk",
    "arg": "an",
    "ast": "ast",
}
_MODES_DIR = Path("/usr/share/apertium/modes")
# Unknown (*), generation-error (#) and transfer-error (@) marks glued to the front of a word.
_MARK = re.compile(r"(?<![\w*#@])([*#@]+)(\w+)")
_SEPARATOR = "\n\n"


def clean_marks(text: str, source: str = "") -> str:
    """Drop Apertium's marks, but keep a hashtag or @mention that was already in the source text."""
    keep = set(re.findall(r"[#@]\w+", source))

    def repl(match: re.Match[str]) -> str:
        marks, word = match.group(1), match.group(2)
        return (marks[0] if marks[0] + word in keep else "") + word

    return _MARK.sub(repl, text)


def _code(name: str) -> str:
    return _ISO3.get(name, name)


def discover_modes(modes_dir: Path = _MODES_DIR) -> dict[tuple[str, str], str]:
    """(source, target) -> mode name, from the installed .mode files (variants such as spa-eng_US skipped)."""
    found: dict[tuple[str, str], str] = {}
    if not modes_dir.is_dir():
        return found
    for path in sorted(modes_dir.glob("*.mode")):
        parts = path.stem.split("-")
        if len(parts) != 2 or "_" in path.stem:
            continue
        found.setdefault((_code(parts[0]), _code(parts[1])), path.stem)
    return found


class ApertiumEngine:
    name = "apertium"

    def __init__(
        self,
        *,
        command: str = "apertium",
        modes_dir: Path = _MODES_DIR,
        timeout_s: float = 20.0,
        in_process: bool = True,
    ) -> None:
        self._command = shutil.which(command)
        self._modes = discover_modes(modes_dir) if self._command else {}
        self._timeout_s = timeout_s
        self._worker = _Worker() if in_process and self._modes else None
        self._cli_only: set[str] = set()  # modes that crashed the worker

    @property
    def mode(self) -> str:
        """ "in-process" when the worker runs, else "command line"."""
        return "in-process" if self._worker and self._worker.ready() else "command line"

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._modes)

    def warm_up(self) -> None:
        """Start the worker and load every pair (~0.2 s each): start-up cost rather than a first caption's."""
        if self._worker and self._worker.ready():
            for source, target in sorted(self._modes):
                try:
                    self.translate_batch(["Hello."], source, target)
                except TranslationFailed as error:
                    log.warning("apertium %s-%s does not work: %s", source, target, error)

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        mode = self._modes.get((source, target))
        if mode is None or self._command is None:
            raise TranslationFailed(f"apertium has no {source}-{target} mode")
        # A text holding a blank line would break the batch framing: flatten its newlines.
        flat = [" ".join(t.split()) for t in texts]
        if self._worker and mode not in self._cli_only and self._worker.ready():
            try:
                return [
                    clean_marks(o.strip(), src) for o, src in zip(self._worker.translate(mode, flat), flat, strict=True)
                ]
            except _WorkerDied as error:
                log.warning("apertium worker died on %s (%s): command line for this pair from now on", mode, error)
                self._cli_only.add(mode)
            except TranslationFailed as error:
                log.warning("apertium worker failed on %s: %s; trying the command line", mode, error)
        out = self._run(mode, _SEPARATOR.join(flat)).split(_SEPARATOR)
        if len(out) != len(flat):  # framing lost: fall back to one process per text
            out = [self._run(mode, t) for t in flat]
        return [clean_marks(o.strip(), src) for o, src in zip(out, flat, strict=True)]

    def _run(self, mode: str, text: str) -> str:
        assert self._command is not None
        try:
            done = subprocess.run(
                [self._command, "-u", mode],
                input=text + "\n",
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise TranslationFailed(f"apertium {mode}: {error}") from error
        if done.returncode != 0:
            raise TranslationFailed(f"apertium {mode} exited {done.returncode}: {done.stderr.strip()[:200]}")
        return done.stdout.rstrip("\n")


class _WorkerDied(Exception):
    pass


class _Worker:
    """The in-process translator's host process, started on first use and again after a crash."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._available: bool | None = None
        self._lock = threading.Lock()

    def ready(self) -> bool:
        with self._lock:
            if self._available is None:
                self._available = self._start()
            return self._available

    def _start(self) -> bool:
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "passerelle.captions.mt.apertium_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
            assert self._process.stdout is not None
            hello = json.loads(self._process.stdout.readline() or "{}")
        except (OSError, ValueError) as error:
            log.info("apertium in-process worker unavailable: %s", error)
            return False
        if not hello.get("ready"):
            log.info("apertium in-process worker unavailable: %s", hello.get("error", "no answer"))
            self._process.wait()
            return False
        return True

    def translate(self, mode: str, texts: list[str]) -> list[str]:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None or process.stdin is None or process.stdout is None:
                self._available = None  # start again next time
                raise _WorkerDied("not running")
            try:
                process.stdin.write(json.dumps({"mode": mode, "texts": texts}) + "\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except OSError as error:
                line = ""
                log.debug("apertium worker pipe: %s", error)
            if not line:
                process.kill()
                process.wait()
                self._available = None
                raise _WorkerDied(f"exit {process.returncode}")
        answer = json.loads(line)
        if "error" in answer:
            raise TranslationFailed(str(answer["error"]))
        out = [str(t) for t in answer["texts"]]
        if len(out) != len(texts):
            raise TranslationFailed("apertium worker answered a different number of texts")
        return out

    def close(self) -> None:
        with self._lock:
            if self._process and self._process.poll() is None:
                self._process.kill()
                self._process.wait()
