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

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog

from bot.exchange.errors import ExchangeError, MalformedResponse, NotFound
from bot.exchange.safetrade.profiles import (
    ORDER,
    PRIVATE,
    PROFILES,
    Capability,
    Family,
    Profile,
)

Params = Mapping[str, str | int]
# GET one path (retried as the client retries reads) and return its decoded JSON
Get = Callable[[str, Params | None, bool], Awaitable[Any]]
T = TypeVar("T")

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


class Router:
    """GET a capability from the family that serves it, discovering the family on first use."""

    def __init__(self, routes: Routes, get: Get) -> None:
        self.routes = routes
        self._get = get

    async def get(
        self,
        capability: Capability,
        parse: Callable[[Any], T],
        *,
        market: str = "",
        order_id: str = "",
        params: Callable[[Profile], Params] | None = None,
    ) -> T:
        """Return ``parse`` of the first family's answer that parses.

        A 404 or a body that does not parse moves on to the next family; the first that
        answers is remembered. Raises the last family's error when none answers.
        """
        private = capability in PRIVATE
        if private:
            await self.private_profile()
        candidates = self.routes.candidates(capability)
        if not candidates:
            raise NotFound(f"no API family has a {capability} route")
        for profile in candidates[:-1]:
            path = profile.path(capability, market=market, order_id=order_id)
            try:
                result = parse(await self._get(path, _query(params, profile), private))
            except (NotFound, MalformedResponse) as e:
                log.info("exchange_route_missing", path=path, error=type(e).__name__)
                continue
            self.routes.choose(capability, profile.family)
            return result
        last = candidates[-1]
        path = last.path(capability, market=market, order_id=order_id)
        result = parse(await self._get(path, _query(params, last), private))
        self.routes.choose(capability, last.family)
        return result

    async def private_profile(self) -> Profile:
        """The family of the private paths: the first whose members/me (or balances) answers."""
        if self.routes.private_family is not None:
            return PROFILES[self.routes.private_family]
        last: ExchangeError | None = None
        for capability in (Capability.MEMBER, Capability.BALANCES):
            for family in ORDER:
                profile = PROFILES[family]
                # balances decide only for a family without members/me (already asked)
                if not profile.has(capability) or (
                    capability is Capability.BALANCES and profile.has(Capability.MEMBER)
                ):
                    continue
                try:
                    await self._get(profile.path(capability), None, True)
                except (NotFound, MalformedResponse) as e:
                    last = e
                    continue
                self.routes.choose_private(family)
                return profile
        raise last or NotFound("no API family answers members/me or balances")


def _query(params: Callable[[Profile], Params] | None, profile: Profile) -> Params | None:
    return params(profile) if params is not None else None
