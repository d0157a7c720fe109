"""The ``--plot`` chart: a valid PNG whose bars go up for costs and down for gains."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from bot.bench.chart import BAR, GAP, LEFT, PALETTE, PLOT_H, TOP, bar_chart


@dataclass(frozen=True)
class _Row:
    scenario: str
    size: str
    strategy: str
    mean_bps: float


def _decode(png: bytes) -> list[list[tuple[int, int, int]]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, data, width, height = 8, b"", 0, 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = 1 + 3 * width
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    assert all(r[0] == 0 for r in rows)  # no filter
    return [[tuple(r[1 + 3 * x : 4 + 3 * x]) for x in range(width)] for r in rows]  # type: ignore[misc]


def test_bars_rise_for_costs_and_fall_for_gains() -> None:
    rows = [_Row("thin", "1%", "a", 200.0), _Row("thin", "1%", "b", -100.0)]

    pixels = _decode(bar_chart(rows, ("a", "b")))

    # axis from -100 to 200 bps over PLOT_H rows: zero sits two thirds of the way down
    zero = TOP + round(200 / 300 * (PLOT_H - 1))
    x_a = LEFT + GAP // 2 + 1
    x_b = x_a + BAR
    assert pixels[zero - 20][x_a] == PALETTE[0]  # the cost goes up
    assert pixels[zero + 20][x_a] != PALETTE[0]
    assert pixels[zero + 20][x_b] == PALETTE[1]  # the gain goes down
    assert pixels[zero - 20][x_b] != PALETTE[1]
    assert len(pixels[0]) == LEFT + 2 * BAR + GAP + 4


def test_a_bar_over_the_cap_is_cut_at_the_top() -> None:
    rows = [_Row("crash", "10%", "a", 9_000.0), _Row("crash", "10%", "b", 50.0)]

    pixels = _decode(bar_chart(rows, ("a", "b")))

    x_a = LEFT + GAP // 2 + 1
    assert pixels[TOP + 5][x_a] == PALETTE[0]  # reaches the 500 bps top of the plot
    assert pixels[TOP - 3][x_a] != PALETTE[0]
