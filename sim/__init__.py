"""liqsim: an event-driven liquidation-cascade simulator for crypto perpetual futures.

The public face::

    import sim
    scn = sim.load_scenario("scenarios/btc_flash_crash.toml", overrides={"population.n_positions": 200_000})
    res = sim.run(scn)
    res.summary, res.fills, res.series, res.to_frames(), res.plot()

Importing ``sim`` compiles nothing; the first run compiles the kernels (cached on disk afterwards),
or call :func:`warmup` once up front.
"""

import importlib

from sim._version import __version__
from sim.config.scenario import Scenario, load_scenario
from sim.errors import ScenarioError

__all__ = ["Scenario", "ScenarioError", "Result", "MultiResult", "load_scenario", "run", "warmup", "__version__"]


def run(scenario, progress=None):
    """Run a scenario (a :class:`Scenario`, or a path to a TOML file) and return a ``Result``; a scenario with
    ``[instruments]`` returns a :class:`sim.multi_result.MultiResult` (one ``Result`` per instrument, and the
    contagion between them).

    ``progress``, if given, is called with the fraction of simulated time done after each chunk.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if scenario.instruments.items():
        from sim.multi_result import run as _run_several

        return _run_several(scenario, progress=progress)
    from sim.engine import run as _run

    return _run(scenario, progress=progress)


def warmup(progress=None):
    """Compile every kernel a run uses; later processes load them from the disk cache.

    ``progress``, if given, is called as ``progress(done, total, name)`` as each kernel starts and
    finishes compiling; never when every kernel is already cached.
    """
    from sim.compiling import warmup as _warmup

    return _warmup(progress)


#: Documented short names of the modules users reach from ``import sim`` (``sim.plots.plot_heatmaps(res)``,
#: ``sim.sweep.run_sweep(...)``), imported on first use so that ``import sim`` stays light.
_MODULES = {
    "plots": "sim.report.plots",
    "heatmaps": "sim.report.heatmaps",
    "compare": "sim.studies.compare",
    "sweep": "sim.studies.sweep",
    "severity": "sim.studies.severity",
    "scenario": "sim.config.scenario",
    "mixes": "sim.config.mixes",
    "metrics": "sim.metrics",
    "venues": "sim.venues",
    "calc": "sim.calc",
    "calc_account": "sim.calc_account",
    "engine": "sim.engine",
    "result": "sim.result",
    "multi": "sim.multi",
    "multi_result": "sim.multi_result",
}


def __getattr__(name):
    if name == "Result":
        from sim.result import Result

        return Result
    if name == "MultiResult":
        from sim.multi_result import MultiResult

        return MultiResult
    if name in _MODULES:
        module = importlib.import_module(_MODULES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), "Result", "MultiResult", *_MODULES})
