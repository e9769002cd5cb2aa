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

The flags are defined in :mod:`sim.cli_parser`, what a command shows while it works in :mod:`sim.cli_progress` and
the text it prints when done in :mod:`sim.cli_reports`; this module runs the commands and prints.
"""

import contextlib
import gc
import json
import os
import re
import signal
import sys
import time

from sim.cli_parser import _number, _parser
from sim.cli_progress import _Compiling, _Progress
from sim.cli_reports import _calc_text, _compare_text, _multi_text, _run_text
from sim.errors import ScenarioError, shown


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


def _compare(args):
    """``liqsim compare``: check every flag and every combination first, then run, save and print."""
    from pathlib import Path

    from sim.config.scenario import load_scenario, output_name
    from sim.engine import refuse_several
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
    refuse_several(scn, "liqsim compare")  # before the output folder is claimed
    out = Path(args.out or Path("runs") / f"{output_name(scn)}-compare")
    with (
        claim_comparison_folder(out),  # refuse before spending the runs, not after; locked until saved
        _Compiling(sys.stderr, not args.quiet) as compiling,
    ):
        cmp = compare(
            scn,
            names["--venues"],
            names["--policies"],
            progress=_stopping(_Progress(sys.stderr, not args.quiet and sys.stderr.isatty(), compiling=compiling)),
        )
        _stop_check()
        target = cmp.save(out, plot=scn.output.plot and not args.no_plot)
    if not args.quiet:
        print(_compare_text(cmp, target))
    return 0


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
        _stop_check()
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
    installed, previous, previous_int = False, None, None
    _STOPS.clear()
    with contextlib.suppress(ValueError):  # only the main thread may set a handler
        previous, installed = signal.signal(signal.SIGTERM, _on_sigterm), True
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # Python's own Ctrl-C, recorded too
            previous_int = signal.signal(signal.SIGINT, _on_sigint)
    try:
        if args.command == "warmup":
            if args.instruments:
                import sim.multi  # noqa: F401 (its kernels join what pending() and warmup() know)
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
        if previous_int is not None:
            signal.signal(signal.SIGINT, previous_int)


def _cannot_write(err):
    where = f"{err.filename}: " if err.filename else ""
    print(f"liqsim: error: {where}cannot write the results: {err.strerror or err}", file=sys.stderr)
    return 2


def _run(args, scn):
    """``liqsim run``: claim the output folder (checked, proved writable and locked), run, save, report."""
    from pathlib import Path

    from sim.config.scenario import output_name
    from sim.outputs import OUTPUT_FILES, claim

    several = bool(scn.instruments.items())
    if several:
        from sim.multi_result import instrument_files
        from sim.multi_result import run as run_several

        kind, files = "instruments", instrument_files([scn.market.asset] + [a for a, _ in scn.instruments.items()])
    else:
        from sim.engine import run

        kind, files = "run", OUTPUT_FILES
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
        claim(out, kind, files),  # refuse before spending the run, not after; locked until saved
        _Compiling(sys.stderr, not args.quiet) as compiling,
    ):
        bar = _stopping(_Progress(sys.stderr, not args.quiet and sys.stderr.isatty(), compiling=compiling))
        res = run_several(scn, progress=bar) if several else run(scn, progress=bar)
        _stop_check()
        target = res.save(out, plot=plot, accounts=args.accounts)
    if not args.quiet:
        print(_multi_text(res, target) if several else _run_text(res, target))
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that everything a Ctrl-C stops (a sweep's pool, a half-written folder) stops
    the same way."""


#: The stops asked for by a signal during this command (see :func:`_stop_check`).
_STOPS: list[type[KeyboardInterrupt]] = []


def _on_sigterm(signum, frame):
    _STOPS.append(_Terminated)
    raise _Terminated()


def _on_sigint(signum, frame):
    _STOPS.append(KeyboardInterrupt)
    raise KeyboardInterrupt()


def _stopping(report):
    """``report`` (a progress display), with :func:`_stop_check` first at each call."""

    def progress(*args, **kwargs):
        _stop_check()
        return report(*args, **kwargs)

    return progress


def _stop_check():
    """Raise again a stop that a signal asked for and Python dropped: an exception raised by a signal handler while
    a finaliser runs (``__del__``: llvmlite disposes of the compiler's objects that way while kernels load) is only
    printed as "Exception ignored", and the run would go on to its end and write its results."""
    if _STOPS:
        raise _STOPS[-1]()
