"""Wall time of a second ``liqsim run`` (the default scenario) as a user sees it, with the compiled code cached.

    python benchmarks/bench_cli.py                        # 7 runs with the picture, 7 without, alternated
    python benchmarks/bench_cli.py --repeats 5 --no-plot-runs 0
    python benchmarks/bench_cli.py --command liqsim       # the installed script instead of python -m sim

Runs ``python -m sim run --out DIR --quiet`` from the repository root, with the root first on ``PYTHONPATH`` so
that the code measured is this checkout's whichever one is installed (``--command liqsim``: the ``liqsim`` script
installed next to the Python running this, the same code behind the console entry point), once as a warm-up (it compiles the kernels if the on-disk cache is empty or
stale, and fills the OS file cache), then times ``--repeats`` more runs, each a fresh process writing to a fresh
temporary folder: interpreter start-up, imports, loading the cached kernels, the run, the files and the picture.
The same number of runs with ``--no-plot`` are alternated with them, so that the picture's share is measured on
the machine as it is at that moment. Prints one JSON document on stdout; see benchmarks/README.md.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 3.0


def note(msg):
    print(f"[bench_cli] {msg}", file=sys.stderr, flush=True)


def liqsim_command():
    """The ``liqsim`` script of this Python's environment (not whichever is first on PATH)."""
    found = shutil.which("liqsim", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(
            f"bench_cli: no liqsim command next to {sys.executable}; install the project into this "
            "environment first (pip install -e .), or use --command module"
        )
    return found


def command_line(command):
    return [liqsim_command()] if command == "liqsim" else [sys.executable, "-m", "sim"]


def run_once(base, out, extra):
    env = dict(os.environ)
    env.pop("LIQSIM_NO_CACHE", None)
    env.pop("LIQSIM_DISABLE_JIT", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    cmd = [*base, "run", "--out", str(out), "--quiet", *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"{' '.join(cmd[1:])} failed with exit status {proc.returncode}")
    return dt


def spread(times):
    return {"min_s": min(times), "median_s": float(statistics.median(times)), "all_s": times} if times else None


def machine():
    """CPU model and count, memory, and the versions that set the figures."""
    info = {"cpu_count": os.cpu_count(), "python": platform.python_version()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name"))
        mem = Path("/proc/meminfo").read_text().split()
        info["memory_gib"] = round(int(mem[mem.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    for name in ("numpy", "numba", "matplotlib"):
        try:
            from importlib.metadata import version

            info[name] = version(name)
        except Exception:  # noqa: BLE001 (a missing package only leaves its version out)
            pass
    return info


def load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed runs with the picture (default 7)")
    ap.add_argument(
        "--no-plot-runs", type=int, default=None, help="timed runs with --no-plot, alternated (default: --repeats)"
    )
    ap.add_argument("--command", choices=("module", "liqsim"), default="module")
    a = ap.parse_args(argv)
    base = command_line(a.command)
    bare = a.repeats if a.no_plot_runs is None else a.no_plot_runs

    tmp = tempfile.mkdtemp(prefix="liqsim-bench-cli-")
    load_start = load()
    try:
        note("warm-up run (compiles and caches the kernels if needed)")
        first = run_once(base, Path(tmp) / "warmup", [])
        plot, no_plot = [], []
        for k in range(max(a.repeats, bare)):
            if k < a.repeats:
                plot.append(run_once(base, Path(tmp) / f"plot{k}", []))
                note(f"run {k + 1}: {plot[-1]:.2f} s")
            if k < bare:
                no_plot.append(run_once(base, Path(tmp) / f"bare{k}", ["--no-plot"]))
                note(f"run {k + 1} --no-plot: {no_plot[-1]:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    with_plot, without = spread(plot), spread(no_plot)
    med = with_plot["median_s"] if with_plot else None
    print(
        json.dumps(
            {
                "command": " ".join(["liqsim" if a.command == "liqsim" else "python -m sim", "run --out DIR --quiet"]),
                "warmup_run_s": first,
                "cli_second_run_s": med,
                "cli_second_run_min_s": with_plot["min_s"] if with_plot else None,
                "all_s": plot,
                "no_plot": without,
                "picture_s": med - without["median_s"] if with_plot and without else None,
                "target_under_3s": med < TARGET_S if med is not None else None,
                "load_average": {"start": load_start, "end": load()},
                "machine": machine(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
