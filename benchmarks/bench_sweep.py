"""Sweep throughput: runs per second (and per second per core) of ``liqsim sweep``, and its scaling with workers.

    python benchmarks/bench_sweep.py                      # 90 runs of 100k positions: serial, local 1..cores, dask
    python benchmarks/bench_sweep.py --positions 20000 --seeds 4
    python benchmarks/bench_sweep.py --workers 1,2 --executors local

Prints one JSON document on stdout; progress notes go to stderr. The sweep is the shipped severity study's
shape, smaller: shock.size_pct [-4, -8, -12] x the three named leverage mixes x ``--seeds`` seeds, on the default
scenario with ``population.n_positions`` set. Every measurement is a whole ``sim.studies.sweep.run_sweep`` into a fresh
folder, as a user would run it: the local executor's wall time includes starting its worker processes (spawn,
import, loading the compiled kernels), the Dask one's starting a local cluster. The kernels are compiled once up
front into a temporary Numba cache shared by every worker and deleted at the end, so the user's own kernel cache
is neither used nor touched. See benchmarks/README.md for what every figure means.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHOCKS = [-4.0, -8.0, -12.0]
MIXES = ["conservative", "balanced", "degen"]


def note(msg):
    print(f"[bench_sweep] {msg}", file=sys.stderr, flush=True)


def measure(executor, workers, positions, seeds, repeats, scratch):
    """Median wall time of the sweep over ``repeats`` fresh folders, with the per-run times inside the workers."""
    from sim.studies.sweep import run_sweep

    walls, tables = [], []
    for i in range(repeats):
        out = Path(scratch) / f"{executor}-{workers}-{i}"
        t0 = time.perf_counter()
        table = run_sweep(
            None,
            {"shock.size_pct": SHOCKS, "population.leverage_mix": MIXES},
            seeds,
            out,
            executor=executor,
            workers=workers,
            overrides={"population.n_positions": positions, "scenario.duration_s": 240.0, "shock.start_s": 30.0},
        )
        walls.append(time.perf_counter() - t0)
        tables.append(table)
        shutil.rmtree(out)
        if (table["status"] != "ok").any():
            raise RuntimeError(f"{executor} x {workers}: runs failed: {table['error'].dropna().unique()[:3]}")
    runs, wall, k = len(tables[0]), statistics.median(walls), workers or 1
    in_worker = float(tables[0]["runtime_s"].sum())
    return {
        "executor": executor,
        "workers": k,
        "runs": runs,
        "wall_s": wall,
        "all_s": walls,
        "runs_per_s": runs / wall,
        "runs_per_s_per_core": runs / wall / k,
        "mean_run_s": in_worker / runs,  # one run's wall time inside its worker, first repetition
        "overhead_s": wall - in_worker / k,  # what the wall time holds beyond the runs themselves, shared evenly
    }, tables[0]


def same_numbers(a, b):
    """Whether two sweeps' tables hold the same runs and metrics (every column but the run times)."""
    cols = [c for c in a.columns if c != "runtime_s"]
    return a[cols].equals(b[cols])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--positions", type=int, default=100_000, help="positions per run (default 100000)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds per combination (default 10: 90 runs)")
    ap.add_argument("--workers", help="comma-separated worker counts for the local executor (default 1..cores)")
    ap.add_argument("--executors", default="serial,local,dask", help="which executors (default serial,local,dask)")
    ap.add_argument("--repeats", type=int, default=2, help="sweeps per figure (median reported)")
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    counts = [int(w) for w in args.workers.split(",")] if args.workers else list(range(1, cores + 1))
    executors = [e for e in args.executors.split(",") if e]

    scratch = tempfile.mkdtemp(prefix="liqsim-bench-sweep-")
    os.environ["NUMBA_CACHE_DIR"] = str(Path(scratch) / "numba")  # before sim is imported; workers inherit it
    os.environ.pop("LIQSIM_NO_CACHE", None)
    try:
        import sim

        t0 = time.perf_counter()
        sim.warmup()
        compile_s = time.perf_counter() - t0
        note(
            f"compiled in {compile_s:.1f} s; {len(SHOCKS) * len(MIXES) * args.seeds} runs of "
            f"{args.positions:,} positions per sweep"
        )
        results, tables = [], {}
        plan = (
            ([("serial", None)] if "serial" in executors else [])
            + ([("local", k) for k in counts] if "local" in executors else [])
            + ([("dask", max(counts))] if "dask" in executors else [])
        )
        for executor, k in plan:
            row, table = measure(executor, k, args.positions, args.seeds, args.repeats, scratch)
            results.append(row)
            tables[(executor, row["workers"])] = table
            note(
                f"{executor} x {row['workers']}: {row['wall_s']:.2f} s, {row['runs_per_s']:.1f} runs/s, "
                f"{row['runs_per_s_per_core']:.1f} runs/s/core, one run {row['mean_run_s'] * 1e3:.0f} ms inside "
                f"its worker, overhead {row['overhead_s']:.2f} s"
            )
        one = next((r for r in results if r["executor"] == "local" and r["workers"] == 1), None)
        for row in results:
            if one is not None and row["executor"] != "serial":
                row["speedup_vs_1_worker"] = one["wall_s"] / row["wall_s"]
                row["efficiency"] = row["speedup_vs_1_worker"] / row["workers"]
        first = next(iter(tables.values()))
        doc = {
            "machine": {"cores": cores, "python": sys.version.split()[0]},
            "sweep": {
                "positions": args.positions,
                "shocks": SHOCKS,
                "mixes": MIXES,
                "seeds": args.seeds,
                "runs": len(first),
                "repeats": args.repeats,
            },
            "compile_s": compile_s,
            "results": results,
            "identical_across_executors": all(same_numbers(first, t) for t in tables.values()),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
