"""The daily summary: what this process saw since the last one, and when the next is due."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from bot.domain.executions import Execution, ExecutionState
from bot.notify.events import Event, EventKind, Level, money, quote_of


def next_daily_at(now: datetime, hour: int) -> datetime:
    """Return the next ``hour``:00 UTC strictly after ``now``."""
    due = datetime.combine(now.date(), time(hour), tzinfo=now.tzinfo)
    return due if due > now else due + timedelta(days=1)


@dataclass
class DailyTally:
    """Counts sales and notable events as they are published; reset by each summary."""

    since: datetime
    ended: Counter[str] = field(default_factory=Counter)
    proceeds: dict[str, Decimal] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)

    def sale(self, execution: Execution) -> None:
        self.ended[str(execution.state)] += 1
        if execution.proceeds:
            quote = quote_of(execution) or "quote"
            self.proceeds[quote] = self.proceeds.get(quote, Decimal(0)) + execution.proceeds

    def event(self, event: Event) -> None:
        if event.kind in (EventKind.CYCLE, EventKind.GUARD, EventKind.EXCHANGE):
            self.events[event.kind] += 1

    def summary(self, now: datetime, dropped: int) -> Event:
        """Return the summary event for the period up to ``now``."""
        sales = ", ".join(f"{n} {state}" for state, n in sorted(self.ended.items())) or "none"
        proceeds = ", ".join(f"{money(v)} {q}" for q, v in sorted(self.proceeds.items()))
        parts = [f"since {self.since:%Y-%m-%d %H:%M} UTC: sales ended {sales}"]
        if proceeds:
            parts.append(f"proceeds {proceeds}")
        parts.append(f"cycles that started sales {self.events[EventKind.CYCLE]}")
        if self.events[EventKind.GUARD]:
            parts.append(f"daily cap hit {self.events[EventKind.GUARD]}")
        if self.events[EventKind.EXCHANGE]:
            parts.append(f"exchange outages {self.events[EventKind.EXCHANGE]}")
        if dropped:
            parts.append(f"notifications dropped {dropped}")
        failed = self.ended[ExecutionState.FAILED] + self.ended[ExecutionState.PARTIAL]
        level = Level.WARNING if failed or dropped else Level.INFO
        return Event(EventKind.DAILY, level, "daily summary", "; ".join(parts))

    def reset(self, now: datetime) -> None:
        self.since = now
        self.ended.clear()
        self.proceeds.clear()
        self.events.clear()
