"""The ``--plot`` charts, drawn with matplotlib (the optional extra ``sellbot[bench]``).

* ``PATH``: one panel per scenario; in each, the sizes along the axis and a bar per strategy
  (mean shortfall, error bar ± one standard error). The cost axis is symmetric-log (linear
  within ±``LINEAR_BPS``, logarithmic beyond) so the crash and dust rows, hundreds to
  10,000 bps, do not flatten the others, and gains (below zero) stay visible.
* ``PATH`` with ``-frontier`` before the suffix: the urgency frontier, weighted calm cost
  against weighted adverse cost (``frontier.py``), urgency levels joined low → high, the
  fixed strategies as points.

Each PNG carries its panel count in a ``Panels`` text chunk. Without matplotlib nothing is
drawn and the one-line ``HINT`` says how to get it; the JSON is written either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.bench.frontier import URGENCIES, Point
from bot.bench.report import Row
from bot.bench.runner import STRATEGIES

HINT = "charts need matplotlib: pip install 'sellbot[bench]' (the JSON is written without it)"
LINEAR_BPS = 20.0
COLUMNS = 4
PANEL_IN = (4.0, 3.0)
DPI = 100


def frontier_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}-frontier{path.suffix or '.png'}")


def write_charts(rows: Sequence[Row], points: Sequence[Point], path: Path) -> str:
    """Write both charts; return the line to print (what was written, or the hint)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return HINT
    panels = _scenario_panels(Figure, rows)
    FigureCanvasAgg(panels)
    count = sum(1 for ax in panels.axes if ax.has_data())
    panels.savefig(path, dpi=DPI, metadata={"Panels": str(count)})
    other = frontier_path(path)
    front = _frontier_figure(Figure, points)
    FigureCanvasAgg(front)
    front.savefig(other, dpi=DPI, metadata={"Panels": "1"})
    return f"wrote {path} ({count} panels: mean ± se per strategy and size) and {other}"


def _scenario_panels(figure: Any, rows: Sequence[Row]) -> Any:
    scenarios = list(dict.fromkeys(r.scenario for r in rows))
    nrows = max(1, -(-len(scenarios) // COLUMNS))
    fig = figure(figsize=(PANEL_IN[0] * COLUMNS, PANEL_IN[1] * nrows + 0.8))
    axes = fig.subplots(nrows, COLUMNS, squeeze=False).flatten()
    strategies = [s for s in STRATEGIES if any(r.strategy == s for r in rows)]
    width = 0.8 / max(1, len(strategies))
    for ax, name in zip(axes, scenarios, strict=False):
        mine = [r for r in rows if r.scenario == name]
        sizes = list(dict.fromkeys(r.size for r in mine))
        for k, strategy in enumerate(strategies):
            cells = {r.size: r for r in mine if r.strategy == strategy}
            xs = [i + (k - (len(strategies) - 1) / 2) * width for i in range(len(sizes))]
            means = [cells[z].mean_bps if z in cells else 0.0 for z in sizes]
            errs = [cells[z].stderr_bps if z in cells else 0.0 for z in sizes]
            ax.bar(xs, means, width, yerr=errs, label=strategy, color=f"C{k}", capsize=1.5)
        ax.set_yscale("symlog", linthresh=LINEAR_BPS)
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_xticks(range(len(sizes)), sizes)
        ax.set_title(name)
        ax.set_ylabel("bps vs arrival mid")
    for ax in axes[len(scenarios) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle("total shortfall per scenario, bps (symlog axis)", y=0.995, fontsize="medium")
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965),
               ncol=len(strategies), fontsize="small")  # fmt: skip
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.91))
    return fig


def _frontier_figure(figure: Any, points: Sequence[Point]) -> Any:
    fig = figure(figsize=(6.0, 4.5))
    ax = fig.subplots()
    levels = [p for p in points if p.strategy in URGENCIES]
    ax.plot(
        [p.calm_bps for p in levels],
        [p.adverse_bps for p in levels],
        "o-",
        color="C4",
        label="adaptive: low → medium → high",
    )
    for p in levels:
        ax.annotate(p.strategy, (p.calm_bps, p.adverse_bps), fontsize="small")
    for k, p in enumerate(q for q in points if q.strategy not in URGENCIES):
        ax.plot([p.calm_bps], [p.adverse_bps], "s", color=f"C{k}", label=p.strategy)
    ax.set_xscale("symlog", linthresh=LINEAR_BPS)
    ax.set_yscale("symlog", linthresh=LINEAR_BPS)
    ax.set_xlabel("calm rows: weighted mean cost, bps")
    ax.set_ylabel("adverse rows: weighted mean cost, bps")
    ax.set_title("urgency frontier (lower left is better)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
