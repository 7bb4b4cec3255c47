"""Client of a self-hosted LibreTranslate server (POST /translate, GET /languages)."""

from __future__ import annotations

import httpx

from passerelle.captions.types import TranslationFailed


class LibreTranslateEngine:
    name = "libretranslate"

    def __init__(
        self, url: str, *, api_key: str | None = None, timeout_s: float = 10.0, client: httpx.Client | None = None
    ) -> None:
        self._url = url.rstrip("/")
        self._api_key = api_key
        self._client = client or httpx.Client(timeout=timeout_s)
        self._pairs: frozenset[tuple[str, str]] | None = None

    def pairs(self) -> frozenset[tuple[str, str]]:
        if self._pairs is None:
            try:
                response = self._client.get(f"{self._url}/languages")
                response.raise_for_status()
                found = {
                    (str(lang["code"]), str(target))
                    for lang in response.json()
                    for target in lang.get("targets", [])
                    if target != lang["code"]
                }
                self._pairs = frozenset(found)
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                return frozenset()  # unreachable now: ask again next time rather than caching "nothing"
        return self._pairs

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        payload: dict[str, object] = {"q": texts, "source": source, "target": target, "format": "text"}
        if self._api_key:
            payload["api_key"] = self._api_key
        try:
            response = self._client.post(f"{self._url}/translate", json=payload)
            response.raise_for_status()
            translated = response.json()["translatedText"]
        except (httpx.HTTPError, ValueError, KeyError) as error:
            raise TranslationFailed(f"libretranslate {source}-{target}: {error}") from error
        if isinstance(translated, str):
            translated = [translated]
        if not isinstance(translated, list) or len(translated) != len(texts):
            raise TranslationFailed("libretranslate answered a different number of texts")
        return [str(t) for t in translated]
