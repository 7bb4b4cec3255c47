"""Plain data shared by the caption pipeline, the translators and the chat service."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CaptionState(StrEnum):
    """What the host sees about the caption pipeline of a room."""

    OFF = "off"  # the host turned captions off for the room
    IDLE = "idle"  # on, waiting for the stream to start
    STARTING = "starting"
    LISTENING = "listening"  # audio arrives, captions flow
    NO_SPEECH = "no_speech"  # audio arrives but nothing recognisable was said for a while
    SOURCE_ERROR = "source_error"  # ffmpeg could not read the stream (it may come back)
    ASR_ERROR = "asr_error"
    STOPPED = "stopped"


class TargetState(StrEnum):
    OK = "ok"
    UNSUPPORTED_PAIR = "unsupported_pair"  # no engine translates spoken -> target: original shown
    ERROR = "error"  # the engine failed on the last utterance


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    engine: str  # "identity", "apertium", "apertium:fr-es-en", "ctranslate2", "libretranslate", "cache:..."


@dataclass(frozen=True, slots=True)
class Caption:
    """One caption line in one language, timed in stream seconds (from the start of the pipeline)."""

    seq: int
    language: str
    text: str
    start: float
    end: float
    original: bool  # True for the spoken-language transcript
    engine: str
    latency_ms: float  # from the end of the utterance's audio reaching us to this caption being ready
    asr_ms: float = 0.0  # of which speech recognition

    def as_event(self) -> dict[str, object]:
        """The JSON event a chat hub broadcasts to viewers (`type` = "caption")."""
        return {
            "type": "caption",
            "seq": self.seq,
            "lang": self.language,
            "text": self.text,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "original": self.original,
            "engine": self.engine,
            "latency_ms": round(self.latency_ms, 1),
            "asr_ms": round(self.asr_ms, 1),
        }


@dataclass(slots=True)
class CaptionStatus:
    state: CaptionState
    message: str = ""
    spoken_language: str = ""
    asr_engine: str = ""
    targets: dict[str, TargetState] = field(default_factory=dict)
    target_engines: dict[str, str] = field(default_factory=dict)
    utterances: int = 0
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "message": self.message,
            "spoken_language": self.spoken_language,
            "asr_engine": self.asr_engine,
            "targets": {k: v.value for k, v in self.targets.items()},
            "target_engines": dict(self.target_engines),
            "utterances": self.utterances,
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
        }


class UnsupportedPair(Exception):
    """No configured engine translates this pair."""

    code = "unsupported_pair"

    def __init__(self, source: str, target: str) -> None:
        super().__init__(f"no translation engine for {source} -> {target}")
        self.source = source
        self.target = target


class TranslationFailed(Exception):
    code = "translation_failed"
