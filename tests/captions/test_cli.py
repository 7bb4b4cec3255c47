"""`passerelle translate`: the translation and the engine used; a clear error for a pair with no engine."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from passerelle.cli import app


@pytest.mark.usefixtures("apertium")
def test_given_french_text_then_it_prints_the_english_translation_and_the_engine() -> None:
    result = CliRunner().invoke(
        app, ["translate", "--from", "fr", "--to", "en", "Livraison gratuite pour toute commande"]
    )
    assert result.exit_code == 0, result.output
    text, engine = result.stdout.strip().splitlines()
    assert "free" in text.lower() and "delivery" in text.lower()
    assert engine == "[engine: apertium:fr-es-en]"
    as_json = CliRunner().invoke(app, ["translate", "--to", "es", "--json", "Free shipping on every order"])
    assert json.loads(as_json.stdout) | {"text": ""} == {
        "text": "",
        "engine": "apertium",
        "source": "en",
        "target": "es",
    }


@pytest.mark.usefixtures("apertium")
def test_given_a_pair_without_engine_then_exit_3_with_the_available_pairs() -> None:
    result = CliRunner().invoke(app, ["translate", "--from", "fr", "--to", "zh", "Bonjour"])
    assert result.exit_code == 3
    assert "no translation engine for fr -> zh" in result.stderr and "fr-es" in result.stderr
