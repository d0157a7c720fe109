"""Deterministic, restart-safe identifiers."""

from __future__ import annotations

import hashlib
import uuid

# SafeTrade/Finex accept a client id up to 36 characters; we stay well under it.
_MAX_CLIENT_ID = 36


def new_execution_id() -> str:
    """Return a fresh execution id (12 hex characters)."""
    return uuid.uuid4().hex[:12]


def new_cycle_id() -> str:
    """Return a fresh prioritisation-cycle id."""
    return uuid.uuid4().hex[:8]


def client_order_id(execution_id: str, seq: int) -> str:
    """Return the client id of the ``seq``-th order of an execution: ``sb-{execution}-{seq}``."""
    cid = f"sb-{execution_id}-{seq}"
    if len(cid) > _MAX_CLIENT_ID:
        digest = hashlib.sha256(execution_id.encode()).hexdigest()[:16]
        cid = f"sb-{digest}-{seq}"
    return cid


def parse_client_order_id(client_id: str) -> tuple[str, int] | None:
    """Return (execution_id, seq) for a client id made by ``client_order_id``, else None."""
    if not client_id.startswith("sb-"):
        return None
    body, _, seq = client_id[3:].rpartition("-")
    if not body or not seq.isdigit():
        return None
    return body, int(seq)
