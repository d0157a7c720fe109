"""A database password never shows: not in `sellbot config`, not in any log line.

Every form is covered: userinfo (``user:pw@``), query string (``password=``, ``pass=``,
``pwd=``, any case) and both at once, on PostgreSQL and SQLite URLs. Each case has its own
password, so a secret one case registered with the (global) redactor cannot hide a leak in
another.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.db.urls import mask_url, url_passwords
from bot.logs import configure_logging, get_logger
from bot.settings import load_settings, secret_values

CASES = {
    "pg-userinfo": ("postgresql+asyncpg://bot:{pw}@db:5432/sellbot", ["{pw}"]),
    "pg-query": ("postgresql+asyncpg://bot@db:5432/sellbot?password={pw}&ssl=require", ["{pw}"]),
    "pg-query-upper": ("postgresql+asyncpg://bot@db/sellbot?ssl=true&PASSWORD={pw}", ["{pw}"]),
    "pg-pass": ("postgresql+asyncpg://db/sellbot?user=bot&pass={pw}", ["{pw}"]),
    "pg-pwd": ("postgresql+psycopg://db/sellbot?Pwd={pw}", ["{pw}"]),
    "pg-both": ("postgresql+asyncpg://bot:{pw}-a@db/sellbot?password={pw}-b", ["{pw}-a", "{pw}-b"]),
    "pg-encoded": ("postgresql+asyncpg://bot:{pw}%40x@db/sellbot", ["{pw}%40x", "{pw}@x"]),
    "sqlite-query": ("sqlite+aiosqlite:///./data/sellbot.db?password={pw}", ["{pw}"]),
    "sqlite-userinfo": ("sqlite+pysqlcipher://:{pw}@/./data/sellbot.db", ["{pw}"]),
    "sqlite-both": ("sqlite+pysqlcipher://:{pw}-a@/data/x.db?pwd={pw}-b", ["{pw}-a", "{pw}-b"]),
}


def _case(name: str) -> tuple[str, list[str]]:
    pw = f"Pw-{name}-7q"
    template, passwords = CASES[name]
    return template.format(pw=pw), [p.format(pw=pw) for p in passwords]


@pytest.mark.parametrize("name", CASES)
def test_mask_url_hides_every_password_form_and_keeps_the_rest(name: str) -> None:
    url, passwords = _case(name)

    masked = mask_url(url)

    assert [p for p in passwords if p in masked] == []
    assert "********" in masked
    assert masked.split("://")[0] == url.split("://")[0]
    assert set(passwords) <= set(url_passwords(url))


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///./data/sellbot.db",
        "sqlite+aiosqlite:////tmp/a@b:c/x.db",
        "postgresql+asyncpg://bot@db:5432/sellbot?ssl=require",
        "https://safe.trade/api/v2",
    ],
)
def test_mask_url_leaves_a_url_without_password_as_it_is(url: str) -> None:
    assert mask_url(url) == url
    assert url_passwords(url) == []


@pytest.mark.parametrize("name", CASES)
def test_config_never_prints_the_database_password(
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, passwords = _case(name)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("DATABASE_URL", url)

    code = main(["config"])

    out = capsys.readouterr().out
    assert code == 0
    (line,) = [ln for ln in out.splitlines() if ln.startswith("DATABASE_URL ")]
    assert line.split()[1] == mask_url(url)
    assert [p for p in passwords if p in out] == []


@pytest.mark.parametrize("name", CASES)
def test_no_log_line_carries_the_database_password(name: str) -> None:
    url, passwords = _case(name)
    settings = load_settings(_env_file=None, database_url=url)
    buf = io.StringIO()
    configure_logging(fmt="json", level="INFO", secrets=secret_values(settings), stream=buf)
    log = get_logger("test")

    log.info("database_opened", database=url)
    log.warning("connect_failed", error=f"cannot connect to {url} (timeout)")
    for password in passwords:  # the bare value, far from any URL
        log.error("login_failed", detail=f"server rejected {password} for user bot")

    text = buf.getvalue()
    assert text.count("\n") == 2 + len(passwords)
    assert [p for p in passwords if p in text] == []
