"""Energy voice-activity segmentation: captions break at pauses.

30 ms frames; a frame is voiced when its energy is well above an adaptive noise floor, so a
steady hum or hiss raises the floor and stops counting as speech after a second or so. An
utterance ends after `hangover_s` of unvoiced frames, or is cut at `max_utterance_s`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from passerelle.captions.asr import SAMPLE_RATE, Samples

FRAME = 480  # 30 ms at 16 kHz


@dataclass(frozen=True, slots=True)
class Utterance:
    samples: Samples
    start: float  # stream seconds
    end: float  # stream seconds of the last voiced frame
    speech_end_wall: float  # monotonic time the chunk holding the last voiced frame reached us


class Segmenter:
    def __init__(
        self,
        *,
        threshold_db: float = 12.0,
        min_level_dbfs: float = -50.0,
        hangover_s: float = 0.45,
        min_speech_s: float = 0.25,
        max_utterance_s: float = 10.0,
        preroll_s: float = 0.2,
    ) -> None:
        self._threshold = threshold_db
        self._min_level = min_level_dbfs
        self._hangover = int(hangover_s * SAMPLE_RATE / FRAME)
        self._min_speech = int(min_speech_s * SAMPLE_RATE / FRAME)
        self._max_frames = int(max_utterance_s * SAMPLE_RATE / FRAME)
        self._preroll = int(preroll_s * SAMPLE_RATE / FRAME)
        self._floor = -70.0
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames_seen = 0
        self._frames: list[Samples] = []  # current utterance (with pre-roll)
        self._recent: list[Samples] = []  # pre-roll ring while idle
        self._voiced = 0
        self._silent = 0
        self._start_frame = 0
        self._last_voiced_frame = 0
        self._last_voiced_wall = 0.0
        self.voiced_frames_total = 0

    @property
    def stream_seconds(self) -> float:
        return self._frames_seen * FRAME / SAMPLE_RATE

    def feed(self, samples: Samples, wall: float) -> Iterator[Utterance]:
        """Feed any number of samples; yields utterances as they end."""
        data = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = data.size - data.size % FRAME
        self._pending = data[whole:].copy()
        for i in range(0, whole, FRAME):
            done = self._frame(data[i : i + FRAME], wall)
            if done is not None:
                yield done

    def flush(self) -> Utterance | None:
        """End of stream: whatever speech is in progress becomes an utterance."""
        return self._finish() if self._frames and self._voiced >= self._min_speech else None

    def _frame(self, frame: Samples, wall: float) -> Utterance | None:
        energy = float(np.dot(frame, frame)) / FRAME
        level = 10.0 * math.log10(energy + 1e-12)
        voiced = level > max(self._floor + self._threshold, self._min_level)
        # The floor follows quiet frames at once and loud ones slowly (~10 s), so speech does not lift it much.
        self._floor = level if level < self._floor else self._floor + 0.003 * (level - self._floor)
        index = self._frames_seen
        self._frames_seen += 1
        if not self._frames:
            if not voiced:
                self._recent.append(frame)
                del self._recent[: -self._preroll or None]
                return None
            self._frames = [*self._recent, frame]
            self._recent = []
            self._start_frame = index - (len(self._frames) - 1)
            self._voiced, self._silent = 0, 0
        else:
            self._frames.append(frame)
        if voiced:
            self._voiced += 1
            self.voiced_frames_total += 1
            self._silent = 0
            self._last_voiced_frame = index
            self._last_voiced_wall = wall
        else:
            self._silent += 1
        if self._silent >= self._hangover:
            if self._voiced >= self._min_speech:
                return self._finish()
            self._frames, self._recent = [], []  # a click, not speech
        elif len(self._frames) >= self._max_frames:
            return self._finish()
        return None

    def _finish(self) -> Utterance:
        keep = len(self._frames) - max(0, self._silent - 3)  # trim the trailing silence but ~90 ms
        samples = np.concatenate(self._frames[:keep]).astype(np.float32, copy=False)
        utterance = Utterance(
            samples=samples,
            start=self._start_frame * FRAME / SAMPLE_RATE,
            end=(self._last_voiced_frame + 1) * FRAME / SAMPLE_RATE,
            speech_end_wall=self._last_voiced_wall,
        )
        self._frames, self._recent, self._voiced, self._silent = [], [], 0, 0
        return utterance
