"""The command line explains itself: --version, help for every option of every subcommand, a
pointer to the settings at the end of --help; numbers right-aligned in its tables."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot import __version__
from bot.cli.main import _parser, main
from bot.db.reports import Table


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``parser`` (itself included) with the words that reach it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*path, name))


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"sellbot {__version__}\n"


def test_the_installed_command_prints_its_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"sellbot {__version__}"


def test_every_option_of_every_subcommand_has_help() -> None:
    commands = list(_commands(_parser()))
    missing = [
        f"sellbot {' '.join(path)} {action.option_strings or action.dest}"
        for path, parser in commands
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction)
        and (not action.help or action.help == argparse.SUPPRESS)
    ]

    assert len(commands) > 12  # the walk found the subcommands
    assert missing == []


def test_status_limit_and_orders_options_are_documented() -> None:
    helps = {" ".join(path): parser.format_help() for path, parser in _commands(_parser())}

    assert "--limit N" in helps["status"]
    assert "running executions" in helps["status"]
    assert "--execution ID" in helps["orders"]
    assert "execution's id" in helps["orders"]
    assert "--json" in helps["orders"]
    assert "machine-readable" in helps["orders"]


def test_help_ends_with_where_the_settings_are(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])

    last = capsys.readouterr().out.strip().split("\n\n")[-1]
    assert ".env.example" in last
    assert "sellbot config" in last


def test_a_table_right_aligns_its_numeric_columns() -> None:
    table = Table(
        ("market", "state", "sold/allocated", "avg", "IS_bps"),
        [
            ("btcusdt", "running", "0.5/1", "65000.12", "3.4"),
            ("dogeusdt", "completed", "1200/1200", "0.15", "-"),
        ],
    )

    lines = table.render().splitlines()

    assert lines == [
        "market    state      sold/allocated       avg  IS_bps",
        "--------  ---------  --------------  --------  ------",
        "btcusdt   running             0.5/1  65000.12     3.4",
        "dogeusdt  completed       1200/1200      0.15       -",
    ]
