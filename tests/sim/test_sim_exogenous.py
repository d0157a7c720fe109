"""The exogenous path: shared replays equal private draws; a private path stays bounded."""

from __future__ import annotations

from decimal import Decimal

from bot.sim.exogenous import ExogenousPath, TakerArrival
from bot.sim.market_model import MarketModel
from bot.sim.market_params import MarketParams


def _params(**changes: object) -> MarketParams:
    base = {
        "mid0": Decimal(100),
        "price_precision": 2,
        "amount_precision": 2,
        "sigma_per_s": 0.001,
        "jump_rate_per_s": 0.02,
        "jump_std": 0.02,
        "d0": Decimal(5),
        "rho": 0.05,
        "taker_rate_per_s": 0.7,
        "taker_size_scale": Decimal(2),
        "script": ((0.0, 1.0), (100.0, 0.9)),
    }
    return MarketParams(**{**base, **changes})  # type: ignore[arg-type]


def _trace(model: MarketModel, until: float, step_s: float) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    t = model.t
    while t < until:
        t = min(until, t + step_s)
        for event in model.events_until(t):
            label = f"{event.side}:{event.amount}" if isinstance(event, TakerArrival) else "mid"
            out.append((model.t, f"{label}@{model.mid!r}"))
    return out


def test_models_sharing_a_path_see_what_a_private_model_draws() -> None:
    params = _params()
    private = _trace(MarketModel("xusdt", params, "s/1", 0.0), 400.0, 400.0)
    first = _trace(MarketModel("xusdt", params, "s/1", 0.0, shared=True), 400.0, 3.3)
    second = _trace(MarketModel("xusdt", params, "s/1", 0.0, shared=True), 400.0, 0.9)
    other_seed = _trace(MarketModel("xusdt", params, "s/2", 0.0, shared=True), 400.0, 400.0)

    assert first == private
    assert second == private
    assert other_seed != private
    assert sum(1 for _, label in private if label.startswith("mid")) == 400
    assert sum(1 for _, label in private if not label.startswith("mid")) > 200


def test_a_private_path_forgets_what_its_model_consumed() -> None:
    model = MarketModel("xusdt", _params(script=()), 3, 0.0)
    for hour in range(1, 7):
        list(model.events_until(hour * 3600.0))
    path = model._path
    assert path.offset_steps > 20_000  # six hours of one-second steps, most of them dropped
    assert len(path.step_times) < 10_000
    assert len(path.taker_times) < 10_000


def test_a_market_without_takers_draws_no_arrival() -> None:
    path = ExogenousPath("xusdt", _params(taker_rate_per_s=0.0), 1, 0.0)
    path.ensure(1000.0)
    assert path.takers == [None]
    assert path.taker_times[0] == float("inf")
    assert len(path.step_times) == 1001
