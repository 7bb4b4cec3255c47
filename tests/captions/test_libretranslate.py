"""The LibreTranslate client against a fake server (httpx transport), and failures as clear errors."""

from __future__ import annotations

import json

import httpx
import pytest

from passerelle.captions.mt.libretranslate import LibreTranslateEngine
from passerelle.captions.mt.router import Translator
from passerelle.captions.types import TranslationFailed


def fake_server(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/languages":
        return httpx.Response(200, json=[{"code": "fr", "targets": ["en", "fr"]}, {"code": "en", "targets": ["fr"]}])
    if request.url.path == "/translate":
        body = json.loads(request.content)
        if body.get("api_key") != "k":
            return httpx.Response(403, json={"error": "bad key"})
        return httpx.Response(200, json={"translatedText": [f"[{body['target']}] {q}" for q in body["q"]]})
    return httpx.Response(404)


def test_given_a_server_then_pairs_come_from_it_and_batches_translate() -> None:
    client = httpx.Client(transport=httpx.MockTransport(fake_server))
    engine = LibreTranslateEngine("http://lt.local/", api_key="k", client=client)
    assert engine.pairs() == frozenset({("fr", "en"), ("en", "fr")})
    assert engine.translate_batch(["Bonjour", "Merci"], "fr", "en") == ["[en] Bonjour", "[en] Merci"]
    assert Translator([engine]).translate("Salut", "fr", "en").engine == "libretranslate"


def test_given_a_refusing_or_absent_server_then_a_clear_failure_and_no_pairs() -> None:
    client = httpx.Client(transport=httpx.MockTransport(fake_server))
    with pytest.raises(TranslationFailed):
        LibreTranslateEngine("http://lt.local", api_key="wrong", client=client).translate_batch(["x"], "fr", "en")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    absent = LibreTranslateEngine("http://lt.local", client=httpx.Client(transport=httpx.MockTransport(down)))
    assert absent.pairs() == frozenset()
    assert not Translator([absent]).supports("fr", "en")
