"""Run executions as tasks under the concurrency limiter; keep every task referenced."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.domain.executions import Execution
from bot.execution.limiter import ConcurrencyLimiter
from bot.logs import REDACTOR, get_logger

log = get_logger("sellbot.supervisor")

RunExecution = Callable[[Execution], Awaitable[Execution]]
OnFinish = Callable[[Execution], None]
Now = Callable[[], float]


class ExecutionSupervisor:
    """Queue executions by priority, run them under the limiter, drain or stop on demand."""

    def __init__(
        self,
        limiter: ConcurrencyLimiter,
        run: RunExecution,
        on_finish: OnFinish | None = None,
        *,
        now: Now | None = None,
    ) -> None:
        self._limiter = limiter
        self._run = run
        self._on_finish = on_finish
        self._now = now or (lambda: 0.0)
        self._tasks: dict[str, asyncio.Task[Execution | None]] = {}
        self._markets: dict[str, str] = {}
        self.accepting = True
        # id -> monotonic time of the crash: executions that raised (e.g. a database write
        # failed) and are still unfinished in the store; the tracking job resumes them.
        self.crashed: dict[str, float] = {}
        # id -> crashes so far and the last one's reason ("Type: message"), kept until the
        # execution finishes: the tracking job backs off on them and gives up after a bound.
        # In memory only: a restart starts counting again.
        self.crash_counts: dict[str, int] = {}
        self.crash_reasons: dict[str, str] = {}

    @property
    def active_ids(self) -> set[str]:
        return {k for k, t in self._tasks.items() if not t.done()}

    @property
    def tracked(self) -> int:
        """Tasks still referenced (running, or finished a moment ago)."""
        return len(self._tasks)

    def active_markets(self) -> set[str]:
        return {self._markets[k] for k in self.active_ids}

    def submit(self, execution: Execution, *, priority: Decimal = Decimal(0)) -> bool:
        """Start ``execution`` when the limiter allows; False if stopping or already active."""
        if not self.accepting or execution.id in self.active_ids:
            return False
        self.crashed.pop(execution.id, None)
        self._markets[execution.id] = execution.market
        task = asyncio.create_task(
            self._guarded(execution, priority), name=f"execution-{execution.id}"
        )
        self._tasks[execution.id] = task
        task.add_done_callback(functools.partial(self._forget, execution.id))
        return True

    def _forget(self, execution_id: str, task: asyncio.Task[Execution | None]) -> None:
        """Drop a finished task (and the execution it returned): a daemon runs for months."""
        if self._tasks.get(execution_id) is task:
            del self._tasks[execution_id]
            del self._markets[execution_id]

    async def _guarded(self, execution: Execution, priority: Decimal) -> Execution | None:
        async with self._limiter.slot(execution.market, priority=priority, key=execution.id):
            if not self.accepting:
                return None
            try:
                finished = await self._run(execution)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # one failed sale must not stop the others
                log.exception("execution_crashed", execution_id=execution.id)
                self.crashed[execution.id] = self._now()
                self.crash_counts[execution.id] = self.crash_counts.get(execution.id, 0) + 1
                self.crash_reasons[execution.id] = crash_reason(e)
                return None
            self.forget_crashes(execution.id)
            if self._on_finish is not None:
                self._on_finish(finished)
            return finished

    def forget_crashes(self, execution_id: str) -> None:
        """Drop what is known of the execution's crashes (it finished, or was given up)."""
        self.crashed.pop(execution_id, None)
        self.crash_counts.pop(execution_id, None)
        self.crash_reasons.pop(execution_id, None)

    async def wait_all(self) -> None:
        """Wait for every execution started so far (and those they make room for)."""
        while pending := [t for t in self._tasks.values() if not t.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self, timeout_s: float) -> set[str]:
        """Stop accepting, cancel running executions, return the ids that were interrupted."""
        self.accepting = False
        pending = {k: t for k, t in self._tasks.items() if not t.done()}
        for task in pending.values():
            task.cancel()
        if pending:
            await asyncio.wait(pending.values(), timeout=timeout_s)
        return set(pending)


REASON_MAX_CHARS = 200


def crash_reason(e: BaseException) -> str:
    """Return ``Type: message`` for a crash, secrets masked and cut to a note's length."""
    text = REDACTOR.clean_text(f"{type(e).__name__}: {e}")
    return text if len(text) <= REASON_MAX_CHARS else text[: REASON_MAX_CHARS - 1] + "…"
