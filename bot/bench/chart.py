"""The ``--plot`` chart: mean shortfall per strategy, grouped by scenario × size, as a PNG.

No plotting library: a pixel canvas, a 3×5 bitmap font for the axis, the group labels and
the legend, and the PNG encoding (zlib + CRC chunks) from the standard library. Bars start
at zero (negative costs, i.e. sold above the arrival mid, go down) and are capped at
``CAP_BPS`` so a crash row does not flatten the others; capped bars end in a white tick.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Sequence
from typing import Protocol

CAP_BPS = 500.0
FLOOR_BPS = -200.0
GRID_BPS = 100
BAR, GAP = 6, 12
PLOT_H = 240
LEFT, TOP, BOTTOM = 34, 24, 18
Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GREY: Color = (225, 225, 225)
PALETTE: tuple[Color, ...] = (
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
    (148, 103, 189), (140, 86, 75), (127, 127, 127),
)  # fmt: skip

# 3 columns × 5 rows per glyph, rows top to bottom
_FONT: dict[str, tuple[str, ...]] = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
    "a": ("010", "101", "111", "101", "101"), "b": ("110", "101", "110", "101", "110"),
    "c": ("011", "100", "100", "100", "011"), "d": ("110", "101", "101", "101", "110"),
    "e": ("111", "100", "110", "100", "111"), "f": ("111", "100", "110", "100", "100"),
    "g": ("011", "100", "101", "101", "011"), "h": ("101", "101", "111", "101", "101"),
    "i": ("111", "010", "010", "010", "111"), "j": ("001", "001", "001", "101", "010"),
    "k": ("101", "101", "110", "101", "101"), "l": ("100", "100", "100", "100", "111"),
    "m": ("101", "111", "111", "101", "101"), "n": ("110", "101", "101", "101", "101"),
    "o": ("010", "101", "101", "101", "010"), "p": ("110", "101", "110", "100", "100"),
    "q": ("010", "101", "101", "110", "011"), "r": ("110", "101", "110", "101", "101"),
    "s": ("011", "100", "010", "001", "110"), "t": ("111", "010", "010", "010", "010"),
    "u": ("101", "101", "101", "101", "111"), "v": ("101", "101", "101", "101", "010"),
    "w": ("101", "101", "111", "111", "101"), "x": ("101", "101", "010", "101", "101"),
    "y": ("101", "101", "010", "010", "010"), "z": ("111", "001", "010", "100", "111"),
    "%": ("101", "001", "010", "100", "101"), ".": ("000", "000", "000", "000", "010"),
    "-": ("000", "000", "111", "000", "000"), "+": ("000", "010", "111", "010", "000"),
    "/": ("001", "001", "010", "100", "100"), ",": ("000", "000", "000", "010", "100"),
    "(": ("010", "100", "100", "100", "010"), ")": ("010", "001", "001", "001", "010"),
    " ": ("000", "000", "000", "000", "000"),
}  # fmt: skip


class ChartRow(Protocol):
    @property
    def scenario(self) -> str: ...
    @property
    def size(self) -> str: ...
    @property
    def strategy(self) -> str: ...
    @property
    def mean_bps(self) -> float: ...


class Canvas:
    """An RGB pixel grid that encodes itself as a PNG."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = [[WHITE] * width for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill ``[x0, x1) × [y0, y1)`` (clipped to the canvas)."""
        for y in range(max(0, min(y0, y1)), min(self.height, max(y0, y1))):
            row = self.pixels[y]
            for x in range(max(0, x0), min(self.width, x1)):
                row[x] = color

    def text(self, x: int, y: int, s: str, color: Color = BLACK) -> None:
        """Draw ``s`` with its top-left corner at (x, y): 4 pixels per character."""
        for i, ch in enumerate(s.lower()):
            glyph = _FONT.get(ch, _FONT[" "])
            for dy, bits in enumerate(glyph):
                for dx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + 4 * i + dx, y + dy, x + 4 * i + dx + 1, y + dy + 1, color)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in self.pixels)

        def chunk(kind: bytes, data: bytes) -> bytes:
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def bar_chart(rows: Sequence[ChartRow], strategies: Sequence[str]) -> bytes:
    """Return the PNG: a group per (scenario, size), a bar per strategy, axis and legend."""
    groups: list[list[ChartRow]] = []
    for row in rows:
        if not groups or (groups[-1][0].scenario, groups[-1][0].size) != (row.scenario, row.size):
            groups.append([])
        groups[-1].append(row)
    group_w = len(strategies) * BAR + GAP
    width = LEFT + max(1, len(groups)) * group_w + 4
    means = [r.mean_bps for r in rows]
    hi = min(CAP_BPS, max([GRID_BPS, *means]))
    lo = max(FLOOR_BPS, min([0.0, *means]))
    hi = math.ceil(hi / GRID_BPS) * GRID_BPS
    lo = math.floor(lo / GRID_BPS) * GRID_BPS
    canvas = Canvas(width, TOP + PLOT_H + BOTTOM)

    def y_of(bps: float) -> int:
        clipped = max(lo, min(hi, bps))
        return TOP + round((hi - clipped) / (hi - lo) * (PLOT_H - 1))

    for level in range(int(lo), int(hi) + 1, GRID_BPS):
        y = y_of(level)
        canvas.rect(LEFT, y, width, y + 1, BLACK if level == 0 else GREY)
        label = str(level)
        canvas.text(LEFT - 3 - 4 * len(label), y - 2, label)
    for g, group in enumerate(groups):
        x_group = LEFT + g * group_w + GAP // 2
        for row in group:
            k = strategies.index(row.strategy) if row.strategy in strategies else 0
            x = x_group + k * BAR
            y0, y1 = y_of(0.0), y_of(row.mean_bps)
            canvas.rect(x, min(y0, y1), x + BAR - 1, max(y0, y1) + 1, PALETTE[k % len(PALETTE)])
            if row.mean_bps > hi or row.mean_bps < lo:  # capped: mark the end
                canvas.rect(x, y1, x + BAR - 1, y1 + 2, WHITE)
        canvas.text(x_group, TOP + PLOT_H + 3, group[0].scenario[: group_w // 4])
        canvas.text(x_group, TOP + PLOT_H + 10, group[0].size)
    canvas.text(LEFT, 2, f"mean shortfall, bps vs arrival mid (bars capped at {hi:.0f})")
    x = LEFT
    for k, name in enumerate(strategies):
        canvas.rect(x, 12, x + 5, 17, PALETTE[k % len(PALETTE)])
        canvas.text(x + 7, 12, name)
        x += 7 + 4 * len(name) + 8
    return canvas.png()
