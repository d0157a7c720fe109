"""The command line (``sellbot COMMAND``), one module per command group.

``main`` parses and dispatches; ``run`` the daemon; ``ops`` (with ``reports`` and
``ops_cancel``) the operator commands on the daemon's database; ``advise``, ``doctor``,
``sim``, ``bench`` and ``commands`` (db, config) the rest; ``embedded`` serves ``--simulate``.
"""

from bot.cli.main import main

__all__ = ["main"]
