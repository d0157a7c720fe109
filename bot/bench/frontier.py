"""How often each scenario happens, and what follows: the urgency frontier and weighted regret.

The rows say what each strategy costs in each scenario; a seller cares about the mix. The mix
is a parameter (``--weights``-style ``Weights``), with these defaults and the argument for
each. None is measured on SafeTrade (no public record of its books exists); each is an
assumption stated so it can be argued with, and the regret is also printed at crash weights
of 0.5%, 2% and 10% so the conclusion's sensitivity to the least certain one is visible.

* ``liquid`` 40% — sellbot's score (``prioritisation/scoring.py``) puts large balances in
  deep books first, so most of what it sells goes into a two-sided book a few bps wide.
* ``thin`` 20%, ``wide`` 10% — a small exchange also lists many small tokens whose books are
  thin or 60–200 bps wide; one sale in three in such a book.
* ``volatile`` 10% — a book moving 4 bps per √s (about 2.4% an hour) with jumps: days of
  news, one in ten.
* ``trend`` 5% — a steady fall of 1% within the five minutes of a sale. Under a random walk
  at 100% annual volatility (five-minute σ about 0.44%) that is a −2.3σ move, about 1% of
  windows; fat tails and the momentum of sell-offs make it a few times likelier, so 5%.
* ``crash`` 2% — −15% within 30 s, starting a minute into the sale: a flash crash or a
  delisting. Rare for any one five-minute window; 2% is generous on purpose (a seller who
  fears it should see what insuring costs), and 0.5% and 10% are printed beside it.
* ``dust`` 13% — balances worth about the minimum order: the leftovers sellbot exists for.

Within a scenario its sizes (0.1%, 1%, 10% of daily volume; 0.5x, 1x, 1.5x the minimum)
weigh the same. Calm rows are liquid, thin, wide and volatile; adverse rows trend and crash;
dust is neither (its cost is whether it sells at all) but counts in the regret.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.bench.report import CHOOSABLE, Row
from bot.bench.scenarios import advisor_view, scenario

CALM = ("liquid", "thin", "wide", "volatile")
ADVERSE = ("trend", "crash")
URGENCIES = ("adaptive@low", "adaptive", "adaptive@high")  # low, medium, high
FIXED = ("market", "limit", "twap", "iceberg")
DEFAULT_WEIGHTS: dict[str, float] = {
    "liquid": 0.40,
    "thin": 0.20,
    "wide": 0.10,
    "volatile": 0.10,
    "trend": 0.05,
    "crash": 0.02,
    "dust": 0.13,
}
CRASH_WEIGHTS = (0.005, 0.02, 0.10)


@dataclass(frozen=True, slots=True)
class Point:
    """A strategy's weighted mean cost over the calm rows and over the adverse rows (bps)."""

    strategy: str
    calm_bps: float
    adverse_bps: float

    def dominates(self, other: Point) -> bool:
        """Whether this point is cheaper than ``other`` on both axes."""
        return self.calm_bps < other.calm_bps and self.adverse_bps < other.adverse_bps


def with_crash_weight(weights: Mapping[str, float], crash: float) -> dict[str, float]:
    """Return ``weights`` with crash at ``crash`` and the others scaled to keep the total."""
    rest = sum(w for name, w in weights.items() if name != "crash")
    total = rest + weights.get("crash", 0.0)
    scale = (total - crash) / rest if rest > 0 else 0.0
    return {name: crash if name == "crash" else w * scale for name, w in weights.items()}


def _by_scenario(rows: Sequence[Row], value: str) -> dict[str, dict[str, list[float]]]:
    """Return scenario → strategy → the rows' ``value`` (one per size)."""
    out: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        got = getattr(r, value)
        if got is not None:
            out.setdefault(r.scenario, {}).setdefault(r.strategy, []).append(float(got))
    return out


def weighted_cost(
    rows: Sequence[Row], strategy: str, scenarios: Sequence[str], weights: Mapping[str, float]
) -> float:
    """Return the weighted mean over ``scenarios`` of the strategy's mean cost over sizes."""
    costs = _by_scenario(rows, "mean_bps")
    total = weight = 0.0
    for name in scenarios:
        sizes = costs.get(name, {}).get(strategy)
        w = weights.get(name, 0.0)
        if sizes and w > 0:
            total += w * sum(sizes) / len(sizes)
            weight += w
    return total / weight if weight > 0 else float("nan")


def frontier(rows: Sequence[Row], weights: Mapping[str, float]) -> list[Point]:
    """Return each urgency level's and each fixed strategy's (calm, adverse) point."""
    return [
        Point(s, weighted_cost(rows, s, CALM, weights), weighted_cost(rows, s, ADVERSE, weights))
        for s in (*URGENCIES, *FIXED)
    ]


def row_regrets(rows: Sequence[Row]) -> dict[tuple[str, str], float]:
    """Return (scenario, size) → the advisor's cost less the cheapest of the choosable
    strategies and the advisor's own decision (so never below 0: where the advisor's own
    parameters beat every fixed choice, as the qualifying limit does for dust, it has none)."""
    grid: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        grid.setdefault((r.scenario, r.size), {})[r.strategy] = r.mean_bps
    return {
        key: costs["advisor"] - min(costs[s] for s in (*CHOOSABLE, "advisor") if s in costs)
        for key, costs in grid.items()
        if "advisor" in costs
    }


def weighted_regret(rows: Sequence[Row], weights: Mapping[str, float]) -> float:
    """Return the advisor's regret, sizes equal within a scenario, scenarios by ``weights``."""
    per: dict[str, list[float]] = {}
    for (name, _), regret in row_regrets(rows).items():
        per.setdefault(name, []).append(regret)
    total = weight = 0.0
    for name, regrets in per.items():
        w = weights.get(name, 0.0)
        total += w * sum(regrets) / len(regrets)
        weight += w
    return total / weight if weight > 0 else 0.0


def regret_floor(rows: Sequence[Row], weights: Mapping[str, float]) -> float:
    """Return the least weighted regret any advisor deciding at the start can reach.

    Rows with one ``advisor_view`` (liquid, trend and crash open alike) get one decision; the
    best there is the one choosable strategy whose weighted regret over the group is least.
    """
    regrets = row_regrets(rows)
    grid: dict[tuple[str, str], dict[str, float]] = {}
    for r in rows:
        grid.setdefault((r.scenario, r.size), {})[r.strategy] = r.mean_bps
    sizes: dict[str, int] = {}
    for name, _ in regrets:
        sizes[name] = sizes.get(name, 0) + 1
    groups: dict[tuple[object, ...], list[tuple[str, str]]] = {}
    for name, size in regrets:
        s = scenario(name)
        groups.setdefault(advisor_view(s, dict(s.sizes())[size]), []).append((name, size))
    total = 0.0
    for keys in groups.values():

        def cost(choice: str, keys: list[tuple[str, str]] = keys) -> float:
            out = 0.0
            for key in keys:
                costs = grid[key]
                best = min(costs[c] for c in (*CHOOSABLE, "advisor") if c in costs)
                out += weights.get(key[0], 0.0) / sizes[key[0]] * (costs[choice] - best)
            return out

        total += min(cost(c) for c in CHOOSABLE if all(c in grid[k] for k in keys))
    weight = sum(weights.get(name, 0.0) for name in sizes)
    return total / weight if weight > 0 else 0.0
