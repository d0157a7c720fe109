"""Leadership leg: two real daemons on one database, the leader SIGKILLed ``--kills`` times.

    python -m bench.leadership --kills 20 --out build/reliability  # PG: TEST_DATABASE_URL

Writes ``OUT/leadership.json``: takeover max/median, oversold, duplicates, orders sent by a
daemon outside its own leadership term; progress (kills done / total, elapsed, remaining)
goes to stderr. Same as ``python -m bench.reliability.leader_leg``.
"""

from __future__ import annotations

import sys

from bench.reliability.leader_leg import main

if __name__ == "__main__":
    sys.exit(main())
