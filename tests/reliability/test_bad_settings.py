"""Every setting given a wrong type, an out-of-range value and an empty value.

Cases are generated from ``Settings.model_fields`` so a new setting is covered without
editing this file. Expectations by type:

* wrong type: numbers, booleans, enums/literals and maps have one; free-text strings
  (URLs, model name) and the excluded-currency list accept any text, so they have none;
* out of range: every numeric bound and minimum length declared on the field;
* empty: a required number, boolean, enum or literal is an error, and so is an empty
  required string (a database URL, a base URL, a model name); for an *optional* setting
  (API keys, LLM base URL, forced strategy, price floors, excluded currencies, seed, log format,
  notifications, Telegram) empty means
  "not set", which is how ``docker compose`` passes ``KEY=`` lines through.

Each bad value must produce exactly one line naming the variable (``load_settings``), and
the CLI must exit 2 with one line per variable and no traceback.
"""

from __future__ import annotations

import enum
import os
import subprocess
import sys
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic.fields import FieldInfo

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL_EMPTY_MEANS_UNSET = {
    "SAFETRADE_API_KEY",
    "SAFETRADE_API_SECRET",
    "CEREBRAS_API_KEY",
    "CEREBRAS_BASE_URL",
    "SELLBOT_FORCE_STRATEGY",
    "SELLBOT_PRICE_FLOORS",
    "SELLBOT_EXCLUDED_CURRENCIES",
    "SELLBOT_SEED",
    "SELLBOT_LOG_FORMAT",  # console by hand; the image and compose say json
    "SELLBOT_NOTIFY_URLS",
    "SELLBOT_NOTIFY_EVENTS",  # no event (the daily summary still runs)
    "SELLBOT_NOTIFY_DAILY_HOUR",
    "SELLBOT_TELEGRAM_BOT_TOKEN",
    "SELLBOT_TELEGRAM_CHAT_IDS",
}
EMPTY_MEANS_DEFAULT = {"SELLBOT_LOG_FORMAT"}  # not unset: the default (console)


def _env_name(info: FieldInfo) -> str:
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    assert choices, "every setting reads one environment variable"
    return str(choices[0])


def _base(annotation: Any) -> Any:
    """``int | None`` → ``int``; ``frozenset[str]`` → ``frozenset``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base(inner)
    return typing.get_origin(annotation) or annotation


def _wrong_type(annotation: Any) -> str | None:
    base = _base(annotation)
    if base is bool:
        return "perhaps"
    if base in (int, float, Decimal):
        return "twelve"
    if base is typing.Literal or (isinstance(base, type) and issubclass(base, enum.Enum)):
        return "no-such-choice"
    if base is dict:
        return "btcusdt"  # a map entry needs market=value
    return None  # free text: any string is a string


def _out_of_range(info: FieldInfo) -> list[str]:
    values = []
    for m in info.metadata:
        if isinstance(m, Ge):
            values.append(str(Decimal(str(m.ge)) - 1))
        elif isinstance(m, Gt):
            values.append(str(m.gt))
        elif isinstance(m, Le):
            values.append(str(Decimal(str(m.le)) + 1))
        elif isinstance(m, Lt):
            values.append(str(m.lt))
        elif isinstance(m, MinLen):
            values.append("x" * (m.min_length - 1))
    return values


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for info in Settings.model_fields.values():
        env = _env_name(info)
        wrong = _wrong_type(info.annotation)
        if wrong is not None:
            cases.append((env, "wrong_type", wrong))
        cases += [(env, "out_of_range", v) for v in _out_of_range(info) if v]
        if env not in OPTIONAL_EMPTY_MEANS_UNSET:
            cases.append((env, "empty", ""))
    return cases


CASES = _cases()


def test_every_setting_has_a_bad_value_case() -> None:
    covered = {env for env, _, _ in CASES} | OPTIONAL_EMPTY_MEANS_UNSET
    every = {_env_name(info) for info in Settings.model_fields.values()}
    assert every - covered == set()
    assert len(CASES) > 2 * len(every)  # most settings get more than one kind


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("SELLBOT_", "SAFETRADE_", "CEREBRAS_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(("env", "kind", "value"), CASES, ids=[f"{e}-{k}" for e, k, _ in CASES])
def test_bad_value_is_one_line_naming_the_variable(
    clean_env: pytest.MonkeyPatch, env: str, kind: str, value: str
) -> None:
    clean_env.setenv(env, value)

    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)

    assert len(info.value.lines) == 1, info.value.lines
    line = info.value.lines[0]
    assert line.startswith(f"{env}: ")
    assert "\n" not in line


@pytest.mark.parametrize("env", sorted(OPTIONAL_EMPTY_MEANS_UNSET))
def test_empty_optional_setting_means_unset(clean_env: pytest.MonkeyPatch, env: str) -> None:
    clean_env.setenv(env, "")

    settings = load_settings(_env_file=None)

    field = next(n for n, i in Settings.model_fields.items() if _env_name(i) == env)
    if env in EMPTY_MEANS_DEFAULT:
        assert getattr(settings, field) == Settings.model_fields[field].default
    else:
        assert not getattr(settings, field)


def _cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SELLBOT_", "SAFETRADE_", "CEREBRAS_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "config"],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests",  # no .env here
        check=False,
    )


@pytest.mark.parametrize("kind", ["wrong_type", "out_of_range", "empty"])
def test_cli_exits_2_with_one_line_per_bad_variable(kind: str) -> None:
    bad: dict[str, str] = {}
    for env, k, value in CASES:
        if k == kind:
            bad.setdefault(env, value)

    result = _cli(bad)

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    prefix = "sellbot: config error: "
    assert all(line.startswith(prefix) for line in lines), lines
    assert sorted(line.removeprefix(prefix).split(":", 1)[0] for line in lines) == sorted(bad)
