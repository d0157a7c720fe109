"""Apprise URLs carry tokens (bot tokens, webhook keys, passwords): split, mask, list secrets.

No import of Apprise here: settings and the log redactor use these helpers.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "********"
# a comma starts a new URL only when a scheme follows: commas inside a URL's query stay
_SPLIT = re.compile(r"[\s,]+(?=[a-z][a-z0-9+.-]*://)", re.I)
_PARTS = re.compile(r"[/:@?&=#,;+\s]+")
_HOSTNAME = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z0-9-]+$", re.I)  # example.com, 127.0.0.1
MIN_SECRET = 6


def split_urls(value: str | None) -> list[str]:
    """Return the URLs of a comma (or space) separated list."""
    if not value:
        return []
    return [u.strip(" ,") for u in _SPLIT.split(value.strip()) if u.strip(" ,")]


def mask_notify_url(url: str) -> str:
    """Return ``scheme://********``: every other part of an Apprise URL may be a token."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://{MASK}" if sep else MASK


def url_secrets(url: str) -> list[str]:
    """Return what the redactor must mask for ``url``: the URL and each token-like part.

    Any part after the scheme may be a secret (``tgram://TOKEN/chat``,
    ``discord://id/TOKEN``, ``mailto://user:PASSWORD@host``); host names and short parts
    (ports, ``json``) are kept so logs stay readable.
    """
    _, sep, rest = url.partition("://")
    if not sep:
        return [url]
    parts = {p for p in _PARTS.split(rest) if len(p) >= MIN_SECRET and not _HOSTNAME.match(p)}
    parts |= {unquote(p) for p in parts}
    return [url, *sorted(parts)]
