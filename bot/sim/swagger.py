"""``swagger.json``: a Swagger 2.0 description of the REST routes the simulator serves.

It is made from the served route table (``routes.SERVED``), so it lists exactly what the
router answers; a handler's docstring is its summary. The WebSocket endpoints are not REST
and are not described.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sim.routes import Route

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_SIGNED: dict[str, list[str]] = {"apiKey": [], "nonce": [], "signature": []}
_SECURITY = {
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-Auth-Apikey"},
    "nonce": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Nonce",
        "description": "milliseconds since the epoch, increasing, within a few seconds of now",
    },
    "signature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Signature",
        "description": "hex HMAC-SHA256 of nonce + api key, keyed with the secret",
    },
}


def _parameter(path: str, name: str) -> dict[str, Any]:
    # an order id is a number; a market or currency id is a name
    kind = "integer" if name == "id" and "/orders/" in path else "string"
    return {"name": name, "in": "path", "required": True, "type": kind}


def _operation(route: Route) -> dict[str, Any]:
    doc = (route.handler.__doc__ or "").strip().splitlines()
    operation: dict[str, Any] = {
        "operationId": route.method.lower() + re.sub(r"\W+", "_", route.path).rstrip("_"),
        "summary": doc[0].replace("``", "`") if doc else "",
        "tags": sorted(route.families),
        "responses": {
            "201" if route.method == "POST" else "200": {"description": "OK"},
            "default": {"description": 'an error: {"errors": ["code"]}'},
        },
    }
    parameters = [_parameter(route.path, n) for n in _PATH_PARAM.findall(route.path)]
    if parameters:
        operation["parameters"] = parameters
    if route.private:
        operation["security"] = [_SIGNED]
    return operation


def document(routes: Iterable[Route], base_path: str) -> dict[str, Any]:
    """Return the Swagger 2.0 document of ``routes`` under ``base_path``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "swagger": "2.0",
        "info": {
            "title": "SafeTrade simulator",
            "version": "2",
            "description": "The REST routes this simulator serves (its selected path families).",
        },
        "basePath": base_path,
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": _SECURITY,
        "paths": dict(sorted(paths.items())),
    }
