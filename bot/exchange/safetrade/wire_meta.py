"""Wire shapes that describe rather than trade: ``members/me`` and ``swagger.json``.

Neither shape is evidenced beyond its path (see ``docs/endpoints.md``): the member is taken
as any JSON object (its ``uid`` shown when present), the spec as a Swagger/OpenAPI object with
a ``paths`` mapping.
"""

from __future__ import annotations

from typing import Any

from bot.exchange.errors import MalformedResponse


def parse_member(raw: Any) -> dict[str, Any]:
    """Return the ``members/me`` object.

    Raises:
        MalformedResponse: not a JSON object.
    """
    if not isinstance(raw, dict):
        raise MalformedResponse(f"unexpected member body: {type(raw).__name__}")
    return raw


def parse_swagger(raw: Any) -> dict[str, Any]:
    """Return a Swagger/OpenAPI document.

    Raises:
        MalformedResponse: not an object with a ``paths`` mapping.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
        raise MalformedResponse("unexpected swagger body: no paths mapping")
    return raw


def spec_paths(spec: dict[str, Any]) -> set[str]:
    """Every ``METHOD path`` the spec lists, with its ``basePath`` stripped of ``/api/v2``."""
    base = str(spec.get("basePath") or "").rstrip("/")
    prefix = base.removeprefix("/api/v2") if base.startswith("/api/v2") else ""
    out: set[str] = set()
    for path, methods in spec["paths"].items():
        if not isinstance(methods, dict):
            continue
        for method in methods:
            out.add(f"{method.upper()} {prefix}{path}")
    return out
