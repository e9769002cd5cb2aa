"""Throughput, memory, compile time and scaling of the cascade engine.

    python benchmarks/bench_cascade.py                 # 10k, 100k and 1M positions
    python benchmarks/bench_cascade.py --quick         # 10k and 100k only
    python benchmarks/bench_cascade.py --sizes 10000,100000
    python benchmarks/bench_cascade.py --venues binance,okx --policies none   # fewer rule variants

Prints one JSON document on stdout; progress notes go to stderr. Every measurement runs in its own
fresh Python subprocess (this script re-invoked with ``--child``), so compile time, cache start-up and
peak memory are per process and one size never warms up another. The children share one temporary
Numba cache directory (``NUMBA_CACHE_DIR``), populated once, so the repository's own cache is neither
used nor touched. See benchmarks/README.md for what every figure means.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
LIQ_KINDS = (0, 1, 2)  # sim.enums.LIQUIDATION, PARTIAL, TAKEOVER

# Behaviour switched on (the speed targets must hold with them): makers withdrawing alone; every behaviour on at
# typical shares (makers withdrawing, 10% of traders with stops, 10% who top up, funding on as by default: its next
# settlement, half an interval away, falls after the 5-minute run); the same with a funding settlement in the
# middle of the crash (it re-prices every position and rebuilds the index); a stress mix (30% stops, which cascade
# into ~150,000 stop orders within a second, 20% top-ups, the settlement). The target is on the first three; the
# stress mix shows what the extra work costs.
ALL_ON = {"book.withdrawal": True, "stops.share": 0.1, "topups.share": 0.1}
SETTLEMENT_MID_CRASH = {"market.time_to_funding_s": 120.0}
BEHAVIOURS = {
    "withdrawal": {"book.withdrawal": True},
    "all_on": ALL_ON,
    "all_on_settlement": {**ALL_ON, **SETTLEMENT_MID_CRASH},
    "stress": {"book.withdrawal": True, "stops.share": 0.3, "topups.share": 0.2, **SETTLEMENT_MID_CRASH},
    # positions opening during the run (docs/model.md §5.4): at the calibrated rate (0.25% of traders an hour, a few
    # hundred candidates in 5 minutes at 1M), and at 100% an hour (~83,000 arrivals and ~200,000 candidates in 5
    # minutes, 3x for longs in the crash), which shows what an arrival costs: its rows, its order, a heap insertion
    "arrivals": {"arrivals.rate_pct_per_h": 0.25},
    "arrivals_heavy": {"arrivals.rate_pct_per_h": 100.0},
}
TARGET_BEHAVIOURS = ("withdrawal", "all_on", "all_on_settlement")


def note(msg):
    print(f"[bench_cascade] {msg}", file=sys.stderr, flush=True)


def median(xs):
    return float(statistics.median(xs))


# ------------------------------------------------------------------------------------------ children


def _peak_rss_mb():
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return kb / 1024.0


def _scenario(n, **extra):
    import sim

    overrides = {"population.n_positions": n}
    overrides.update(extra)
    return sim.load_scenario(None, overrides=overrides)


def _events(inp):
    """Events the loop pops in a run, counted from the inputs (docs/engine.md §6).

    ORACLE, UNWIND and SAMPLE run at t = 0 and every interval up to ``duration``; NOISE once per
    background order with ``t <= duration``; ARRIVAL once per arrival candidate. Liquidation orders are work inside ORACLE events, not
    events of their own (they are counted separately as ``liquidations``).
    """
    import numpy as np

    d = int(inp.duration)
    oracle = d // inp.oracle_interval + 1
    noise = int(np.count_nonzero(np.asarray(inp.noise_t) <= d))
    unwind = d // inp.unwind_interval + 1
    samples = d // inp.sample_interval + 1
    arrivals = int(np.count_nonzero(np.asarray(inp.arr_t) <= d))  # ARRIVAL: once per candidate
    return {
        "oracle": oracle,
        "noise": noise,
        "unwind": unwind,
        "samples": samples,
        "arrivals": arrivals,
        "total": oracle + noise + unwind + samples + arrivals,
    }


def _liquidations(raw_fills):
    import numpy as np

    return int(np.isin(raw_fills["kind"], LIQ_KINDS).sum())


def child_compile():
    """Time ``import sim`` and a first ``sim.warmup()`` (cache on or off is set by the parent)."""
    t0 = time.perf_counter()
    import sim

    t1 = time.perf_counter()
    sim.warmup()
    t2 = time.perf_counter()
    return {"import_s": t1 - t0, "warmup_s": t2 - t1}


def child_size(n, repeats, extra=None):
    """One size of the default flash crash (with ``extra`` overrides, e.g. another venue's rules):
    build, engine run, full run, memory."""
    import sim
    from sim.engine import prepare, simulate

    sim.warmup()
    scn = _scenario(n, **(extra or {}))
    sim.run(scn)  # warm-up run at this size (page faults, allocator, caches)

    # Each repetition first lets go of the previous one's arrays, as a session running one scenario after another
    # does: the figure is then the run's own work, not the cost of fresh memory while two runs' arrays are alive
    # (first touches of new pages are slow and erratic on virtual machines).
    build, inp = [], None
    for _ in range(repeats):
        inp = None
        t = time.perf_counter()
        inp = prepare(scn)
        build.append(time.perf_counter() - t)

    run, raw = [], None
    for _ in range(repeats):
        raw = None
        t = time.perf_counter()
        raw = simulate(inp)
        run.append(time.perf_counter() - t)
    ev = _events(inp)
    liq = _liquidations(raw.fills)
    arrived = int(raw.behaviour.get("arrivals", 0))
    candidates = int(inp.arr_t.size)
    n_fills = int(raw.fills.size)
    inp = raw = None

    total, parts, res = [], {"prepare_s": [], "simulate_s": [], "wrap_and_summary_s": []}, None
    for _ in range(repeats):
        res = None
        t = time.perf_counter()
        res = sim.run(scn)
        dt = time.perf_counter() - t
        total.append(dt)
        parts["prepare_s"].append(res.timings["prepare_s"])
        parts["simulate_s"].append(res.timings["simulate_s"])
        parts["wrap_and_summary_s"].append(dt - res.timings["total_s"])

    run_s = median(run)
    return {
        "n_positions": n,
        "build_s": median(build),
        "run_s": run_s,
        "total_s": median(total),
        "total_parts_s": {k: median(v) for k, v in parts.items()},
        "events": ev["total"],
        "events_detail": ev,
        "events_per_s": ev["total"] / run_s,
        "fills": n_fills,
        "liquidations": liq,
        "liquidations_per_s": liq / run_s,
        "arrivals": arrived,
        "arrival_candidates": candidates,
        "peak_rss_mb": _peak_rss_mb(),
        "all_s": {"build_s": build, "run_s": run, "total_s": total},
    }


def child_scaling(n, n_small, repeats):
    """Engine run time of calm vs crash, and of the crash over 600 s vs 1800 s.

    Calm and crash at ``n`` positions; the 600 s / 1800 s pair at ``n`` and at ``n_small``, so the
    cost of one extra oracle tick can be compared across population sizes.
    """
    import sim
    from sim import engine

    sim.warmup()
    cases = [
        ("calm", n, {"shock.kind": "none"}),
        ("crash", n, {}),
        ("crash_600s", n, {"scenario.duration_s": 600.0}),
        ("crash_1800s", n, {"scenario.duration_s": 1800.0}),
        ("small_crash_600s", n_small, {"scenario.duration_s": 600.0}),
        ("small_crash_1800s", n_small, {"scenario.duration_s": 1800.0}),
    ]
    try:  # only used to time the O(n) set-up
        from sim.allocate import allocate
    except ImportError:  # a checkout from before sim.allocate
        allocate = getattr(engine, "_allocate", None)
    out = {}
    for name, size, extra in cases:
        inp = raw = None  # the previous case's arrays go first (see child_size)
        inp = engine.prepare(_scenario(size, **extra))
        raw = engine.simulate(inp)  # warm-up
        liquidations = _liquidations(raw.fills)
        times, setup = [], []
        for _ in range(repeats):
            raw = None
            t = time.perf_counter()
            raw = engine.simulate(inp)
            times.append(time.perf_counter() - t)
            if allocate is not None:
                raw = None
                t = time.perf_counter()
                allocate(inp)
                setup.append(time.perf_counter() - t)
        out[name] = {
            "n_positions": size,
            "run_s": median(times),
            "setup_s": median(setup) if setup else None,
            "liquidations": liquidations,
            "oracle_ticks": _events(inp)["oracle"],
            "all_s": times,
        }
        note(f"  scaling {name} ({size:,}): run_s {out[name]['run_s']:.3f}, liquidations {out[name]['liquidations']}")
    return out


# ------------------------------------------------------------------------------------------ parent


def spawn(args, env_extra, timeout=3600):
    env = dict(os.environ)
    env.pop("LIQSIM_NO_CACHE", None)
    env.pop("LIQSIM_DISABLE_JIT", None)
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(args)]
    proc = subprocess.run(cmd, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", help="comma-separated position counts (default 10000,100000,1000000)")
    ap.add_argument("--quick", action="store_true", help="10k and 100k only, one compile measurement")
    ap.add_argument("--repeats", type=int, default=3, help="timed repetitions per figure (median reported)")
    ap.add_argument(
        "--compile-repeats",
        type=int,
        default=None,
        help="fresh processes for compile_s and cached_start_s (default 3, 1 with --quick)",
    )
    ap.add_argument("--no-scaling", action="store_true", help="skip the scaling section")
    ap.add_argument(
        "--venues",
        default="binance,bybit,okx,hyperliquid",
        help="venue rule packs timed at the largest size ('none' to skip)",
    )
    ap.add_argument(
        "--policies",
        default="pro_rata,leverage_drain",
        help="ADL policies timed at the largest size on the default venue ('none' to skip)",
    )
    ap.add_argument(
        "--behaviours",
        default=",".join(BEHAVIOURS),
        help="trader-behaviour settings timed at the largest size ('none' to skip): "
        + ", ".join(f"{k} = {v}" for k, v in BEHAVIOURS.items()),
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        spec = json.loads(a.child)
        what = spec.pop("what")
        fn = {"compile": child_compile, "size": child_size, "scaling": child_scaling}[what]
        print(json.dumps(fn(**spec)))
        return 0

    if a.sizes:
        sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    elif a.quick:
        sizes = list(QUICK_SIZES)
    else:
        sizes = list(DEFAULT_SIZES)
    compile_repeats = a.compile_repeats or (1 if a.quick else 3)

    import numba
    import numpy

    import sim

    cache_dir = tempfile.mkdtemp(prefix="liqsim-bench-cache-")
    cache_env = {"NUMBA_CACHE_DIR": cache_dir}
    doc = {
        "python": sys.version.split()[0],
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "liqsim": sim.__version__,
        "cpu_count": os.cpu_count(),
        "repeats": a.repeats,
    }
    try:
        note(f"compile: {compile_repeats} fresh process(es) with LIQSIM_NO_CACHE=1")
        cold = [spawn({"what": "compile"}, {"LIQSIM_NO_CACHE": "1", **cache_env}) for _ in range(compile_repeats)]
        doc["compile_s"] = median([c["warmup_s"] for c in cold])
        doc["import_s"] = median([c["import_s"] for c in cold])

        note("populating the Numba cache")
        populate = spawn({"what": "compile"}, cache_env)
        note(f"cached start: {compile_repeats} fresh process(es) with the populated cache")
        warm = [spawn({"what": "compile"}, cache_env) for _ in range(compile_repeats)]
        doc["cached_start_s"] = median([c["warmup_s"] for c in warm])
        doc["compile_detail"] = {
            "no_cache_warmup_s": [c["warmup_s"] for c in cold],
            "populate_warmup_s": populate["warmup_s"],
            "cached_warmup_s": [c["warmup_s"] for c in warm],
        }

        doc["sizes"] = {}
        for n in sizes:
            note(f"size {n:,}: fresh process")
            r = spawn({"what": "size", "n": n, "repeats": a.repeats}, cache_env)
            note(
                f"  build {r['build_s']:.3f} s, run {r['run_s']:.3f} s, total {r['total_s']:.3f} s, "
                f"{r['liquidations']} liquidations, peak RSS {r['peak_rss_mb']:.0f} MB"
            )
            doc["sizes"][str(n)] = r

        big = max(sizes)
        variants = [(f"venue:{v}", {"market.venue": v}) for v in a.venues.split(",") if v and a.venues != "none"]
        variants += [
            (f"adl_policy:{x}", {"adl.policy": x}) for x in a.policies.split(",") if x and a.policies != "none"
        ]
        variants += [(f"behaviour:{x}", BEHAVIOURS[x]) for x in a.behaviours.split(",") if x and a.behaviours != "none"]
        doc["rule_variants"] = {"n_positions": big}
        for label, extra in variants:
            note(f"{label} at {big:,}: fresh process")
            r = spawn({"what": "size", "n": big, "repeats": a.repeats, "extra": extra}, cache_env)
            note(
                f"  run {r['run_s']:.3f} s, total {r['total_s']:.3f} s, {r['liquidations']} liquidations, "
                f"{r['fills']} fills, peak RSS {r['peak_rss_mb']:.0f} MB"
            )
            doc["rule_variants"][label] = {
                k: r[k]
                for k in (
                    "build_s",
                    "run_s",
                    "total_s",
                    "fills",
                    "liquidations",
                    "liquidations_per_s",
                    "arrivals",
                    "arrival_candidates",
                    "peak_rss_mb",
                )
            }

        if not a.no_scaling:
            n, n_small = max(sizes), min(min(sizes), 10_000)
            note(f"scaling at {n:,} (and {n_small:,}) positions: fresh process")
            sc = spawn({"what": "scaling", "n": n, "n_small": n_small, "repeats": a.repeats}, cache_env)
            calm, crash = sc["calm"]["run_s"], sc["crash"]["run_s"]
            setup = sc["calm"]["setup_s"]

            def per_tick_us(short, long_):
                extra = sc[long_]["oracle_ticks"] - sc[short]["oracle_ticks"]
                return 1e6 * (sc[long_]["run_s"] - sc[short]["run_s"]) / extra

            short, long_ = sc["crash_600s"]["run_s"], sc["crash_1800s"]["run_s"]
            tick_big = per_tick_us("crash_600s", "crash_1800s")
            tick_small = per_tick_us("small_crash_600s", "small_crash_1800s")
            doc["scaling"] = {
                "n_positions": n,
                "calm_run_s": calm,
                "crash_run_s": crash,
                "calm_over_crash": calm / crash,
                "setup_s": setup,
                "calm_over_crash_after_setup": (calm - setup) / (crash - setup) if setup is not None else None,
                "crash_600s_run_s": short,
                "crash_1800s_run_s": long_,
                "steps_ratio": sc["crash_1800s"]["oracle_ticks"] / sc["crash_600s"]["oracle_ticks"],
                "time_ratio_1800s_over_600s": long_ / short,
                "extra_liquidations_1800s_vs_600s": sc["crash_1800s"]["liquidations"]
                - sc["crash_600s"]["liquidations"],
                "us_per_extra_oracle_tick": tick_big,
                "n_positions_small": n_small,
                "us_per_extra_oracle_tick_small": tick_small,
                "detail": sc,
                # a calm run (nothing to liquidate) costs well under half a crash
                "calm_far_below_crash": calm < 0.5 * crash,
                # 3x the steps with (almost) nothing liquidated in the extra time: well under 2x the time
                "steps_not_multiplying_cost": long_ / short < 2.0,
                # an idle oracle tick costs about the same at n and at n_small positions
                "tick_cost_independent_of_n": tick_big < 3.0 * max(tick_small, 1.0),
            }

        one_m = doc["sizes"].get(str(1_000_000))
        doc["targets"] = {"one_million_under_1s": (one_m["total_s"] < 1.0) if one_m else None}
        if one_m:
            worst = max(
                [one_m["total_s"]]
                + [
                    v["total_s"]
                    for k, v in doc["rule_variants"].items()
                    if isinstance(v, dict) and not k.startswith("behaviour:")
                ]
            )
            doc["targets"]["one_million_under_1s_every_rule_variant"] = worst < 1.0
            behaviour = [
                v["total_s"]
                for k, v in doc["rule_variants"].items()
                if k.removeprefix("behaviour:") in TARGET_BEHAVIOURS
            ]
            if behaviour:
                doc["targets"]["one_million_under_1s_with_behaviour_on"] = max(behaviour) < 1.0
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
