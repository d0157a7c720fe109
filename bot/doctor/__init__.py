"""``sellbot doctor``: a read-only preflight against the configured exchange."""
