"""The adaptive executor's market watch: the prices the fall detector reads, and its memory.

Every step the executor hands ``observe`` the book and its own resting asks. The watch keeps
the last ``window`` readings of the mid (its noise sets the calm and restless tests) and of
the others' best ask (``planning.others_best_ask``: the price the fall detector watches, as
our own orders move the mid), the first such reading (what a fall is measured from) and the
step at which a fall was first called (``planning.adaptive_step``, mode ``falling``).

A restart loses all of that, and a fall already under way would then look like a calm market
opening at the fallen price. So the first call of a fall is persisted (the executor appends a
``FALL_EVENT`` to the execution's events with the price it was measured from) and a fresh
watch on a resumed sale is ``restore``-d from it: the fall stands (``restored``) until the
watch has read ``FALL_MIN_STEPS`` prices of its own, after which the usual hold rule (the t
statistic still below ``FALL_T / 2``) decides whether it goes on.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.market import OrderBook
from bot.execution.midstats import MidStats, PriceSeries
from bot.execution.planning import FALL_MIN_STEPS, drop_bps, others_best_ask

FALL_EVENT = "adaptive_fall"


class FallWatch:
    def __init__(self, window: int) -> None:
        self._mids = PriceSeries(window)  # the book's mids
        self._refs = PriceSeries(window)  # the others' best asks, read with them
        self._first: Decimal | None = None  # the first of those
        self._last: Decimal | None = None
        self.steps = 0  # steps observed
        self.fell_at: int | None = None  # the step at which a fall was first called
        self._restored_at: int | None = None  # the step a fall was restored at

    def observe(self, book: OrderBook, own: list[tuple[Decimal, Decimal]], now: float) -> None:
        ref = others_best_ask(book, own)
        self.steps += 1
        if ref is not None and book.mid is not None:
            self._first = self._first or ref
            self._last = ref
            self._refs.add(ref, now)
            self._mids.add(book.mid, now)

    def restore(self, first: Decimal) -> None:
        """Resume a fall called before a restart, measured from ``first`` (before ``observe``)."""
        self._first = first
        self.fell_at = self.steps
        self._restored_at = self.steps

    @property
    def restored(self) -> bool:
        """Whether a fall restored after a restart still stands on too few readings to judge."""
        at = self._restored_at
        return at is not None and self.steps - at < FALL_MIN_STEPS

    @property
    def first(self) -> Decimal | None:
        return self._first

    def mark(self, falling: bool) -> None:
        """Record this step's verdict (the first call of a fall is kept)."""
        if falling and self.fell_at is None:
            self.fell_at = self.steps

    @property
    def fell(self) -> bool:
        return self.fell_at is not None

    @property
    def fell_steps(self) -> int:
        return 0 if self.fell_at is None else self.steps - self.fell_at

    def drop_bps(self) -> Decimal:
        return drop_bps(self._first, self._last)

    def ref_stats(self, step_s: float) -> MidStats:
        return self._refs.stats(step_s)

    def mid_volatility_bps(self, step_s: float) -> Decimal:
        return self._mids.stats(step_s).volatility_bps
