"""The ``--plot`` charts: drawn with matplotlib when it is installed, a one-line hint when not."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.bench.chart import COLUMNS, DPI, HINT, PANEL_IN, frontier_path, write_charts
from bot.bench.command import run_bench
from bot.bench.frontier import DEFAULT_WEIGHTS, frontier
from bot.bench.report import Row
from bot.bench.runner import STRATEGIES


def _rows() -> list[Row]:
    rows = []
    for k, name in enumerate(("liquid", "thin", "crash", "wide", "trend")):
        for size in ("0.1%", "1%", "10%"):
            for j, strategy in enumerate(STRATEGIES):
                cost = [-20.0, 5.0, 500.0][j % 3] + k
                rows.append(Row(name, size, strategy, cost, 1.0, cost, cost, cost, 0.0, None,
                                None, 0, 0.0))  # fmt: skip
    return rows


def test_the_charts_are_written_with_a_panel_per_scenario(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from PIL import Image

    rows = _rows()
    path = tmp_path / "bench.png"

    line = write_charts(rows, frontier(rows, DEFAULT_WEIGHTS), path)

    assert line.startswith(f"wrote {path} (5 panels")
    with Image.open(path) as panels:
        assert panels.size == (int(PANEL_IN[0] * COLUMNS * DPI), int((PANEL_IN[1] * 2 + 0.8) * DPI))
        assert panels.info["Panels"] == "5"
    with Image.open(frontier_path(path)) as front:
        assert front.size == (600, 450)
        assert front.info["Panels"] == "1"


def test_without_matplotlib_the_bench_prints_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib: ImportError
    rows = _rows()
    path = tmp_path / "bench.png"

    line = write_charts(rows, frontier(rows, DEFAULT_WEIGHTS), path)

    assert line == HINT
    assert "pip install 'sellbot[bench]'" in line
    assert not path.exists()
    out = tmp_path / "bench.json"
    report = run_bench(seeds=1, scenarios=("dust",), sizes={"1.5x"}, workers=1,
                       json_path=str(out), plot_path=str(path))  # fmt: skip
    assert report.text.splitlines()[-1] == HINT
    assert out.exists()
