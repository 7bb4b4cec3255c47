"""Speech recognisers behind one interface: 16 kHz mono float32 samples in, text out.

faster-whisper loads a CTranslate2 Whisper model from a local directory (never a download);
pocketsphinx is the light English fallback with the model its PyPI package ships.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]


class AsrUnavailable(Exception):
    code = "asr_unavailable"


class Recognizer(Protocol):
    name: str

    def languages(self) -> frozenset[str] | None:
        """Languages it can transcribe (None: any Whisper language)."""
        ...

    def transcribe(self, samples: Samples, language: str) -> str:
        """The text said in `samples` ("" for silence or noise). Called from worker threads."""
        ...


class FasterWhisperRecognizer:
    """Whisper on CTranslate2, int8 on CPU. Language is always given: auto-detection misfires on short
    utterances, and the translate task is never used (it invents text)."""

    name = "faster-whisper"

    def __init__(
        self, model_dir: Path, *, threads: int = 2, beam_size: int = 1, no_speech_threshold: float = 0.6
    ) -> None:
        if not (model_dir / "model.bin").is_file():
            raise AsrUnavailable(f"no Whisper CTranslate2 model in {model_dir}")
        from faster_whisper import WhisperModel

        self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
        self._english_only = model_dir.name.endswith(".en") or _english_only(model_dir)
        self._beam_size = beam_size
        self._no_speech = no_speech_threshold
        self._lock = threading.Lock()  # one utterance at a time: the 2 threads are already both busy

    def languages(self) -> frozenset[str] | None:
        return frozenset({"en"}) if self._english_only else None

    def warm_up(self) -> None:
        """The first call is several times slower (allocations, kernels): pay it at start-up, not on a caption."""
        self.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), "en")

    def transcribe(self, samples: Samples, language: str) -> str:
        with self._lock:
            segments, _info = self._model.transcribe(
                samples,
                language="en" if self._english_only else language,
                task="transcribe",
                beam_size=self._beam_size,
                temperature=0.0,  # no fallback re-decoding at higher temperatures: one pass, bounded latency
                condition_on_previous_text=False,  # each utterance stands alone: no runaway repetition
                vad_filter=False,  # our segmenter already cut at pauses
                no_speech_threshold=self._no_speech,
                without_timestamps=True,
            )
            kept = [s.text.strip() for s in segments if _confident(s.no_speech_prob, s.avg_logprob, self._no_speech)]
        return " ".join(t for t in kept if t and not _is_hallucination(t))


def _confident(no_speech_prob: float, avg_logprob: float, no_speech_threshold: float) -> bool:
    # Whisper's own silence rule (likely no speech AND unsure text), plus a floor for text it barely believes.
    silence = no_speech_prob > no_speech_threshold and avg_logprob < -1.0
    return not silence and avg_logprob > -1.5


def _english_only(model_dir: Path) -> bool:
    # English-only Whisper vocabularies are smaller (51864 tokens) than multilingual ones (51865+).
    vocab = model_dir / "vocabulary.txt"
    if vocab.is_file():
        return sum(1 for _ in vocab.open(encoding="utf-8")) <= 51864
    return False


# What Whisper says on silence and noise: learnt from subtitles of videos.
_HALLUCINATIONS = {"you", "thank you.", "thanks for watching!", "thank you for watching.", "bye.", "."}


def _is_hallucination(text: str) -> bool:
    return text.strip().lower() in _HALLUCINATIONS


class PocketsphinxRecognizer:
    """English only, much less accurate than Whisper; for machines where no Whisper model is provided."""

    name = "pocketsphinx"

    def __init__(self) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as error:
            raise AsrUnavailable("pocketsphinx is not installed") from error
        self._decoder: Any = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        self._lock = threading.Lock()

    def languages(self) -> frozenset[str] | None:
        return frozenset({"en"})

    def transcribe(self, samples: Samples, language: str) -> str:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        with self._lock:
            self._decoder.start_utt()
            self._decoder.process_raw(pcm, full_utt=True)
            self._decoder.end_utt()
            hyp = self._decoder.hyp()
        return str(hyp.hypstr).strip() if hyp is not None else ""
