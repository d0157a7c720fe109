"""Every SafeTrade (Peatio/OpenDAX) convention the client relies on, in one place.

Anything marked *(Peatio)* in /work/shared/safetrade-api.md is an assumption until the live
exchange confirms it; a correction is a change to this module only.
"""

from __future__ import annotations

from typing import Final

from bot import __version__
from bot.domain.orders import OrderState

# --- auth headers (example client) ---
HEADER_APIKEY: Final = "X-Auth-Apikey"
HEADER_NONCE: Final = "X-Auth-Nonce"
HEADER_SIGNATURE: Final = "X-Auth-Signature"
AUTH_HEADERS: Final = (HEADER_APIKEY, HEADER_NONCE, HEADER_SIGNATURE)

# --- REST paths: one table per API family in ``profiles`` ---

# Query parameter names (Peatio)
TRADES_LIMIT: Final = "limit"
KLINE_PERIOD: Final = "period"
KLINE_FROM: Final = "time_from"
KLINE_TO: Final = "time_to"

# Order request body / list filters (the live bot sent ``type``; ``client_id`` is Finex)
ORDER_MARKET: Final = "market"
ORDER_SIDE: Final = "side"
ORDER_TYPE: Final = "type"
ORDER_AMOUNT: Final = "amount"
ORDER_PRICE: Final = "price"
ORDER_CLIENT_ID: Final = "client_id"
LIST_MARKET: Final = "market"
LIST_STATE: Final = "state"
LIST_PAGE: Final = "page"
LIST_LIMIT: Final = "limit"
LIST_CLIENT_ID: Final = "client_id"
LIST_MAX_LIMIT: Final = 100
CANCEL_ALL_MARKET: Final = "market"

# --- field-name alternatives accepted in responses (first match wins) ---
ORDER_TYPE_FIELDS: Final = ("ord_type", "type")
ORDER_CLIENT_ID_FIELDS: Final = ("client_id",)
ORDER_AMOUNT_FIELDS: Final = ("origin_volume", "amount", "volume")
ORDER_FILLED_FIELDS: Final = ("executed_volume", "filled_volume")
BOOK_AMOUNT_FIELDS: Final = ("remaining_volume", "amount", "volume")
# ``available`` (evidenced on balances/spot) wins over ``balance`` when both are sent
BALANCE_AVAILABLE_FIELDS: Final = ("available", "balance")
FILL_FEE_FIELDS: Final = ("fee_amount", "fee")
FILL_AT_FIELDS: Final = ("created_at", "at")
# The reference doc: ticker ``amount`` is the quote volume, ``volume`` (``vol``) the base volume
TICKER_BASE_VOLUME_FIELDS: Final = ("volume", "vol")
TICKER_QUOTE_VOLUME_FIELDS: Final = ("amount", "quote_volume")
TICKER_BID_FIELDS: Final = ("buy", "bid")
TICKER_ASK_FIELDS: Final = ("sell", "ask")

# --- order states (Peatio) ---
ORDER_STATES: Final[dict[str, OrderState]] = {
    "pending": OrderState.OPEN,
    "wait": OrderState.OPEN,
    "active": OrderState.OPEN,  # seen in the seed's bot (evidence); assumed an open order
    "done": OrderState.FILLED,
    "cancel": OrderState.CANCELLED,
    "reject": OrderState.REJECTED,
}
# What to send as ``state=`` when listing orders in one of our states: all of them as a comma
# list where the family takes one (``trade``, evidenced), else the first
STATE_QUERY: Final[dict[OrderState, tuple[str, ...]]] = {
    OrderState.OPEN: ("wait", "pending"),
    OrderState.PENDING: ("pending",),
    OrderState.FILLED: ("done",),
    OrderState.CANCELLED: ("cancel",),
    OrderState.REJECTED: ("reject",),
}

# --- error codes (Peatio/Barong: ``{"errors": ["code", ...]}``) ---
AUTH_CODES: Final = frozenset(
    {
        "authz.invalid_signature",
        "authz.apikey_not_active",
        "authz.nonce_not_valid_timestamp",
        "authz.invalid_session",
    }
)
NONCE_CODES: Final = frozenset({"authz.nonce_not_valid_timestamp"})
NOT_FOUND_CODES: Final = frozenset({"record.not_found"})
INSUFFICIENT_BALANCE_CODES: Final = frozenset(
    {"market.order.insufficient_balance", "market.account.insufficient_balance"}
)
INVALID_ORDER_CODES: Final = frozenset(
    {
        "market.order.invalid_volume_or_price",
        "market.order.market_order_price",
        "market.market.doesnt_exist",
        "market.order.invalid_side",
        "market.order.invalid_type",
        "market.order.create_error",
    }
)
ERROR_LIST_FIELDS: Final = ("errors", "error", "message")

# --- Cloudflare and blocks (evidenced: public clients, 2025-2026; see safetrade-api.md) ---
# A plain HTTP client's default User-Agent invites a challenge; every request sends this one
USER_AGENT: Final = f"Mozilla/5.0 (compatible; sellbot/{__version__})"
HEADER_USER_AGENT: Final = "User-Agent"
# Headers Cloudflare puts on what it answers itself (``cf-ray`` is on every answer through it)
CF_MITIGATED: Final = "cf-mitigated"  # value ``challenge`` on a challenge page
CF_RAY: Final = "cf-ray"
CF_SERVER: Final = "cloudflare"  # the ``server`` header
BLOCK_STATUSES: Final = frozenset({403, 503})
# Text of a challenge page: its title "Just a moment..." (evidenced), then markers of
# Cloudflare's challenge markup (assumption: from its public pages, not seen on safe.trade)
CHALLENGE_PHRASES: Final = (
    "just a moment",
    "challenge-platform",
    "cf-chl",
    "cf_chl",
    "checking your browser",
    "attention required",
)
# Text of the geo-block page (evidenced: 403 HTML on REST and on the WebSocket handshake)
GEO_BLOCK_PHRASES: Final = ("does not currently allow trading",)
REASON_CHALLENGE: Final = "Cloudflare challenge"
REASON_REGION: Final = "region blocked"


def reason_proxy(status: int) -> str:
    return f"blocked by a proxy (HTTP {status})"


# --- WebSocket (Ranger) ---
WS_PUBLIC: Final = "/websocket/public"
WS_PRIVATE: Final = "/websocket/private"
WS_EVENT: Final = "event"
WS_SUBSCRIBE: Final = "subscribe"
WS_UNSUBSCRIBE: Final = "unsubscribe"
WS_STREAMS: Final = "streams"
WS_SEQUENCE_FIELDS: Final = ("sequence", "seq")
STREAM_TICKERS: Final = "global.tickers"
STREAM_ORDER: Final = "order"
STREAM_TRADE: Final = "trade"
STREAM_BALANCE: Final = "balance"


def stream_ob_snap(market: str) -> str:
    return f"{market}.ob-snap"


def stream_ob_inc(market: str) -> str:
    return f"{market}.ob-inc"


def stream_depth(market: str) -> str:
    """The example client's book stream; its payload is assumed (docs/websocket.md)."""
    return f"{market}.depth"


def stream_trades(market: str) -> str:
    return f"{market}.trades"


def ws_url(base_url: str, private: bool) -> str:
    """Return the WebSocket URL for a REST base URL (``http(s)`` → ``ws(s)``)."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base[len("https://") :]
    elif base.startswith("http://"):
        base = "ws://" + base[len("http://") :]
    return base + (WS_PRIVATE if private else WS_PUBLIC)
