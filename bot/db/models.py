"""SQLAlchemy rows: persistence shapes, not domain objects."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.db.types import Money

UTCDateTime = DateTime(timezone=True)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Decimal: Money(),
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
    }


class BalanceSnapshotRow(Base):
    """One balance as one prioritisation cycle saw it, with its score and the components."""

    __tablename__ = "balance_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[str] = mapped_column(String(32), index=True)
    taken_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(32))
    market: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal]
    value_quote: Mapped[Decimal]
    classification: Mapped[str] = mapped_column(String(32))
    score: Mapped[Decimal]
    components: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text, default="")


class DecisionRow(Base):
    """A strategy decision with its provenance (advisor, model, raw answer, fallback)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime]
    market: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(32))
    advisor: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    prompt_hash: Mapped[str | None] = mapped_column(String(64))
    raw_answer: Mapped[str | None] = mapped_column(Text)
    strategy: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]]
    urgency: Mapped[str | None] = mapped_column(String(8))  # None: decided before urgency
    reason: Mapped[str] = mapped_column(Text, default="")
    fallback: Mapped[bool] = mapped_column(default=False)
    fallback_reason: Mapped[str | None] = mapped_column(Text)


class ExecutionRow(Base):
    """One sale of one allocated amount on one market."""

    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    market: Mapped[str] = mapped_column(String(64), index=True)
    currency: Mapped[str] = mapped_column(String(32))
    allocated: Mapped[Decimal]
    # quote value of ``allocated`` at allocation time: what the daily cap counts
    allocated_value: Mapped[Decimal | None]
    strategy: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), index=True)
    priority: Mapped[Decimal]
    arrival_mid: Mapped[Decimal | None]
    sold: Mapped[Decimal]
    proceeds: Mapped[Decimal]
    fees: Mapped[Decimal]
    shortfall_bps: Mapped[Decimal | None]
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")


class OrderRow(Base):
    """An order, written ``pending`` before it is sent."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_state_market", "state", "market"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    exchange_id: Mapped[str | None] = mapped_column(String(64), index=True)
    market: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(8))
    price: Mapped[Decimal | None]
    amount: Mapped[Decimal]
    filled: Mapped[Decimal]
    avg_price: Mapped[Decimal | None]
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class FillRow(Base):
    """A trade of one of our orders; the exchange trade id is unique (fills are idempotent)."""

    __tablename__ = "fills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trade_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_client_id: Mapped[str] = mapped_column(ForeignKey("orders.client_id"), index=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id"), index=True)
    market: Mapped[str] = mapped_column(String(64))
    price: Mapped[Decimal]
    amount: Mapped[Decimal]
    fee: Mapped[Decimal]
    fee_currency: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class EventRow(Base):
    """Append-only log of what happened, for humans and audits."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(64))
    execution_id: Mapped[str | None] = mapped_column(String(32), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]]


class ControlRow(Base):
    """Live switches persisted in the database (e.g. ``paused``)."""

    __tablename__ = "controls"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LeaseRow(Base):
    """A named lease (``leader``): who holds it, until when; ``epoch`` grows on every takeover."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    epoch: Mapped[int] = mapped_column(Integer)
    acquired_at: Mapped[datetime]
    renewed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class DaemonRow(Base):
    """One daemon process's heartbeat: its role (leader or standby) and where it runs."""

    __tablename__ = "daemons"

    instance_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)
