"""Deliver messages through Apprise: one library, every platform (Telegram, Discord, Slack,
e-mail, Matrix, JSON webhooks...).

``Apprise.async_notify`` runs each target's blocking send in Apprise's own thread pool, so
the event loop is never held; ``timeout_s`` bounds a whole call. The store Apprise may keep
is memory only (the container's file system stays untouched). URLs are logged masked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import apprise

from bot.logs import get_logger
from bot.notify.events import Level
from bot.notify.urls import mask_notify_url

log = get_logger("sellbot.notify")

_TYPES = {
    Level.INFO: apprise.NotifyType.INFO,
    Level.SUCCESS: apprise.NotifyType.SUCCESS,
    Level.WARNING: apprise.NotifyType.WARNING,
    Level.FAILURE: apprise.NotifyType.FAILURE,
}


class AppriseSink:
    def __init__(self, urls: Sequence[str], *, timeout_s: float = 15.0) -> None:
        self._apprise = apprise.Apprise(asset=apprise.AppriseAsset(storage_mode="memory"))
        self._timeout_s = timeout_s
        self.targets: list[str] = []
        for url in urls:
            if self._apprise.add(url):
                self.targets.append(mask_notify_url(url))
            else:
                log.warning("notify_url_rejected", url=mask_notify_url(url))
        # Apprise logs each target's URL at INFO: only its warnings reach our (masked) logs
        logging.getLogger(apprise.LOGGER_NAME).setLevel(logging.WARNING)
        log.info("notify_targets", targets=self.targets)

    async def send(self, title: str, body: str, level: Level) -> bool:
        if not self.targets:
            return False
        result = await self._apprise.async_notify(
            body=body,
            title=title,
            notify_type=_TYPES[level],
            body_format=apprise.NotifyFormat.TEXT,
            timeout=self._timeout_s,
        )
        return bool(result)
