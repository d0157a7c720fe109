"""Crash campaign, small: SIGKILL a real ``sellbot run`` three times; lock the database mid-run."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bench.reliability.crashes import crash_campaign, db_outage

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(240)
async def test_three_sigkills_lose_nothing(db_url: str, tmp_path: Path) -> None:
    result = await crash_campaign(kills=3, db_url=db_url, workdir=tmp_path, seed=3)

    report = result.report
    assert result.final_exit == 0, result.stderr_tail
    assert report.executions >= 3
    assert report.oversold == Decimal(0), report.details
    assert report.duplicates == 0, report.details
    assert report.unknown_open == 0, report.details
    assert report.disagreeing == 0, report.details
    assert report.stuck == 0, report.details
    assert set(report.states) <= {"completed", "partial", "failed"}, report.states
    assert result.unsold == [], report.details
    assert report.sales >= 3
    assert report.ok, report.details  # the verdict `make reliability` prints


@pytest.mark.timeout(180)
async def test_database_locked_mid_run_leaves_no_order_unrecorded(tmp_path: Path) -> None:
    result = await db_outage(
        db_path=tmp_path / "outage.db", workdir=tmp_path, outage_s=5.0, after_s=20.0
    )

    report = result.report
    assert result.exit_code == 0, result.stderr_tail
    assert result.orders_before > 0
    assert report.unknown_open == 0, report.details  # every exchange order has its row
    assert report.duplicates == 0, report.details
    assert report.disagreeing == 0, report.details
    assert report.oversold == Decimal(0), report.details


@pytest.mark.timeout(180)
async def test_database_locked_mid_run_recovers_without_restart(tmp_path: Path) -> None:
    result = await db_outage(
        db_path=tmp_path / "outage.db", workdir=tmp_path, outage_s=8.0, after_s=30.0
    )

    assert result.orders_after > 0
    assert result.unsold == [], result.report.details
    assert set(result.report.states) <= {"completed", "partial", "failed"}
