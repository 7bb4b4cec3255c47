"""ffmpeg reads the live stream (RTMP, HLS, a file: any ffmpeg input) and hands 16 kHz mono PCM."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import numpy as np

from passerelle.captions.asr import SAMPLE_RATE, Samples

CHUNK_BYTES = 2 * SAMPLE_RATE // 10  # 100 ms of s16le


class SourceError(Exception):
    code = "source_error"


def ffmpeg_command(source_url: str, *, realtime: bool = False) -> list[str]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SourceError("ffmpeg is not installed")
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if realtime:  # a file read at its own pace, as if it were live (bench)
        command.append("-re")
    if source_url.startswith(("rtmp://", "rtmps://")):
        command += ["-rw_timeout", "10000000"]  # µs: a dead server ends the read instead of hanging
    if "://" in source_url:
        command += ["-analyzeduration", "1000000"]  # µs: start captioning after 1 s of probing, not 5
    # No "-fflags nobuffer": it drops the packets read while probing, i.e. the first seconds of speech.
    command += ["-i", source_url, "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    return command


async def pcm_chunks(source_url: str, *, realtime: bool = False) -> AsyncIterator[Samples]:
    """Float32 samples in [-1, 1], ~100 ms per chunk, until the stream ends. SourceError if it never opened."""
    process = await asyncio.create_subprocess_exec(
        *ffmpeg_command(source_url, realtime=realtime),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    received = 0
    try:
        while True:
            data = await process.stdout.read(CHUNK_BYTES)
            if not data:
                break
            if len(data) % 2:  # an odd byte: keep the sample boundary
                data += await process.stdout.readexactly(1)
            received += len(data)
            yield np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        code = await process.wait()
        if received == 0:
            error = (await process.stderr.read()).decode(errors="replace").strip().splitlines()
            raise SourceError(f"ffmpeg read no audio from the stream (exit {code}): {error[-1] if error else ''}")
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
