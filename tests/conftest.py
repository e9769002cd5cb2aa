"""Shared fixtures and Hypothesis profiles. Compiling the kernels is the expensive part of the suite, so one
session-wide fixture runs a tiny scenario first (the on-disk cache makes later sessions fast too).

Hypothesis profiles, chosen by ``HYPOTHESIS_PROFILE`` if set, else ``ci`` when ``CI`` is set (CI runs with
``CI=true``), else ``dev`` (or pass ``--hypothesis-profile NAME`` to pytest):

- ``dev``: random examples, 100 per test (a test's own ``max_examples`` scales with it), no deadline;
  failures found are kept in the local example database and replayed first.
- ``ci``: the same number of examples, derandomized (the same examples on every run of the same code, so a red
  build is reproducible and never flaky), no example database; a failure prints its reproduction blob.
- ``long``: ten times the examples (``HYPOTHESIS_PROFILE=long``), for a deeper search before a release or
  after changing a kernel.

Tests that need more or fewer examples than the profile's write ``max_examples=N * settings.default.max_examples
// 100``: N at the default 100, scaled by the profile.
"""

import os
import sys

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # the tests' own helpers (dsl, reference, golden)

# Hypothesis loads its own "ci" profile when it sees a CI variable; ours start from its "default" profile instead
# of whatever was loaded, so that HYPOTHESIS_PROFILE=dev under CI=true is the dev profile.
_COMMON = dict(
    parent=settings.get_profile("default"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_COMMON)
settings.register_profile("long", max_examples=1000, **_COMMON)


def _profile():
    if os.environ.get("HYPOTHESIS_PROFILE"):
        return os.environ["HYPOTHESIS_PROFILE"]
    return "ci" if os.environ.get("CI", "").lower() not in ("", "0", "false", "no") else "dev"


settings.load_profile(_profile())


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
