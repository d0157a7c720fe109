"""The prioritisation step: read the candidates' market data, then score and rank them."""
