"""Long-poll the Telegram Bot API and answer allow-listed chats (python-telegram-bot).

Only the leader polls (two pollers of one bot conflict at Telegram). Commands queued while
no daemon polled are dropped at start: a stale ``/resume`` must not run hours later, and a
command that got no answer was not done. A chat outside the allow-list gets nothing; its id
(never its text) is logged and audited.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Collection

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.clock import Clock
from bot.logs import get_logger
from bot.telegram.commands import ControlCommands

log = get_logger("sellbot.telegram")

RETRY_CAP_S = 300.0  # longest wait between attempts to reach the Bot API at start
STOP_TIMEOUT_S = 5.0  # stopping marks fetched updates read at Telegram: bounded


class TelegramChannel:
    """The bot: ``start`` returns at once (it connects in the background), ``stop`` ends it."""

    def __init__(
        self,
        *,
        token: str,
        chat_ids: Collection[int],
        api_url: str,
        commands: ControlCommands,
        clock: Clock,
        rng: random.Random,
        poll_timeout_s: float = 30.0,
    ) -> None:
        self.chat_ids = frozenset(chat_ids)
        self.commands = commands
        self._clock = clock
        self._rng = rng
        self._poll_timeout_s = poll_timeout_s
        # the library logs each fetched update, message texts included, at DEBUG: keep it above
        logging.getLogger("telegram").setLevel(max(logging.getLogger().level, logging.INFO))
        api = api_url.rstrip("/")
        self.app: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(token)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .get_updates_read_timeout(poll_timeout_s + 10)
            .job_queue(None)
            .build()
        )
        self.app.add_handler(TypeHandler(Update, self._gate), group=-1)
        fresh = filters.UpdateType.MESSAGE  # editing an old /resume does not run it again
        self.app.add_handler(CommandHandler(list(commands.handlers), self._command, fresh))
        self.app.add_handler(MessageHandler(filters.COMMAND & fresh, self._command))  # unknown
        self.app.add_error_handler(self._error)
        self.started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and start polling in the background, retrying while Telegram is unreachable."""
        if self._task is None:
            self._task = asyncio.create_task(self._connect(), name="telegram-connect")

    async def _connect(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.app.initialize()  # getMe
                updater = self.app.updater
                if updater is None:  # the builder always makes one
                    raise RuntimeError("telegram application without an updater")
                await updater.start_polling(
                    timeout=int(self._poll_timeout_s),
                    drop_pending_updates=True,
                    error_callback=self._poll_error,
                )
                await self.app.start()
            except InvalidToken:
                log.error("telegram_token_rejected")  # no retry: the token must change
                return
            except TelegramError as e:
                wait = self._rng.uniform(0, delay)
                log.warning("telegram_unreachable", error=type(e).__name__, retry_in_s=wait)
                await self._clock.sleep(wait)
                delay = min(delay * 2, RETRY_CAP_S)
                continue
            log.info("telegram_started", bot=self.app.bot.username, chats=len(self.chat_ids))
            self.started.set()
            return

    async def stop(self) -> None:
        """Stop polling (marking fetched updates read), finish the update in hand, close."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        updater = self.app.updater
        if updater is not None and updater.running:
            try:
                await asyncio.wait_for(updater.stop(), STOP_TIMEOUT_S)
            except (TimeoutError, TelegramError) as e:
                log.warning("telegram_stop_incomplete", error=type(e).__name__)
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        log.info("telegram_stopped")

    def _poll_error(self, error: TelegramError) -> None:
        log.warning("telegram_poll_failed", error=type(error).__name__, detail=str(error))

    async def _gate(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is not None and chat.id in self.chat_ids:
            return
        try:
            await self.commands.refused(chat.id if chat else None)
        except Exception as e:  # still answer nothing
            log.warning("telegram_audit_failed", error=type(e).__name__)
        raise ApplicationHandlerStop

    async def _command(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        word, *args = message.text.split()
        command = word.removeprefix("/").split("@", 1)[0].lower()
        reply = await self.commands.run(chat.id, command, args)
        await self.app.bot.send_message(chat.id, reply.text, parse_mode=ParseMode.HTML)

    async def _error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        log.warning("telegram_update_failed", error=type(error).__name__, detail=str(error))
