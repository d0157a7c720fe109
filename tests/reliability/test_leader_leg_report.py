"""The two-daemon leg's column in the reliability table: figures and verdict."""

from __future__ import annotations

from pathlib import Path

from bench.reliability import report
from bench.reliability.leader_leg import LeaderLegResult, save_leg


def test_a_clean_leg_passes_and_shows_its_takeover_times(tmp_path: Path) -> None:
    result = LeaderLegResult(kills=2, takeover_s=[2.0, 2.5, 3.0], orders_on_exchange=7)

    assert save_leg(tmp_path, result, ttl_s=3.0, backend="postgresql")

    (leg,) = report.load(tmp_path)
    table = report.render([leg])
    assert "| takeover after a kill: median / max | ≤ TTL | 2.5 / 3.0 s (TTL 3 s) |" in table
    assert "| **verdict** | | PASS |" in table


def test_an_order_from_a_non_leader_fails_the_leg(tmp_path: Path) -> None:
    result = LeaderLegResult(kills=2, takeover_s=[2.0], non_leader_orders=1)

    assert not save_leg(tmp_path, result, ttl_s=3.0, backend="sqlite")

    (leg,) = report.load(tmp_path)
    assert "| **verdict** | | FAIL |" in report.render([leg])
