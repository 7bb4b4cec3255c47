"""Test helpers: publish a WAV file as a live RTMP stream (video test pattern + AAC audio), as a host's
encoder would, and collect captions."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from passerelle.captions.types import Caption, CaptionStatus


def publish(wav: Path, url: str) -> subprocess.Popen[bytes]:
    """ffmpeg -re: the file plays at real-time speed into nginx-rtmp, like OBS would."""
    return subprocess.Popen(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-re",
            "-i",
            str(wav),
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "10",
            "-c:a",
            "aac",
            "-ar",
            "44100",
            "-f",
            "flv",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@dataclass
class Collector:
    captions: list[Caption] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    async def on_caption(self, caption: Caption) -> None:
        self.captions.append(caption)

    async def on_status(self, status: CaptionStatus) -> None:
        self.statuses.append(status.state.value)

    def texts(self, language: str) -> list[str]:
        return [c.text for c in self.captions if c.language == language]
