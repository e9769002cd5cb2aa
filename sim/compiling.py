"""Compiling ahead: ``warmup`` (a tiny run that compiles every kernel a run uses) and the compile helper, a second
process that compiles the event loop's kernels into the shared disk cache while a first run types the loop
(:mod:`sim._compile` has the machinery; :func:`sim.engine.run` starts the helper).
"""

import sys

import numpy as np

from sim.allocate import allocate
from sim.engine import _LOOP, _account_rows, _params, prepare, run
from sim.state import perp_cells
from sim.world.population import generate


def warmup(progress=None):
    """Compile every kernel a run uses (a tiny run, with stops and top-ups so that their set-up kernels
    compile too); later processes load them from the disk cache.

    ``progress``, if given, is called as ``progress(done, total, name)`` when each kernel starts and
    finishes compiling (:func:`sim._compile.compile_progress`); never when every kernel is cached.
    """
    from sim._compile import compile_progress

    scn = _warmup_scenario()
    if progress is None:
        return _warm_screen(_warm_run(scn), scn)
    with compile_progress(progress):
        return _warm_screen(_warm_run(scn), scn)


def _warm_run(scn):
    """:func:`sim.engine.run` of the warm-up scenario, with the event loop typed from the first second: when a helper
    process would help (:func:`sim._compile.helper_wanted`), the tiny run is first prepared as plain Python and
    simulated, so this process starts on the loop at once while the helper compiles the loop's kernels from the
    other end and then the set-up kernels (:func:`compile_helper`); the run proper then loads those from the cache,
    compiling only what the helper has not reached. Without a helper, the run alone."""
    import dataclasses
    import time

    from sim._compile import compile_clock, helper_wanted, plain_python
    from sim.engine import _start_compile_helper, simulate

    helper = _start_compile_helper() if helper_wanted(_LOOP) else None
    if helper is None:
        return run(scn)
    t0 = time.perf_counter()
    try:
        with compile_clock() as clock:
            with plain_python():
                inp = prepare(scn)
            simulate(inp)
            res = run(scn)
    finally:
        helper.stop()
    # the run's own timings, with the warm-up's whole compile and time (the loop compiled before the run proper)
    timings = dict(res.timings, compile_s=clock.seconds, total_s=time.perf_counter() - t0)
    return dataclasses.replace(res, timings=timings)


def _warm_screen(result, scn):
    """Build a tiny screened population too, so the survival screen's kernel compiles with the rest, and, when
    :mod:`sim.multi` is imported (a session that runs several markets), the account layer's kernels; returns
    ``result``. ``liqsim warmup`` does not import it, so its cold compile is a single-market run's."""
    screened = scn.with_overrides({"population.survival_screen": True, "population.n_positions": 50})
    generate(screened.population, screened.market, np.random.default_rng(0))
    if "sim.multi" in sys.modules:
        _warm_accounts(scn)
    return result


def _warm_accounts(scn):
    """A tiny run of two markets whose first traders share cross accounts, with a collateral holding (an account
    layer round at every tick): every kernel of sim.kernels.cross compiles."""
    from sim import enums as E
    from sim.multi import simulate_markets

    small = scn.with_overrides({"stops.share": 0.0, "topups.share": 0.0, "scenario.duration_s": 20.0})
    inputs = [prepare(small), prepare(small.with_overrides({"scenario.seed": 1}))]
    accts = []
    for inp in inputs:
        a = np.full(inp.pos_kind.size, -1, np.int64)
        rows = np.flatnonzero(inp.pos_kind == E.TRADER)[:20]
        a[rows] = np.arange(rows.size)
        accts.append(a)
    coll = {"assets": [([0.0, 10.0], [1.0, 0.5], 1.0)], "account": [0], "asset": [0], "units": [100.0]}
    simulate_markets(inputs, accts, E.ACCT_CROSS, collateral=coll)


def _warmup_scenario():
    from sim.config.scenario import load_scenario

    return load_scenario(
        None,
        overrides={
            "population.n_positions": 500,
            "scenario.duration_s": 120.0,
            "shock.start_s": 5.0,
            "shock.duration_s": 10.0,
            "shock.size_pct": -20.0,
            "insurance_fund.initial_usd": 0.0,
            "book.depth_usd_1pct": 2e5,
            "stops.share": 0.2,
            "topups.share": 0.2,
        },
    )


def loop_state(inp):
    """The event loop's named arguments for prepared inputs ``inp``, by parameter name (``pos``, ``p``, ...)."""
    pos, tiers, book, trig, ev, mk, sp, spp, fills, series, perp = allocate(inp)
    return dict(
        pos=pos,
        tiers=tiers,
        book=book,
        trig=trig,
        ev=ev,
        mk=mk,
        sp=sp,
        spp=spp,
        fl=fills,
        series=series,
        **perp._asdict(),
        pc=perp_cells(perp),
        p=_params(inp),
    )


def compile_helper(parent):
    """The helper process: compile the kernels the event loop calls, from the last call in its code to the first,
    while the parent types the loop from the first; then the ones the parent compiles once the loop has run (the
    run's account table, warm-up's screened population); report each on standard output. Dies with ``parent``.

    Its tiny run is prepared with the set-up kernels as plain Python (:func:`sim._compile.plain_python`), so it starts
    on the loop's kernels at once; it compiles the set-up kernels after them, for a warm-up that leaves them to it
    (:func:`_warm_run`; a run has compiled them itself by then, and they load from the cache)."""
    import sys

    from sim._compile import compile_kernels, ordered_callees, plain_python, reporting
    from sim.outputs import die_with_parent

    die_with_parent(parent)
    scn = _warmup_scenario()
    with plain_python():
        inp = prepare(scn)
        values = loop_state(inp)

    def report(name):
        sys.stdout.write(name + "\n")
        sys.stdout.flush()

    compile_kernels(ordered_callees(_LOOP)[::-1], values, report)
    with reporting(report):  # the set-up kernels, for a warm-up that prepared its first run as plain Python
        loop_state(prepare(scn))
    _compile_after_loop(inp, values, scn, report)


def _compile_after_loop(inp, values, scn, report):
    """The kernels a first run compiles after its loop, called here on the tiny run's unrun state (their types are
    the same): the account table's and, for warm-up, the survival screen's."""
    from sim._compile import reporting

    with reporting(report):
        _account_rows(inp, values["pos"], np.zeros(values["pos"].side.size), inp.start_price, 6)
        _warm_screen(None, scn)


if __name__ == "__main__" and sys.argv[1:2] == ["--compile-helper"]:
    compile_helper(int(sys.argv[2]))
