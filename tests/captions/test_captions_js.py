"""The viewer side in a real Chromium: captions in the picked language under the video, the original when
no engine translates into it, the picked language announced to the server, chat with the original on hover."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import passerelle
from tests.services import unavailable

CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = Path(passerelle.__file__).parent / "web" / "static" / "js" / "captions.js"
PAGE = """<!doctype html><html lang="fr"><body>
<video></video><p data-captions></p>
<select data-caption-language><option value="fr">fr</option><option value="es">es</option>
<option value="zh">zh</option></select>
<p id="chat"></p>
<script>
  // Stands in for the room's WebSocket: records what the page sends, lets the test push events.
  window.sent = [];
  window.socket = new EventTarget();
  window.socket.send = function (data) { window.sent.push(JSON.parse(data)); };
  window.push = function (event) {
    window.socket.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(event) }));
  };
</script>
<script>%s</script>
<script>window.room = window.passerelleCaptions.attach(window.socket, document);
window.socket.dispatchEvent(new Event("open"));</script>
</body></html>"""


@pytest.fixture(scope="module")
def html() -> str:
    if not CHROMIUM.exists():
        unavailable("Chromium is not installed at /usr/bin/chromium")
    return PAGE % SCRIPT.read_text()


@pytest.fixture(scope="module")
async def page(html: str) -> AsyncIterator[Any]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless=new", "--no-sandbox", "--disable-gpu"]
        )
        page = await browser.new_page()
        await page.set_content(html)
        yield page
        await browser.close()


def caption(lang: str, text: str, original: bool) -> dict[str, object]:
    return {"type": "caption", "lang": lang, "text": text, "original": original, "start": 1.0, "end": 2.0}


async def test_given_a_viewer_then_captions_follow_the_picked_language(page: Any) -> None:
    assert await page.evaluate("window.sent") == [{"type": "caption_language", "lang": "fr", "previous": None}]
    await page.evaluate("e => window.push(e)", caption("en", "The price drops.", True))
    await page.evaluate("e => window.push(e)", caption("fr", "Le prix baisse.", False))
    assert await page.text_content("[data-captions]") == "Le prix baisse."

    await page.select_option("[data-caption-language]", "es")
    assert (await page.evaluate("window.sent"))[-1] == {"type": "caption_language", "lang": "es", "previous": "fr"}
    await page.evaluate("e => window.push(e)", caption("fr", "Livraison gratuite.", False))
    assert await page.text_content("[data-captions]") == ""
    await page.evaluate("e => window.push(e)", caption("es", "Envío gratis.", False))
    assert await page.text_content("[data-captions]") == "Envío gratis."
    assert await page.get_attribute("[data-captions]", "lang") == "es"


async def test_given_an_unsupported_language_then_the_original_captions_show(page: Any) -> None:
    await page.select_option("[data-caption-language]", "zh")
    await page.evaluate("e => window.push(e)", {"type": "caption_status", "targets": {"zh": "unsupported_pair"}})
    await page.evaluate("e => window.push(e)", caption("en", "Free shipping today.", True))
    assert await page.text_content("[data-captions]") == "Free shipping today."
    assert await page.get_attribute("[data-captions]", "data-original") == "true"


async def test_given_a_translated_chat_line_then_the_original_is_on_hover_and_tap(page: Any) -> None:
    event = {
        "type": "chat_translation",
        "original": "Bonjour, la livraison est gratuite ?",
        "lang": "fr",
        "texts": {"en": "Hello, is delivery free?", "fr": "Bonjour, la livraison est gratuite ?"},
    }
    await page.evaluate("e => window.passerelleCaptions.showChat(document.getElementById('chat'), e, 'en')", event)
    assert await page.text_content("#chat") == "Hello, is delivery free?"
    assert await page.get_attribute("#chat", "title") == event["original"]
    await page.click("#chat")
    assert await page.text_content("#chat") == event["original"]
