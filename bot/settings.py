"""Settings from environment variables (and an optional ``.env``).

Every knob is documented in ``.env.example``. ``load_settings`` turns validation errors into
one human line per bad variable; the CLI prints them and exits with code 2.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.db.urls import mask_url, url_passwords
from bot.domain.decisions import Limits, StrategyName, Urgency
from bot.notify.events import DEFAULT_EVENTS, parse_kinds
from bot.notify.urls import split_urls, url_secrets


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


def _env(name: str, example: str, description: str = "", **kwargs: Any) -> Any:
    return Field(
        validation_alias=AliasChoices(name),
        description=description,
        json_schema_extra={"env": name, "example": example},
        **kwargs,
    )


class Settings(BaseSettings):
    """Everything sellbot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_parse_none_str="",  # `NAME=` means unset (as in .env.example), not an empty string
    )

    database_url: str = _env(
        "DATABASE_URL",
        "postgresql+asyncpg://sellbot:sellbot@db:5432/sellbot",
        default="sqlite+aiosqlite:///./data/sellbot.db",
        min_length=1,
    )
    db_wait_s: float = _env(
        "SELLBOT_DB_WAIT_S",
        "60",
        "at start, how long to wait for a database server that is not up yet before exit 1",
        default=60.0,
        ge=0,
        le=3600,
    )
    safetrade_base_url: str = _env(
        "SAFETRADE_BASE_URL",
        "https://safe.trade/api/v2",
        default="https://safe.trade/api/v2",
        min_length=1,
    )
    safetrade_api_key: SecretStr | None = _env("SAFETRADE_API_KEY", "ab12cd34", default=None)
    safetrade_api_secret: SecretStr | None = _env(
        "SAFETRADE_API_SECRET", "0123456789abcdef", default=None
    )
    safetrade_api_profile: Literal["auto", "trade", "peatio", "seed"] = _env(
        "SAFETRADE_API_PROFILE",
        "auto",
        "which family of REST paths to speak; auto discovers it per capability",
        default="auto",
    )
    safetrade_http_client: Literal["auto", "aiohttp", "curl_cffi"] = _env(
        "SAFETRADE_HTTP_CLIENT",
        "auto",
        "HTTP transport; auto starts on aiohttp and moves to curl_cffi on a Cloudflare challenge",
        default="auto",
    )
    cerebras_api_key: SecretStr | None = _env("CEREBRAS_API_KEY", "csk-...", default=None)
    cerebras_model: str = _env(
        "CEREBRAS_MODEL", "llama-3.3-70b", default="llama-3.3-70b", min_length=1
    )
    cerebras_base_url: str | None = _env(
        "CEREBRAS_BASE_URL", "https://api.cerebras.ai", default=None
    )
    cerebras_timeout_s: float = _env("SELLBOT_LLM_TIMEOUT_S", "5", default=5.0, gt=0, le=120)

    quote_currency: str = _env("SELLBOT_QUOTE_CURRENCY", "usdt", default="usdt", min_length=2)
    excluded_currencies: Annotated[frozenset[str], NoDecode] = _env(
        "SELLBOT_EXCLUDED_CURRENCIES", "btc,eth", default=frozenset()
    )
    schedule_interval_s: int = _env(
        "SELLBOT_SCHEDULE_INTERVAL_S", "300", default=300, ge=5, le=86_400
    )
    max_concurrent_executions: int = _env(
        "SELLBOT_MAX_CONCURRENT_EXECUTIONS", "3", default=3, ge=1, le=64
    )
    min_order_value: Decimal = _env("SELLBOT_MIN_ORDER_VALUE", "5", default=Decimal(5), ge=0)
    max_slippage_bps: Decimal = _env(
        "SELLBOT_MAX_SLIPPAGE_BPS", "150", default=Decimal(150), gt=0, le=5000
    )
    price_floors: Annotated[dict[str, Decimal], NoDecode] = _env(
        "SELLBOT_PRICE_FLOORS", "btcusdt:20000,ethusdt:1000", default_factory=dict
    )
    max_daily_value: Decimal = _env(
        "SELLBOT_MAX_DAILY_VALUE", "10000", default=Decimal(10_000), ge=0
    )
    min_horizon_s: int = _env("SELLBOT_MIN_HORIZON_S", "60", default=60, ge=1)
    max_horizon_s: int = _env("SELLBOT_MAX_HORIZON_S", "3600", default=3600, ge=1, le=7 * 86_400)
    min_slices: int = _env("SELLBOT_MIN_SLICES", "2", default=2, ge=1, le=1000)
    max_slices: int = _env("SELLBOT_MAX_SLICES", "50", default=50, ge=1, le=1000)
    urgency: Urgency = _env(
        "SELLBOT_URGENCY",
        "medium",
        "low: cheapest in calm markets, slowest to react; high: sells fast, pays the spread",
        default=Urgency.MEDIUM,
    )
    urgency_min: Urgency = _env("SELLBOT_URGENCY_MIN", "low", default=Urgency.LOW)
    urgency_max: Urgency = _env("SELLBOT_URGENCY_MAX", "high", default=Urgency.HIGH)
    force_strategy: StrategyName | None = _env("SELLBOT_FORCE_STRATEGY", "twap", default=None)
    final_sweep: Literal["leave", "cross"] = _env("SELLBOT_FINAL_SWEEP", "cross", default="cross")
    order_poll_interval_s: float = _env(
        "SELLBOT_ORDER_POLL_INTERVAL_S", "2", default=2.0, gt=0, le=300
    )
    dry_run: bool = _env("SELLBOT_DRY_RUN", "false", default=False)
    websocket: bool = _env("SELLBOT_WEBSOCKET", "true", default=True)
    cancel_on_shutdown: bool = _env("SELLBOT_CANCEL_ON_SHUTDOWN", "true", default=True)
    shutdown_timeout_s: float = _env("SELLBOT_SHUTDOWN_TIMEOUT_S", "8", default=8.0, gt=0, le=600)
    http_timeout_s: float = _env("SELLBOT_HTTP_TIMEOUT_S", "10", default=10.0, gt=0, le=300)
    http_port: int = _env("SELLBOT_HTTP_PORT", "8080", default=8080, ge=0, le=65_535)
    log_format: LogFormat = _env("SELLBOT_LOG_FORMAT", "json", default=LogFormat.CONSOLE)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _env(
        "SELLBOT_LOG_LEVEL", "INFO", default="INFO"
    )
    seed: int | None = _env("SELLBOT_SEED", "1234", default=None)
    sim_seed: int = _env("SELLBOT_SIM_SEED", "42", default=42)
    sim_challenge: Literal["none", "non_browser", "all"] = _env(
        "SELLBOT_SIM_CHALLENGE",
        "none",
        "the embedded simulator answers Cloudflare challenge pages: to non-browsers, or to all",
        default="none",
    )
    max_mid_deviation_bps: Decimal = _env(
        "SELLBOT_MAX_MID_DEVIATION_BPS", "500", default=Decimal(500), gt=0, le=10_000
    )
    lease_ttl_s: float = _env("SELLBOT_LEASE_TTL_S", "15", default=15.0, ge=2, le=600)
    vanished_recheck_s: float = _env(
        "SELLBOT_VANISHED_RECHECK_S", "86400", default=86_400.0, ge=0, le=30 * 86_400
    )
    resume_max_attempts: int = _env("SELLBOT_RESUME_MAX_ATTEMPTS", "8", default=8, ge=1, le=100)
    readyz_cache_s: float = _env("SELLBOT_READYZ_CACHE_S", "5", default=5.0, ge=0, le=300)
    notify_urls: SecretStr | None = _env(
        "SELLBOT_NOTIFY_URLS",
        "tgram://bottoken/chatid,json://hooks.example.com/sellbot",
        "Apprise URLs to push notifications to (comma list; they hold tokens: kept secret)",
        default=None,
    )
    notify_events: Annotated[frozenset[str], NoDecode] = _env(
        "SELLBOT_NOTIFY_EVENTS",
        ",".join(sorted(DEFAULT_EVENTS)),
        "which events to notify (comma list); daily is the summary",
        default=frozenset(DEFAULT_EVENTS),
    )
    notify_daily_hour: int | None = _env(
        "SELLBOT_NOTIFY_DAILY_HOUR",
        "8",
        "UTC hour of the daily summary; empty = none",
        default=None,
        ge=0,
        le=23,
    )
    notify_blocked_after_min: float = _env(
        "SELLBOT_NOTIFY_BLOCKED_AFTER_MIN",
        "15",
        "notify when the exchange has been blocked or unreachable this many minutes",
        default=15.0,
        ge=0,
        le=1440,
    )
    weight_value: Decimal = _env("SELLBOT_WEIGHT_VALUE", "0.4", default=Decimal("0.4"), ge=0)
    weight_liquidity: Decimal = _env(
        "SELLBOT_WEIGHT_LIQUIDITY", "0.3", default=Decimal("0.3"), ge=0
    )
    weight_volatility: Decimal = _env(
        "SELLBOT_WEIGHT_VOLATILITY", "0.2", default=Decimal("0.2"), ge=0
    )
    weight_spread: Decimal = _env("SELLBOT_WEIGHT_SPREAD", "0.1", default=Decimal("0.1"), ge=0)
    telegram_bot_token: SecretStr | None = _env(
        "SELLBOT_TELEGRAM_BOT_TOKEN",
        "123456789:AAE...",
        "the Telegram control channel's bot token (from @BotFather); off without it",
        default=None,
    )
    telegram_chat_ids: Annotated[frozenset[int], NoDecode] = _env(
        "SELLBOT_TELEGRAM_CHAT_IDS",
        "123456789",
        "the only Telegram chats the bot answers (comma list of ids); off without one",
        default=frozenset(),
    )
    telegram_api_url: str = _env(
        "SELLBOT_TELEGRAM_API_URL",
        "https://api.telegram.org",
        "the Bot API server",
        default="https://api.telegram.org",
        min_length=1,
    )

    @field_validator("quote_currency")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("urgency", "urgency_min", "urgency_max", mode="before")
    @classmethod
    def _lower_urgency(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _empty_is_console(cls, value: object) -> object:
        # `SELLBOT_LOG_FORMAT=` (as in .env.example): console by hand; image and compose say json
        return LogFormat.CONSOLE if value is None else value

    @field_validator("telegram_chat_ids", mode="before")
    @classmethod
    def _split_chat_ids(cls, value: object) -> object:
        if value is None:  # `SELLBOT_TELEGRAM_CHAT_IDS=`: no chat
            return frozenset()
        if isinstance(value, str | int):
            return frozenset(p.strip() for p in str(value).split(",") if p.strip())
        return value

    @field_validator("excluded_currencies", mode="before")
    @classmethod
    def _split_currencies(cls, value: object) -> object:
        if value is None:  # `SELLBOT_EXCLUDED_CURRENCIES=`: nothing excluded
            return frozenset()
        if isinstance(value, str):
            return frozenset(p.strip().lower() for p in value.split(",") if p.strip())
        return value

    @field_validator("price_floors", mode="before")
    @classmethod
    def _split_floors(cls, value: object) -> object:
        if value is None:  # `SELLBOT_PRICE_FLOORS=`: no floors
            return {}
        if not isinstance(value, str):
            return value
        floors: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            market, sep, price = part.partition(":")
            if not sep or not market.strip() or not price.strip():
                raise ValueError(f"expected market:price pairs, got {part!r}")
            floors[market.strip().lower()] = price.strip()
        return floors

    @field_validator("notify_events", mode="before")
    @classmethod
    def _split_events(cls, value: object) -> object:
        if value is None:  # `SELLBOT_NOTIFY_EVENTS=`: no event (the daily summary still runs)
            return frozenset()
        if isinstance(value, str):
            value = [p.strip().lower() for p in value.split(",") if p.strip()]
        if isinstance(value, list | set | frozenset | tuple):
            return frozenset(str(k) for k in parse_kinds(str(v) for v in value))
        return value

    @field_validator("force_strategy", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def telegram_enabled(self) -> bool:
        token = self.telegram_bot_token
        return bool(token and token.get_secret_value() and self.telegram_chat_ids)

    @property
    def has_credentials(self) -> bool:
        return bool(self.safetrade_api_key and self.safetrade_api_secret)

    def limits(self) -> Limits:
        return Limits(
            max_slippage_bps=self.max_slippage_bps,
            min_slices=self.min_slices,
            max_slices=max(self.min_slices, self.max_slices),
            min_horizon_s=min(self.min_horizon_s, self.max_horizon_s),
            max_horizon_s=self.max_horizon_s,
            urgency=self.urgency,
            min_urgency=self.urgency_min,
            max_urgency=self.urgency_max,
        )


class SettingsError(Exception):
    """Settings are invalid; ``lines`` holds one human-readable line per bad variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _env_meta() -> dict[str, tuple[str, str]]:
    meta: dict[str, tuple[str, str]] = {}
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        env, example = str(extra.get("env", name.upper())), str(extra.get("example", ""))
        meta[name] = meta[env.lower()] = (env, example)
    return meta


def _describe(error: Any) -> str:
    key = str(error["loc"][0]).lower() if error["loc"] else ""
    env, example = _env_meta().get(key, (key.upper(), ""))
    given = error.get("input")
    msg = str(error["msg"]).removeprefix("Value error, ")
    if isinstance(given, str | int | float) and repr(given) not in msg:
        msg += f" (got {given!r})"
    return f"{env}: {msg}; example: {env}={example}"


def load_settings(**overrides: Any) -> Settings:
    """Load settings from the environment.

    Raises:
        SettingsError: one line per invalid variable.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        raise SettingsError([_describe(err) for err in e.errors()]) from e
    if settings.max_slices < settings.min_slices:
        raise SettingsError(
            [
                "SELLBOT_MAX_SLICES: must be >= SELLBOT_MIN_SLICES "
                f"({settings.max_slices} < {settings.min_slices}); example: SELLBOT_MAX_SLICES=50"
            ]
        )
    if not settings.urgency_min.rank <= settings.urgency.rank <= settings.urgency_max.rank:
        raise SettingsError(
            [
                "SELLBOT_URGENCY: must lie within SELLBOT_URGENCY_MIN..SELLBOT_URGENCY_MAX "
                f"({settings.urgency} not in {settings.urgency_min}..{settings.urgency_max}); "
                "example: SELLBOT_URGENCY=medium"
            ]
        )
    return settings


SECRET_FIELDS = (
    "safetrade_api_key",
    "safetrade_api_secret",
    "cerebras_api_key",
    "telegram_bot_token",
)


def secret_values(settings: Settings) -> list[str]:
    """Return the secret strings configured (keys, URL passwords), for the log redactor."""
    values = []
    for name in SECRET_FIELDS:
        secret = getattr(settings, name)
        if isinstance(secret, SecretStr) and secret.get_secret_value():
            values.append(secret.get_secret_value())
    for name in Settings.model_fields:
        url = getattr(settings, name)
        if name.endswith("_url") and isinstance(url, str):
            values += url_passwords(url)
    if settings.notify_urls is not None:
        for url in split_urls(settings.notify_urls.get_secret_value()):
            values += url_secrets(url)
    return values


def effective_settings(settings: Settings) -> list[tuple[str, str]]:
    """Return (ENV_NAME, value) for every setting, secrets masked."""
    rows: list[tuple[str, str]] = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra
        env = str(extra.get("env", name.upper())) if isinstance(extra, dict) else name.upper()
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            shown = "********" if value.get_secret_value() else ""
        elif value is None:
            shown = ""
        elif isinstance(value, frozenset):
            shown = ",".join(str(v) for v in sorted(value))
        elif isinstance(value, dict):
            shown = ",".join(f"{k}:{v}" for k, v in sorted(value.items()))
        elif "url" in name:
            shown = mask_url(str(value))
        else:
            shown = str(value)
        rows.append((env, shown))
    return rows
