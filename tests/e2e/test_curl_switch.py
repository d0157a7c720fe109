"""``SAFETRADE_HTTP_CLIENT=auto`` against a simulator that challenges non-browser clients.

The embedded simulator (``SELLBOT_SIM_CHALLENGE=non_browser``) answers a Cloudflare challenge
to every User-Agent that is not a browser's, as Cloudflare does to a plain TLS fingerprint.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import read_db, run_sellbot, sellbot_env

pytestmark = pytest.mark.e2e


def events(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


async def test_auto_moves_to_curl_cffi_and_the_once_run_completes_over_it(
    db_url: str, tmp_path: Path
) -> None:
    env = sellbot_env(
        db_url,
        SELLBOT_SIM_CHALLENGE="non_browser",
        SAFETRADE_HTTP_CLIENT="auto",
        SELLBOT_LOG_LEVEL="DEBUG",  # one exchange_request line per request, with its transport
    )

    result = run_sellbot("run", "--simulate", "--once", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    logged = events(result.stderr)
    switches = [e for e in logged if e["event"] == "exchange_transport_switched"]
    assert [(s["from"], s["to"]) for s in switches] == [("aiohttp", "curl_cffi")]
    requests = [e for e in logged if e["event"] == "exchange_request" and e.get("status") == 200]
    assert requests
    assert {e["transport"] for e in requests} == {"curl_cffi"}
    assert any(e["event"] == "stream_book_kind" for e in logged)  # the WebSocket too
    state = await read_db(db_url)
    assert any(e.state == "completed" and e.sold > 0 for e in state.executions)
    client_ids = [o.client_id for o in state.orders]
    assert len(client_ids) == len(set(client_ids))
    assert "Traceback" not in result.stderr


async def test_aiohttp_alone_stays_blocked_and_says_so_in_one_line(
    db_url: str, tmp_path: Path
) -> None:
    env = sellbot_env(db_url, SELLBOT_SIM_CHALLENGE="non_browser", SAFETRADE_HTTP_CLIENT="aiohttp")

    result = run_sellbot("run", "--simulate", "--once", env=env, cwd=tmp_path)

    assert result.returncode == 1
    plain = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert plain == ["sellbot: the cycle could not read the exchange: Cloudflare challenge"]
    assert (await read_db(db_url)).orders == []
