"""Apertium through its command line (Debian packages apertium + apertium-xx-yy).

The command line, not the in-process bindings: those abort the whole process on some pairs
(field notes), and `apertium -z` streaming hangs on Debian 12, so each batch is one process
(~100-200 ms). Texts of a batch are separated by blank lines, which Apertium keeps.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from passerelle.captions.types import TranslationFailed

# Apertium names pairs with ISO 639-1 or 639-3 codes depending on the package.
_ISO3 = {"eng": "en", "spa": "es", "fra": "fr", "cat": "ca", "ita": "it", "por": "pt", "oci": "oc", "ron": "ro",
         "deu": "de", "glg": "gl", "eus": "eu", "nld": "nl", "rus": "ru", "ukr": "uk", "arg": "an", "ast": "ast"}
_MODES_DIR = Path("/usr/share/apertium/modes")
# Unknown (*), generation-error (#) and transfer-error (@) marks glued to the front of a word.
_MARK = re.compile(r"(?<![\w*#@])[*#@]+(?=\w)")
_SEPARATOR = "\n\n"


def clean_marks(text: str, source: str = "") -> str:
    """Drop Apertium's marks, but keep a hashtag or @mention that was already in the source text."""
    keep = {m.group(0) for m in re.finditer(r"[#@]\w+", source)}
    if not keep:
        return _MARK.sub("", text)

    def repl(match: re.Match[str]) -> str:
        word = re.match(r"\w+", text[match.end():])
        token = match.group(0)[-1] + (word.group(0) if word else "")
        return token[0] if token in keep else ""

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

    def __init__(self, *, command: str = "apertium", modes_dir: Path = _MODES_DIR, timeout_s: float = 20.0) -> None:
        self._command = shutil.which(command)
        self._modes = discover_modes(modes_dir) if self._command else {}
        self._timeout_s = timeout_s

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._modes)

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        mode = self._modes.get((source, target))
        if mode is None or self._command is None:
            raise TranslationFailed(f"apertium has no {source}-{target} mode")
        # A text holding a blank line would break the batch framing: flatten its newlines.
        flat = [" ".join(t.split()) for t in texts]
        out = self._run(mode, _SEPARATOR.join(flat)).split(_SEPARATOR)
        if len(out) != len(flat):  # framing lost: fall back to one process per text
            out = [self._run(mode, t) for t in flat]
        return [clean_marks(o.strip(), src) for o, src in zip(out, flat, strict=True)]

    def _run(self, mode: str, text: str) -> str:
        assert self._command is not None
        try:
            done = subprocess.run(
                [self._command, "-u", mode], input=text + "\n", capture_output=True, text=True,
                timeout=self._timeout_s, check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise TranslationFailed(f"apertium {mode}: {error}") from error
        if done.returncode != 0:
            raise TranslationFailed(f"apertium {mode} exited {done.returncode}: {done.stderr.strip()[:200]}")
        return done.stdout.rstrip("\n")
