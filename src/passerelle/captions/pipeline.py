"""The live caption pipeline of one room: stream -> 16 kHz PCM -> utterances -> text -> each target language.

    pipeline = CaptionPipeline(source_url, "en", {"es", "fr"}, on_caption, recognizer=..., translator=...)
    task = asyncio.create_task(pipeline.run())   # until the stream ends or pipeline.stop()

Recognition and translation run in worker threads; the reader never waits for them (utterances
queue up), so a slow utterance delays captions but never the audio read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path

import numpy as np

from passerelle.captions.asr import Recognizer
from passerelle.captions.audio import SourceError, pcm_chunks
from passerelle.captions.mt.router import Translator
from passerelle.captions.types import (
    Caption,
    CaptionState,
    CaptionStatus,
    TargetState,
    TranslationFailed,
    UnsupportedPair,
)
from passerelle.captions.vad import Segmenter, Utterance
from passerelle.captions.webvtt import WebVTTWriter

log = logging.getLogger("passerelle.captions")
OnCaption = Callable[[Caption], Awaitable[None]]
OnStatus = Callable[[CaptionStatus], Awaitable[None]]


class CaptionPipeline:
    def __init__(
        self,
        source_url: str,
        spoken_language: str,
        targets: Iterable[str],
        on_caption: OnCaption,
        *,
        recognizer: Recognizer,
        translator: Translator,
        on_status: OnStatus | None = None,
        vtt_dir: Path | None = None,
        realtime_input: bool = False,
        retry_delay_s: float | None = None,
        no_speech_after_s: float = 15.0,
        segmenter: Segmenter | None = None,
    ) -> None:
        self.source_url = source_url
        self.spoken_language = spoken_language
        self._on_caption = on_caption
        self._on_status = on_status
        self._recognizer = recognizer
        self._translator = translator
        self._realtime = realtime_input
        self._retry = retry_delay_s
        self._no_speech_after = no_speech_after_s
        self._segmenter = segmenter or Segmenter()
        self.vtt = WebVTTWriter(vtt_dir) if vtt_dir else None
        self.status = CaptionStatus(CaptionState.STARTING, spoken_language=spoken_language, asr_engine=recognizer.name)
        self.latencies_ms: list[float] = []
        self.asr_seconds = 0.0  # time spent recognising
        self.asr_audio_seconds = 0.0  # audio recognised
        self._targets: set[str] = set()
        self._seq = 0
        self._asr_ms = 0.0
        self._queue: asyncio.Queue[Utterance | None] = asyncio.Queue(maxsize=16)
        self._stop = asyncio.Event()
        self._last_text_at = 0.0  # stream seconds
        self.set_targets(targets)

    # -- settings the room changes while live ------------------------------------------------------

    @property
    def targets(self) -> frozenset[str]:
        return frozenset(self._targets)

    def set_targets(self, targets: Iterable[str]) -> None:
        """The languages viewers subscribed to; the spoken language is always captioned (original)."""
        self._targets = {t for t in targets if t != self.spoken_language}
        self.status.targets = {}
        self.status.target_engines = {}
        for target in sorted(self._targets):
            supported = self._translator.supports(self.spoken_language, target)
            self.status.targets[target] = TargetState.OK if supported else TargetState.UNSUPPORTED_PAIR
            self.status.target_engines[target] = self._translator.engine_label(self.spoken_language, target)

    def stop(self) -> None:
        self._stop.set()

    # -- running --------------------------------------------------------------------------------------

    async def run(self) -> CaptionStatus:
        """Caption until the source ends (or stop()); returns the final status. Never raises on bad input."""
        languages = self._recognizer.languages()
        if languages is not None and self.spoken_language not in languages:
            await self._set_state(
                CaptionState.ASR_ERROR,
                f"{self._recognizer.name} does not recognise '{self.spoken_language}' (knows: {sorted(languages)})",
            )
            return self.status
        worker = asyncio.create_task(self._work())
        try:
            await self._read()
        except asyncio.CancelledError:
            self._stop.set()  # cancelled from outside: same as stop(), without waiting for queued utterances
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            raise
        finally:
            if not worker.done():
                await self._queue.put(None)
                await worker
            if self.vtt:
                self.vtt.close()
        if self.status.state in (CaptionState.LISTENING, CaptionState.NO_SPEECH, CaptionState.STARTING):
            await self._set_state(CaptionState.STOPPED, "stream ended")
        return self.status

    async def _read(self) -> None:
        while not self._stop.is_set():
            try:
                reader = self._read_once()
                stopper = asyncio.create_task(self._stop.wait())
                reading = asyncio.create_task(reader)
                await asyncio.wait({stopper, reading}, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                if not reading.done():
                    reading.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reading
                else:
                    reading.result()
            except SourceError as error:
                await self._set_state(CaptionState.SOURCE_ERROR, str(error))
            if self._retry is None or self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._retry)
        tail = self._segmenter.flush()
        if tail is not None:
            await self._queue.put(tail)

    async def _read_once(self) -> None:
        async for chunk in pcm_chunks(self.source_url, realtime=self._realtime):
            if self.status.state in (CaptionState.STARTING, CaptionState.SOURCE_ERROR):
                await self._set_state(CaptionState.LISTENING, "receiving audio")
            for utterance in self._segmenter.feed(chunk, time.monotonic()):
                if self._queue.full():  # recognition cannot keep up: drop the oldest rather than lag further
                    self._queue.get_nowait()
                    log.warning("captions %s: recogniser behind, utterance dropped", self.source_url)
                self._queue.put_nowait(utterance)
            silent_for = self._segmenter.stream_seconds - self._last_text_at  # stream time: files read fast too
            if self.status.state == CaptionState.LISTENING and silent_for > self._no_speech_after:
                await self._set_state(CaptionState.NO_SPEECH, f"nothing recognised for {silent_for:.0f} s")

    async def _work(self) -> None:
        while (utterance := await self._queue.get()) is not None:
            if self._stop.is_set():  # stopped by the room: what is still queued is no longer wanted
                continue
            try:
                await self._caption(utterance)
            except Exception as error:  # noqa: BLE001 - one bad utterance must not end the room's captions
                log.exception("captions %s: utterance failed", self.source_url)
                await self._set_state(CaptionState.ASR_ERROR, f"recognition failed: {error}")

    async def _caption(self, utterance: Utterance) -> None:
        began = time.perf_counter()
        text = await asyncio.to_thread(self._recognizer.transcribe, utterance.samples, self.spoken_language)
        took = time.perf_counter() - began
        self.asr_seconds += took
        log.debug(
            "captions: utterance %.2f-%.2f s queued %.0f ms after its end, ASR %.0f ms: %r",
            utterance.start,
            utterance.end,
            (time.monotonic() - utterance.speech_end_wall) * 1000 - took * 1000,
            took * 1000,
            text,
        )
        self.asr_audio_seconds += utterance.samples.size / 16_000
        if not text:
            return
        self._last_text_at = utterance.end
        if self.status.state != CaptionState.LISTENING:
            await self._set_state(CaptionState.LISTENING, "captions flowing")
        self._seq += 1
        self.status.utterances += 1
        self._asr_ms = took * 1000
        await self._emit(utterance, self.spoken_language, text, original=True, engine=self._recognizer.name)
        targets = [t for t in sorted(self._targets) if self.status.targets.get(t) == TargetState.OK]
        # Direct pairs first, then pivoted ones: their first hop (en->es of en->fr) is then a cache hit.
        direct = [t for t in targets if self._translator.is_direct(self.spoken_language, t)]
        await asyncio.gather(*(self._translate(utterance, text, target) for target in direct))
        await asyncio.gather(*(self._translate(utterance, text, t) for t in targets if t not in direct))

    async def _translate(self, utterance: Utterance, text: str, target: str) -> None:
        try:
            [translated] = await self._translator.atranslate_batch([text], self.spoken_language, target)
        except UnsupportedPair:
            self.status.targets[target] = TargetState.UNSUPPORTED_PAIR
            return
        except TranslationFailed as error:
            log.warning("captions %s -> %s: %s", self.spoken_language, target, error)
            self.status.targets[target] = TargetState.ERROR
            return
        self.status.targets[target] = TargetState.OK
        await self._emit(utterance, target, translated.text, original=False, engine=translated.engine)

    async def _emit(self, utterance: Utterance, language: str, text: str, *, original: bool, engine: str) -> None:
        latency_ms = (time.monotonic() - utterance.speech_end_wall) * 1000
        caption = Caption(
            self._seq, language, text, utterance.start, utterance.end, original, engine, latency_ms, self._asr_ms
        )
        self.latencies_ms.append(latency_ms)
        del self.latencies_ms[:-1000]  # recent figures only
        self.status.latency_p50_ms, self.status.latency_p95_ms = percentiles(self.latencies_ms)
        if self.vtt:
            self.vtt.write(caption)
        try:
            await self._on_caption(caption)
        except Exception:  # noqa: BLE001 - a failing subscriber must not stop the captions
            log.exception("captions %s: on_caption failed", self.source_url)

    async def _set_state(self, state: CaptionState, message: str) -> None:
        self.status.state, self.status.message = state, message
        if self._on_status:
            try:
                await self._on_status(self.status)
            except Exception:  # noqa: BLE001
                log.exception("captions %s: on_status failed", self.source_url)


def percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    p50, p95 = np.percentile(np.asarray(values), [50, 95])
    return round(float(p50), 1), round(float(p95), 1)
