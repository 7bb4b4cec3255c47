"""Chat translation: detect a message's language once, translate it once per viewer language (cached),
keep the original so a viewer can see it on hover or tap."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.router import Translator
from passerelle.captions.types import Translation, TranslationFailed, UnsupportedPair

log = logging.getLogger("passerelle.captions")


@dataclass(frozen=True, slots=True)
class ChatTranslation:
    original: str
    source_lang: str | None  # None: too short or ambiguous to tell; shown as is to everyone
    texts: dict[str, str]  # target language -> text to show (the original where it cannot be translated)
    engines: dict[str, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)  # original | translated | unsupported_pair | error

    def as_event(self) -> dict[str, object]:
        return {
            "type": "chat_translation",
            "original": self.original,
            "lang": self.source_lang,
            "texts": dict(self.texts),
            "status": dict(self.status),
        }


class ChatTranslator:
    def __init__(
        self,
        translator: Translator,
        identifier: LanguageIdentifier,
        *,
        max_detections: int = 100_000,
        max_chars: int = 500,
    ) -> None:
        self.translator = translator
        self.identifier = identifier
        self._detected: dict[str, str | None] = {}
        self._max_detections = max_detections
        self._max_chars = max_chars
        self._inflight: dict[tuple[str, str, str], asyncio.Future[Translation]] = {}

    def detect(self, text: str) -> str | None:
        if text in self._detected:
            return self._detected[text]
        language, _confidence = self.identifier.detect(text)
        if len(self._detected) >= self._max_detections:
            self._detected.clear()  # rare and cheap to rebuild: detection is ~0.03 ms a line
        self._detected[text] = language
        return language

    async def translate_chat(self, text: str, source_lang: str | None, target_langs: Iterable[str]) -> dict[str, str]:
        """The narrow form: target language -> text to show."""
        return (await self.translate_message(text, source_lang=source_lang, target_langs=target_langs)).texts

    async def translate_message(
        self, text: str, *, source_lang: str | None = None, target_langs: Iterable[str]
    ) -> ChatTranslation:
        text = text.strip()[: self._max_chars]
        source = source_lang or self.detect(text)
        texts: dict[str, str] = {}
        engines: dict[str, str] = {}
        status: dict[str, str] = {}
        cache = self.translator.cache
        misses: list[str] = []
        for target in target_langs:
            if source is None or source == target or not text:
                texts[target], status[target] = text, "original"
                continue
            hit = cache.get(source, target, text)  # the hot path: one dict lookup, no await
            if hit is None:
                misses.append(target)
            else:
                texts[target], engines[target], status[target] = hit.text, hit.engine, "translated"
        if misses and source is not None:
            # Direct pairs first, then pivoted ones, whose first hop is then a cache hit.
            direct = [t for t in misses if self.translator.is_direct(source, t)]
            for group in (direct, [t for t in misses if t not in direct]):
                results = await asyncio.gather(
                    *(self._translate_once(text, source, t) for t in group), return_exceptions=True
                )
                for target, result in zip(group, results, strict=True):
                    if isinstance(result, Translation):
                        texts[target], engines[target], status[target] = result.text, result.engine, "translated"
                    elif isinstance(result, UnsupportedPair):
                        texts[target], status[target] = text, "unsupported_pair"
                    elif isinstance(result, TranslationFailed):
                        log.warning("chat translation %s->%s failed: %s", source, target, result)
                        texts[target], status[target] = text, "error"
                    else:
                        raise result
        return ChatTranslation(text, source, texts, engines, status)

    async def _translate_once(self, text: str, source: str, target: str) -> Translation:
        """Concurrent requests for the same line and pair share one engine call."""
        key = (source, target, text)
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Translation] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = (await self.translator.atranslate_batch([text], source, target))[0]
            future.set_result(result)
            return result
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        finally:
            del self._inflight[key]
