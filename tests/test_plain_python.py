"""The kernels run as plain Python (``LIQSIM_DISABLE_JIT=1``, for debugging) give the same tapes, bit for bit, as
compiled: what a developer steps through in a debugger is what the engine computes. One run that exercises every
kind of record (liquidations, partials, takeovers, ADL, noise, unwinds, funding, stops) and top-ups."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

import sim

# about 20 s (the kernels interpreted); CI runs it, `pytest -m "not slow"` leaves it out
pytestmark = pytest.mark.slow

OVERRIDES = {
    "population.n_positions": 1500,
    "scenario.duration_s": 120,
    "stops.share": 0.3,
    "topups.share": 0.2,
    "market.time_to_funding_s": 30.0,
    "book.withdrawal": True,
}

CODE = """
import hashlib, sys
import numpy as np
import sim
res = sim.run(sim.load_scenario(None, overrides={overrides!r}))
digest = hashlib.sha256()
for table in (res.fills, res.series, res.accounts):
    digest.update(np.ascontiguousarray(table).tobytes())
print(digest.hexdigest(), np.bincount(res.fills["kind"], minlength=8).tolist())
"""


def _digest(res):
    digest = hashlib.sha256()
    for table in (res.fills, res.series, res.accounts):
        digest.update(np.ascontiguousarray(table).tobytes())
    return digest.hexdigest()


def test_plain_python_kernels_give_the_compiled_tapes(compiled):
    env = {**os.environ, "LIQSIM_DISABLE_JIT": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", CODE.format(overrides=OVERRIDES)], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    plain, kinds = proc.stdout.split(" ", 1)
    counts = [int(x) for x in kinds.strip(" []\n").split(",")]
    assert all(c > 0 for c in counts[:7]), counts  # every record kind but the funding of an empty fund occurs
    assert plain == _digest(sim.run(sim.load_scenario(None, overrides=OVERRIDES)))
