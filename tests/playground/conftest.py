"""Fixtures of the playground's server tests: a fake clock, a session manager using it, and a client."""
from __future__ import annotations

import pytest


@pytest.fixture
def clock():
    from tests.playground.wshelpers import FakeClock

    return FakeClock()


@pytest.fixture
def manager(clock):
    from tests.playground.wshelpers import SessionManager

    return SessionManager(max_sessions=3, idle_timeout=600, clock=clock)


@pytest.fixture
def client(manager):
    from tests.playground.wshelpers import make_client

    yield from make_client(manager)
