"""Wall time of ``liqsim run`` (the default scenario) as a user sees it, with the compiled code cached.

    python benchmarks/bench_cli.py

Runs the ``liqsim`` command installed in the environment of the Python running this script (``pip install -e
.`` puts it next to that Python), as ``liqsim run --out DIR``, once as a warm-up (it compiles the kernels if the
on-disk cache is empty or stale, and fills the OS file cache), then times ``--repeats`` more runs, each a fresh
process writing to a fresh temporary folder. The figure is the median wall time of those, process start-up, the
entry point, imports, cache loading, the run, the files and the picture included. Prints one JSON document on
stdout.
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


def note(msg):
    print(f"[bench_cli] {msg}", file=sys.stderr, flush=True)


def liqsim_command():
    """The ``liqsim`` script of this Python's environment (not whichever is first on PATH)."""
    found = shutil.which("liqsim", path=str(Path(sys.executable).parent))
    if found is None:
        raise SystemExit(
            f"bench_cli: no liqsim command next to {sys.executable}; install the project into this "
            "environment first (pip install -e .)"
        )
    return found


def run_once(out, extra):
    env = dict(os.environ)
    env.pop("LIQSIM_NO_CACHE", None)
    env.pop("LIQSIM_DISABLE_JIT", None)
    cmd = [liqsim_command(), "run", "--out", str(out), *extra]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"{' '.join(cmd[1:])} failed with exit status {proc.returncode}")
    return dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-plot", action="store_true", help="also pass --no-plot (the default draws cascade.png)")
    a = ap.parse_args(argv)
    extra = ["--no-plot"] if a.no_plot else []

    tmp = tempfile.mkdtemp(prefix="liqsim-bench-cli-")
    try:
        note("warm-up run (compiles and caches the kernels if needed)")
        first = run_once(Path(tmp) / "warmup", extra)
        times = []
        for k in range(a.repeats):
            times.append(run_once(Path(tmp) / f"run{k}", extra))
            note(f"run {k + 1}: {times[-1]:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = float(statistics.median(times))
    print(
        json.dumps(
            {
                "command": "liqsim run --out DIR" + (" --no-plot" if a.no_plot else ""),
                "warmup_run_s": first,
                "cli_second_run_s": med,
                "all_s": times,
                "target_under_3s": med < 3.0,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
