"""Builds the caption engines once at start-up from settings (the only place that reads them)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from passerelle.captions.asr import AsrUnavailable, FasterWhisperRecognizer, PocketsphinxRecognizer, Recognizer
from passerelle.captions.chat import ChatTranslator
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.apertium_engine import ApertiumEngine
from passerelle.captions.mt.base import TranslationEngine
from passerelle.captions.mt.ctranslate2 import CTranslate2Engine
from passerelle.captions.mt.libretranslate import LibreTranslateEngine
from passerelle.captions.mt.router import Translator
from passerelle.config import SUPPORTED_LANGUAGES, Settings

log = logging.getLogger("passerelle.captions")
CHAT_LANGUAGES = (*SUPPORTED_LANGUAGES, "pt", "ca", "nl", "pl", "ja", "ko", "ar", "tr")


@dataclass
class CaptionEngines:
    recognizer: Recognizer | None  # None: captions off for lack of a speech model (status says why)
    recognizer_error: str | None
    translator: Translator
    chat: ChatTranslator

    def describe(self) -> dict[str, object]:
        return {
            "asr": self.recognizer.name if self.recognizer else None,
            "asr_error": self.recognizer_error,
            "mt": [e.name for e in self.translator.engines],
            "pairs": [f"{s}-{t}" for s, t in self.translator.pairs()],
        }


def build_translation_engines(settings: Settings, *, warm: bool = True) -> list[TranslationEngine]:
    engines: list[TranslationEngine] = []
    for name in (n.strip() for n in settings.mt_engines.split(",")):
        if name == "ctranslate2" and settings.mt_model_dir:
            engines.append(CTranslate2Engine(settings.mt_model_dir, threads=settings.asr_threads))
        elif name == "libretranslate" and settings.libretranslate_url:
            engines.append(LibreTranslateEngine(settings.libretranslate_url, api_key=settings.libretranslate_api_key))
        elif name == "apertium":
            apertium = ApertiumEngine()
            if warm:
                apertium.warm_up()
            engines.append(apertium)
    return engines


def build_recognizer(settings: Settings) -> Recognizer:
    """Raises AsrUnavailable with the reason when the configured engine cannot run here."""
    if settings.asr_engine == "faster-whisper":
        if settings.asr_model_dir is None:
            raise AsrUnavailable("PASSERELLE_ASR_MODEL_DIR is not set")
        recognizer = FasterWhisperRecognizer(settings.asr_model_dir, threads=settings.asr_threads)
        recognizer.warm_up()
        return recognizer
    if settings.asr_engine == "pocketsphinx":
        return PocketsphinxRecognizer()
    raise AsrUnavailable(f"speech recognition is off (PASSERELLE_ASR_ENGINE={settings.asr_engine})")


def build_engines(settings: Settings, *, with_asr: bool = True, warm: bool = True) -> CaptionEngines:
    """Everything captions need, loaded now (warm: first calls paid at start-up, not by a caption)."""
    recognizer: Recognizer | None = None
    error: str | None = None
    if with_asr:
        try:
            recognizer = build_recognizer(settings)
        except AsrUnavailable as exc:
            error = str(exc)
            log.warning("live captions unavailable: %s", error)
    pivots = [p.strip() for p in settings.mt_pivot_languages.split(",") if p.strip()]
    translator = Translator(build_translation_engines(settings, warm=warm), pivots=pivots)
    chat = ChatTranslator(translator, LanguageIdentifier(CHAT_LANGUAGES))
    return CaptionEngines(recognizer, error, translator, chat)
