"""Decimal arithmetic for money: the rounding policy lives here.

Amounts we sell round down (never sell more than allocated); sell prices round up (never
sell below a guard). Values are built from strings, never from floats.

Quantizing runs in ``MONEY_CONTEXT``, not the thread's default context: a quantized value
needs as many significant digits as its integer part plus ``precision``, and the default
28 digits are too few for the precisions markets may have (the wire accepts up to 30:
``quantize_down(Decimal("0.5"), 30)`` needs 30 digits, 1e15 at 30 decimals needs 46).
"""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)

# 64 significant digits: any value below 1e34 quantizes exactly at 30 decimals (amounts
# and prices are far below that); a larger one still raises InvalidOperation.
MONEY_CONTEXT = Context(
    prec=64, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)


def step(precision: int) -> Decimal:
    """Return the smallest increment for ``precision`` decimals (2 → 0.01)."""
    return ONE.scaleb(-precision)


def quantize_down(value: Decimal, precision: int) -> Decimal:
    """Round ``value`` towards zero to ``precision`` decimals."""
    return value.quantize(step(precision), rounding=ROUND_DOWN, context=MONEY_CONTEXT)


def quantize_price_up(price: Decimal, precision: int) -> Decimal:
    """Round a sell price up to the tick, so a guard below it is never crossed."""
    return price.quantize(step(precision), rounding=ROUND_CEILING, context=MONEY_CONTEXT)


def quantize_price_down(price: Decimal, precision: int) -> Decimal:
    """Round a price down to the tick."""
    return price.quantize(step(precision), rounding=ROUND_FLOOR, context=MONEY_CONTEXT)


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
