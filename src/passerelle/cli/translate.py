"""`passerelle translate --from fr --to en "texte"`: one translation with the configured engines."""

from __future__ import annotations

import json

import typer

from passerelle.cli.common import settings


def translate(
    text: str = typer.Argument(..., help="Text to translate."),
    source: str = typer.Option(None, "--from", help="Source language (ISO 639-1); detected when omitted."),
    target: str = typer.Option(..., "--to", help="Target language (ISO 639-1)."),
    as_json: bool = typer.Option(False, "--json", help="Print {text, engine, source, target} as JSON."),
) -> None:
    """Translate TEXT and print it with the engine used (stderr says the engine in plain output)."""
    from passerelle.captions.engines import build_engines
    from passerelle.captions.types import TranslationFailed, UnsupportedPair

    engines = build_engines(settings(), with_asr=False, warm=False)
    src = source or engines.chat.detect(text)
    if src is None:
        typer.echo("error: could not detect the source language; give --from", err=True)
        raise typer.Exit(2)
    try:
        result = engines.translator.translate(text, src, target)
    except UnsupportedPair as error:
        pairs = ", ".join(f"{s}-{t}" for s, t in engines.translator.pairs()) or "none"
        typer.echo(f"error: {error} (available: {pairs})", err=True)
        raise typer.Exit(3) from error
    except TranslationFailed as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(4) from error
    if as_json:
        typer.echo(json.dumps({"text": result.text, "engine": result.engine, "source": src, "target": target}))
    else:
        typer.echo(result.text)
        typer.echo(f"[engine: {result.engine}]")
