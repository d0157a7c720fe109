"""Classify and score balances: pure functions over a market snapshot, no I/O.

Every balance gets one classification:

- ``excluded``: in the excluded list, or the quote currency itself;
- ``no_market``: no market ``{currency}{quote}``, or the market has no bid to sell into;
- ``market_disabled``: the market exists but is not ``enabled``;
- ``dust``: below the market's ``min_amount``, or worth (at the best bid) less than the larger
  of the market's ``min_value`` and the configured ``min_value``. Reported, never attempted;
- ``sell``: everything else, with a priority score.

Measurements (typed in ``BalanceScore.metrics``, as text in ``components``):

- ``value_quote``: available amount × best bid (never the last price);
- ``depth_1pct_quote`` / ``depth_5pct_quote``: bid-side quote depth within 1% / 5% of mid;
- ``volume_24h_quote``: the ticker's 24 h quote volume;
- ``volatility_bps_per_hour``: see ``volatility_bps_per_hour`` below (k-lines), or
  ``range_volatility_bps_per_hour`` (ticker high/low) when k-lines are too few;
- ``spread_bps``: (ask − bid) / mid;
- ``book_fraction``: value_quote / depth_5pct_quote, the share of the near book our sale eats.

Score (higher sells first), each term normalised into [0, 1) with ``x / (x + ref)``:

    score = 100 × ( value      × V/(V + value_ref_quote)
                  + liquidity  × mean(D1/(D1 + V), D5/(D5 + V), Vol24/(Vol24 + V))
                  − spread     × S/(S + spread_ref_bps)
                  + volatility × σ/(σ + volatility_ref_bps) )

where V is our value in quote. The liquidity term measures the market against *our* size, so a
balance that is small next to the book scores high. Volatility raises priority because holding
a volatile balance is the risk we are removing. The weighted terms are stored in
``components`` (``term_value`` …) and sum to the score, so each score can be explained.

Speed: everything that depends on the market only (book depths, spread, their text) is computed
once per market in ``market_facts`` (``build_snapshot`` does it as books arrive), so a pass is
O(1) per balance. The normalised terms are dimensionless ratios and are computed in binary
floating point; money (values, prices, depths) stays ``Decimal`` and the score is a ``Decimal``
rounded to 4 places.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from operator import attrgetter

from bot.domain.balances import Balance, BalanceScore, Classification, ScoreMetrics
from bot.domain.market import Market, OrderBook, Ticker
from bot.domain.money import BPS, ONE, ZERO

_ONE_PCT = Decimal("0.01")
_FIVE_PCT = Decimal("0.05")
_Q = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """Weights of the score terms and the reference scales that normalise them."""

    value: Decimal = Decimal("0.4")
    liquidity: Decimal = Decimal("0.3")
    volatility: Decimal = Decimal("0.2")
    spread: Decimal = Decimal("0.1")
    value_ref_quote: Decimal = Decimal(100)  # the value term is half its weight at this value
    volatility_ref_bps: Decimal = Decimal(100)  # per hour
    spread_ref_bps: Decimal = Decimal(50)


@dataclass(frozen=True, slots=True)
class MarketFacts:
    """Per-market inputs of the score, computed once per snapshot (not once per balance)."""

    metrics: ScoreMetrics
    texts: Mapping[str, str]
    depth_1pct: float | None
    depth_5pct: float | None
    volume_24h: float | None
    volatility: float | None
    spread: float | None


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """Everything the prioritiser reads: balances and the market data fetched for them.

    ``books``, ``facts`` and ``volatility_bps_per_hour`` hold candidate markets only; a
    market without precomputed ``facts`` gets them computed during the pass.
    """

    quote: str
    balances: tuple[Balance, ...]
    markets: Mapping[str, Market]
    tickers: Mapping[str, Ticker]
    books: Mapping[str, OrderBook] = field(default_factory=dict)
    volatility_bps_per_hour: Mapping[str, Decimal] = field(default_factory=dict)
    facts: Mapping[str, MarketFacts] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()
    at: datetime | None = None


def index_markets(markets: Iterable[Market], quote: str) -> dict[str, Market]:
    """Return the markets into ``quote`` keyed by lower-case base currency."""
    quote = quote.lower()
    return {m.base.lower(): m for m in markets if m.quote.lower() == quote}


def prioritise(
    snapshot: MarketSnapshot, *, weights: ScoreWeights, min_value: Decimal
) -> list[BalanceScore]:
    """Score every balance; return ``sell`` first by descending score, then the rest."""
    by_base = index_markets(snapshot.markets.values(), snapshot.quote)
    excluded = frozenset(c.lower() for c in snapshot.excluded) | {snapshot.quote.lower()}
    scorer = _Scorer(snapshot, weights, min_value)
    scores = [scorer.score(b, by_base.get(b.currency.lower()), excluded) for b in snapshot.balances]
    # Stable sorts, last key first: currency, then score and value descending, then sell first
    scores.sort(key=attrgetter("currency"))
    scores.sort(key=attrgetter("score", "value_quote"), reverse=True)
    scores.sort(key=_not_for_sale)
    return scores


def _not_for_sale(s: BalanceScore) -> bool:
    return s.classification is not Classification.SELL


class _Scorer:
    """One pass: weights turned into floats once, market facts looked up or computed."""

    def __init__(self, snapshot: MarketSnapshot, weights: ScoreWeights, min_value: Decimal):
        self._snapshot = snapshot
        self._min_value = min_value
        self._w = tuple(
            100 * float(x)
            for x in (weights.value, weights.liquidity, weights.volatility, weights.spread)
        )
        self._refs = tuple(
            float(x)
            for x in (weights.value_ref_quote, weights.volatility_ref_bps, weights.spread_ref_bps)
        )

    def score(
        self, balance: Balance, market: Market | None, excluded: frozenset[str]
    ) -> BalanceScore:
        currency = balance.currency.lower()
        if currency in excluded:
            return _unscored(balance, None, Classification.EXCLUDED, "excluded by settings")
        if market is None:
            reason = f"no {self._snapshot.quote} market"
            return _unscored(balance, None, Classification.NO_MARKET, reason)
        if not market.enabled:
            reason = f"market {market.state}"
            return _unscored(balance, market.id, Classification.MARKET_DISABLED, reason)
        facts = self._facts(market.id)
        best_bid = facts.metrics.best_bid
        if best_bid is None:
            return _unscored(balance, market.id, Classification.NO_MARKET, "no bid to sell into")
        amount = balance.available
        value = amount * best_bid
        dust = _dust_reason(amount, value, market, self._min_value)
        if dust:
            return BalanceScore(
                currency=currency,
                market=market.id,
                amount=amount,
                classification=Classification.DUST,
                score=ZERO,
                value_quote=value,
                components={"value_quote": str(value), "best_bid": str(best_bid)},
                reason=dust,
                metrics=facts.metrics,
            )
        score, components = self._terms(value, facts)
        return BalanceScore(
            currency=currency,
            market=market.id,
            amount=amount,
            classification=Classification.SELL,
            score=score,
            value_quote=value,
            components=components,
            metrics=facts.metrics,
        )

    def _facts(self, market: str) -> MarketFacts:
        facts = self._snapshot.facts.get(market)
        if facts is None:
            snap = self._snapshot
            facts = market_facts(
                snap.books.get(market),
                snap.tickers.get(market),
                snap.volatility_bps_per_hour.get(market),
            )
        return facts

    def _terms(self, value: Decimal, f: MarketFacts) -> tuple[Decimal, dict[str, str]]:
        w_value, w_liquidity, w_volatility, w_spread = self._w
        value_ref, volatility_ref, spread_ref = self._refs
        v = float(value)
        term_value = w_value * v / (v + value_ref)
        term_liquidity = w_liquidity * _capacity(v, f.depth_1pct, f.depth_5pct, f.volume_24h)
        vol, spread = f.volatility, f.spread
        term_volatility = w_volatility * vol / (vol + volatility_ref) if vol else 0.0
        term_spread = -w_spread * spread / (spread + spread_ref) if spread else 0.0
        total = term_value + term_liquidity + term_volatility + term_spread
        components = dict(f.texts)
        components["value_quote"] = str(value)
        components["book_fraction"] = f"{v / f.depth_5pct:.4f}" if f.depth_5pct else "unknown"
        components["term_value"] = f"{term_value:.4f}"
        components["term_liquidity"] = f"{term_liquidity:.4f}"
        components["term_volatility"] = f"{term_volatility:.4f}"
        components["term_spread"] = f"{term_spread:.4f}"
        return Decimal(f"{total:.4f}"), components


def _capacity(v: float, *sizes: float | None) -> float:
    """Return the mean of size / (size + v) over the known sizes: the market against our value."""
    total, n = 0.0, 0
    for size in sizes:
        if size is not None and size + v > 0:
            total += size / (size + v)
            n += 1
    return total / n if n else 0.0


def _unscored(
    balance: Balance, market: str | None, classification: Classification, reason: str
) -> BalanceScore:
    return BalanceScore(
        currency=balance.currency.lower(),
        market=market,
        amount=balance.available,
        classification=classification,
        score=ZERO,
        value_quote=ZERO,
        reason=reason,
    )


def _dust_reason(amount: Decimal, value: Decimal, market: Market, min_value: Decimal) -> str:
    if amount <= 0:
        return "nothing available"
    if amount < market.min_amount:
        return f"amount below market minimum {market.min_amount}"
    floor = max(market.min_value, min_value)
    if value < floor:
        return f"value below minimum {floor}"
    return ""


def market_facts(
    book: OrderBook | None, ticker: Ticker | None, volatility: Decimal | None
) -> MarketFacts:
    """Return the per-market score inputs: bid, mid, spread, depths, volume and volatility.

    The best bid comes from the book, else from the ticker's best bid; never the last price.
    """
    volume = ticker.quote_volume if ticker is not None else None
    if book is not None:
        mid = book.mid
        spread = book.spread_bps
        depth1, depth5 = bid_depths(book, mid)
        metrics = ScoreMetrics(
            best_bid=book.best_bid,
            mid=mid,
            spread_bps=spread.quantize(_Q) if spread is not None else None,
            depth_1pct_quote=depth1,
            depth_5pct_quote=depth5,
            volume_24h_quote=volume,
            volatility_bps_per_hour=volatility,
        )
    else:
        metrics = ScoreMetrics(
            best_bid=ticker.best_bid if ticker is not None else None,
            spread_bps=_ticker_spread_bps(ticker),
            volume_24h_quote=volume,
            volatility_bps_per_hour=volatility,
        )
    texts = {name: _text(getattr(metrics, name)) for name in _METRIC_NAMES}
    return MarketFacts(
        metrics=metrics,
        texts=texts,
        depth_1pct=_float(metrics.depth_1pct_quote),
        depth_5pct=_float(metrics.depth_5pct_quote),
        volume_24h=_float(volume),
        volatility=_float(volatility),
        spread=_float(metrics.spread_bps),
    )


def with_market_facts(snapshot: MarketSnapshot) -> MarketSnapshot:
    """Return ``snapshot`` with the facts of every market that has a book computed."""
    facts = {
        market: market_facts(
            book,
            snapshot.tickers.get(market),
            snapshot.volatility_bps_per_hour.get(market),
        )
        for market, book in snapshot.books.items()
    }
    return replace(snapshot, facts=facts)


_METRIC_NAMES = (
    "best_bid",
    "mid",
    "spread_bps",
    "depth_1pct_quote",
    "depth_5pct_quote",
    "volume_24h_quote",
    "volatility_bps_per_hour",
)


def _text(x: Decimal | None) -> str:
    return "unknown" if x is None else str(x)


def _float(x: Decimal | None) -> float | None:
    return None if x is None else float(x)


def bid_depths(book: OrderBook, mid: Decimal | None) -> tuple[Decimal, Decimal]:
    """Return the bid-side quote depth within 1% and 5% of ``mid``, in one pass."""
    if mid is None:
        return ZERO, ZERO
    floor1, floor5 = mid * (ONE - _ONE_PCT), mid * (ONE - _FIVE_PCT)
    depth1 = depth5 = ZERO
    for level in book.bids:  # descending: stop at the first level below the 5% floor
        if level.price < floor5:
            break
        quote = level.price * level.amount
        depth5 += quote
        if level.price >= floor1:
            depth1 += quote
    return depth1, depth5


def impact_bps(book: OrderBook, amount: Decimal) -> Decimal | None:
    """Return how far below mid the average price of selling ``amount`` at once would be."""
    mid = book.mid
    if not mid or amount <= 0:
        return None
    proceeds, filled = book.sell_proceeds(amount)
    if filled <= 0:
        return None
    return ((ONE - proceeds / filled / mid) * BPS).quantize(_Q)


def _ticker_spread_bps(ticker: Ticker | None) -> Decimal | None:
    if ticker is None or ticker.best_bid is None or ticker.best_ask is None:
        return None
    mid = (ticker.best_bid + ticker.best_ask) / 2
    return ((ticker.best_ask - ticker.best_bid) / mid * BPS).quantize(_Q) if mid > 0 else None


def volatility_bps_per_hour(closes: Sequence[Decimal], period_min: int) -> Decimal | None:
    """Return realised volatility per hour in bps from consecutive closes ``period_min`` apart.

    The figure is the sample standard deviation of simple close-to-close returns, scaled by
    √(60 / period_min) to one hour (square-root-of-time). ``None`` with fewer than 3 closes.
    """
    returns = [b / a - ONE for a, b in pairwise(closes) if a > 0]
    if len(returns) < 2 or period_min <= 0:
        return None
    mean = sum(returns, ZERO) / len(returns)
    variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (len(returns) - 1)
    per_hour = variance.sqrt() * (Decimal(60) / Decimal(period_min)).sqrt() * BPS
    return per_hour.quantize(_Q)


_PARKINSON = 2 * Decimal(2).ln().sqrt()
_SQRT_24 = Decimal(24).sqrt()


def range_volatility_bps_per_hour(ticker: Ticker) -> Decimal | None:
    """Return a per-hour volatility in bps from the ticker's 24 h high/low (Parkinson).

    σ_day ≈ ln(high / low) / (2·√ln 2), and σ_hour = σ_day / √24. A fallback for markets
    with too few recent k-lines; it costs no request.
    """
    if ticker.low <= 0 or ticker.high < ticker.low:
        return None
    return ((ticker.high / ticker.low).ln() / _PARKINSON / _SQRT_24 * BPS).quantize(_Q)
