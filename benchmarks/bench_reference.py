"""The Numba engine against the pure-Python reference engine (tests/reference.py) on one scenario.

    python benchmarks/bench_reference.py                       # 20,000 positions, 10 simulated seconds
    python benchmarks/bench_reference.py --duration 20 --shock-start 5

Both engines consume the same ``sim.engine.prepare(scn)`` output; only the engine call is timed
(``sim.engine.simulate(inputs)`` vs ``reference_run(inputs)``). The reference scans every position at
every liquidation step and rebuilds the book ladder on every order, so it is very slow: the default
scenario is shortened (``scenario.duration_s``, with ``shock.start_s`` moved inside the run) to keep
it to a few minutes. Prints one JSON document on stdout; progress notes go to stderr.
"""

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

RTOL = 1e-9  # the differential tests' tolerances (tests/test_differential.py)
ATOL = 1e-7


def note(msg):
    print(f"[bench_reference] {msg}", file=sys.stderr, flush=True)


def fill_equal(a, b):
    """Same (time, kind, account, side) and the float fields equal to the tests' tolerances."""
    if tuple(a[:4]) != tuple(b[:4]):
        return False
    for x, y in zip(a[4:], b[4:]):
        x, y = float(x), float(y)
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                return False
        elif abs(x - y) > ATOL + RTOL * abs(y):
            return False
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=20_000)
    ap.add_argument("--duration", type=float, default=10.0, help="scenario.duration_s (default 10)")
    ap.add_argument(
        "--shock-start",
        type=float,
        default=None,
        help="shock.start_s (default: the scenario's, or half the duration if that is later)",
    )
    ap.add_argument("--repeats", type=int, default=5, help="timed Numba runs (median reported)")
    a = ap.parse_args(argv)

    import numpy as np
    from dsl import engine_result
    from reference import reference_run

    import sim
    from sim.engine import prepare, simulate

    default = sim.load_scenario(None)
    shock_start = a.shock_start
    if shock_start is None:
        shock_start = min(default.shock.start_s, a.duration / 2.0)
    overrides = {"population.n_positions": a.positions, "scenario.duration_s": a.duration, "shock.start_s": shock_start}
    scn = sim.load_scenario(None, overrides=overrides)
    inp = prepare(scn)

    note("compiling / loading the kernels")
    sim.warmup()
    simulate(inp)  # warm
    times = []
    for _ in range(a.repeats):
        t = time.perf_counter()
        raw = simulate(inp)
        times.append(time.perf_counter() - t)
    numba_s = float(statistics.median(times))
    fast = engine_result(raw)["fills"]
    note(f"numba: {numba_s:.4f} s (median of {a.repeats}), {len(fast)} fills; running the reference")

    t = time.perf_counter()
    ref = reference_run(inp)
    reference_s = time.perf_counter() - t
    slow = ref["fills"]
    note(f"reference: {reference_s:.1f} s, {len(slow)} fills")

    same = sum(1 for x, y in zip(fast, slow) if fill_equal(x, y))
    first_diff = next((i for i, (x, y) in enumerate(zip(fast, slow)) if not fill_equal(x, y)), None)
    if first_diff is None and len(fast) != len(slow):
        first_diff = min(len(fast), len(slow))
    kinds = np.array([f[1] for f in fast], dtype=np.int64)
    speedup = reference_s / numba_s
    doc = {
        "positions": a.positions,
        "scenario": {"base": "btc_flash_crash (built-in default)", "overrides": overrides},
        "numba_s": numba_s,
        "numba_all_s": times,
        "reference_s": reference_s,
        "speedup": speedup,
        "fills_numba": len(fast),
        "fills_reference": len(slow),
        "liquidation_fills": int(np.isin(kinds, (0, 1, 2)).sum()),
        "same_fills": same,
        "all_fills_equal": same == len(fast) == len(slow),
        "first_differing_fill": first_diff,
        "target_100x": speedup >= 100.0,
    }
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
