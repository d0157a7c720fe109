"""Decimal arithmetic for money: the rounding policy lives here.

Amounts we sell round down (never sell more than allocated); sell prices round up (never
sell below a guard). Values are built from strings, never from floats.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)


_STEPS = {p: Decimal(1).scaleb(-p) for p in range(19)}


def step(precision: int) -> Decimal:
    """Return the smallest increment for ``precision`` decimals (2 → 0.01)."""
    found = _STEPS.get(precision)
    return found if found is not None else Decimal(1).scaleb(-precision)


def quantize_down(value: Decimal, precision: int) -> Decimal:
    """Round ``value`` towards zero to ``precision`` decimals."""
    return value.quantize(step(precision), rounding=ROUND_DOWN)


def quantize_price_up(price: Decimal, precision: int) -> Decimal:
    """Round a sell price up to the tick, so a guard below it is never crossed."""
    return price.quantize(step(precision), rounding=ROUND_CEILING)


def quantize_price_down(price: Decimal, precision: int) -> Decimal:
    """Round a price down to the tick."""
    return price.quantize(step(precision), rounding=ROUND_FLOOR)


def to_bps(ratio: Decimal) -> Decimal:
    """Convert a ratio (0.0012) to basis points (12)."""
    return ratio * BPS


def from_bps(bps: Decimal) -> Decimal:
    """Convert basis points (12) to a ratio (0.0012)."""
    return bps / BPS


def dec(value: str | int | Decimal) -> Decimal:
    """Build a Decimal from a string or int (never a float)."""
    if isinstance(value, float):  # pragma: no cover - defended by types
        raise TypeError("money must not be built from float")
    return value if isinstance(value, Decimal) else Decimal(value)
