"""sellbot: sells crypto balances on SafeTrade with good execution."""

__version__ = "0.1.0"
