"""The Telegram control channel: the operator's commands from an allow-listed chat.

``views`` reads what the commands answer (the CLI's tables), ``commands`` runs and audits
them on the daemon's database, ``channel`` long-polls the Bot API (python-telegram-bot).
"""
