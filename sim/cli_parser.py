"""The ``liqsim`` command line's flags: the argparse definition of every command, with liqsim's one-line error
format, and the readers of flag values that argparse checks itself (``--seed``, ``--level``). :mod:`sim.cli` runs the
commands."""

import argparse
import re

from sim._version import __version__


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
        "--out",
        type=_folder,
        help="output folder (default: output.dir, or runs/<scenario.name if set, else the file's name>)",
    )
    run.add_argument("--no-plot", action="store_true", help="do not draw cascade.png")
    run.add_argument("--accounts", action="store_true", help="also write accounts.csv (one row per account)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    val = sub.add_parser("validate", help="check a scenario file and report every problem")
    val.add_argument("file")
    add_overrides(val)

    warm = sub.add_parser("warmup", help="compile the kernels once so later runs start fast")
    warm.add_argument(
        "--instruments",
        action="store_true",
        help="also the account layer of runs of several instruments ([instruments] scenarios; about 10 s more)",
    )

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
    cmp.add_argument(
        "--out", type=_folder, help="output folder (default: runs/<scenario.name if set, else the file's name>-compare)"
    )
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
        type=_folder,
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
        "--out", type=_png, metavar="FILE", help="the PNG to write (default: DIR/severity.png); the CSV goes beside it"
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


def _folder(text):
    """An --out folder: not empty (an empty one wrote to the default folder without a word)."""
    return _given(text, "a folder")


def _png(text):
    """An --out file: not empty."""
    return _given(text, "a file")


def _given(text, what):
    if not text.strip():
        raise argparse.ArgumentTypeError(f"--out = {text!r}: an empty path; give {what}, or leave --out out")
    return text


def _number(text):
    """A flag's text as a float, or the text itself when it is not a number (the calculator reports it)."""
    try:
        return None if text is None else float(text)
    except ValueError:
        return text
