"""Shared fixtures. Compiling the kernels is the expensive part of the suite, so one session-wide
fixture runs a tiny scenario first (the on-disk cache makes later sessions fast too)."""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # the tests' own helpers (dsl, reference)

settings.register_profile("liqsim", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile("liqsim")


@pytest.fixture(scope="session")
def compiled():
    """Compile every kernel once per test session."""
    import sim

    return sim.warmup()


@pytest.fixture(scope="session")
def small_run(compiled):
    """A small default flash crash, shared by the tests that only read a result."""
    import sim

    scn = sim.load_scenario(None, overrides={"population.n_positions": 3000, "scenario.duration_s": 300.0})
    return sim.run(scn)
