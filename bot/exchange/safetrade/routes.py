"""Which family answers each capability: fixed by ``SAFETRADE_API_PROFILE`` or discovered.

Discovery is lazy and per capability: the first request of a capability tries the families in
``profiles.ORDER``; the first that answers with a body that parses is remembered for the rest
of the process and logged once (``exchange_route_chosen``). A 404 or an unparseable body moves
on to the next family; anything else (a block page, a timeout, a refused key) ends the attempt
without remembering anything, so a later request discovers again.

Private capabilities follow one family: the first whose ``members/me`` (or, for a family
without it, balances) answers. An order's trades are the exception: their route differs
between families that share the other private paths, so it is discovered on its own.
"""

from __future__ import annotations

import structlog

from bot.exchange.safetrade.profiles import (
    ORDER,
    PRIVATE,
    PROFILES,
    Capability,
    Family,
    Profile,
)

log = structlog.get_logger()


class Routes:
    """The family chosen for each capability, fixed or discovered."""

    def __init__(self, fixed: Family | None = None) -> None:
        self.fixed = fixed
        self.chosen: dict[Capability, Family] = {}
        self.private_family: Family | None = fixed

    def candidates(self, capability: Capability) -> list[Profile]:
        """The profiles to try for ``capability``, in order (one once it is known)."""
        if self.fixed is not None:
            return [PROFILES[self.fixed]]
        if capability in self.chosen:
            return [PROFILES[self.chosen[capability]]]
        order = list(ORDER)
        if capability in PRIVATE and self.private_family is not None:
            if capability is not Capability.ORDER_TRADES:
                return [PROFILES[self.private_family]]
            order.remove(self.private_family)
            order.insert(0, self.private_family)
        return [PROFILES[f] for f in order if PROFILES[f].has(capability)]

    def choose(self, capability: Capability, family: Family) -> None:
        if self.fixed is not None or self.chosen.get(capability) is family:
            return
        self.chosen[capability] = family
        log.info("exchange_route_chosen", capability=str(capability), family=str(family))

    def choose_private(self, family: Family) -> None:
        if self.private_family is family:
            return
        self.private_family = family
        log.info("exchange_private_family_chosen", family=str(family))

    def summary(self) -> dict[str, str]:
        """Capability → family for everything known so far (all of them when fixed)."""
        if self.fixed is not None:
            return {str(c): str(self.fixed) for c in Capability if PROFILES[self.fixed].has(c)}
        known = {str(c): str(f) for c, f in self.chosen.items()}
        if self.private_family is not None:
            for c in PRIVATE:
                if c is not Capability.ORDER_TRADES and PROFILES[self.private_family].has(c):
                    known.setdefault(str(c), str(self.private_family))
        return known
