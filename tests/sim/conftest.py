"""Simulator fixtures."""

from __future__ import annotations

import pytest

from bot.clock import VirtualClock
from tests.sim.sim_helpers import Desk


@pytest.fixture
def desk() -> Desk:
    return Desk(VirtualClock())
