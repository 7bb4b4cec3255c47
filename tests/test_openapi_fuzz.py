"""schemathesis against the running server's /api/v1/openapi.json: no input makes it fail with a 5xx."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

from passerelle.state import AppState
from tests import live_server
from tests.factories import make_merchant, make_product, make_user
from tests.i18n_fixtures import load_rates


async def _fill(state: AppState, token_file: Path) -> None:
    await load_rates(state)
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    for n in range(3):
        await make_product(state, shop, title_fr=f"Parfum n°{n}")
    await asyncio.to_thread(token_file.write_text, seller.token)


def test_given_the_api_schema_when_fuzzed_then_no_server_error(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    live_server.prepare(tmp_path, lambda state: _fill(state, token_file))
    server = live_server.start(tmp_path)
    try:
        st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
        result = subprocess.run(
            [
                st,
                "run",
                f"{server.url}/api/v1/openapi.json",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                os.environ.get("PASSERELLE_FUZZ_EXAMPLES", "15"),
                "--seed",
                "1111",
                "--header",
                f"Authorization: Bearer {token_file.read_text()}",
                "--request-timeout",
                "10",
                "--no-color",
                # An event stream never ends by design; it has its own test.
                "--exclude-path-regex",
                "/live$",
                "--report",
                "junit",
                "--report-junit-path",
                str(tmp_path / "junit.xml"),
            ],
            capture_output=True,
            text=True,
            timeout=480,
        )
    finally:
        server.stop()
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report + "\n--- server log ---\n" + server.log()[-4000:]
    # The run really exercised the API: one JUnit case per operation, none failed.
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    cases = suite.findall(".//testcase")
    assert len(cases) >= 40, report
    assert not any(case.find("failure") is not None or case.find("error") is not None for case in cases), report
