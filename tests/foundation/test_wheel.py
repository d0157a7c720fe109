"""The wheel ships the daemon and nothing else: every module of ``bot/``, no harness.

The benchmarks and reliability campaigns live in ``bench/``, the test helpers in ``tests/``;
the wheel is built from a copy of the source tree holding all three, offline (no build
isolation: the virtualenv's setuptools and wheel), in about a second.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _build_wheel(tmp_path: Path) -> tuple[Path, zipfile.ZipFile]:
    """Copy bot/, bench/ and tests/ with the project files; return the copy and its wheel."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("bot", "bench", "tests"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(out), str(src)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = out.glob("sellbot-*.whl")
    return src, zipfile.ZipFile(wheel)


def test_wheel_holds_every_module_of_bot_and_no_harness(tmp_path: Path) -> None:
    src, wheel = _build_wheel(tmp_path)
    with wheel:
        names = wheel.namelist()
        top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        packages = wheel.read(top_level).decode().split()
    files = [n for n in names if ".dist-info/" not in n]
    shipped = sorted(n for n in files if n.endswith(".py"))
    expected = sorted(p.relative_to(src).as_posix() for p in (src / "bot").rglob("*.py"))

    assert shipped == expected  # all of bot/, so nothing of it is left out either
    assert all(n.startswith("bot/") for n in files), [n for n in files if not n.startswith("bot/")]
    assert not [n for n in files if "reliability" in n or "sim/testing" in n]
    assert (src / "bench" / "reliability" / "campaign.py").is_file()  # was in the tree, not shipped
    assert packages == ["bot"]
