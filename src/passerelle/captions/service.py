"""Caption rooms: per-room settings (on/off, spoken language), the running pipeline and the viewer
languages it translates into. In memory: the process that ingests a room's stream owns its captions."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from passerelle.captions.engines import CaptionEngines
from passerelle.captions.pipeline import CaptionPipeline
from passerelle.captions.types import Caption, CaptionState, CaptionStatus

Publish = Callable[[str, dict[str, object]], Awaitable[None]]  # e.g. the live chat hub's publish(room_id, event)


@dataclass
class CaptionRoom:
    room_id: str
    enabled: bool = True
    spoken_language: str = "en"
    viewers: Counter[str] = field(default_factory=Counter)  # caption language -> viewers who picked it
    pipeline: CaptionPipeline | None = None
    task: asyncio.Task[CaptionStatus] | None = None

    def status(self, engines: CaptionEngines) -> dict[str, object]:
        asr = engines.recognizer.name if engines.recognizer else ""
        if self.pipeline is not None:
            status = self.pipeline.status
        elif not self.enabled:
            status = CaptionStatus(CaptionState.OFF, "", self.spoken_language, asr)
        elif engines.recognizer is None:
            status = CaptionStatus(CaptionState.ASR_ERROR, engines.recognizer_error or "", self.spoken_language)
        else:
            status = CaptionStatus(CaptionState.IDLE, "", self.spoken_language, asr)
        languages = sorted(lang for lang, n in self.viewers.items() if n > 0)
        return {"room_id": self.room_id, "enabled": self.enabled, "languages": languages, **status.as_dict()}


class CaptionRooms:
    def __init__(
        self,
        engines: CaptionEngines,
        publish: Publish,
        *,
        vtt_root: Path | None = None,
        retry_delay_s: float | None = 2.0,
    ) -> None:
        self.engines = engines
        self._retry_delay_s = retry_delay_s  # a live stream that drops is read again after this delay
        self._publish = publish
        self._vtt_root = vtt_root
        self._rooms: dict[str, CaptionRoom] = {}

    def room(self, room_id: str) -> CaptionRoom:
        return self._rooms.setdefault(room_id, CaptionRoom(room_id))

    def get(self, room_id: str) -> CaptionRoom | None:
        return self._rooms.get(room_id)

    async def configure(
        self,
        room_id: str,
        *,
        enabled: bool | None = None,
        spoken_language: str | None = None,
        source_url: str | None = None,
    ) -> CaptionRoom:
        """The host's settings. A change of language restarts the pipeline; turning captions off stops it."""
        room = self.room(room_id)
        restart = spoken_language is not None and spoken_language != room.spoken_language
        room.spoken_language = spoken_language or room.spoken_language
        room.enabled = room.enabled if enabled is None else enabled
        if room.pipeline and (restart or not room.enabled):
            source_url = source_url or room.pipeline.source_url
            await self.stop(room_id)
        if room.enabled and source_url and room.pipeline is None:
            await self.start(room_id, source_url)
        return room

    async def start(self, room_id: str, source_url: str) -> CaptionPipeline | None:
        """When the room's stream goes live. None when captions are off or no recogniser is available."""
        room = self.room(room_id)
        if not room.enabled or self.engines.recognizer is None or room.pipeline is not None:
            return room.pipeline

        async def on_caption(caption: Caption) -> None:
            await self._publish(room_id, caption.as_event())

        async def on_status(status: CaptionStatus) -> None:
            await self._publish(room_id, {"type": "caption_status", **status.as_dict()})

        room.pipeline = CaptionPipeline(
            source_url,
            room.spoken_language,
            [lang for lang, n in room.viewers.items() if n > 0],
            on_caption,
            recognizer=self.engines.recognizer,
            translator=self.engines.translator,
            on_status=on_status,
            vtt_dir=self._vtt_root / room_id if self._vtt_root else None,
            retry_delay_s=self._retry_delay_s,
        )
        room.task = asyncio.create_task(room.pipeline.run(), name=f"captions-{room_id}")
        return room.pipeline

    async def stop(self, room_id: str) -> None:
        room = self._rooms.get(room_id)
        if room is None or room.pipeline is None:
            return
        room.pipeline.stop()
        if room.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await room.task
        room.pipeline, room.task = None, None

    def viewer_joined(self, room_id: str, language: str) -> None:
        room = self.room(room_id)
        room.viewers[language] += 1
        if room.pipeline and room.viewers[language] == 1:
            room.pipeline.set_targets(lang for lang, n in room.viewers.items() if n > 0)

    def viewer_left(self, room_id: str, language: str) -> None:
        room = self.room(room_id)
        room.viewers[language] = max(0, room.viewers[language] - 1)
        if room.pipeline and room.viewers[language] == 0:
            room.pipeline.set_targets(lang for lang, n in room.viewers.items() if n > 0)

    async def close(self) -> None:
        for room_id in list(self._rooms):
            await self.stop(room_id)
