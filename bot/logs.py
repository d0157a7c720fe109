"""Structured logging: structlog for our events, stdlib loggers routed through the same pipeline.

The redaction processor is the last line of defence: it masks every registered secret
wherever it appears (any value, nested or inside a longer string), the value of any
key that looks like a credential (``X-Auth-*``, ``api_key``, ``secret``, ``authorization``),
and the password of any URL in the text (``user:pw@``, ``?password=``: ``mask_url``).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from bot.db.urls import mask_url

MASK = "********"
_SENSITIVE_KEY = re.compile(r"(x-auth-|api[_-]?key|secret|authorization|password|apikey)", re.I)
_AUTH_HEADER = re.compile(
    r"(X-Auth-(?:Apikey|Nonce|Signature)['\"]?\s*[:=]\s*['\"]?)([^'\",\s}]+)", re.I
)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.I)


class Redactor:
    """Mask known secrets and credential-like keys in an event dict."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def clean_text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _URL.sub(lambda m: mask_url(m.group(0)), text)
        return _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)

    def clean(self, value: Any, key: str = "") -> Any:
        if key and _SENSITIVE_KEY.search(key) and value not in (None, "", False):
            return MASK
        if isinstance(value, str):
            return self.clean_text(value)
        if isinstance(value, dict | MutableMapping):
            return {k: self.clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.clean(v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self.clean_text(str(value))

    def __call__(self, _logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> Any:
        return {k: self.clean(v, k) for k, v in event_dict.items()}


REDACTOR = Redactor()


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]


def configure_logging(
    *,
    fmt: str = "console",
    level: str = "INFO",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging through one redacting pipeline."""
    REDACTOR.add(secrets)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            REDACTOR,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiohttp.access", "sqlalchemy.engine", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    """Return a structlog logger."""
    return structlog.get_logger(name)
