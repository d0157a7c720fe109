"""A small stream leg: malformed frames while books are read and sales run."""

from __future__ import annotations

import json
from pathlib import Path

from bench.reliability.stream_leg import passed, run_stream_leg, save_leg


async def test_malformed_frames_never_serve_a_bad_or_stale_book(tmp_path: Path) -> None:
    figures = await run_stream_leg(12, seed=2)
    path = save_leg(tmp_path, figures)

    assert figures["frames_injected"] == 12
    assert figures["bad_messages_seen"] == 12
    assert figures["bad_prices_served"] == 0
    assert figures["stale_books_served"] == 0
    assert figures["unrecovered"] == 0
    assert figures["reconnects"] == 12
    assert isinstance(figures["max_recovery_s"], float)
    assert 0 < figures["max_recovery_s"] < 5
    assert isinstance(figures["books_from_stream"], int)
    assert figures["books_from_stream"] > 0
    assert passed(figures)
    assert path == tmp_path / "stream.json"
    assert json.loads(path.read_text())["extra"]["verdict"] == "PASS"
