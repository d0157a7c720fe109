"""What the daemon tells its operator: the event kinds and their one-line messages.

Each constructor returns an ``Event`` (or ``None`` when there is nothing to say) built only
from domain values: no setting, key or URL ever reaches a message. ``key`` names events
that are said once (the daily cap on a given day), however often they happen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from bot.domain.balances import BalanceScore, Classification
from bot.domain.executions import Execution, ExecutionState


class EventKind(StrEnum):
    CYCLE = "cycle"  # a cycle started at least one sale
    SALE_FINISHED = "sale_finished"
    SALE_FAILED = "sale_failed"  # failed, partial or cancelled, with the reason
    GUARD = "guard"  # the daily cap stopped or reduced a sale
    KILL_SWITCH = "kill_switch"
    EXCHANGE = "exchange"  # blocked or unreachable for longer than the threshold, and back
    DAEMON = "daemon"  # started, stopped, lost leadership
    DAILY = "daily"  # the daily summary (sent when SELLBOT_NOTIFY_DAILY_HOUR is set)


DEFAULT_EVENTS: frozenset[EventKind] = frozenset(EventKind) - {EventKind.DAILY}


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


_SEVERITY = {Level.INFO: 0, Level.SUCCESS: 1, Level.WARNING: 2, Level.FAILURE: 3}


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    level: Level
    title: str
    text: str
    key: str | None = None  # events with the same key are sent once


def parse_kinds(names: Iterable[str]) -> frozenset[EventKind]:
    """Return the event kinds named; raise ``ValueError`` naming the valid ones."""
    names = set(names)
    valid = {k.value for k in EventKind}
    unknown = sorted(names - valid)
    if unknown:
        names_ok = ", ".join(sorted(valid))
        raise ValueError(f"unknown event(s) {', '.join(unknown)}; valid: {names_ok}")
    return frozenset(EventKind(n) for n in names)


def worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=_SEVERITY.__getitem__, default=Level.INFO)


def money(value: Decimal) -> str:
    """Return a quote amount with two decimals and thousands separators."""
    return f"{value:,.2f}"


def amount(value: Decimal) -> str:
    """Return a base amount without trailing zeros or an exponent."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def price(value: Decimal) -> str:
    """Return a price to 8 significant digits, without an exponent."""
    if not value:
        return "0"
    return amount(value.quantize(Decimal(1).scaleb(value.adjusted() - 7)))


def quote_of(execution: Execution) -> str:
    market, base = execution.market, execution.currency
    return market[len(base) :] if market.startswith(base) and market != base else ""


# --- constructors --------------------------------------------------------------------------


class CycleOutcome(Protocol):
    """What a prioritisation cycle did (``bot.service.cycle.CycleResult``)."""

    cycle_id: str
    started: list[str]
    skipped: dict[str, str]


def cycle_summary(cycle: CycleOutcome, scores: list[BalanceScore], quote: str) -> Event | None:
    """Return the cycle's summary when it started a sale, else None."""
    started = len(cycle.started)
    if not started:
        return None
    total = sum((s.value_quote for s in scores), Decimal(0))
    sales = [
        f"{s.currency} {amount(s.amount)} (≈{money(s.value_quote)} {quote})"
        for s in scores
        if s.classification is Classification.SELL and s.market and s.currency not in cycle.skipped
    ]
    text = (
        f"cycle {cycle.cycle_id}: {len(scores)} balances worth {money(total)} {quote}; "
        f"started {started} sale{'s' if started != 1 else ''}: {', '.join(sales[:started])}"
    )
    if cycle.skipped:
        text += "; skipped " + ", ".join(f"{c} ({why})" for c, why in sorted(cycle.skipped.items()))
    return Event(EventKind.CYCLE, Level.INFO, "sales started", text)


def sale_ended(execution: Execution) -> Event | None:
    """Return the event for a sale that ended: finished, or failed/partial/cancelled."""
    if execution.state is ExecutionState.COMPLETED:
        return sale_finished(execution)
    if execution.state in (
        ExecutionState.PARTIAL,
        ExecutionState.FAILED,
        ExecutionState.CANCELLED,
    ):
        return sale_failed(execution)
    return None


def _sold(execution: Execution, *, of_allocated: bool = False) -> str:
    """Return what was sold, for how much, and how: one clause for a message."""
    of = f" of {amount(execution.allocated)}" if of_allocated else ""
    text = (
        f"sold {amount(execution.sold)}{of} {execution.currency} on {execution.market} "
        f"for {money(execution.proceeds)} {quote_of(execution)}"
    )
    avg = execution.avg_price
    if avg is not None:
        text += f", avg {price(avg)}"
    shortfall = execution.shortfall_bps
    if shortfall is not None:
        text += f", IS {shortfall:.1f} bps"
    decision = execution.decision
    how = f"{decision.strategy} over {decision.horizon_s} s, urgency {decision.urgency}"
    return f"{text}; {how} (execution {execution.id})"


def sale_finished(execution: Execution) -> Event:
    return Event(EventKind.SALE_FINISHED, Level.SUCCESS, "sale finished", _sold(execution))


def sale_failed(execution: Execution) -> Event:
    state = execution.state
    level = Level.FAILURE if state is ExecutionState.FAILED else Level.WARNING
    unsold = f"{amount(execution.allocated - execution.sold)} {execution.currency} unsold"
    reason = execution.note or (unsold if state is ExecutionState.PARTIAL else "no reason given")
    text = f"sale {state} ({reason}): {_sold(execution, of_allocated=True)}"
    return Event(EventKind.SALE_FAILED, level, f"sale {state}", text)


def daily_cap_hit(
    score: BalanceScore, allocated: Decimal, committed: Decimal, cap: Decimal, now: datetime
) -> Event | None:
    """Return the once-a-day event for the daily cap stopping or reducing a sale, else None."""
    if allocated >= score.amount:
        return None
    what = f"reduced to {amount(allocated)}" if allocated > 0 else "skipped"
    quote = (score.market or "").removeprefix(score.currency)
    text = (
        f"daily cap reached: {money(committed)} of {money(cap)} {quote} committed today; "
        f"{score.currency} {what} (further cap hits today are not notified)"
    )
    return Event(EventKind.GUARD, Level.WARNING, "daily cap", text, key=f"daily_cap:{now.date()}")


def kill_switch(paused: bool) -> Event:
    if paused:
        return Event(
            EventKind.KILL_SWITCH,
            Level.WARNING,
            "paused",
            "kill switch on: no new sales, no orders (sellbot resume to continue)",
        )
    return Event(EventKind.KILL_SWITCH, Level.INFO, "resumed", "kill switch off: selling again")


def exchange_down(reason: str, minutes: float) -> Event:
    return Event(
        EventKind.EXCHANGE,
        Level.FAILURE,
        "exchange unreachable",
        f"exchange blocked or unreachable for {minutes:.0f} min: {reason}",
    )


def exchange_back(minutes: float) -> Event:
    return Event(
        EventKind.EXCHANGE,
        Level.SUCCESS,
        "exchange back",
        f"exchange reachable again after {minutes:.0f} min",
    )


def daemon_started(interval_s: int, dry_run: bool) -> Event:
    mode = "paper trading" if dry_run else "live"
    text = f"daemon started ({mode}), leading; a cycle every {interval_s} s"
    return Event(EventKind.DAEMON, Level.INFO, "daemon started", text)


def daemon_stopped(lease_lost: str | None) -> Event:
    if lease_lost:
        return Event(
            EventKind.DAEMON,
            Level.WARNING,
            "daemon stopped",
            f"daemon stopped after losing leadership ({lease_lost})",
        )
    return Event(EventKind.DAEMON, Level.INFO, "daemon stopped", "daemon stopped")


def leadership_lost(reason: str | None) -> Event:
    text = f"lost leadership ({reason or 'lease lapsed'}): stopped trading, open orders left"
    return Event(EventKind.DAEMON, Level.FAILURE, "lost leadership", text)
