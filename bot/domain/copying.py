"""``copy_with``: ``dataclasses.replace`` for frozen slotted records, at half the cost.

The tracker and the runner copy an order row or an execution on every change they store;
``replace`` re-runs ``__init__`` through a generic keyword call. This copies the fields one
by one (none of these records has an ``__init__`` or ``__post_init__`` that computes
anything) and refuses a name that is not a field, as ``replace`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")

_LAYOUTS: dict[type, tuple[tuple[str, ...], frozenset[str], Callable[[Any], tuple[Any, ...]]]] = {}


def copy_with(record: T, **changes: object) -> T:
    """Return a copy of the frozen dataclass ``record`` with ``changes`` applied."""
    cls = type(record)
    layout = _LAYOUTS.get(cls)
    if layout is None:
        names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
        layout = _LAYOUTS[cls] = (names, frozenset(names), attrgetter(*names))
    names, known, values = layout
    new = object.__new__(cls)
    put = object.__setattr__
    for name, value in zip(names, values(record), strict=True):
        put(new, name, value)
    for name, value in changes.items():
        if name not in known:
            raise TypeError(f"{cls.__name__} has no field {name!r}")
        put(new, name, value)
    return new
