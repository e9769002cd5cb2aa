"""Population build time: the synthetic default, and entries along a recorded history with the survival screen.

    python benchmarks/bench_population.py                 # 1M positions, 5 repetitions
    python benchmarks/bench_population.py --sizes 100000,1000000 --repeats 7

Prints one JSON document on stdout. Each case builds the population of a scenario (``sim.world.population.generate``,
what a run does before its first event) in this process, after one untimed build that compiles or loads the
screening kernel; the figure is the median wall time. ``replay_history_screen`` is the shipped replay's population
(entries along 140 h of recorded BTC history, survival screen, heavy-tailed accounts and sizes); the target is
≤ 0.3 s at 1M positions.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CASES = {
    "synthetic_default": (None, {}),
    "synthetic_screen": (None, {"population.survival_screen": True}),
    "replay_history_screen": ("replay_2025_10_10", {}),
}
TARGET_S = 0.3


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    import sim
    from sim.world.population import generate

    out = {"load_average_start": os.getloadavg(), "cases": {}}
    for n in (int(x) for x in args.sizes.split(",")):
        for name, (base, overrides) in CASES.items():
            scn = sim.load_scenario(base, overrides={**overrides, "population.n_positions": n})
            generate(scn.population, scn.market, np.random.default_rng(0))  # compile / load the kernel
            times = []
            for r in range(args.repeats):
                t = time.perf_counter()
                generate(scn.population, scn.market, np.random.default_rng(r))
                times.append(time.perf_counter() - t)
            out["cases"][f"{name}_{n}"] = {"n": n, "median_s": statistics.median(times), "all_s": times}
            print(f"[bench_population] {name} {n}: {statistics.median(times):.3f} s", file=sys.stderr, flush=True)
    key = "replay_history_screen_1000000"
    if key in out["cases"]:
        out["target"] = {"replay_history_screen_1M_s": TARGET_S, "met": out["cases"][key]["median_s"] <= TARGET_S}
    out["load_average_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
