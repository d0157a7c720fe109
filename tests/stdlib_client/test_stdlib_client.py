"""Sell a balance on ``sellbot sim serve --families trade`` with a stdlib-only client.

The client (``safetrade_min``) is written from the API reference alone, so this checks that
the simulator, started as a user starts it, speaks the documented ``trade`` path family.
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest

from tests.stdlib_client.safetrade_min import (
    ApiError,
    Level,
    SafeTradeMinClient,
    WallClock,
    covering_bid,
    dec,
    round_down,
    sell_all,
    sign,
)

ROOT = Path(__file__).resolve().parents[2]
URL_LINE = re.compile(r"SafeTrade simulator on (http://127\.0\.0\.1:\d+/api/v2)")
KEY_LINE = re.compile(r"api key (\S+)\s+secret (\S+)")
BANNER_TIMEOUT_S = 30.0
QUOTE = "usdt"


@dataclass(frozen=True, slots=True)
class Simulator:
    base_url: str
    api_key: str
    api_secret: str


def sellbot_command(*args: str) -> list[str]:
    script = Path(sys.executable).parent / "sellbot"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot", *args]


def pump_lines(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    # keeps draining stdout after the banner so a chatty simulator never blocks on a full pipe
    for line in stream:
        lines.put(line)
    lines.put(None)


def read_banner(lines: queue.Queue[str | None], stderr_path: Path) -> Simulator:
    url: str | None = None
    credentials: tuple[str, str] | None = None
    seen: list[str] = []
    while url is None or credentials is None:
        line = lines.get(timeout=BANNER_TIMEOUT_S)
        if line is None:
            stderr = stderr_path.read_text(errors="replace")
            pytest.fail(f"simulator exited before its banner; stdout={seen} stderr={stderr}")
        seen.append(line)
        if found := URL_LINE.search(line):
            url = found.group(1)
        if found := KEY_LINE.search(line):
            credentials = (found.group(1), found.group(2))
    return Simulator(url, *credentials)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SELLBOT_", "SAFETRADE_"))}
    env["PYTHONUNBUFFERED"] = "1"
    stderr_path = tmp_path / "sim.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            sellbot_command("sim", "serve", "--port", "0", "--families", "trade"),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    assert process.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    pump = threading.Thread(target=pump_lines, args=(process.stdout, lines), daemon=True)
    try:
        pump.start()
        yield read_banner(lines, stderr_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        pump.join(timeout=5)
        process.stdout.close()


def sellable_currency(client: SafeTradeMinClient, markets: dict[str, dict[str, Any]]) -> str:
    """Pick a demo balance with an enabled ``<currency>usdt`` market; BTC when it qualifies."""
    candidates: list[str] = []
    for row in client.balances():
        currency = str(row["currency"]).lower()
        market = markets.get(currency + QUOTE)
        if currency == QUOTE or market is None or market["state"] != "enabled":
            continue
        free = dec(row["available"] if "available" in row else row["balance"])
        amount = round_down(free, int(market["amount_precision"]))
        if amount > 0 and amount >= dec(market["min_amount"]):
            candidates.append(currency)
    assert candidates, "no demo balance has an enabled usdt market"
    return "btc" if "btc" in candidates else sorted(candidates)[0]


def usdt_fees(trades: list[dict[str, Any]]) -> Decimal | None:
    """Sum the quote-currency fees the trades show, or None when they show none."""
    if not any("fee" in t for t in trades):
        return None
    return sum(
        (dec(t["fee"]) for t in trades if str(t.get("fee_currency", QUOTE)).lower() == QUOTE),
        Decimal(0),
    )


def test_signature_known_answer() -> None:
    # computed independently: printf '1700000000000key' | openssl dgst -sha256 -hmac secret
    expected = "437fa385bfe4ec013b81215b71f904dd22d5d13062b11eb7a8c8be0acdcab428"

    assert sign("secret", "1700000000000", "key") == expected


class FrozenClock:
    def __init__(self, at_s: float = 1_700_000_000.0) -> None:
        self.at_s = at_s

    def time(self) -> float:
        return self.at_s

    def sleep(self, seconds: float) -> None:
        raise AssertionError("no sleeping here")


def test_nonces_increase_under_a_frozen_clock_and_carry_the_offset() -> None:
    client = SafeTradeMinClient("http://127.0.0.1:1/api/v2", "key", "secret", clock=FrozenClock())
    client.offset_ms = 2_500

    nonces = [int(client._auth_headers()["X-Auth-Nonce"]) for _ in range(3)]

    assert nonces == [1_700_000_002_500, 1_700_000_002_501, 1_700_000_002_502]


def test_covering_bid_is_the_best_bid_when_it_suffices_else_walks_down() -> None:
    bids = [Level(Decimal("100.0"), Decimal("1")), Level(Decimal("99.5"), Decimal("2"))]

    assert covering_bid(bids, Decimal("1")) == Decimal("100.0")
    assert covering_bid(bids, Decimal("1.5")) == Decimal("99.5")
    assert covering_bid(bids, Decimal("9")) == Decimal("99.5")


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_sell_all_sells_the_demo_balance_through_the_trade_paths(simulator: Simulator) -> None:
    client = SafeTradeMinClient(simulator.base_url, simulator.api_key, simulator.api_secret)
    client.sync_time()
    assert client.me(), "members/me answered nothing"
    markets = {str(m["id"]): m for m in client.markets()}
    currency = sellable_currency(client, markets)
    market = markets[currency + QUOTE]
    ticker = client.ticker(currency + QUOTE)
    assert dec(ticker.get("ticker", ticker)["last"]) > 0
    usdt_before = client.free_balance(QUOTE)

    result = sell_all(client, currency, QUOTE)

    trades: list[dict[str, Any]] = result["trade_rows"]
    assert result["state"] == "done", result
    assert result["executed"] == result["amount"]
    assert result["trades"] == len(trades) > 0
    assert {str(t["order_id"]) for t in trades} == {result["order_id"]}
    assert sum((dec(t["amount"]) for t in trades), Decimal(0)) == result["amount"]
    assert all(dec(t["price"]) >= result["price"] for t in trades)
    assert client.free_balance(currency) < dec(market["min_amount"])
    fees = usdt_fees(trades)
    usdt_after = client.free_balance(QUOTE)
    if fees is None:
        assert usdt_after > usdt_before
    else:
        assert usdt_after == usdt_before + result["proceeds"] - fees
    listed = {str(o["id"]): o for o in client.orders(currency + QUOTE, "wait,done")}
    assert listed[result["order_id"]]["state"] == "done"


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_the_simulator_refuses_a_bad_signature_and_a_replayed_nonce(simulator: Simulator) -> None:
    key, secret = simulator.api_key, simulator.api_secret
    frozen = FrozenClock(WallClock().time())
    first, replay = (
        SafeTradeMinClient(simulator.base_url, key, secret, clock=frozen) for _ in "12"
    )
    first.offset_ms = replay.offset_ms = 0
    forger = SafeTradeMinClient(simulator.base_url, key, secret + "x")

    first.me()
    with pytest.raises(ApiError) as replayed:
        replay.me()
    with pytest.raises(ApiError) as forged:
        forger.me()

    assert (replayed.value.status, forged.value.status) == (401, 401)
    assert forged.value.errors == ["authz.invalid_signature"]
    # the doc names no code for a replay, only that Barong answers authz.* codes
    assert [code.split(".")[0] for code in replayed.value.errors] == ["authz"]
