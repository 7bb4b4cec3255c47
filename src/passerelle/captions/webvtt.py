"""WebVTT tracks per language for the replay: cue times are stream seconds, the same clock as the
recording when the pipeline starts with the stream (an offset is given otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from passerelle.captions.types import Caption


def timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def cue_text(text: str) -> str:
    # "-->" and a blank line would break the cue; < and & are markup in WebVTT.
    clean = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return clean


class WebVTTWriter:
    """Appends cues to `<directory>/<language>.vtt` as captions arrive (a replay can read it while live)."""

    def __init__(self, directory: Path, *, offset_s: float = 0.0) -> None:
        self.directory = directory
        self.offset_s = offset_s
        self._files: dict[str, TextIO] = {}

    def path(self, language: str) -> Path:
        return self.directory / f"{language}.vtt"

    def write(self, caption: Caption) -> None:
        handle = self._files.get(caption.language)
        if handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = self.path(caption.language).open("w", encoding="utf-8")
            handle.write("WEBVTT\n\n")
            self._files[caption.language] = handle
        start, end = caption.start + self.offset_s, max(caption.end, caption.start + 0.5) + self.offset_s
        handle.write(f"{caption.seq}\n{timestamp(start)} --> {timestamp(end)}\n{cue_text(caption.text)}\n\n")
        handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
