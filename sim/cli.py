"""The ``liqsim`` command line; the only module that prints.

    liqsim run [FILE] [--set dotted.key=value ...] [--seed N] [--out DIR] [--no-plot] [--accounts] [--quiet]
    liqsim validate FILE [--set ...]
    liqsim warmup

Bad input (a missing or malformed file, an unknown key, a wrong or out-of-range value, a bad CSV)
ends with exit status 2 and one message per problem naming the file, the dotted key, the bad value
and what is allowed; nothing is written.
"""

import argparse
import sys
import time

from sim.errors import ScenarioError


def _parser():
    parser = argparse.ArgumentParser(prog="liqsim", description="Liquidation-cascade simulator for crypto perpetual futures.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_overrides(p):
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a scenario key, e.g. --set population.n_positions=200000 (repeatable)")

    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("file", nargs="?", help="scenario TOML (default: the built-in btc_flash_crash)")
    add_overrides(run)
    run.add_argument("--seed", type=_non_negative_int, help="random seed (overrides scenario.seed)")
    run.add_argument("--out", help="output folder (default: output.dir, or runs/<scenario name>)")
    run.add_argument("--no-plot", action="store_true", help="do not draw cascade.png")
    run.add_argument("--accounts", action="store_true", help="also write accounts.csv (one row per account)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    val = sub.add_parser("validate", help="check a scenario file and report every problem")
    val.add_argument("file")
    add_overrides(val)

    sub.add_parser("warmup", help="compile the kernels once so later runs start fast")
    return parser


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed = {text!r}: must be a whole number ≥ 0") from None
    if value < 0 or value >= 2**63:
        raise argparse.ArgumentTypeError(f"--seed = {text!r}: must be a whole number in [0, 2**63)")
    return value


def _overrides(pairs, seed=None):
    out, problems = {}, []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(f"--set {pair!r}: expected dotted.key=value, e.g. population.n_positions=200000")
            continue
        out[key.strip()] = value
    if problems:
        raise ScenarioError(problems)
    if seed is not None:
        out["scenario.seed"] = seed
    return out


class _Progress:
    """A one-line progress bar with ETA on a terminal; silent otherwise."""

    def __init__(self, stream, enabled):
        self.stream, self.enabled, self.t0 = stream, enabled, time.perf_counter()

    def __call__(self, fraction):
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / fraction * (1.0 - fraction) if fraction > 0 else 0.0
        bar = "#" * int(30 * fraction)
        self.stream.write(f"\r  simulating [{bar:<30}] {100 * fraction:5.1f}%  eta {eta:5.1f}s")
        self.stream.flush()
        if fraction >= 1.0:
            self.stream.write("\n")


def _first_compile():
    """True when no compiled kernel is cached yet (the next run will compile them)."""
    from pathlib import Path

    from sim._jit import CACHE_DIR

    return CACHE_DIR is not None and not any(Path(CACHE_DIR).rglob("*.nbi"))


def _money(x):
    return "n/a" if x is None else f"${x / 1e6:,.1f}M"


def _differs(a, b):
    """True when two dollar figures differ by more than the $0.1M the summary shows."""
    return a is not None and b is not None and abs(a - b) >= 5e4


def _pct(x):
    return "n/a" if x is None else f"{x:+.2f}%"


def _report(res, out):
    s = res.summary
    liq = s["liquidated_notional_usd"]
    fund = s["insurance_fund_usd"]
    amp = s["amplification"]
    lines = [
        f"liqsim: {res.scenario.scenario.name}: {s['n_positions']:,} positions, seed {res.seed}, {s['runtime_s']:.2f} s",
        f"  liquidated   {_money(liq['total'])} (long {_money(liq['long'])}, short {_money(liq['short'])}); "
        f"{s['liquidations']['full']:,} full, {s['liquidations']['partial']:,} partial, {s['waves']} wave(s)",
        f"  price        shock {_pct(s['exogenous_drawdown_pct'])}, last low {_pct(s['realized_drawdown_pct'])}"
        + (f" (amplification {amp:.2f}x)" if amp is not None else ""),
        f"  fund         {_money(fund['start'])} -> min {_money(fund['min'])} -> {_money(fund['end'])}"
        + (f" (at the final mark {_money(fund['end_marked'])})" if _differs(fund.get("end_marked"), fund["end"]) else "")
        + "; "
        f"ADL {s['adl']['count']:,} fills, {_money(s['adl']['notional_usd'])}; bad debt {_money(s['bad_debt_usd'])}",
        f"  written to   {out}",
    ]
    print("\n".join(lines))


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        if args.command == "warmup":
            import sim

            t0 = time.perf_counter()
            sim.warmup()
            print(f"liqsim: kernels compiled and cached in {time.perf_counter() - t0:.1f} s")
            return 0
        from sim.scenario import load_scenario

        scn = load_scenario(args.file, overrides=_overrides(args.overrides, getattr(args, "seed", None)))
        if args.command == "validate":
            print(f"liqsim: {args.file}: ok ({scn.scenario.name})")
            return 0
        from pathlib import Path

        from sim.engine import run

        from sim.result import check_output_folder

        out = Path(args.out or scn.output.dir or Path("runs") / scn.scenario.name)
        check_output_folder(out.resolve())  # refuse before spending the run, not after
        if not args.quiet and _first_compile():
            print("liqsim: compiling the engine (first run only, about 20 s; cached afterwards)", file=sys.stderr)
        res = run(scn, progress=_Progress(sys.stderr, not args.quiet and sys.stderr.isatty()))
        target = res.save(out, plot=scn.output.plot and not args.no_plot, accounts=args.accounts)
        if not args.quiet:
            _report(res, target)
        return 0
    except ScenarioError as err:
        for line in str(err).splitlines():
            print(f"liqsim: error: {line}", file=sys.stderr)
        return 2
    except OSError as err:  # the output could not be written (disk full, permissions changed mid-run)
        print(f"liqsim: error: {err.filename or ''}: cannot write the results: {err.strerror or err}", file=sys.stderr)
        return 2
