"""A doctor check's result, and how a list of them is printed (lines or JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a check status, not a password
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


def exit_code(checks: list[Check]) -> int:
    """0 when nothing failed, 1 on any FAIL (a WARN does not fail the preflight)."""
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


def render_lines(checks: list[Check]) -> str:
    width = max((len(c.name) for c in checks), default=0)
    return "\n".join(f"{c.status.value}  {c.name.ljust(width)}  {c.detail}" for c in checks)


def render_json(checks: list[Check]) -> str:
    return json.dumps(
        {"ok": exit_code(checks) == 0, "checks": [asdict(c) for c in checks]}, indent=2
    )
