"""The operator's commands from Telegram, on the daemon's database, each audited in ``events``.

They act through the same controls as the CLI: ``/pause`` and ``/resume`` flip the kill
switch ``sellbot pause``/``resume`` flip, ``/cancel`` writes the request ``sellbot cancel``
writes; the daemon's tracking loop acts on both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db.repositories import ControlRepository, EventLog
from bot.logs import get_logger
from bot.telegram import views

log = get_logger("sellbot.telegram")

AUDIT_KIND = "telegram_command"
REFUSED_KIND = "telegram_refused"

HELP = (
    "/status: kill switch, leader, running sales, open orders\n"
    "/history: the newest finished sales\n"
    "/balances: what the last cycle scored\n"
    "/pause: no new orders (the kill switch)\n"
    "/resume: trade again\n"
    "/cancel &lt;execution&gt;: stop one sale and cancel its open orders"
)


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's answer (Telegram HTML), its audited outcome and the execution it named."""

    text: str
    outcome: str = "ok"
    execution_id: str | None = None


Handler = Callable[[list[str]], Awaitable[Reply]]


class ControlCommands:
    """Run one command for an allow-listed chat and audit it."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, *, quote: str
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._quote = quote
        self._controls = ControlRepository(sessions)
        self._events = EventLog(sessions)
        self.handlers: dict[str, Handler] = {
            "status": self._status,
            "history": self._history,
            "balances": self._balances,
            "pause": self._pause,
            "resume": self._resume,
            "cancel": self._cancel,
            "help": self._help,
            "start": self._help,  # what a Telegram client sends first
        }

    async def run(self, chat_id: int, command: str, args: list[str]) -> Reply:
        """Answer ``command`` (without its slash); unknown commands get the help text."""
        handler = self.handlers.get(command, self._unknown)
        try:
            reply = await handler(args)
        except Exception as e:  # the chat gets one line; the daemon's log has the rest
            log.exception("telegram_command_failed", command=command, chat_id=chat_id)
            reply = Reply(f"/{escape(command)} failed: {type(e).__name__}", "error")
        try:
            await self._events.append(
                AUDIT_KIND,
                self._clock.now(),
                execution_id=reply.execution_id,
                chat_id=chat_id,
                command=command,
                args=[a[:64] for a in args[:4]],
                outcome=reply.outcome,
            )
        except Exception as e:
            log.warning("telegram_audit_failed", command=command, error=type(e).__name__)
        return reply

    async def refused(self, chat_id: int | None) -> None:
        """Record that a chat outside the allow-list wrote (its id only, never its text)."""
        log.warning("telegram_chat_refused", chat_id=chat_id)
        await self._events.append(REFUSED_KIND, self._clock.now(), chat_id=chat_id)

    async def _status(self, _args: list[str]) -> Reply:
        return Reply(await views.status_text(self._sessions, self._clock.now()))

    async def _history(self, _args: list[str]) -> Reply:
        return Reply(await views.history_text(self._sessions))

    async def _balances(self, _args: list[str]) -> Reply:
        return Reply(await views.balances_text(self._sessions, self._clock.now(), self._quote))

    async def _pause(self, _args: list[str]) -> Reply:
        await self._controls.set_paused(True, self._clock.now())
        resting = await views.open_order_count(self._sessions)
        text = "paused: no new orders will be placed"
        if resting:
            text += (
                f"\n{resting} open order(s) stay on the book until their sale ends or is "
                "cancelled (/cancel, or <code>sellbot pause --cancel-open</code>)"
            )
        return Reply(text)

    async def _resume(self, _args: list[str]) -> Reply:
        await self._controls.set_paused(False, self._clock.now())
        return Reply("resumed: new orders may be placed")

    async def _cancel(self, args: list[str]) -> Reply:
        if len(args) != 1:
            return Reply("usage: /cancel &lt;execution id&gt; (see /status)", "usage")
        execution_id = args[0]
        state = await views.execution_state(self._sessions, execution_id)
        if state is None:
            return Reply(f"no execution '{escape(execution_id)}'", "unknown_execution")
        if state.terminal:
            return Reply(
                f"{escape(execution_id)} already ended ({state}): nothing to cancel",
                "already_ended",
                execution_id,
            )
        await self._controls.set(f"cancel:{execution_id}", "requested", self._clock.now())
        return Reply(
            f"cancel requested for {escape(execution_id)}; "
            "the daemon cancels it and its open orders",
            execution_id=execution_id,
        )

    async def _help(self, _args: list[str]) -> Reply:
        return Reply(HELP)

    async def _unknown(self, _args: list[str]) -> Reply:
        return Reply(f"unknown command\n{HELP}", "unknown_command")
