"""``sellbot doctor`` against the simulator: clean, challenged, region-blocked, a wrong secret,
a server clock 30 s ahead, no WebSocket; it never places an order; the real CLI exits 0."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import Clock, SystemClock
from bot.doctor.report import Check, Status, exit_code
from bot.doctor.run import run_doctor
from bot.settings import Settings
from bot.sim.demo import DEMO_KEY, DEMO_SECRET, build_demo_engine
from bot.sim.engine import MatchingEngine
from bot.sim.faults import FaultPlan
from bot.sim.server import SimServer
from tests.e2e.helpers import ROOT, run_sellbot, sellbot_env

WS_TIMEOUT_S = 1.5


class AheadClock(SystemClock):
    """The real clock, ``ahead_s`` seconds ahead: the exchange's clock in the skew test."""

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s

    def now(self) -> datetime:
        return super().now() + timedelta(seconds=self.ahead_s)

    def time(self) -> float:
        return super().time() + self.ahead_s

    async def sleep_until(self, epoch_s: float) -> None:
        await super().sleep_until(epoch_s - self.ahead_s)


@asynccontextmanager
async def served(
    *, faults: FaultPlan | None = None, clock: Clock | None = None, websocket: bool = True
) -> AsyncIterator[tuple[SimServer, MatchingEngine]]:
    clock = clock or SystemClock()
    engine, credentials = build_demo_engine(clock, seed=7)
    async with SimServer(
        engine,
        credentials=credentials,
        clock=clock,
        faults=faults,
        ws_interval_s=0.2,
        websocket=websocket,
    ) as server:
        yield server, engine


def settings_for(
    server: SimServer, *, secret: str = DEMO_SECRET, http_client: str = "aiohttp"
) -> Settings:
    env: dict[str, object] = {
        "SAFETRADE_BASE_URL": server.base_url,
        "SAFETRADE_API_KEY": DEMO_KEY,
        "SAFETRADE_API_SECRET": secret,
        "SAFETRADE_HTTP_CLIENT": http_client,
        "SAFETRADE_API_PROFILE": "auto",
        "SELLBOT_QUOTE_CURRENCY": "usdt",
        "SELLBOT_WEBSOCKET": "true",
        "SELLBOT_SEED": "1",
    }
    return Settings(**env)  # type: ignore[arg-type]


async def doctor(settings: Settings) -> list[Check]:
    return await run_doctor(settings, SystemClock(), ws_timeout_s=WS_TIMEOUT_S)


def line(checks: list[Check], name: str) -> Check:
    found = [c for c in checks if c.name == name]
    assert len(found) == 1, f"{name}: {checks}"
    return found[0]


def failed(checks: list[Check]) -> list[str]:
    return [c.name for c in checks if c.status is Status.FAIL]


async def test_clean_simulator_passes_with_trade_profile_and_streams() -> None:
    async with served() as (server, _):
        checks = await doctor(settings_for(server))

    assert failed(checks) == []
    assert exit_code(checks) == 0
    profile = line(checks, "profile")
    assert profile.status is Status.PASS
    assert profile.detail.startswith("trade: ")
    assert ";" not in profile.detail  # one family for every capability
    for capability in ("timestamp", "markets", "book", "k_line", "member", "balances", "orders"):
        assert capability in profile.detail
    assert line(checks, "swagger").status is Status.PASS
    assert line(checks, "auth").detail.startswith("members/me answers (uid ")
    assert line(checks, "clock").status is Status.PASS
    assert line(checks, "transport").detail == "aiohttp (SAFETRADE_HTTP_CLIENT=aiohttp)"
    assert line(checks, "rate_limits").status is Status.WARN  # the simulator sends none
    ws = [c for c in checks if c.name.startswith("ws.")]
    assert {c.name for c in ws} >= {
        "ws.public",
        "ws.global.tickers",
        "ws.btcusdt.ob-inc",
        "ws.btcusdt.depth",
        "ws.btcusdt.trades",
        "ws.private",
        "ws.order",
        "ws.trade",
        "ws.balance",
    }
    assert all(c.status is Status.PASS for c in ws), ws
    assert line(checks, "ws.btcusdt.depth").detail.startswith("first message after ")
    assert line(checks, "ws.global.tickers").detail.startswith("first message after ")


async def test_balances_are_graded_by_their_market_rules() -> None:
    async with served() as (server, _):
        checks = await doctor(settings_for(server))

    assert line(checks, "balance.btc").status is Status.PASS
    assert line(checks, "balance.btc").detail.endswith("sellable")
    assert "below minimum" in line(checks, "balance.doge").detail  # dust
    assert "not traded" in line(checks, "balance.luna").detail  # disabled market
    assert "no ltcusdt market" in line(checks, "balance.ltc").detail
    assert [c.name for c in checks if c.name == "balance.usdt"] == []  # the quote itself


async def test_doctor_places_no_order_and_moves_no_balance() -> None:
    async with served() as (server, engine):
        before = engine.balances(DEMO_KEY)

        checks = await doctor(settings_for(server))

        after = engine.balances(DEMO_KEY)
        orders = engine.list_orders(DEMO_KEY)

    assert exit_code(checks) == 0
    assert orders == []
    assert after == before


async def test_challenge_on_aiohttp_is_a_blocked_fail_and_stops() -> None:
    async with served(faults=FaultPlan(challenge_all=True)) as (server, _):
        checks = await doctor(settings_for(server, http_client="aiohttp"))

    assert line(checks, "blocked").status is Status.FAIL
    assert line(checks, "blocked").detail == "Cloudflare challenge"
    assert exit_code(checks) == 1
    assert [c.name for c in checks if c.name.startswith(("profile", "auth", "ws."))] == []
    transport = line(checks, "transport")
    assert transport.status is Status.WARN
    assert "SAFETRADE_HTTP_CLIENT=auto" in transport.detail


async def test_auto_moves_to_curl_cffi_past_a_non_browser_challenge() -> None:
    async with served(faults=FaultPlan(challenge_non_browser=True)) as (server, _):
        checks = await doctor(settings_for(server, http_client="auto"))

    assert failed(checks) == []
    assert exit_code(checks) == 0
    transport = line(checks, "transport")
    assert transport.status is Status.WARN
    assert transport.detail == "challenge on aiohttp; curl_cffi passes"
    assert line(checks, "ws.public").status is Status.PASS
    assert line(checks, "ws.private").status is Status.PASS


async def test_region_block_is_a_blocked_fail() -> None:
    async with served(faults=FaultPlan(geo_block=True)) as (server, _):
        checks = await doctor(settings_for(server))

    assert line(checks, "blocked").status is Status.FAIL
    assert line(checks, "blocked").detail == "region blocked"
    assert exit_code(checks) == 1


async def test_wrong_secret_fails_auth_and_the_private_handshake() -> None:
    async with served() as (server, _):
        checks = await doctor(settings_for(server, secret="not-the-secret"))

    auth = line(checks, "auth")
    assert auth.status is Status.FAIL
    assert auth.detail.startswith("credentials refused")
    private = line(checks, "ws.private")
    assert private.status is Status.FAIL
    assert "HTTP 401" in private.detail
    assert line(checks, "ws.public").status is Status.PASS
    assert [c.name for c in checks if c.name.startswith("profile.")] == []  # left to auth
    assert exit_code(checks) == 1


async def test_server_clock_30_s_ahead_warns_and_nonces_follow_it() -> None:
    async with served(clock=AheadClock(30.0)) as (server, _):
        checks = await doctor(settings_for(server))

    clock = line(checks, "clock")
    assert clock.status is Status.WARN
    assert clock.detail.startswith("server time offset +30.0") or clock.detail.startswith(
        "server time offset +29.9"
    )
    # the client corrects its nonces by the measured offset: the signed calls still pass
    assert line(checks, "auth").status is Status.PASS
    assert line(checks, "ws.private").status is Status.PASS
    assert exit_code(checks) == 0


async def test_no_websocket_is_a_public_fail() -> None:
    async with served(websocket=False) as (server, _):
        checks = await doctor(settings_for(server))

    public = line(checks, "ws.public")
    assert public.status is Status.FAIL
    assert public.detail.startswith("no WebSocket: ")
    assert "HTTP 404" in public.detail
    assert line(checks, "auth").status is Status.PASS  # REST is fine
    assert exit_code(checks) == 1


async def test_without_credentials_public_checks_run_and_auth_warns() -> None:
    async with served() as (server, _):
        settings = settings_for(server).model_copy(
            update={"safetrade_api_key": None, "safetrade_api_secret": None}
        )
        checks = await doctor(settings)

    assert line(checks, "auth").status is Status.WARN
    assert line(checks, "ws.public").status is Status.PASS
    assert [c.name for c in checks if c.name in ("ws.private", "ws.order")] == []
    assert exit_code(checks) == 0


@pytest.mark.e2e
def test_cli_doctor_simulate_json_exits_0(tmp_path: Path) -> None:
    env = sellbot_env(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")

    done = run_sellbot("doctor", "--simulate", "--json", env=env, cwd=ROOT, timeout_s=90)

    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    names = {c["name"]: c["status"] for c in report["checks"]}
    assert names["reachability"] == "PASS"
    assert names["auth"] == "PASS"
    assert names["ws.public"] == "PASS"
