"""Execution-quality benchmark (``sellbot bench``): every strategy on the same simulated markets.

* ``scenarios.py`` — the parameter table (liquid, thin, wide, trend, crash, volatile, dust).
* ``oracle.py`` — Obizhaeva–Wang closed forms and the optimal schedule as a real executor.
* ``runner.py`` — one case = (scenario, size, seed); the market is seeded by scenario and seed
  only, every strategy runs the daemon's ``ExecutionRunner`` on a fresh engine in virtual time.
* ``report.py`` — rows (mean, stderr, p95, CVaR95, unsold, η, violations, regret, urgency),
  table, JSON. ``frontier.py`` — scenario weights, the urgency frontier, weighted regret.
  ``verdict.py`` — the targets, measured. ``chart.py`` — matplotlib charts (optional extra).
  ``progress.py`` — cases done, elapsed, remaining. ``command.py`` — the CLI entry.

Unsold amounts are charged at what dumping them into the bids at the end would fetch; a
remainder that cannot be sold at all (below the minimum notional) is charged at its full value
(10,000 bps), which is what the dust rows show.
"""
