"""The ``Advisor`` port: from a scored balance and its market to a strategy, with provenance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bot.domain.balances import BalanceScore, ScoreMetrics
from bot.domain.decisions import Decision
from bot.domain.market import Market, OrderBook, Ticker
from bot.prioritisation.scoring import MarketSnapshot, impact_bps

_Q = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class AdviceContext:
    """A balance to sell (already scored ``sell``) and the market data behind its score."""

    score: BalanceScore
    market: Market
    book: OrderBook | None = None
    ticker: Ticker | None = None

    @classmethod
    def from_snapshot(cls, score: BalanceScore, snapshot: MarketSnapshot) -> AdviceContext:
        """Build the context of ``score`` from the snapshot it was scored on.

        Raises:
            KeyError: the score has no market in the snapshot.
        """
        if score.market is None:
            raise KeyError(score.currency)
        return cls(
            score=score,
            market=snapshot.markets[score.market],
            book=snapshot.books.get(score.market),
            ticker=snapshot.tickers.get(score.market),
        )

    @property
    def metrics(self) -> ScoreMetrics:
        return self.score.metrics or ScoreMetrics()

    @property
    def amount(self) -> Decimal:
        return self.score.amount

    @property
    def value_quote(self) -> Decimal:
        return self.score.value_quote

    @property
    def book_fraction(self) -> Decimal | None:
        """Return our value over the bid depth within 5% of mid (None without a book)."""
        depth = self.metrics.depth_5pct_quote
        if depth is None:
            return None
        if depth <= 0:
            return Decimal(999)
        return (self.value_quote / depth).quantize(_Q)

    @property
    def impact_bps(self) -> Decimal | None:
        """Return how far below mid selling everything at once would average."""
        return impact_bps(self.book, self.amount) if self.book is not None else None


@dataclass(frozen=True, slots=True)
class Advice:
    """A decision and everything the ``decisions`` row records about how it was made.

    ``advisor`` is ``"rules"`` or ``"llm"`` (the one whose decision is used); ``fallback`` is
    True when the LLM was asked but the rules decided; ``fallback_reason`` says why in one
    stable word (``timeout``, ``rate_limited`` …, see ``llm.py``), ``fallback_detail`` in words.
    ``proposed`` is the LLM's decision before the guardrails, ``clamped`` the fields they
    changed. ``memo_hit`` marks a decision reused from the short-window memo.
    """

    decision: Decision
    advisor: str
    model: str | None = None
    latency_ms: int = 0
    prompt_hash: str | None = None
    raw_answer: str | None = None
    fallback: bool = False
    fallback_reason: str | None = None
    fallback_detail: str | None = None
    proposed: Decision | None = None
    clamped: tuple[str, ...] = ()
    memo_hit: bool = False


class Advisor(Protocol):
    async def advise(self, ctx: AdviceContext) -> Advice:
        """Return how to sell the balance in ``ctx``; never raise for advice failures."""
        ...
