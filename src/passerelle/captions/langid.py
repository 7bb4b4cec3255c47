"""Language identification of chat lines with py3langid (its model ships in the wheel)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any


class LanguageIdentifier:
    name = "py3langid"

    def __init__(self, languages: Iterable[str], *, min_confidence: float = 0.5) -> None:
        self._languages = sorted(set(languages))
        self._min_confidence = min_confidence
        self._model: Any = None
        self._lock = threading.Lock()

    def _identifier(self) -> Any:
        with self._lock:  # loading the model takes ~0.3 s: once, lazily
            if self._model is None:
                from py3langid.langid import MODEL_FILE
                from py3langid.langid import LanguageIdentifier as Model

                model = Model.from_model_file(MODEL_FILE, norm_probs=True)
                model.set_languages(self._languages)
                self._model = model
            return self._model

    def detect(self, text: str) -> tuple[str | None, float]:
        """(language, confidence); language is None when the line is too short or ambiguous to tell."""
        if sum(c.isalpha() for c in text) < 3:
            return None, 0.0
        language, confidence = self._identifier().classify(text)
        confidence = float(confidence)
        return (str(language) if confidence >= self._min_confidence else None), confidence
