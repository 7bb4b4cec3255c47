"""CTranslate2 + SentencePiece: OPUS-MT / Marian models converted with ct2-opus-mt-converter or
ct2-transformers-converter, one directory per pair under PASSERELLE_MT_MODEL_DIR:

    <mt_model_dir>/fr-en/model.bin, config.json, shared_vocabulary.* (or source/target vocabularies),
                         source.spm, target.spm      (OPUS-MT names; or one sentencepiece.model)
                         target_prefix.txt           (optional, e.g. ">>fra<<" for multi-target models)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from passerelle.captions.types import TranslationFailed


def _spm_paths(directory: Path) -> tuple[Path, Path] | None:
    if (directory / "source.spm").is_file() and (directory / "target.spm").is_file():
        return directory / "source.spm", directory / "target.spm"
    shared = directory / "sentencepiece.model"
    return (shared, shared) if shared.is_file() else None


class CTranslate2Engine:
    name = "ctranslate2"

    def __init__(self, model_dir: Path, *, threads: int = 2, beam_size: int = 2) -> None:
        self._dirs: dict[tuple[str, str], Path] = {}
        if model_dir.is_dir():
            for sub in sorted(model_dir.iterdir()):
                parts = sub.name.split("-")
                if len(parts) == 2 and (sub / "model.bin").is_file() and _spm_paths(sub):
                    self._dirs[(parts[0], parts[1])] = sub
        self._threads = threads
        self._beam_size = beam_size
        self._loaded: dict[tuple[str, str], tuple[Any, Any, Any, list[str] | None]] = {}
        self._lock = threading.Lock()

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self._dirs)

    def _load(self, pair: tuple[str, str]) -> tuple[Any, Any, Any, list[str] | None]:
        with self._lock:  # one load per pair even when several rooms ask at once
            if pair not in self._loaded:
                import ctranslate2
                import sentencepiece

                directory = self._dirs[pair]
                spm = _spm_paths(directory)
                assert spm is not None
                translator = ctranslate2.Translator(
                    str(directory), device="cpu", compute_type="auto", inter_threads=1, intra_threads=self._threads
                )
                prefix_file = directory / "target_prefix.txt"
                prefix = prefix_file.read_text().split() if prefix_file.is_file() else None
                self._loaded[pair] = (
                    translator,
                    sentencepiece.SentencePieceProcessor(model_file=str(spm[0])),
                    sentencepiece.SentencePieceProcessor(model_file=str(spm[1])),
                    prefix,
                )
            return self._loaded[pair]

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        pair = (source, target)
        if pair not in self._dirs:
            raise TranslationFailed(f"no CTranslate2 model for {source}-{target}")
        try:
            translator, src_sp, tgt_sp, prefix = self._load(pair)
            tokens = [src_sp.encode(text, out_type=str) for text in texts]
            results = translator.translate_batch(
                tokens,
                beam_size=self._beam_size,
                max_decoding_length=256,
                target_prefix=[prefix] * len(tokens) if prefix else None,
            )
        except (RuntimeError, ValueError, OSError) as error:
            raise TranslationFailed(f"ctranslate2 {source}-{target}: {error}") from error
        out: list[str] = []
        for result in results:
            hypothesis = [t for t in result.hypotheses[0] if not (prefix and t in prefix)]
            out.append(str(tgt_sp.decode(hypothesis)))
        return out
