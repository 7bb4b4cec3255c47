"""Bad input: silence, noise, a language pair no engine has, a stream that is not there, a language the
recogniser does not know. No crash, a clear status for the host, and the chat keeps working."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from passerelle.captions.asr import FasterWhisperRecognizer
from passerelle.captions.chat import ChatTranslator
from passerelle.captions.engines import CHAT_LANGUAGES
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.router import Translator
from passerelle.captions.pipeline import CaptionPipeline
from passerelle.captions.speech import speak
from passerelle.captions.types import CaptionState, TargetState
from tests.captions.streams import Collector


def lavfi(tmp_path: Path, source: str, seconds: float) -> Path:
    out = tmp_path / "input.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            source,
            "-t",
            str(seconds),
            "-ac",
            "1",
            "-ar",
            "16000",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.mark.usefixtures("speech_tools")
async def test_given_silence_then_no_caption_and_the_host_sees_no_speech(
    recognizer: FasterWhisperRecognizer, translator: Translator, tmp_path: Path
) -> None:
    seen = Collector()
    pipeline = CaptionPipeline(
        str(lavfi(tmp_path, "anullsrc=r=16000:cl=mono", 3)),
        "en",
        {"es"},
        seen.on_caption,
        recognizer=recognizer,
        translator=translator,
        on_status=seen.on_status,
        no_speech_after_s=1.0,
    )
    status = await pipeline.run()
    assert seen.captions == []
    assert "no_speech" in seen.statuses and status.state == CaptionState.STOPPED


@pytest.mark.usefixtures("speech_tools")
async def test_given_steady_noise_then_nothing_is_invented(
    recognizer: FasterWhisperRecognizer, translator: Translator, tmp_path: Path
) -> None:
    seen = Collector()
    noise = lavfi(tmp_path, "anoisesrc=color=pink:amplitude=0.3:r=16000", 6)
    pipeline = CaptionPipeline(
        str(noise),
        "en",
        {"es"},
        seen.on_caption,
        recognizer=recognizer,
        translator=translator,
        on_status=seen.on_status,
    )
    status = await pipeline.run()
    assert status.state == CaptionState.STOPPED
    assert all(len(c.text.split()) <= 3 for c in seen.captions), [c.text for c in seen.captions]
    assert recognizer.transcribe(np.zeros(16000, dtype=np.float32), "en") == ""


@pytest.mark.usefixtures("speech_tools")
async def test_given_an_unsupported_target_then_its_status_says_so_and_the_original_still_flows(
    recognizer: FasterWhisperRecognizer, translator: Translator, tmp_path: Path
) -> None:
    seen = Collector()
    wav = speak("Free shipping today.", tmp_path / "s.wav")
    pipeline = CaptionPipeline(
        str(wav), "en", {"zh", "es"}, seen.on_caption, recognizer=recognizer, translator=translator
    )
    assert pipeline.status.targets == {"es": TargetState.OK, "zh": TargetState.UNSUPPORTED_PAIR}
    status = await pipeline.run()
    assert status.as_dict()["targets"] == {"es": "ok", "zh": "unsupported_pair"}
    assert status.target_engines["zh"] == "none"
    assert {c.language for c in seen.captions} == {"en", "es"}


@pytest.mark.usefixtures("speech_tools")
async def test_given_a_stream_that_is_not_there_then_source_error_with_the_reason(
    recognizer: FasterWhisperRecognizer, translator: Translator, tmp_path: Path
) -> None:
    seen = Collector()
    pipeline = CaptionPipeline(
        str(tmp_path / "absent.flv"),
        "en",
        {"es"},
        seen.on_caption,
        recognizer=recognizer,
        translator=translator,
        on_status=seen.on_status,
    )
    status = await pipeline.run()
    assert status.state == CaptionState.SOURCE_ERROR
    assert "ffmpeg read no audio" in status.message and "absent.flv" in status.message
    assert seen.captions == []


async def test_given_a_spoken_language_the_recogniser_lacks_then_asr_error_and_chat_still_translates(
    recognizer: FasterWhisperRecognizer, translator: Translator
) -> None:
    seen = Collector()
    pipeline = CaptionPipeline(
        "rtmp://127.0.0.1:9/live/x", "fr", {"en"}, seen.on_caption, recognizer=recognizer, translator=translator
    )
    status = await pipeline.run()
    assert status.state == CaptionState.ASR_ERROR and "'fr'" in status.message
    chat = ChatTranslator(translator, LanguageIdentifier(CHAT_LANGUAGES))
    result = await chat.translate_message("Le colis arrive demain ?", target_langs=["en"])
    assert result.status["en"] == "translated"
