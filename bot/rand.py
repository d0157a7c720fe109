"""Named, seeded random streams: the only module allowed to create randomness."""

from __future__ import annotations

import random
import secrets


def make_rng(seed: int | str | None, name: str) -> random.Random:
    """Return an independent ``random.Random`` for the stream ``name``.

    The same (seed, name) always gives the same sequence; a ``None`` seed draws OS entropy.
    """
    if seed is None:
        seed = secrets.randbits(64)
    return random.Random(f"{seed}/{name}")  # noqa: S311 - simulation, not cryptography
