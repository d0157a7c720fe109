"""Database URL passwords: mask them for people and logs, list them for the log redactor.

A password hides in two places: the userinfo (``user:pw@host``) and the query string
(``?password=pw``, also ``pass=`` and ``pwd=``, any case). Both are masked; the text is
otherwise left as written.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "********"
_QUERY_PASSWORD = re.compile(r"([?&;](?:password|pass|pwd)=)([^&;#]*)", re.IGNORECASE)


def _userinfo(url: str) -> tuple[str, str, str, str] | None:
    """Split ``url`` into (scheme://user, password, @rest-of-authority, query) if it has one."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, query = rest[:cut], rest[cut:]
    creds, at, host = authority.rpartition("@")
    user, colon, password = creds.partition(":")
    if not at or not colon or "/" in user:  # no userinfo ("/" only appears in a path)
        return None
    return f"{scheme}://{user}", password, f"@{host}", query


def mask_url(url: str) -> str:
    """Return ``url`` with every password in it replaced by ``********``."""
    parts = _userinfo(url)
    if parts is not None:
        head, password, host, query = parts
        url = f"{head}:{MASK if password else ''}{host}{query}"
    return _QUERY_PASSWORD.sub(lambda m: m.group(1) + (MASK if m.group(2) else ""), url)


def url_passwords(url: str) -> list[str]:
    """Return the passwords written in ``url``, as written and percent-decoded."""
    found = [m.group(2) for m in _QUERY_PASSWORD.finditer(url)]
    parts = _userinfo(url)
    if parts is not None:
        found.append(parts[1])
    values = {
        v for raw in found if raw for v in (raw, unquote(raw), unquote(raw.replace("+", " ")))
    }
    return sorted(values)
