"""A minimal SafeTrade REST client on the standard library alone.

Written from /work/shared/safetrade-api.md only (the ``trade`` path family of "Evidence
from public clients"), never from ``bot/``, so that a test through it checks that the
simulator speaks the documented API rather than whatever ``bot``'s own client expects.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Protocol

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
OPEN_STATES = frozenset({"pending", "wait", "active"})
POLL_INTERVAL_S = 0.2
CANCEL_AFTER_S = 10.0
DEPTH_LIMIT = 100


class Clock(Protocol):
    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    """Real time; this module may not use ``bot.clock`` and talks to a real process."""

    def time(self) -> float:
        return time.time()  # noqa: TID251

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)  # noqa: TID251


class ApiError(Exception):
    """An HTTP error answer; ``errors`` holds the Peatio error codes when the body has them."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {body[:300]}")
        self.status = status
        self.body = body
        self.errors: list[str] = []
        try:
            parsed = json.loads(body)
        except ValueError:
            return
        if isinstance(parsed, dict) and isinstance(parsed.get("errors"), list):
            self.errors = [str(code) for code in parsed["errors"]]


def sign(secret: str, nonce: str, api_key: str) -> str:
    """Return lowercase hex HMAC-SHA256 over ``nonce + api_key`` keyed by the secret."""
    message = (nonce + api_key).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_server_time_ms(value: Any) -> int:
    """Read ``/trade/public/timestamp``: an ISO-8601 string such as ``...T12:00:00.123Z``."""
    if not isinstance(value, str):
        raise TypeError(f"timestamp is not a string: {value!r}")
    return int(datetime.fromisoformat(value).timestamp() * 1000)


def dec(value: Any) -> Decimal:
    """Parse a wire amount or price; the doc promises strings, so a float is refused."""
    if isinstance(value, float):
        raise TypeError(f"float on the wire: {value!r}")
    return Decimal(str(value))


def round_down(amount: Decimal, precision: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_DOWN)


@dataclass(frozen=True, slots=True)
class Level:
    price: Decimal
    amount: Decimal


def parse_levels(side: Any) -> list[Level]:
    """Accept ``[price, amount]`` pairs (Finex) and order objects (Peatio)."""
    levels: list[Level] = []
    for entry in side:
        if isinstance(entry, list):
            levels.append(Level(dec(entry[0]), dec(entry[1])))
        else:
            levels.append(Level(dec(entry["price"]), dec(entry["remaining_volume"])))
    return levels


class SafeTradeMinClient:
    """Sign and send requests to ``base_url`` (``https://safe.trade/api/v2`` or the simulator)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        api_secret: str,
        *,
        clock: Clock | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {base_url}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_secret = api_secret
        self.clock: Clock = clock or WallClock()
        self.timeout_s = timeout_s
        self.offset_ms: int | None = None
        self.last_nonce = 0

    # transport

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, str] | None = None,
        private: bool = False,
    ) -> Any:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params, safe=",")
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if private:
            headers.update(self._auth_headers())
        # the scheme was checked to be http(s) in __init__
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                raw = response.read().decode()
        except urllib.error.HTTPError as e:
            with e:
                text = e.read().decode(errors="replace")
            raise ApiError(method, path, e.code, text) from e
        return json.loads(raw)

    def _auth_headers(self) -> dict[str, str]:
        offset_ms = self.sync_time() if self.offset_ms is None else self.offset_ms
        nonce = max(int(self.clock.time() * 1000) + offset_ms, self.last_nonce + 1)
        self.last_nonce = nonce
        text = str(nonce)
        return {
            "X-Auth-Apikey": self.api_key,
            "X-Auth-Nonce": text,
            "X-Auth-Signature": sign(self.api_secret, text, self.api_key),
        }

    # public

    def sync_time(self) -> int:
        """Set the nonce's clock offset from the server time; return the offset in ms."""
        server_ms = parse_server_time_ms(self._request("GET", "/trade/public/timestamp"))
        self.offset_ms = server_ms - int(self.clock.time() * 1000)
        return self.offset_ms

    def markets(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/trade/public/markets"))

    def ticker(self, market: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/trade/public/tickers/{market}"))

    def depth(self, market: str, limit: int = 20) -> tuple[list[Level], list[Level]]:
        """Return (bids best first, asks best first)."""
        book = self._request(
            "GET", f"/trade/public/markets/{market}/depth", params={"limit": str(limit)}
        )
        bids = sorted(parse_levels(book["bids"]), key=lambda lv: lv.price, reverse=True)
        asks = sorted(parse_levels(book["asks"]), key=lambda lv: lv.price)
        return bids, asks

    # private

    def me(self) -> dict[str, Any]:
        return dict(self._request("GET", "/trade/account/members/me", private=True))

    def balances(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/trade/account/balances/spot", private=True))

    def free_balance(self, currency: str) -> Decimal:
        """Return ``available`` when the row has it, else ``balance``; zero if no row."""
        for row in self.balances():
            if str(row["currency"]).lower() == currency.lower():
                return dec(row["available"] if "available" in row else row["balance"])
        return Decimal(0)

    def place_limit_sell(self, market: str, amount: Decimal, price: Decimal) -> dict[str, Any]:
        body = {
            "market": market,
            "side": "sell",
            "type": "limit",
            "amount": str(amount),
            "price": str(price),
        }
        return dict(self._request("POST", "/trade/market/orders", body=body, private=True))

    def order(self, order_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/trade/market/orders/{order_id}", private=True))

    def orders(self, market: str, states: str = "wait,done") -> list[dict[str, Any]]:
        params = {"market": market, "state": states}
        return list(self._request("GET", "/trade/market/orders", params=params, private=True))

    def cancel(self, order_id: str) -> dict[str, Any]:
        path = f"/trade/market/orders/{order_id}/cancel"
        return dict(self._request("POST", path, private=True))

    def trades_of(self, order_id: str) -> list[dict[str, Any]]:
        params = {"order_id": order_id}
        return list(self._request("GET", "/trade/market/trades", params=params, private=True))


def covering_bid(bids: list[Level], amount: Decimal) -> Decimal:
    """Return the highest bid price down to which the bids hold ``amount``.

    The best bid when its level suffices; otherwise the limit walks down the book so the
    whole amount crosses at once (the lowest bid seen when the book is too thin).
    """
    if not bids:
        raise RuntimeError("no bids")
    held = Decimal(0)
    for level in bids:
        held += level.amount
        if held >= amount:
            return level.price
    return bids[-1].price


def find_market(client: SafeTradeMinClient, market_id: str) -> dict[str, Any]:
    for market in client.markets():
        if market["id"] == market_id:
            return market
    raise LookupError(f"no market {market_id}")


def wait_for_end(client: SafeTradeMinClient, order_id: str) -> dict[str, Any]:
    """Poll until the order leaves the open states; cancel it after ``CANCEL_AFTER_S``."""
    deadline = client.clock.time() + CANCEL_AFTER_S
    order = client.order(order_id)
    while order["state"] in OPEN_STATES and client.clock.time() < deadline:
        client.clock.sleep(POLL_INTERVAL_S)
        order = client.order(order_id)
    if order["state"] in OPEN_STATES:
        client.cancel(order_id)
        order = client.order(order_id)
    return order


def sell_all(client: SafeTradeMinClient, currency: str, quote: str = "usdt") -> dict[str, Any]:
    """Sell the whole free balance of ``currency`` with one limit order that crosses the bids.

    Priced at the best bid, or lower down the book when the best level alone cannot take the
    amount; each fill still trades at its resting bid's price.
    """
    market_id = f"{currency}{quote}".lower()
    market = find_market(client, market_id)
    if market["state"] != "enabled":
        raise RuntimeError(f"market {market_id} is {market['state']}")
    amount = round_down(client.free_balance(currency), int(market["amount_precision"]))
    if amount < dec(market["min_amount"]) or amount <= 0:
        raise ValueError(f"{amount} {currency} is below min_amount {market['min_amount']}")
    bids, _asks = client.depth(market_id, limit=DEPTH_LIMIT)
    price = covering_bid(bids, amount)

    placed = client.place_limit_sell(market_id, amount, price)
    order_id = str(placed["id"])
    final = wait_for_end(client, order_id)
    trades = client.trades_of(order_id)

    proceeds = sum((dec(t["price"]) * dec(t["amount"]) for t in trades), Decimal(0))
    return {
        "order_id": order_id,
        "state": final["state"],
        "executed": dec(final["executed_volume"]),
        "proceeds": proceeds,
        "trades": len(trades),
        "amount": amount,
        "price": price,
        "best_bid": bids[0].price,
        "market": market,
        "trade_rows": trades,
    }
