"""The ``liqsim`` command line; the only module that prints.

    liqsim run [FILE] [--set dotted.key=value ...] [--seed N] [--out DIR] [--no-plot] [--accounts] [--quiet]
    liqsim validate FILE [--set ...]
    liqsim warmup
    liqsim calc --venue V --side long|short --entry PRICE [--size QTY] (--leverage L | --margin USD)
                [--mode isolated|cross] [--wallet USD] [--other-mm USD] [--other-upnl USD]
                [--mmr PCT] [--cum USD] [--max-leverage L] [--asset BTC|ETH|SOL|ALT] [--version DATE] [--json]
    liqsim calc --venue V --position COIN,SIDE,SIZE,ENTRY [--position ...] [--wallet USD] [--mark COIN=PRICE ...]
                [--collateral ASSET=AMOUNT ...] [--price ASSET=PRICE ...]
                [--method cross|okx|hyperliquid|dydx] [--version DATE] [--json]
    liqsim venues [--verbose] [--json]
    liqsim compare FILE [--venues binance,bybit,okx,hyperliquid,dydx] [--policies venue_queue,pro_rata,leverage_drain]
                   [--set dotted.key=value ...] [--seed N] [--out DIR] [--no-plot] [--quiet]
    liqsim sweep [FILE] [--grid dotted.key=[v1,v2,...] ...] [--seeds N] [--out DIR] [--executor local|dask|serial]
                 [--scheduler ADDRESS] [--workers K] [--set dotted.key=value ...] [--quiet]

``compare`` runs one scenario once per venue and ADL policy on the same seed (default: the four venues
under the scenario's own policy) and writes comparison.csv, comparison.json and comparison.png.
``sweep`` runs every combination of the grid's values once per seed, in parallel, and writes one table
(results.parquet, results.csv); rerun into the same folder, it resumes (see :mod:`sim.studies.sweep`).

Bad input (a missing or malformed file, an unknown key, a wrong or out-of-range value, a bad CSV, a
bad flag) ends with exit status 2 and one message per problem, prefixed ``liqsim: error:``, naming the
file, the dotted key or the flag, the bad value and what is allowed; nothing is written. So does an output
folder that liqsim cannot prove it wrote, or that another liqsim is writing (see :mod:`sim.outputs`), checked
before anything runs. Ctrl-C ends a command with exit status 130 and SIGTERM with 143, one line on stderr and no
half-written output; a closed stdout (``liqsim venues | head``) ends it quietly with 141, as SIGPIPE would.
"""

import argparse
import contextlib
import gc
import json
import os
import re
import signal
import sys
import time

from sim._version import __version__
from sim.errors import ScenarioError, shown


class _Parser(argparse.ArgumentParser):
    """argparse, with liqsim's error format: one line, ``liqsim: error: ...``, exit status 2, no usage dump."""

    def error(self, message):
        # "argument --seed: --seed = '-4': ..." names the flag twice; keep the second
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"liqsim: error: {message} (see {self.prog} --help)\n")


def _parser():
    parser = _Parser(prog="liqsim", description="Liquidation-cascade simulator for crypto perpetual futures.")
    parser.add_argument("--version", action="version", version=f"liqsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_overrides(p):
        p.add_argument(
            "--set",
            dest="overrides",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a scenario key, e.g. --set population.n_positions=200000 (repeatable)",
        )

    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("file", nargs="?", help="scenario TOML (default: the built-in btc_flash_crash)")
    add_overrides(run)
    run.add_argument("--seed", type=_non_negative_int, help="random seed (overrides scenario.seed)")
    run.add_argument(
        "--out", help="output folder (default: output.dir, or runs/<scenario.name if set, else the file's name>)"
    )
    run.add_argument("--no-plot", action="store_true", help="do not draw cascade.png")
    run.add_argument("--accounts", action="store_true", help="also write accounts.csv (one row per account)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    val = sub.add_parser("validate", help="check a scenario file and report every problem")
    val.add_argument("file")
    add_overrides(val)

    sub.add_parser("warmup", help="compile the kernels once so later runs start fast")

    calc = sub.add_parser(
        "calc",
        help="liquidation and bankruptcy prices of one position, or of an account's (--position ...)",
        description="Liquidation price, bankruptcy price and maintenance margin of one position, or of each of an "
        "account's positions with the others held and the share-out of its equity, computed with the engine's "
        "margin functions and the venue's rule pack.",
    )
    calc._negative_number_matcher = _NEGATIVE_NUMBER  # "--other-upnl -1e6" is a value, not an option
    calc.add_argument("--venue", required=True, help="venue whose rules apply (see liqsim venues)")
    calc.add_argument("--side", metavar="long|short", help="one position (required without --position)")
    calc.add_argument("--entry", metavar="PRICE", help="entry price, USD, in [1e-8, 1e9] (required without --position)")
    calc.add_argument("--position", action="append", metavar="COIN,SIDE,SIZE,ENTRY", help="an account's position")
    calc.add_argument("--mark", action="append", metavar="COIN=PRICE", help="with --position (default: the entry)")
    calc.add_argument("--method", metavar="cross|okx|hyperliquid|dydx", help="with --position: the share-out method")
    calc.add_argument("--collateral", action="append", metavar="ASSET=AMOUNT", help="with --position: collateral held")
    calc.add_argument("--price", action="append", metavar="ASSET=PRICE", help="a collateral's USD price (USDe=0.65)")
    calc.add_argument(
        "--size",
        metavar="QTY",
        help="position size in coins (default 1); the notional size × entry in [1e-6, 1e13] USD",
    )
    calc.add_argument("--leverage", metavar="L", help="leverage; isolated: the margin is notional / L")
    calc.add_argument("--margin", metavar="USD", help="isolated margin (instead of --leverage)")
    calc.add_argument("--mode", metavar="isolated|cross", help="margin mode (default isolated)")
    calc.add_argument(
        "--wallet", metavar="USD", help="cross, --position: quote balance (required; --position: or --collateral)"
    )
    calc.add_argument(
        "--other-mm", metavar="USD", help="cross only: maintenance margin of the other positions (default 0)"
    )
    calc.add_argument(
        "--other-upnl",
        metavar="USD",
        help="cross only: unrealised PnL of the other positions (default 0; negative values like -1e6 are accepted)",
    )
    calc.add_argument("--mmr", metavar="PCT", help="one maintenance-margin rate, percent, instead of the tier table")
    calc.add_argument("--cum", metavar="USD", help="maintenance amount with --mmr (default 0)")
    calc.add_argument("--max-leverage", metavar="L", help="leverage cap instead of the tier's")
    calc.add_argument("--asset", metavar="BTC|ETH|SOL|ALT", help="whose tier table applies (default BTC)")
    calc.add_argument(
        "--version", metavar="DATE", help="rule-pack version (default: the venue's default pack; see liqsim venues)"
    )
    calc.add_argument("--json", action="store_true", help="print one JSON object")

    cmp = sub.add_parser(
        "compare",
        help="run one scenario under several venues' rules and ADL policies",
        description="Run a scenario once per venue and ADL policy, on the same seed, and write "
        "a table and a figure comparing the cascades.",
    )
    cmp.add_argument("file", help="scenario TOML")
    cmp.add_argument(
        "--venues", metavar="LIST", help="comma-separated venues (default: binance,bybit,okx,hyperliquid,dydx)"
    )
    cmp.add_argument(
        "--policies",
        metavar="LIST",
        help="comma-separated ADL policies: venue_queue, pro_rata, leverage_drain (default: the scenario's)",
    )
    add_overrides(cmp)
    cmp.add_argument("--seed", type=_non_negative_int, help="random seed of every run (overrides scenario.seed)")
    cmp.add_argument("--out", help="output folder (default: runs/<scenario.name if set, else the file's name>-compare)")
    cmp.add_argument("--no-plot", action="store_true", help="do not draw comparison.png")
    cmp.add_argument("--quiet", action="store_true", help="print nothing but errors")

    swp = sub.add_parser(
        "sweep",
        help="run a scenario over a grid of values and seeds, in parallel",
        description="Run every combination of the grid's values once per seed (scenario.seed, "
        "scenario.seed + 1, ...) and write one table of their summaries, results.parquet and "
        "results.csv. Rerun into the same folder, a sweep skips the runs already done.",
    )
    swp.add_argument(
        "file",
        nargs="?",
        help="scenario TOML, which may hold a [sweep] table with grid and seeds "
        "(default: the built-in btc_flash_crash)",
    )
    swp.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=[V1,V2,...]",
        help="values of one scenario key, each read like a --set value, e.g. "
        "--grid population.long_share=[0.5,0.6] (repeatable; replaces the file's values of that key)",
    )
    swp.add_argument(
        "--seeds",
        metavar="N",
        help="runs per combination, on seeds scenario.seed .. scenario.seed + N - 1 "
        "(default: the file's [sweep] seeds, else 1)",
    )
    add_overrides(swp)
    swp.add_argument(
        "--out",
        help="output folder (default: runs/<scenario.name if set, else the file's name>-sweep); "
        "an earlier sweep's folder resumes",
    )
    swp.add_argument(
        "--executor",
        default="local",
        metavar="local|dask|serial",
        help="local: a process pool (default); dask: a Dask cluster; serial: one run after another in this process",
    )
    swp.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: start a local cluster)",
    )
    swp.add_argument(
        "--workers", metavar="K", help="worker processes of the local pool or local Dask cluster (default: every core)"
    )
    swp.add_argument("--quiet", action="store_true", help="print nothing but errors")

    plot = sub.add_parser("plot", help="draw a figure from results on disk")
    what = plot.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    sev = what.add_parser(
        "severity",
        help="a sweep's severity curves: each metric against shock size, one line per "
        "leverage mix, with confidence bands over seeds",
        description="Writes severity.png and severity.csv (the numbers behind it) into the sweep's folder.",
    )
    sev.add_argument("dir", metavar="DIR", help="a finished sweep's folder (the --out of liqsim sweep)")
    sev.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="draw only this metric (repeatable): "
        "liquidated_notional, realized_drawdown, amplification, adl_notional, fund_drawdown "
        "(default: all)",
    )
    sev.add_argument("--x", metavar="KEY", help="grid key on the x axis (default: shock.size_pct)")
    sev.add_argument(
        "--by",
        action="append",
        metavar="KEY",
        help="grid key whose values are the curves (repeatable; default: every grid key but x)",
    )
    sev.add_argument(
        "--level", type=_number, default=0.95, metavar="P", help="confidence level of the bands (default 0.95)"
    )
    sev.add_argument(
        "--out", metavar="FILE", help="the PNG to write (default: DIR/severity.png); the CSV goes beside it"
    )
    sev.add_argument("--quiet", action="store_true", help="print nothing but errors")

    ven = sub.add_parser("venues", help="list the venues and their rule packs")
    ven.add_argument("--verbose", action="store_true", help="also the tier tables and rule details")
    ven.add_argument("--json", action="store_true", help="print JSON")
    return parser


# A negative number as float() reads it, scientific notation and inf/nan included. argparse's own pattern
# (-5, -0.5) takes "-1e6" for an unknown option and reports "expected one argument" for the flag before it;
# with this one the value reaches the calculator, whose message names the flag, the value and the range.
_NEGATIVE_NUMBER = re.compile(r"^-(?:\.?\d.*|inf|infinity|nan)$", re.IGNORECASE)


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed = {text!r}: must be a whole number ≥ 0") from None
    if value < 0 or value >= 2**63:
        raise argparse.ArgumentTypeError(f"--seed = {text!r}: must be a whole number in [0, 2**63)")
    return value


def _number(text):
    """A flag's text as a float, or the text itself when it is not a number (the calculator reports it)."""
    try:
        return None if text is None else float(text)
    except ValueError:
        return text


def _calc(args):
    from sim.calc import liquidation

    single = [f"--{k.replace('_', '-')}" for k, v in vars(args).items() if v is not None and k in _SINGLE]
    if args.position:
        from sim.calc_account import account, account_text

        if single:
            raise ScenarioError(f"{', '.join(single)}: not with --position (each position is COIN,SIDE,SIZE,ENTRY)")
        given = (args.mark, args.version, args.method, args.collateral, args.price)
        res = account(args.venue, args.position, _number(args.wallet), *given)
        print(json.dumps(res, indent=2) if args.json else account_text(res))
        return 0
    missing = [f for f in ("--side", "--entry") if getattr(args, f[2:]) is None]
    only = [f for f in ("--mark", "--method", "--collateral", "--price") if getattr(args, f[2:])]
    if missing or only:
        raise ScenarioError(
            [f"{f}: required, or give the account form's --position COIN,SIDE,SIZE,ENTRY" for f in missing]
            + [f"{f}: only with --position" for f in only]
        )
    res = liquidation(
        venue=args.venue,
        side=args.side,
        entry=_number(args.entry),
        size=_number("1" if args.size is None else args.size),
        leverage=_number(args.leverage),
        margin=_number(args.margin),
        mode="isolated" if args.mode is None else args.mode,
        wallet=_number(args.wallet),
        other_mm=_number(args.other_mm),
        other_upnl=_number(args.other_upnl),
        mmr=_number(args.mmr),
        cum=_number(args.cum),
        max_leverage=_number(args.max_leverage),
        asset="BTC" if args.asset is None else args.asset,
        version=args.version,
    )
    print(json.dumps(res, indent=2) if args.json else _calc_text(res))
    return 0


_SINGLE = "side entry size leverage margin mode other_mm other_upnl mmr cum max_leverage asset".split()


def _calc_text(res):
    """The calculator's answer as a few aligned lines."""

    def usd(x):
        if x is None:
            return "none"
        return f"{x:,.2f}" if x == 0 or abs(x) >= 1 else f"{x:.6g}"  # small prices keep their digits

    lev = f" {res['leverage']:.4g}x" if res["leverage"] is not None else ""
    rows = [
        ("position", f"{res['side']} {res['size']:g} {res['asset']} at {usd(res['entry'])}, {res['mode']}{lev}"),
        ("venue", f"{res['venue']}, rules of {res['version']}"),
    ]
    if res["liquidated_at_any_price"]:
        rows.append(
            (
                "liquidation price",
                "0.00: liquidated at any price (the equity is at or below the maintenance margin even at a price of 0)",
            )
        )
    elif res["liquidation_price"] is None:
        rows.append(("liquidation price", "none: not liquidated at any positive price"))
    else:
        fee = res["trigger_mmr_pct"] - res["mmr"]
        where = "on the entry value" if res["margin_basis"] == "entry" else "at the liquidation price"
        tier = "one tier (--mmr)" if res["tier"] is None else f"tier {res['tier']}"
        rows += [
            ("liquidation price", usd(res["liquidation_price"])),
            ("distance from entry", f"{res['distance_pct']:+.2f}%"),
            ("maintenance margin", f"{usd(res['maintenance_margin'])} USD {where}"),
            (
                "tier, MMR",
                f"{tier}, {res['mmr']:g}%" + (f" (the trigger adds the {fee:.4g}% clearance fee)" if fee else ""),
            ),
        ]
    if res["bankruptcy_price"] == 0:
        rows.append(
            ("bankruptcy price", "0.00: bankrupt at any price (the equity is at or below 0 even at a price of 0)")
        )
    else:
        rows.append(("bankruptcy price", usd(res["bankruptcy_price"])))
    if res["initial_margin"] is not None:
        rows.append(("initial margin", f"{usd(res['initial_margin'])} USD"))
    if res["below_maintenance_at_entry"] and not res["liquidated_at_any_price"]:
        rows.append(("note", "below maintenance already at the entry price: liquidated at once"))
    return "\n".join(f"  {label:<20} {value}" for label, value in rows)


def _venues(args):
    from sim.venues import venues_records, venues_text

    text = json.dumps(venues_records(), indent=2) if args.json else venues_text(verbose=args.verbose)
    print(text, end="" if text.endswith("\n") else "\n")
    return 0


def _overrides(pairs, seed=None, problems=None):
    """``--set`` pairs as a dict; malformed ones raise, or join ``problems`` when a list is given."""
    out, bad = {}, []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            bad.append(f"--set {shown(pair)}: expected dotted.key=value, e.g. population.n_positions=200000")
            continue
        out[key.strip()] = value
    if bad and problems is None:
        raise ScenarioError(bad)
    if bad:
        problems.extend(bad)
    if seed is not None:
        out["scenario.seed"] = seed
    return out


class _Progress:
    """A one-line progress bar with ETA on a terminal; silent otherwise. Time spent compiling kernels (measured by
    ``compiling``, a :class:`_Compiling`) is left out of the ETA: a first run must not promise an hour."""

    def __init__(self, stream, enabled, label="simulating", compiling=None):
        self.stream, self.enabled, self.label = stream, enabled, label
        self.compiling = compiling
        self.restart()

    def restart(self):
        """Start the ETA's clock now."""
        self.t0 = time.perf_counter()
        self.c0 = self.compiling.seconds() if self.compiling is not None else 0.0

    def __call__(self, fraction, note=""):
        if not self.enabled:
            return
        spent = 0.0
        if self.compiling is not None:
            self.compiling.end_line()
            spent = self.compiling.seconds() - self.c0
        elapsed = max(time.perf_counter() - self.t0 - spent, 0.0)
        eta = elapsed / fraction * (1.0 - fraction) if fraction > 0 else 0.0
        bar = "#" * int(30 * fraction)
        self.stream.write(f"\r  {self.label} [{bar:<30}] {100 * fraction:5.1f}%{note}  eta {eta:5.1f}s")
        self.stream.flush()
        if fraction >= 1.0:
            self.stream.write("\n")


class _Compiling:
    """Shows that the engine's kernels are compiling whenever they are (not only on a first run: a changed checkout,
    a new Numba or another machine compiles too), as kernels done out of kernels to compile: a live line on a
    terminal; a line when compiling starts and one when it ends otherwise. Also the compile clock of the command.

    Use as ``with _Compiling(sys.stderr, enabled) as compiling: ...``."""

    def __init__(self, stream, enabled):
        self.stream, self.enabled, self.tty = stream, enabled, enabled and stream.isatty()
        self.t0 = None
        self.last = (0, 0)
        self.open_line = False
        self._stack = contextlib.ExitStack()
        self._clock = None

    def __enter__(self):
        from sim._compile import compile_clock, compile_progress

        self._clock = self._stack.enter_context(compile_clock())
        if self.enabled:
            self._stack.enter_context(compile_progress(self))
        return self

    def __exit__(self, *exc):
        self._stack.close()
        if self.t0 is not None and exc[0] is None:
            self.end_line()
            done, total = self.last
            took = time.perf_counter() - self.t0
            self.stream.write(f"liqsim: compiled {done} kernels in {took:.0f} s; they are cached for later runs\n")
            self.stream.flush()
        elif self.open_line:
            self.stream.write("\n")
        return False

    def seconds(self):
        """Wall time spent compiling (or loading kernels) so far in this command."""
        return self._clock.seconds if self._clock is not None else 0.0

    def __call__(self, done, total, name):
        from sim._compile import short_name

        if self.t0 is None:
            self.t0 = time.perf_counter()
            self.stream.write(
                f"liqsim: compiling the engine ({total} kernels; once per install or change of it, "
                "cached for later runs)\n"
            )
        self.last = (done, total)
        if self.tty:
            took = time.perf_counter() - self.t0
            self.stream.write(f"\r  compiling [{done:>3}/{total:<3}] {short_name(name):<24} {took:5.1f}s")
            self.open_line = True
        self.stream.flush()

    def end_line(self):
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _share(x):
    return "n/a" if x is None else f"{100 * x:.0f}%"


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
        f"liqsim: {res.scenario.scenario.name}: {s['n_positions']:,} positions, seed {res.seed}, {s['runtime_s']:.2f} s; "
        f"{res.scenario.market.venue} rules ({res.scenario.market.venue_version}), ADL {res.scenario.adl.policy}",
        f"  liquidated   {_money(liq['total'])} (long {_money(liq['long'])}, short {_money(liq['short'])}); "
        f"{s['liquidations']['full']:,} full, {s['liquidations']['partial']:,} partial, {s['waves']} wave(s)",
        f"  price        shock {_pct(s['exogenous_drawdown_pct'])}, last low {_pct(s['realized_drawdown_pct'])}"
        + (f" (amplification {amp:.2f}x)" if amp is not None else ""),
        f"  fund         {_money(fund['start'])} -> min {_money(fund['min'])} -> {_money(fund['end'])}"
        + (
            f" (at the final mark {_money(fund['end_marked'])})"
            if _differs(fund.get("end_marked"), fund["end"])
            else ""
        )
        + "; "
        f"ADL {s['adl']['count']:,} fills, {_money(s['adl']['notional_usd'])}; bad debt {_money(s['bad_debt_usd'])}",
    ]
    fb = s.get("feedback") or {}
    if fb.get("cascade_multiplier") is not None:
        moved = fb["endogenous_share_of_move"]
        lines.append(
            f"  feedback     {fb['cascade_multiplier']:.3f}x the static map ({_money(fb['static_liquidated_usd'])}); "
            f"the cascade caused {_share(fb['endogenous_share'])} of forced closes, {_share(moved['last'])} of the "
            f"last price's move, {_share(moved['mark'])} of the mark's"
        )
    b = s.get("behaviour") or {}
    if b.get("stop_fills") or b.get("topups") or b.get("funding_settlements"):
        lines.append(
            f"  traders      stops {b['stop_fills']:,} fills, {_money(b['stop_notional_usd'])}; top-ups "
            f"{b['topups']:,}, {_money(b['topup_usd'])}; funding {b['funding_settlements']} settlement(s), "
            f"traders paid {_money(b['funding_paid_by_traders_usd'])}"
        )
    if "arrivals" in b:
        lines.append(f"  arrivals     {b['arrivals']:,} positions opened, {_money(b['arrival_notional_usd'])}")
    lines.append(f"  written to   {out}")
    print("\n".join(lines))


def _compare(args):
    """``liqsim compare``: check every flag and every combination first, then run, save and print."""
    from pathlib import Path

    from sim.config.scenario import load_scenario, output_name
    from sim.enums import ADL_POLICY_NAMES
    from sim.studies.compare import claim_comparison_folder, compare, parse_names
    from sim.venues import VENUES

    problems, names = [], {}
    for flag, given, allowed in (("--venues", args.venues, VENUES), ("--policies", args.policies, ADL_POLICY_NAMES)):
        try:
            names[flag] = None if given is None else parse_names(given, allowed, flag)
        except ScenarioError as err:
            problems += err.problems
    try:
        scn = load_scenario(args.file, overrides=_overrides(args.overrides, args.seed))
    except ScenarioError as err:
        raise ScenarioError(problems + err.problems) from None
    if problems:
        raise ScenarioError(problems)
    out = Path(args.out or Path("runs") / f"{output_name(scn)}-compare")
    with (
        claim_comparison_folder(out),  # refuse before spending the runs, not after; locked until saved
        _Compiling(sys.stderr, not args.quiet) as compiling,
    ):
        cmp = compare(
            scn,
            names["--venues"],
            names["--policies"],
            progress=_Progress(sys.stderr, not args.quiet and sys.stderr.isatty(), compiling=compiling),
        )
        target = cmp.save(out, plot=scn.output.plot and not args.no_plot)
    if not args.quiet:
        _compare_report(cmp, target)
    return 0


def _compare_report(cmp, out):
    """One aligned line per run, then where the files went."""

    def gini(x):
        return "n/a" if x is None else f"{x:.2f}"

    head = ("run", "liquidated", "long", "last low", "fund min", "ADL", "overshoot", "Gini paid", "Gini side")
    rows = [
        (
            r["label"],
            _money(r["liquidated_total_usd"]),
            "n/a" if r["long_share"] is None else f"{100 * r['long_share']:.0f}%",
            _pct(r["realized_drawdown_pct"]),
            _money(r["fund_min_usd"]),
            _money(r["adl_notional_usd"]),
            "n/a" if r["adl_overshoot"] is None else f"{r['adl_overshoot']:.1f}x",
            gini(r["adl_gini_haircut_usd"]),
            gini(r["adl_gini_position_share_side"]),
        )
        for r in cmp.table()
    ]
    widths = [max(len(row[k]) for row in [head, *rows]) for k in range(len(head))]
    s = cmp.scenario
    print(
        f"liqsim: {s.scenario.name}: {len(rows)} runs, {s.population.n_positions:,} positions, "
        f"seed {s.scenario.seed}, {sum(r.timings['total_s'] for r in cmp.results):.2f} s"
    )
    for row in [head, *rows]:
        print("  " + "  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths))))
    print(f"  written to {out}")


def _sweep(args):
    """``liqsim sweep``: check every flag and every run first, run what is not done yet, write the table, report.

    The flags go to :func:`sim.studies.sweep.run_sweep` as given (``--grid`` texts, counts as text), so that one pass
    reports every problem with the grid, the scenario, the seeds and the executor settings together.
    """
    from sim.studies.sweep import check_executor, plan_sweep, run_sweep

    problems = []
    overrides = _overrides(args.overrides, problems=problems)
    if problems:  # a malformed --set: report it with every other problem and run nothing
        problems += check_executor(args.executor, args.workers, args.scheduler)[1]
        try:
            plan_sweep(args.file, args.grid, args.seeds, overrides)
        except ScenarioError as err:
            problems += err.problems
        raise ScenarioError(problems)
    bar = _Progress(sys.stderr, not args.quiet and sys.stderr.isatty(), label="sweeping")

    def progress(done, total):
        if done == 0:  # the clock of the ETA starts with the runs, not with the checks and the compile
            bar.restart()
        bar(done / total, f"  {done}/{total} runs")

    t0 = time.perf_counter()
    try:
        with _Compiling(sys.stderr, not args.quiet) as compiling:
            bar.compiling = compiling
            table = run_sweep(
                args.file,
                args.grid,
                args.seeds,
                args.out,
                executor=args.executor,
                workers=args.workers,
                scheduler=args.scheduler,
                overrides=overrides,
                progress=progress,
            )
    except KeyboardInterrupt as stop:
        what = "terminated" if isinstance(stop, _Terminated) else "interrupted"
        print(f"\nliqsim: {what}; the finished runs are saved: run the same command again to resume", file=sys.stderr)
        return 143 if isinstance(stop, _Terminated) else 130
    info, failed = table.attrs, table[table["status"] == "failed"]
    for row in failed.head(5).itertuples(index=False):
        print(f"liqsim: run {row.run_id} (seed {row.seed}) failed: {row.error}", file=sys.stderr)
    if len(failed) > 5:
        print(f"liqsim: ... and {len(failed) - 5} more failed runs (the table's error column)", file=sys.stderr)
    if not args.quiet:
        redone = f"; {info['redone']} runs redone: settings or versions changed" if info["redone"] else ""
        print(
            f"liqsim: sweep: {len(table)} runs: {info['ran']} ran now ({info['failed']} failed), {info['skipped']} "
            f"skipped as already done{redone}, {time.perf_counter() - t0:.1f} s; table: {info['out']}/"
            "results.parquet (and results.csv)"
        )
    return 1 if len(failed) else 0


def _plot(args):
    """``liqsim plot severity DIR``: the severity figure and its numbers, written into the sweep's folder."""
    from sim.studies.severity import save_severity

    try:
        png = save_severity(args.dir, args.metric, args.x, args.by, args.level, args.out)
    except ScenarioError as err:  # the library names its parameters; here they are flags
        raise ScenarioError([re.sub(r"^(metric|x|by|level|out)\b", r"--\1", p) for p in err.problems]) from None
    if not args.quiet:
        print(f"liqsim: severity curves: {png} (numbers: {png.with_suffix('.csv')})")
    return 0


def main(argv=None):
    """Run one command; returns its exit status.

    Called without ``argv``, as the ``liqsim`` command and ``python -m sim`` call it, ``main`` owns the process. A
    ``run`` then imports what it needs (NumPy, SciPy, Numba, matplotlib) with the garbage collector paused and freezes
    what the imports built (:func:`gc.freeze`): those objects live until the process ends, and the collections that
    importing ~200,000 of them sets off (and every full collection after) took ~0.2 s of a 2.7 s run. Called with
    ``argv`` (tests, other programs), the process's garbage collector is left alone.
    """
    args = _parser().parse_args(argv)
    args.own_process = argv is None
    if args.own_process and args.command == "run":
        gc.disable()  # until _run's imports are done: importing makes few cycles, and they are bounded
    installed, previous = False, None
    with contextlib.suppress(ValueError):  # only the main thread may set a handler
        previous, installed = signal.signal(signal.SIGTERM, _on_sigterm), True
    try:
        if args.command == "warmup":
            from sim._compile import pending
            from sim.compiling import warmup

            if not pending():
                print("liqsim: the kernels are compiled and cached already; nothing to do")
                return 0
            with _Compiling(sys.stderr, True):
                warmup()
            return 0
        if args.command == "calc":
            return _calc(args)
        if args.command == "venues":
            return _venues(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "plot":
            return _plot(args)
        from sim.config.scenario import load_scenario

        scn = load_scenario(args.file, overrides=_overrides(args.overrides, getattr(args, "seed", None)))
        if args.command == "validate":
            from sim.studies.sweep import plan_sweep, read_sweep_table

            note = ""
            if read_sweep_table(args.file) is not None:  # a [sweep] table is checked as the sweep would
                plan = plan_sweep(args.file, overrides=_overrides(args.overrides))
                note = (
                    f"; [sweep]: {len(plan.runs)} runs, {len(plan.runs) // len(plan.seeds)} combinations × "
                    f"{len(plan.seeds)} seeds"
                )
            print(f"liqsim: {args.file}: ok ({scn.scenario.name}{note})")
            return 0
        return _run(args, scn)
    except ScenarioError as err:
        for line in str(err).splitlines():
            print(f"liqsim: error: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError as err:
        if err.filename is not None:  # a results file, not stdout
            return _cannot_write(err)
        # stdout was closed early (`liqsim venues | head`): stop quietly, as Unix tools killed by SIGPIPE do; what is
        # still buffered goes nowhere, so the flush at exit raises nothing either
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    except MemoryError:  # past the estimate the scenario check refuses on (sim.config.memory)
        print("liqsim: error: out of memory: lower population.n_positions or the run's other sizes", file=sys.stderr)
        return 2
    except OSError as err:  # the output could not be written (disk full, permissions changed mid-run)
        return _cannot_write(err)
    except KeyboardInterrupt as stop:  # a sweep reports its own; here nothing half-written was left behind
        what = "terminated" if isinstance(stop, _Terminated) else "interrupted"
        print(f"\nliqsim: {what}; no results were written", file=sys.stderr)
        return 143 if isinstance(stop, _Terminated) else 130
    finally:
        if args.own_process:
            gc.enable()  # a run that stopped before its imports were done
        if installed:  # as it was (a handler set outside Python cannot be put back: then the default)
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _cannot_write(err):
    where = f"{err.filename}: " if err.filename else ""
    print(f"liqsim: error: {where}cannot write the results: {err.strerror or err}", file=sys.stderr)
    return 2


def _run(args, scn):
    """``liqsim run``: claim the output folder (checked, proved writable and locked), run, save, report."""
    from pathlib import Path

    from sim.config.scenario import output_name
    from sim.engine import run
    from sim.outputs import OUTPUT_FILES, claim

    plot = scn.output.plot and not args.no_plot
    if plot:
        import sim.report.plots  # noqa: F401 (matplotlib: imported before the freeze below, so that it is covered)
    if args.own_process:
        # the modules are imported: what they built lives until the process ends. Collect again from here, and
        # leave those objects out of every later collection (each full one would walk ~170,000 objects, ~50 ms)
        gc.enable()
        gc.freeze()
    out = Path(args.out or scn.output.dir or Path("runs") / output_name(scn))
    with (
        claim(out, "run", OUTPUT_FILES),  # refuse before spending the run, not after; locked until saved
        _Compiling(sys.stderr, not args.quiet) as compiling,
    ):
        bar = _Progress(sys.stderr, not args.quiet and sys.stderr.isatty(), compiling=compiling)
        res = run(scn, progress=bar)
        target = res.save(out, plot=plot, accounts=args.accounts)
    if not args.quiet:
        _report(res, target)
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that everything a Ctrl-C stops (a sweep's pool, a half-written folder) stops
    the same way."""


def _on_sigterm(signum, frame):
    raise _Terminated()
