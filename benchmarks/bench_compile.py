"""Compile time of the kernels: a cold ``sim.warmup()`` and a process start with the kernels cached.

    python benchmarks/bench_compile.py                  # 3 cold processes, 5 cached starts
    python benchmarks/bench_compile.py --repeats 1 --warm-repeats 3

Prints one JSON document on stdout; progress notes go to stderr. Every measurement runs in its own fresh Python
subprocess (this script re-invoked with ``--child``). Each cold process gets a new, empty Numba cache directory
(``NUMBA_CACHE_DIR``), so it compiles every kernel and writes it to disk, as a first ``liqsim warmup`` does; the
cached starts all use the directory the first cold process filled. Every directory is temporary and deleted at the
end: the repository's own cache is neither used nor touched. See benchmarks/README.md for what every figure means.
"""

import argparse
import inspect
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

TARGET_COLD_S = 30.0


def note(msg):
    print(f"[bench_compile] {msg}", file=sys.stderr, flush=True)


def median(xs):
    return float(statistics.median(xs))


def spread(xs):
    return {"median": median(xs), "min": float(min(xs)), "max": float(max(xs)), "all": [float(x) for x in xs]}


# ------------------------------------------------------------------------------------------ children


def child_warmup():
    """``import sim`` and ``sim.warmup()``, with the kernels reported as they compile.

    Checkouts older than ``sim._compile`` (to compare before and after) are measured the same way, counting
    Numba's compile events of ``sim.kernels`` functions directly; their per-kernel expectations are left null."""
    t0 = time.perf_counter()
    import sim

    t1 = time.perf_counter()
    c1 = time.process_time()
    reports = []

    def progress(done, total, name):
        reports.append((time.perf_counter() - t1, done, total, name))

    if "progress" in inspect.signature(sim.warmup).parameters:
        from sim import _compile, _jit

        res = sim.warmup(progress=progress)
    else:
        from numba.core import event

        class Count(event.Listener):
            done = 0

            def on_start(self, ev):
                pass

            def on_end(self, ev):
                fn = ev.data["dispatcher"].py_func
                if fn.__module__.startswith("sim.kernels"):
                    Count.done += 1
                    progress(Count.done, None, f"{fn.__module__}.{fn.__qualname__}")

        _compile = _jit = None  # an older checkout
        with event.install_listener("numba:compile", Count()):
            res = sim.warmup()
    t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "warmup_s": t2 - t1,
        "warmup_cpu_s": time.process_time() - c1,
        "compile_s": res.timings.get("compile_s"),
        "kernels_compiled": reports[-1][1] if reports else 0,
        "kernels_expected": reports[0][2] if reports else 0,
        "kernels_registered": len(_jit.KERNELS) if _jit else None,
        "first_report_s": reports[0][0] if reports else None,
        "longest_silence_s": max(b[0] - a[0] for a, b in zip(reports, reports[1:])) if len(reports) > 1 else None,
        "compiled": sorted({r[3].rsplit(".", 1)[-1] for r in reports}),
        "left_to_compile": _compile.pending() if _compile else None,
    }


# ------------------------------------------------------------------------------------------ parent


def spawn(cache_dir, timeout=3600, helper=True):
    env = dict(os.environ)
    env["LIQSIM_COMPILE_HELPER"] = "1" if helper else "0"
    for name in ("LIQSIM_NO_CACHE", "LIQSIM_DISABLE_JIT", "NUMBA_DISABLE_JIT"):
        env.pop(name, None)
    env["NUMBA_CACHE_DIR"] = cache_dir
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout)
    process_s = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"child failed with exit status {proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_s"] = process_s
    return out


def _load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="cold processes, each with an empty cache (median)")
    ap.add_argument("--warm-repeats", type=int, default=5, help="processes started with the cache filled (median)")
    ap.add_argument(
        "--alone-repeats", type=int, default=1, help="cold processes compiling without the helper process (median)"
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        print(json.dumps(child_warmup()))
        return 0

    import numba
    import numpy

    import sim

    doc = {
        "python": sys.version.split()[0],
        "numba": numba.__version__,
        "numpy": numpy.__version__,
        "liqsim": sim.__version__,
        "cpu_count": os.cpu_count(),
        "load_average_start": _load(),
        "repeats": a.repeats,
        "warm_repeats": a.warm_repeats,
    }
    base = tempfile.mkdtemp(prefix="liqsim-bench-compile-")
    try:
        cold = []
        for k in range(a.repeats):
            cache = os.path.join(base, f"cold-{k}")
            os.makedirs(cache)
            note(f"cold {k + 1}/{a.repeats}: fresh process, empty cache")
            r = spawn(cache)
            note(
                f"  warmup {r['warmup_s']:.1f} s ({r['warmup_cpu_s']:.1f} s CPU), "
                f"{r['kernels_compiled']}/{r['kernels_expected']} kernels, first report after {r['first_report_s']} s"
            )
            cold.append(r)
            if k > 0:
                shutil.rmtree(cache, ignore_errors=True)  # the first one stays for the cached starts
        alone = []
        for k in range(a.alone_repeats):
            cache = os.path.join(base, f"alone-{k}")
            os.makedirs(cache)
            note(f"cold without the helper {k + 1}/{a.alone_repeats}: one process compiles everything")
            r = spawn(cache, helper=False)
            note(f"  warmup {r['warmup_s']:.1f} s ({r['warmup_cpu_s']:.1f} s CPU)")
            alone.append(r)
            shutil.rmtree(cache, ignore_errors=True)
        warm = []
        for k in range(a.warm_repeats):
            note(f"cached start {k + 1}/{a.warm_repeats}")
            r = spawn(os.path.join(base, "cold-0"))
            note(f"  process {r['process_s']:.2f} s (import {r['import_s']:.2f} s, warmup {r['warmup_s']:.2f} s)")
            warm.append(r)

        first = cold[0]
        doc["cold_warmup_s"] = median([r["warmup_s"] for r in cold])
        doc["cold"] = {
            "warmup_s": spread([r["warmup_s"] for r in cold]),
            "warmup_cpu_s": spread([r["warmup_cpu_s"] for r in cold]),
            "process_s": spread([r["process_s"] for r in cold]),
            "import_s": spread([r["import_s"] for r in cold]),
            "first_report_s": [r["first_report_s"] for r in cold],
            "longest_silence_s": [r["longest_silence_s"] for r in cold],
        }
        if alone:
            doc["cold_without_helper"] = {
                "warmup_s": spread([r["warmup_s"] for r in alone]),
                "kernels_compiled": [r["kernels_compiled"] for r in alone],
            }
        doc["kernels_compiled"] = first["kernels_compiled"]
        doc["kernels_expected"] = first["kernels_expected"]
        doc["kernels_registered"] = first["kernels_registered"]
        doc["kernels"] = first["compiled"]
        doc["cold_left_to_compile"] = first["left_to_compile"]
        doc["warm_start_s"] = median([r["process_s"] for r in warm])
        doc["warm"] = {
            "process_s": spread([r["process_s"] for r in warm]),
            "import_s": spread([r["import_s"] for r in warm]),
            "warmup_s": spread([r["warmup_s"] for r in warm]),
            "kernels_compiled": [r["kernels_compiled"] for r in warm],
        }
        doc["load_average_end"] = _load()
        doc["targets"] = {
            "cold_warmup_under_30s": doc["cold_warmup_s"] < TARGET_COLD_S,
            "cold_reports_every_kernel": all(
                r["kernels_compiled"] == r["kernels_expected"] and not r["left_to_compile"] for r in cold
            ),
            "warm_start_compiles_nothing": all(r["kernels_compiled"] == 0 for r in warm),
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
