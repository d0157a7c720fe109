"""Progress of the reliability campaigns: plain lines on stderr, the results unchanged on stdout."""

from __future__ import annotations

import asyncio
import queue
import re
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
import structlog

from bench.faults import follow_rounds
from bench.reliability import book_leg
from bench.reliability.campaign import ShardResult
from bench.reliability.invariants import InvariantReport
from bench.reliability.report import load

LINE = re.compile(r"cases (\d+)/(\d+), elapsed \d+ s, remaining ~(\d+ s|\?)")


@pytest.fixture
def structlog_config() -> Iterator[None]:
    """The leg's entry point quiets structlog for the whole process: put it back after."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.mark.usefixtures("structlog_config")
def test_book_leg_shows_progress_on_stderr_and_keeps_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert book_leg.main(["--sales", "4", "--seed", "2", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()

    matches = [LINE.fullmatch(line) for line in err.splitlines()]
    assert all(matches), err  # plain lines only: stderr is not a terminal here
    done = [(int(m[1]), int(m[2])) for m in matches if m]
    assert done == [(1, 4), (2, 4), (3, 4), (4, 4)]  # every sale is a tenth or more of 4
    counters = asyncio.run(book_leg.run_book_leg(4, seed=2))  # the same run, no progress
    assert out == f"{counters}\nwrote {tmp_path / 'books.json'}\n"
    (leg,) = load(tmp_path)
    assert (leg.name, leg.extra["sales|"], leg.extra["verdict"]) == ("books", "4", "PASS")


def test_fault_campaign_counts_every_round_its_shards_report() -> None:
    shards: list[Future[ShardResult]] = [Future(), Future()]
    for shard in shards:
        shard.set_result(ShardResult(seed=1, report=InvariantReport()))
    rounds_done: queue.Queue[int] = queue.Queue()
    for n in (1, 1, 2):  # two shards' rounds, interleaved, put before the shards ended
        rounds_done.put(n)
    told: list[int] = []

    follow_rounds(shards, rounds_done, told.append)

    assert told == [1, 2, 3]  # drained after the shards ended, none lost
