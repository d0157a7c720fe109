"""The scalar types of SafeTrade's wire (decimals, ids, times, short texts) and the model base.

A number arrives as a JSON string or a ``Decimal`` (bodies are decoded with
``parse_float=Decimal``); a float never exists. Anything too long or too large to be a
price, an amount, an id or a time is refused before it reaches a model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PlainValidator

_MAX_TEXT = 128  # ids, currencies, states: anything longer is not SafeTrade talking
_MAX_NUMBER_TEXT = 64
_MAX_EXPONENT = 40  # |value| beyond 1e40 or finer than 1e-40 is not a price or an amount


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError("expected a decimal string")  # floats never reach here (parse_float)
    if isinstance(value, str) and len(value) > _MAX_NUMBER_TEXT:
        raise ValueError("number too long")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except InvalidOperation as e:
        raise ValueError("not a number") from e
    if not number.is_finite() or number < 0:
        raise ValueError("not a finite non-negative number")
    if number and abs(number.adjusted()) > _MAX_EXPONENT:
        raise ValueError("number out of range")
    return number


def _ident(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expected an id")
    text = str(value)
    if not text or len(text) > _MAX_TEXT:
        raise ValueError("bad id length")
    return text


def _epoch(value: Decimal) -> datetime:
    seconds = value / 1000 if value > Decimal(10) ** 11 else value  # ms when implausibly large
    return datetime.fromtimestamp(float(seconds), UTC)  # time, not money: float is fine here


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValueError("expected a timestamp")
    try:
        if isinstance(value, int | Decimal):
            return _epoch(Decimal(value))
        if isinstance(value, str) and 0 < len(value) <= _MAX_NUMBER_TEXT:
            if value.isdigit():
                return _epoch(Decimal(value))
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ArithmeticError, OverflowError, OSError) as e:
        raise ValueError("timestamp out of range") from e
    raise ValueError("expected a timestamp")


WireDecimal = Annotated[Decimal, PlainValidator(_decimal)]
WireId = Annotated[str, PlainValidator(_ident)]
WireTime = Annotated[datetime, PlainValidator(_timestamp)]
Text = Annotated[str, Field(min_length=1, max_length=_MAX_TEXT)]
ShortText = Annotated[str, Field(max_length=_MAX_TEXT)]  # may be empty


def alias(names: tuple[str, ...]) -> Any:
    return Field(validation_alias=AliasChoices(*names))


def alias_default(names: tuple[str, ...], default: Any) -> Any:
    return Field(default=default, validation_alias=AliasChoices(*names))


class WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=False)
