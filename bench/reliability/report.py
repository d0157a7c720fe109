"""Results of the reliability campaigns: saved as JSON per leg, printed as one Markdown table.

Each campaign script writes ``<dir>/<leg>.json`` (``save``); ``python -m bench.reliability.report
<dir>`` prints every leg found side by side (``make reliability`` ends with it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.reliability.invariants import InvariantReport

LEG_ORDER = (
    "faults",
    "faults_http",
    "cap",
    "stream",
    "books",
    "crashes",
    "db_outage",
    "leadership",
    "longrun",
)


@dataclass(frozen=True, slots=True)
class Leg:
    """One campaign's figures (``report`` for the invariant legs) and free-form extras."""

    name: str
    title: str
    covers: str
    report: InvariantReport | None
    extra: Mapping[str, str]


def report_to_json(r: InvariantReport) -> dict[str, Any]:
    return {
        "executions": r.executions,
        "orders_on_exchange": r.orders_on_exchange,
        "fills": r.fills,
        "oversold": str(r.oversold),
        "duplicates": r.duplicates,
        "unknown_open": r.unknown_open,
        "disagreeing": r.disagreeing,
        "stuck": r.stuck,
        "eligible": r.eligible,
        "completed": r.completed,
        "sales": r.sales,
        "sales_completed": r.sales_completed,
        "states": dict(r.states),
        "details": r.details[:50],
    }


def report_from_json(d: Mapping[str, Any]) -> InvariantReport:
    r = InvariantReport(
        executions=int(d["executions"]),
        orders_on_exchange=int(d["orders_on_exchange"]),
        fills=int(d["fills"]),
        oversold=Decimal(d["oversold"]),
        duplicates=int(d["duplicates"]),
        unknown_open=int(d["unknown_open"]),
        disagreeing=int(d["disagreeing"]),
        stuck=int(d["stuck"]),
        eligible=int(d["eligible"]),
        completed=int(d["completed"]),
        sales=int(d.get("sales", 0)),
        sales_completed=int(d.get("sales_completed", 0)),
        details=list(d.get("details", [])),
    )
    r.states.update({str(k): int(v) for k, v in d.get("states", {}).items()})
    return r


def save(
    directory: Path,
    name: str,
    *,
    title: str,
    covers: str,
    report: InvariantReport | None = None,
    extra: Mapping[str, object] | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    body = {
        "title": title,
        "covers": covers,
        "report": None if report is None else report_to_json(report),
        "extra": {k: str(v) for k, v in (extra or {}).items()},
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path


def load(directory: Path) -> list[Leg]:
    legs = []
    for name in LEG_ORDER:
        path = directory / f"{name}.json"
        if not path.exists():
            continue
        body = json.loads(path.read_text())
        report = report_from_json(body["report"]) if body.get("report") else None
        legs.append(Leg(name, body["title"], body["covers"], report, body.get("extra", {})))
    return legs


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


INVARIANT_ROWS: tuple[tuple[str, str, Any], ...] = (
    ("sales (balances put up for sale)", "≥ 1,000 (faults)", lambda r: str(r.sales or "-")),
    ("executions", "", lambda r: str(r.executions)),
    ("orders on the exchange", "", lambda r: str(r.orders_on_exchange)),
    ("oversold amount", "0", lambda r: str(r.oversold)),
    ("duplicate orders", "0", lambda r: str(r.duplicates)),
    ("open orders unknown to the DB", "0", lambda r: str(r.unknown_open)),
    ("DB orders disagreeing with the exchange", "0", lambda r: str(r.disagreeing)),
    ("executions stuck past horizon + grace", "0", lambda r: str(r.stuck)),
    ("sales completed where liquidity allowed", "≥ 99%",
     lambda r: f"{_pct(r.completion)} ({r.sales_completed}/{r.sales})" if r.sales else "-"),
    ("executions ending `completed`", "",
     lambda r: f"{_pct(r.execution_completion)} ({r.completed}/{r.eligible})"),
)  # fmt: skip


def render(legs: list[Leg]) -> str:
    """Return one Markdown table: a row per figure, a column per campaign."""
    head = "| figure | target | " + " | ".join(leg.title for leg in legs) + " |"
    lines = [head, "|" + "---|" * (len(legs) + 2)]
    for label, target, get in INVARIANT_ROWS:
        cells = [get(leg.report) if leg.report is not None else "" for leg in legs]
        if any(cells):
            lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    keys: list[str] = []
    for leg in legs:
        keys += [k for k in leg.extra if k not in keys and k != "verdict"]
    for key in keys:
        label, _, target = key.partition("|")
        cells = [leg.extra.get(key, "") for leg in legs]
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    verdicts = ["PASS" if _passed(leg) else "FAIL" for leg in legs]
    lines.append("| **verdict** | | " + " | ".join(verdicts) + " |")
    lines.append("")
    lines += [f"* **{leg.title}**: {leg.covers}" for leg in legs]
    return "\n".join(lines)


def _passed(leg: Leg) -> bool:
    ok = leg.report.ok if leg.report is not None else True
    return ok and leg.extra.get("verdict", "PASS") == "PASS"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "build/reliability")
    legs = load(directory)
    if not legs:
        sys.stderr.write(f"no campaign results in {directory}\n")
        return 1
    sys.stdout.write(render(legs) + "\n")
    return 0 if all(_passed(leg) for leg in legs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
