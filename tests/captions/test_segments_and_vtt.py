"""Voice-activity segmentation (captions break at pauses) and the WebVTT tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from passerelle.captions.types import Caption
from passerelle.captions.vad import Segmenter, Utterance
from passerelle.captions.webvtt import WebVTTWriter, timestamp

RATE = 16_000


def tone(seconds: float, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    # A warbling tone: speech-like loudness that changes, not a steady hum.
    return (level * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def segment(audio: np.ndarray, segmenter: Segmenter | None = None) -> list[Utterance]:
    segmenter = segmenter or Segmenter()
    found: list[Utterance] = []
    for i in range(0, audio.size, 1600):  # 100 ms chunks, as ffmpeg hands them
        found.extend(segmenter.feed(audio[i : i + 1600], wall=float(i)))
    tail = segmenter.flush()
    return found + ([tail] if tail else [])


def test_given_speech_with_pauses_then_one_utterance_per_phrase_with_stream_times() -> None:
    audio = np.concatenate([silence(0.5), tone(1.5), silence(1.0), tone(2.0), silence(1.0)])
    utterances = segment(audio)
    assert len(utterances) == 2
    assert abs(utterances[0].start - 0.3) < 0.1 and abs(utterances[0].end - 2.0) < 0.1
    assert abs(utterances[1].start - 2.8) < 0.1 and abs(utterances[1].end - 5.0) < 0.1


def test_given_silence_or_a_click_then_no_utterance() -> None:
    assert segment(silence(5.0)) == []
    assert segment(np.concatenate([silence(1.0), tone(0.06), silence(1.0)])) == []


def test_given_a_steady_noise_then_the_floor_adapts_and_it_stops_counting_as_speech() -> None:
    noise = (np.random.default_rng(1).standard_normal(40 * RATE) * 0.05).astype(np.float32)
    utterances = segment(noise, Segmenter(max_utterance_s=10.0))
    assert sum(u.samples.size for u in utterances) / RATE < 25  # not 40 s of "speech"
    assert all(u.samples.size / RATE <= 10.1 for u in utterances)  # long speech is cut


def test_given_captions_then_each_language_gets_its_vtt_track(tmp_path: Path) -> None:
    writer = WebVTTWriter(tmp_path)
    writer.write(Caption(1, "es", "El precio <baja> & sube", 1.25, 3.5, False, "apertium", 900.0))
    writer.write(Caption(1, "en", "The price drops", 1.25, 3.5, True, "faster-whisper", 600.0))
    writer.write(Caption(2, "es", "Envío gratis", 3661.0, 3662.0, False, "apertium", 900.0))
    writer.close()
    assert (tmp_path / "es.vtt").read_text() == (
        "WEBVTT\n\n1\n00:00:01.250 --> 00:00:03.500\nEl precio &lt;baja&gt; &amp; sube\n\n"
        "2\n01:01:01.000 --> 01:01:02.000\nEnvío gratis\n\n"
    )
    assert (tmp_path / "en.vtt").read_text().startswith("WEBVTT\n\n1\n00:00:01.250 --> 00:00:03.500\nThe price")
    assert timestamp(0.0004) == "00:00:00.000"
