"""Synthetic speech with espeak-ng + sox, for the benchmark and the tests (no recorded audio in the repo)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class ToolMissing(Exception):
    pass


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise ToolMissing(f"missing commands: {', '.join(missing)} (Debian: espeak-ng sox ffmpeg)")


def speak(text: str, out: Path, *, voice: str = "en", speed: int = 160) -> Path:
    """16 kHz mono 16-bit WAV of `text`."""
    require("espeak-ng", "sox")
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


def speak_with_pauses(
    sentences: list[str], out: Path, *, pause_s: float = 1.2, lead_s: float = 0.5, voice: str = "en"
) -> Path:
    """The sentences one after another with a pause between them (where captions must break)."""
    require("espeak-ng", "sox")
    parts: list[str] = []
    silence = out.with_name(out.stem + ".pause.wav")
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(silence), "trim", "0", str(pause_s)], check=True
    )
    lead = out.with_name(out.stem + ".lead.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", "-b", "16", str(lead), "trim", "0", str(lead_s)], check=True)
    parts.append(str(lead))
    for i, sentence in enumerate(sentences):
        parts += [str(speak(sentence, out.with_name(f"{out.stem}.{i}.wav"), voice=voice)), str(silence)]
    subprocess.run(["sox", *parts, str(out)], check=True)
    for part in {*parts}:
        Path(part).unlink()
    return out
