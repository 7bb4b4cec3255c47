"""The flash-deal claim route at `passerelle edge`: nginx's part of it (the Lua is beside this).

nginx gathers buyers' single claims and hands them to the server in batches
(passerelle_claims.lua -> festival/claims_edge.py). It needs Debian's lua-nginx-module
(`libnginx-mod-http-lua`, which brings lua-resty-core) and `lua-cjson`, and the gateway
token, which reaches the workers through the environment (never written into the config).
"""

from __future__ import annotations

import glob
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent
MODULES = ("/usr/lib/nginx/modules/ndk_http_module.so", "/usr/lib/nginx/modules/ngx_http_lua_module.so")
CJSON = "/usr/lib/*/lua/5.1/cjson.so"
TOKEN_ENV = "PASSERELLE_EDGE_GATEWAY_TOKEN"
# Deal ids the edge takes: 14 digits at most, exact in Lua's numbers and in cjson's output.
# Claims' bytes per exchange with the server: well under its 4 MiB cap even once JSON-escaped.
BATCH_BYTES = 1_000_000
# Claims waiting in one nginx worker beyond which the edge answers 429 busy by itself.
QUEUE_LIMIT = 5_000
CLAIM_PATH = r"^/api/v1/deals/(?<pc_deal>[1-9][0-9]{0,13})/claims$"


def lua_available() -> bool:
    return all(Path(module).exists() for module in MODULES) and bool(glob.glob(CJSON))


def main_directives() -> str:
    loads = "\n".join(f"load_module {module};" for module in MODULES)
    return f"{loads}\nenv {TOKEN_ENV};"


def http_directives(upstream: str, batch_bytes: int = BATCH_BYTES, queue_limit: int = QUEUE_LIMIT) -> str:
    host, _, port = upstream.rpartition(":")
    start = f'require("passerelle_claims").start("{host}", {int(port)}, {int(batch_bytes)}, {int(queue_limit)})'
    return f"""lua_package_path "{LUA_DIR}/?.lua;;";
    init_worker_by_lua_block {{ {start} }}"""


def claims_location() -> str:
    return f"""location ~ "{CLAIM_PATH}" {{
            client_body_buffer_size 16k;  # a claim's body; a bigger one is refused (413) by the Lua
            client_max_body_size 1m;
            content_by_lua_block {{ require("passerelle_claims").claim(ngx.var.pc_deal) }}
        }}"""
