"""Benchmarks and the reliability campaigns: run from the repository root, never shipped.

``bench/reliability/`` is the campaign library behind ``make reliability`` (faults, cap,
stream, books, crashes, leadership, long run); the scripts here are its entry points. The
wheel holds ``bot`` only, and no module under ``bot/`` imports this package (import-linter).
"""
