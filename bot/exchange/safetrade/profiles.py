"""The three families of SafeTrade REST paths, each capability mapped to its path and shape.

- ``trade`` (the default): ``/trade/public/...``, used by most public clients of the live
  exchange; depth as ``[price, amount]`` pairs, flat tickers, an order's trades through
  ``/trade/market/trades?order_id=``, comma lists in ``state=``.
- ``peatio``: the legacy ``/peatio/...`` family still cited by public clients; tickers wrapped
  in ``{"ticker": {...}}``; private paths under ``/peatio/account`` and ``/peatio/market``.
- ``seed``: the seed document's ``/public/markets...`` paths, seen only in the seed's own bot.

What is evidenced and what is assumed, per path, is in ``docs/endpoints.md``. Paths are
relative to the base URL (``https://safe.trade/api/v2``); ``{market}`` and ``{id}`` are
filled in by ``Profile.path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Family(StrEnum):
    TRADE = "trade"
    PEATIO = "peatio"
    SEED = "seed"


class Capability(StrEnum):
    """One thing the client asks of the exchange; each is routed to one family."""

    TIMESTAMP = "timestamp"
    MARKETS = "markets"
    TICKERS = "tickers"
    TICKER = "ticker"
    BOOK = "book"
    PUBLIC_TRADES = "public_trades"
    K_LINE = "k_line"
    SWAGGER = "swagger"
    MEMBER = "member"
    BALANCES = "balances"
    ORDERS = "orders"
    ORDER = "order"
    CANCEL = "cancel"
    CANCEL_ALL = "cancel_all"
    ORDER_TRADES = "order_trades"


PUBLIC: Final = (
    Capability.TIMESTAMP,
    Capability.MARKETS,
    Capability.TICKERS,
    Capability.TICKER,
    Capability.BOOK,
    Capability.PUBLIC_TRADES,
    Capability.K_LINE,
)
PRIVATE: Final = (
    Capability.MEMBER,
    Capability.BALANCES,
    Capability.ORDERS,
    Capability.ORDER,
    Capability.CANCEL,
    Capability.CANCEL_ALL,
    Capability.ORDER_TRADES,
)
# Capabilities whose path names a market: discovered with the market first asked for
PER_MARKET: Final = frozenset(
    {Capability.TICKER, Capability.BOOK, Capability.PUBLIC_TRADES, Capability.K_LINE}
)
# Discovery tries the families in this order
ORDER: Final = (Family.TRADE, Family.PEATIO, Family.SEED)


@dataclass(frozen=True)
class Profile:
    """Every path of one family; None where the family has no such route."""

    family: Family
    paths: dict[Capability, str | None]
    # book query: ``limit`` (depth routes) or ``asks_limit``/``bids_limit`` (order-book route)
    book_limit_params: tuple[str, ...]
    # ``state=wait,pending`` accepted (evidenced for ``trade``); else one state per request
    comma_states: bool
    # an order's trades as ``{trades}?order_id=`` rather than ``/orders/{id}/trades``
    order_trades_by_query: bool

    def path(self, capability: Capability, *, market: str = "", order_id: str = "") -> str:
        template = self.paths.get(capability)
        if template is None:
            raise KeyError(f"the {self.family} family has no {capability} route")
        return template.format(market=market, id=order_id)

    def has(self, capability: Capability) -> bool:
        return self.paths.get(capability) is not None


def _family(
    public: str,
    account: str,
    market_prefix: str,
    *,
    tickers: str,
    ticker: str,
    book: str,
    member: str | None,
    balances: str,
    order_trades: str,
) -> dict[Capability, str | None]:
    m = f"{public}/markets/{{market}}"
    return {
        Capability.TIMESTAMP: f"{public}/timestamp",
        Capability.MARKETS: f"{public}/markets",
        Capability.TICKERS: tickers,
        Capability.TICKER: ticker,
        Capability.BOOK: f"{m}/{book}",
        Capability.PUBLIC_TRADES: f"{m}/trades",
        Capability.K_LINE: f"{m}/k-line",
        Capability.SWAGGER: f"{public}/swagger.json",
        Capability.MEMBER: member,
        Capability.BALANCES: f"{account}/{balances}",
        Capability.ORDERS: f"{market_prefix}/orders",
        Capability.ORDER: f"{market_prefix}/orders/{{id}}",
        Capability.CANCEL: f"{market_prefix}/orders/{{id}}/cancel",
        Capability.CANCEL_ALL: f"{market_prefix}/orders/cancel",
        Capability.ORDER_TRADES: order_trades,
    }


PROFILES: Final[dict[Family, Profile]] = {
    Family.TRADE: Profile(
        Family.TRADE,
        _family(
            "/trade/public",
            "/trade/account",
            "/trade/market",
            tickers="/trade/public/tickers",
            ticker="/trade/public/tickers/{market}",
            book="depth",
            member="/trade/account/members/me",
            balances="balances/spot",
            order_trades="/trade/market/trades",
        ),
        book_limit_params=("limit",),
        comma_states=True,
        order_trades_by_query=True,
    ),
    Family.PEATIO: Profile(
        Family.PEATIO,
        _family(
            "/peatio/public",
            "/peatio/account",
            "/peatio/market",
            tickers="/peatio/public/markets/tickers",
            ticker="/peatio/public/markets/{market}/tickers",
            book="depth",
            member="/peatio/account/members/me",
            balances="balances",
            order_trades="/peatio/market/trades",
        ),
        book_limit_params=("limit",),
        comma_states=False,
        order_trades_by_query=True,
    ),
    Family.SEED: Profile(
        Family.SEED,
        _family(
            "/public",
            "/trade/account",
            "/trade/market",
            tickers="/public/markets/tickers",
            ticker="/public/markets/{market}/tickers",
            book="order-book",
            member=None,
            balances="balances/spot",
            order_trades="/trade/market/orders/{id}/trades",
        ),
        book_limit_params=("asks_limit", "bids_limit"),
        comma_states=False,
        order_trades_by_query=False,
    ),
}

ORDER_TRADES_ID: Final = "order_id"  # the query parameter of ``/market/trades``


def parse_choice(value: str) -> Family | None:
    """``SAFETRADE_API_PROFILE``: a family name, or ``auto`` (None: discover)."""
    text = value.strip().lower()
    if text == "auto":
        return None
    try:
        return Family(text)
    except ValueError:
        names = ", ".join([*(f.value for f in Family), "auto"])
        raise ValueError(f"unknown API profile {value!r} (one of {names})") from None
