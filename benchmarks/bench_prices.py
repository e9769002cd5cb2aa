"""What prices formed by flows cost (prices.model = endogenous, docs/model.md §1.6).

    python benchmarks/bench_prices.py              # the 1M crash both ways, and the cost of a spot venue
    python benchmarks/bench_prices.py --quick      # 100k instead of 1M

Prints one JSON document on stdout; notes go to stderr. Figures are the best of ``--repeats`` warm runs in this
process (kernels compiled or loaded once first):

* ``targets``: whether the 1M crash met its target under each model (endogenous ≤ 0.5 s, imposed ≤ 0.4 s).
* ``crash``: the default flash crash (scenarios/btc_flash_crash.toml) at the given size under each model, with the
  population build included (``total_s``) and apart (``prepare_s``), and how much each liquidated: the endogenous
  crash liquidates more (its index falls further), so it also does more waterfall work.
* ``per_venue``: the cost of one more spot venue per simulated second, from two long runs (a day, sampled hourly) with a tiny population and
  no shock that differ only in the number of venues (``top4``: 4, ``binance_index``: 7): ``(t7 − t4) / 3 / duration``;
  it is below the timing noise on this machine, so the whole cost per simulated second with 7 venues is printed too.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


#: The targets for the 1M default crash, warm, population build included (seconds).
TARGETS_S = {"endogenous": 0.5, "imposed": 0.4}


def note(msg):
    print(f"[bench_prices] {msg}", file=sys.stderr, flush=True)


def best_run(scn, repeats):
    from sim.engine import prepare, simulate

    best = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        inp = prepare(scn)
        t1 = time.perf_counter()
        raw = simulate(inp)
        t2 = time.perf_counter()
        if best is None or t2 - t0 < best[0]:
            best = (t2 - t0, t1 - t0, t2 - t1, raw)
    return best


def crash(n, repeats):
    import sim
    from sim import metrics

    out = {}
    for model in ("imposed", "endogenous"):
        scn = sim.load_scenario(
            ROOT / "scenarios" / "btc_flash_crash.toml",
            overrides={"population.n_positions": n, "prices.model": model},
        )
        total, prep, run, raw = best_run(scn, repeats)
        out[model] = {
            "total_s": round(total, 4),
            "prepare_s": round(prep, 4),
            "simulate_s": round(run, 4),
            "liquidated_usd": float(metrics.liquidated_notional(raw.fills).sum()),
            "index_low_pct": round(100.0 * (float(raw.series["index"].min()) / float(raw.series["index"][0]) - 1), 3),
        }
        note(f"{model} {n:,}: {total:.3f} s")
    return out


def per_venue(duration_s, repeats):
    import sim

    times = {}
    for name in ("top4", "binance_index"):
        scn = sim.load_scenario(
            None,
            overrides={
                "population.n_positions": 100,
                "population.open_interest_usd": 1e6,
                "shock.kind": "none",
                "scenario.duration_s": duration_s,
                "prices.model": "endogenous",
                "prices.constituents": name,
                "book.noise_rate_per_s": 0.0,
                "output.sample_interval_s": 3600.0,  # hourly: the cost measured is the venues' ticks, not the samples
            },
        )
        times[name] = best_run(scn, repeats)[2]
        note(f"{name}: {times[name]:.3f} s for {duration_s:g} simulated s")
    per = (times["binance_index"] - times["top4"]) / 3.0 / duration_s
    return {
        "duration_s": duration_s,
        "simulate_s_4_venues": round(times["top4"], 4),
        "simulate_s_7_venues": round(times["binance_index"], 4),
        "us_per_venue_per_simulated_s": round(per * 1e6, 3),
        # everything an oracle tick does with 7 venues and no trading: an upper bound of what a venue costs x 7
        "us_per_simulated_s_7_venues": round(times["binance_index"] / duration_s * 1e6, 3),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k positions instead of 1M")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    import sim

    note("compiling or loading the kernels")
    sim.warmup()
    n = 100_000 if args.quick else 1_000_000
    doc = {"crash": {"n_positions": n, **crash(n, args.repeats)}, "per_venue": per_venue(86_400.0, args.repeats)}
    if n == 1_000_000:  # the targets: the default 1M crash warm, population build included
        doc["targets"] = {
            f"{model}_total_le_{limit}_s": doc["crash"][model]["total_s"] <= limit for model, limit in TARGETS_S.items()
        }
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
