"""Push notifications: events, the non-blocking notifier, the Apprise sink (imported lazily)."""
