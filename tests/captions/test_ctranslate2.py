"""The CTranslate2 + SentencePiece loading path, on a tiny Transformer the test builds with random weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from passerelle.captions.mt.ctranslate2 import CTranslate2Engine
from passerelle.captions.mt.router import Translator
from passerelle.captions.types import Translation, TranslationFailed

SENTENCES = [
    "Livraison gratuite pour toute commande.",
    "Free delivery on every order.",
    "Ajoutez ce produit à votre panier.",
    "Add this product to your cart.",
    "Le vendeur expédie le colis demain.",
    "The seller ships the parcel tomorrow.",
    "Le prix baisse à minuit.",
    "The price drops at midnight.",
] * 4


def build_tiny_model(directory: Path) -> Path:
    """An OPUS-MT-shaped pair directory: SentencePiece model + CTranslate2 Transformer (2 heads, d=16)."""
    # Runtime dependencies of passerelle (pyproject): a missing one is an error, never a skip.
    import ctranslate2
    import sentencepiece
    from ctranslate2.specs import TransformerSpec

    work = directory.with_name(directory.name + ".work")
    work.mkdir(parents=True)
    corpus = work / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES))
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(work / "sentencepiece"),
        vocab_size=60,
        model_type="unigram",
        bos_id=1,
        eos_id=2,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    sp = sentencepiece.SentencePieceProcessor(model_file=str(work / "sentencepiece.model"))
    vocab = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = ["<unk>", "<s>", "</s>", *[v for v in vocab if v not in ("<unk>", "<s>", "</s>")]]

    rng = np.random.default_rng(0)
    d, ffn, v = 16, 32, len(vocab)

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    def norm(layer: object) -> None:
        layer.gamma = np.ones(d, dtype=np.float32)  # type: ignore[attr-defined]
        layer.beta = np.zeros(d, dtype=np.float32)  # type: ignore[attr-defined]

    spec = TransformerSpec.from_config(num_layers=1, num_heads=2)
    enc, dec = spec.encoder, spec.decoder
    enc.embeddings[0].weight = w(v, d)
    dec.embeddings.weight = w(v, d)
    dec.projection.weight = w(v, d)
    norm(enc.layer_norm)
    norm(dec.layer_norm)
    for layer in (enc.layer[0], dec.layer[0]):
        norm(layer.self_attention.layer_norm)
        layer.self_attention.linear[0].weight = w(3 * d, d)
        layer.self_attention.linear[1].weight = w(d, d)
        norm(layer.ffn.layer_norm)
        layer.ffn.linear_0.weight = w(ffn, d)
        layer.ffn.linear_1.weight = w(d, ffn)
    cross = dec.layer[0].attention
    norm(cross.layer_norm)
    cross.linear[0].weight = w(d, d)
    cross.linear[1].weight = w(2 * d, d)
    cross.linear[2].weight = w(d, d)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)

    class TinyConverter(ctranslate2.converters.Converter):  # type: ignore[misc]
        def _load(self) -> TransformerSpec:
            return spec

    TinyConverter().convert(str(directory))  # the converter wants a fresh directory
    (work / "sentencepiece.model").rename(directory / "sentencepiece.model")
    return directory


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mt-models")
    build_tiny_model(root / "fr-en")
    return root


def test_given_a_pair_directory_then_the_engine_lists_it_and_translates_a_batch(model_dir: Path) -> None:
    engine = CTranslate2Engine(model_dir, threads=1)
    assert engine.pairs() == frozenset({("fr", "en")})
    out = engine.translate_batch(["Livraison gratuite.", "Le prix baisse à minuit."], "fr", "en")
    assert len(out) == 2 and all(isinstance(t, str) for t in out)  # random weights: any text, but it decodes


def test_given_ctranslate2_first_then_the_router_prefers_it_and_caches(model_dir: Path) -> None:
    translator = Translator([CTranslate2Engine(model_dir, threads=1)])
    first = translator.translate("Ajoutez ce produit.", "fr", "en")
    assert first.engine == "ctranslate2"
    assert translator.translate("Ajoutez ce produit.", "fr", "en") == Translation(first.text, "ctranslate2")
    assert translator.cache.hits >= 1


def test_given_no_model_for_a_pair_then_a_clear_failure(model_dir: Path, tmp_path: Path) -> None:
    engine = CTranslate2Engine(model_dir, threads=1)
    with pytest.raises(TranslationFailed):
        engine.translate_batch(["Hola"], "es", "en")
    assert CTranslate2Engine(tmp_path / "absent").pairs() == frozenset()
