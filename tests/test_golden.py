"""Golden runs: a dozen small scenarios (tests/golden/scenarios/) whose summaries and tapes are pinned
(tests/golden/expected/), so that any change of the engine's numbers, intended or not, fails here.

Between them they cover every venue, every ADL policy, ADL off with bad debt, every shock kind (gap, ramp, gbm,
replay of a path in tests/golden/data/, none) and a liquidity shock, stops, top-ups, funding (by formula and at a
fixed rate), book withdrawal with and without widening, explicit positions and book files, a dated venue pack and
single [venue] overrides; :func:`test_the_golden_set_exercises_what_it_claims` keeps it so.

The summary (without ``runtime_s``) is compared exactly, floats included: the engine is bit-reproducible. The
``fills``, ``series`` and ``accounts`` arrays are compared by SHA-256 digests, field by field. A failure lists the
summary keys that changed (old -> new) and the tables and fields whose digests changed.

When a change of the numbers is intended, regenerate the expected files from the repository root with::

    python -m tests.golden.regenerate            # all; or name scenarios: ... regenerate stops_topups

and explain, in the message of the commit that changes them, why each changed file changed (tests/golden/README.md).
"""

import tomllib

import pytest
from golden import SCENARIOS, differences, expected_path, load_expected, names, run

import sim

NAMES = names()
VENUES = {"binance", "bybit", "okx", "hyperliquid", "dydx"}
POLICIES = {"venue_queue", "pro_rata", "leverage_drain"}
SHOCKS = {"none", "gap", "ramp", "gbm", "replay"}
REGENERATE = "python -m tests.golden.regenerate"


@pytest.mark.parametrize("name", NAMES)
def test_golden_run(name, compiled):
    expected = load_expected(name)
    assert expected is not None, f"{expected_path(name).name} is missing: run `{REGENERATE} {name}`"
    problems = differences(expected, run(name))
    if problems:
        pytest.fail(
            f"golden run {name!r} differs from {expected_path(name).name}:\n  "
            + "\n  ".join(problems)
            + f"\nIf the change is intended: `{REGENERATE} {name}`, and explain it in the commit message."
        )


def test_every_scenario_has_its_expected_file_and_no_other():
    stored = sorted(p.stem for p in expected_path("x").parent.glob("*.json"))
    assert stored == NAMES, f"run `{REGENERATE}` (it writes missing and removes stale files)"


def test_the_golden_set_exercises_what_it_claims():
    runs = []
    for name in NAMES:
        scn = sim.load_scenario(SCENARIOS / f"{name}.toml")
        assert scn.scenario.name == name, f"{name}.toml: scenario.name should be the file's name"
        raw = tomllib.loads((SCENARIOS / f"{name}.toml").read_text())
        runs.append((scn, load_expected(name)["summary"], raw))

    def some(check):
        return any(check(scn, summary) for scn, summary, _ in runs)

    def written(table, key=None):  # a scenario file sets this table (or key) itself
        return any(table in raw and (key is None or key in raw[table]) for _, _, raw in runs)

    for venue in VENUES:
        assert some(lambda scn, s, v=venue: scn.market.venue == v and s["liquidations"]["full"] > 0), venue
    for policy in POLICIES:  # each policy actually deleverages someone
        assert some(lambda scn, s, p=policy: scn.adl.enabled and scn.adl.policy == p and s["adl"]["count"] > 0), policy
    for kind in SHOCKS:
        assert some(lambda scn, s, k=kind: scn.shock.kind == k), kind
    assert some(lambda scn, s: scn.shock.liquidity_factor < 1)
    assert some(lambda scn, s: not scn.adl.enabled and s["adl"]["count"] == 0 and s["bad_debt_usd"] > 0)
    for trigger in ("deficit", "capacity"):  # ADL set off by a deficit, and by the fund's capacity alone
        assert some(lambda scn, s, k=trigger: s["adl"]["by_trigger"][k]["count"] > 0), trigger
    assert some(lambda scn, s: s["behaviour"]["stop_fills"] > 0)
    assert some(lambda scn, s: s["behaviour"]["topups"] > 0)
    assert some(lambda scn, s: scn.funding.rate_pct is None and s["behaviour"]["funding_settlements"] > 0)
    assert some(lambda scn, s: scn.funding.rate_pct is not None and s["behaviour"]["funding_settlements"] > 0)
    assert some(lambda scn, s: scn.book.withdrawal and scn.book.withdrawal_spread_bps == 0)
    assert some(lambda scn, s: scn.book.withdrawal and scn.book.withdrawal_spread_bps > 0)
    assert some(lambda scn, s: scn.population.file is not None and scn.book.file is not None)
    assert written("market", "venue_version") and written("market", "tiers") and written("venue")


# --- the same bits on every CPU -----------------------------------------------------------------------------------

#: NumPy's switch that hides CPU features from its dispatcher (read at import). On a CPU with AVX-512 it turns off
#: the vectorised exp, log and pow whose last bits differ from the C library's; elsewhere it changes nothing.
NO_AVX512 = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


def test_a_golden_run_is_the_same_with_numpys_avx512_code_turned_off(compiled):
    """The set-up draws go through the C library's exp, log and pow (sim.kernels.elementwise), not NumPy's, whose
    machine code depends on the CPU: a run in a process whose NumPy may not use AVX-512 gives the same bits as one
    here. (It failed on a CPU with AVX-512 while the population's sizes were drawn with ``**``; on a CPU without it
    both processes run the same code and the test cannot tell.)"""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from golden import run

    name = "okx_gbm_leverage_drain"  # a population, a gbm path with jumps and background orders
    code = f"import json, sys; sys.path.insert(0, 'tests'); from golden import run; print(json.dumps(run({name!r})))"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=os.environ | NO_AVX512, capture_output=True, text=True, check=True
    )
    assert differences(json.loads(out.stdout.strip().splitlines()[-1]), run(name)) == []


def test_the_elementwise_kernels_are_the_c_librarys_functions():
    """Python's math module calls the C library; the kernels must give its bits, element by element."""
    import math

    import numpy as np

    from sim.kernels import elementwise

    rng = np.random.default_rng(5)
    x = np.concatenate((rng.uniform(-700, 700, 2000), rng.standard_normal(2000), [0.0, -0.0, 1e-300]))
    pos = np.concatenate((np.abs(x) + 1e-12, rng.uniform(0, 1, 2000), [1.0, 1e-300]))
    assert elementwise.exp(x).tolist() == [math.exp(v) for v in x]
    assert elementwise.log(pos).tolist() == [math.log(v) for v in pos]
    for y in (-1 / 1.5, -1 / 3.2, 0.7, 1.9):
        assert elementwise.power(pos, y).tolist() == [v**y for v in pos]
    # NumPy's shortcuts (a Lomax tail index of 1 draws with exponent -1): the bits NumPy gives on every CPU
    for y in (-1.0, 0.5, 2.0):
        assert elementwise.power(pos, y).tolist() == (pos**y).tolist()


def test_the_set_up_draws_use_no_cpu_dependent_numpy_functions():
    """np.exp, np.log, np.power and ``**`` on arrays in the code that draws a run's world would bring NumPy's CPU
    dispatch back (their results differ in the last bit with AVX-512)."""
    import re
    from pathlib import Path

    world = Path(sim.__file__).parent / "world"
    pattern = re.compile(r"np\.(exp|log|log1p|expm1|log2|log10|power|float_power|exp2|cbrt)\(|\*\*=")
    hits = [f"{p.name}:{n}" for p in world.glob("*.py") for n, line in enumerate(p.read_text().splitlines(), 1)
            if pattern.search(line.split("#")[0])]  # fmt: skip
    assert hits == [], f"CPU-dependent NumPy functions in sim/world: {hits}"
