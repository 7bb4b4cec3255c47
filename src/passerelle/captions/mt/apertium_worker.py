"""Apertium in-process, inside its own worker process (`python -m passerelle.captions.mt.apertium_worker`).

The PyPI `apertium` package runs the pipeline in-process (~10-50 ms a sentence instead of ~200-1000 ms
for the command line) when Debian's python3-apertium-core, -lttoolbox, -lex-tools and -cg3 bindings
import. Some pairs abort the process from C++ (field notes): that is why it lives in a separate process,
and the parent falls back to the command line when it dies. Protocol: one JSON object a line each way.
"""

from __future__ import annotations

import json
import sys
from typing import Any

DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"
SEPARATOR = "\n\n"


def main() -> None:
    sys.path.append(DEBIAN_DIST_PACKAGES)  # last: the venv's own packages win
    from apertium.translation import Translator
    from apertium.utils import wrappers_available

    if not wrappers_available:
        sys.stdout.write(json.dumps({"ready": False, "error": "Debian apertium bindings not importable"}) + "\n")
        sys.stdout.flush()
        return
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    translators: dict[str, Any] = {}
    for line in sys.stdin:
        request = json.loads(line)
        mode = str(request["mode"])
        try:
            if mode not in translators:
                source, target = mode.split("-")
                translators[mode] = Translator(source, target)
            texts = _translate(translators[mode], [str(t) for t in request["texts"]])
            answer: dict[str, object] = {"texts": texts}
        except Exception as error:  # noqa: BLE001 - reported to the parent, which falls back
            answer = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _translate(translator: Any, texts: list[str]) -> list[str]:
    """One pipeline run for the batch (texts separated by blank lines, as on the command line); one run
    per text if the framing did not survive."""
    if len(texts) > 1:
        out = str(translator.translate(SEPARATOR.join(texts))).split(SEPARATOR)
        if len(out) == len(texts):
            return out
    return [str(translator.translate(t)) if t.strip() else "" for t in texts]


if __name__ == "__main__":
    main()
