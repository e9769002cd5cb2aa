"""liqsim: an event-driven liquidation-cascade simulator for crypto perpetual futures.

The public face::

    import sim
    scn = sim.load_scenario("scenarios/btc_flash_crash.toml", overrides={"population.n_positions": 200_000})
    res = sim.run(scn)
    res.summary, res.fills, res.series, res.to_frames(), res.plot()

Importing ``sim`` compiles nothing; the first run compiles the kernels (cached on disk afterwards),
or call :func:`warmup` once up front.
"""

__version__ = "0.1.0"

from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario

__all__ = ["Scenario", "ScenarioError", "Result", "load_scenario", "run", "warmup", "__version__"]


def run(scenario, progress=None):
    """Run a scenario (a :class:`Scenario`, or a path to a TOML file) and return a ``Result``.

    ``progress``, if given, is called with the fraction of simulated time done after each chunk.
    """
    from sim.engine import run as _run

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return _run(scenario, progress=progress)


def warmup(progress=None):
    """Compile every kernel a run uses (a tiny run, with stops and top-ups so that their set-up kernels
    compile too); later processes load them from the disk cache.

    ``progress``, if given, is called as ``progress(done, total, name)`` when each kernel starts and
    finishes compiling (:func:`sim._compile.compile_progress`); never when every kernel is cached.
    """
    from sim._compile import compile_progress

    scn = load_scenario(
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
    if progress is None:
        return run(scn)
    with compile_progress(progress):
        return run(scn)


def __getattr__(name):
    if name == "Result":
        from sim.result import Result

        return Result
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
