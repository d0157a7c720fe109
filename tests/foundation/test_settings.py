import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, effective_settings, load_settings

ROOT = Path(__file__).resolve().parents[2]


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SELLBOT_", "SAFETRADE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT / "tests",  # no .env here
        check=False,
    )


def test_defaults_are_sensible() -> None:
    settings = load_settings(_env_file=None)

    assert settings.quote_currency == "usdt"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.max_concurrent_executions >= 1
    assert not settings.has_credentials


def test_lists_and_maps_parse_from_plain_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELLBOT_EXCLUDED_CURRENCIES", "BTC, eth ,")
    monkeypatch.setenv("SELLBOT_PRICE_FLOORS", "btcusdt:20000.5,ETHUSDT:1000")

    settings = load_settings(_env_file=None)

    assert settings.excluded_currencies == frozenset({"btc", "eth"})
    assert settings.price_floors == {"btcusdt": Decimal("20000.5"), "ethusdt": Decimal("1000")}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SELLBOT_MAX_CONCURRENT_EXECUTIONS", "lots"),
        ("SELLBOT_MAX_CONCURRENT_EXECUTIONS", "0"),
        ("SELLBOT_MAX_CONCURRENT_EXECUTIONS", ""),
        ("SELLBOT_SCHEDULE_INTERVAL_S", "-5"),
        ("SELLBOT_MAX_SLIPPAGE_BPS", "abc"),
        ("SELLBOT_LOG_FORMAT", "xml"),
        ("SELLBOT_PRICE_FLOORS", "btcusdt"),
        ("SELLBOT_FORCE_STRATEGY", "yolo"),
        ("SELLBOT_HTTP_PORT", "70000"),
        ("SELLBOT_DRY_RUN", "perhaps"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)

    assert len(info.value.lines) == 1
    line = info.value.lines[0]
    assert line.startswith(f"{name}: ")
    assert f"example: {name}=" in line


def test_bad_env_exits_2_with_one_line_per_variable_and_no_traceback() -> None:
    result = _run_cli(
        "config",
        env={"SELLBOT_MAX_CONCURRENT_EXECUTIONS": "lots", "SELLBOT_LOG_FORMAT": "xml"},
    )

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("SELLBOT_MAX_CONCURRENT_EXECUTIONS" in line and "=3" in line for line in lines)
    assert "Traceback" not in result.stderr


def test_config_command_masks_secrets() -> None:
    result = _run_cli(
        "config",
        env={
            "SAFETRADE_API_KEY": "visible-key-123456",
            "SAFETRADE_API_SECRET": "visible-secret-654321",
            "CEREBRAS_API_KEY": "csk-visible-999",
            "DATABASE_URL": "postgresql+asyncpg://bot:pgpassword@db/sellbot",
        },
    )

    assert result.returncode == 0
    assert "SAFETRADE_API_SECRET" in result.stdout
    for secret in ("visible-key-123456", "visible-secret-654321", "csk-visible-999", "pgpassword"):
        assert secret not in result.stdout


def test_every_setting_is_documented_in_env_example() -> None:
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }

    names = {name for name, _ in effective_settings(Settings(_env_file=None))}

    assert names == documented


def test_a_copy_of_env_example_loads_as_the_defaults(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())

    from_file = load_settings(_env_file=env_file)
    defaults = load_settings(_env_file=None)

    assert effective_settings(from_file) == effective_settings(defaults)
