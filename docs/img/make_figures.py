"""Rebuild the README's figures (the PNG files beside this script) from the shipped scenarios.

    python docs/img/make_figures.py                       # all eleven
    python docs/img/make_figures.py cascade venues        # some of them
    options: --out DIR (default: this folder), --sweep DIR (the severity study's sweep folder, default
             runs/severity: a finished sweep there is reused, an unfinished one resumed)

Run from the repository root with the project's environment. Each figure is what the command named below draws
(the same functions, sizes and resolutions), written under its README name:

==================== ======================================================================================
cascade.png          ``liqsim run`` (the cascade.png of the default scenario's output folder)
heatmaps.png         ``sim.plots.plot_heatmaps(res)`` of that run, 1600 x 900 px
traders.png          ``liqsim run scenarios/traders.toml``
replay_2025_10_10.png ``liqsim run scenarios/replay_2025_10_10.toml``
venues.png           ``liqsim compare scenarios/venue_comparison.toml``
adl_policies.png     ``liqsim compare scenarios/venue_comparison.toml --venues binance
                     --policies venue_queue,pro_rata,leverage_drain``
crowds.png           ``sim.studies.crowds.crowd_study(scn).plot()`` of the default scenario (endogenous prices)
multi_asset_crash.png ``liqsim run scenarios/multi_asset_crash.toml`` (the instruments picture)
usde_depeg.png       ``liqsim run scenarios/usde_depeg.toml``
replay_2025_10_10_multi.png ``liqsim run scenarios/replay_2025_10_10_multi.toml``
severity.png         ``liqsim sweep scenarios/leverage_mix_severity.toml --out runs/severity`` then
                     ``liqsim plot severity runs/severity`` (210 runs, about 15 s on two cores)
==================== ======================================================================================
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402 (after the repository root is on the path)
from sim.report import plots  # noqa: E402
from sim.report.crowds import CROWDS_DPI  # noqa: E402
from sim.report.instruments import save_instruments_png  # noqa: E402
from sim.report.severity import DPI as SEVERITY_DPI  # noqa: E402
from sim.studies.compare import compare  # noqa: E402
from sim.studies.crowds import crowd_study  # noqa: E402
from sim.studies.severity import plot_severity  # noqa: E402
from sim.studies.sweep import run_sweep  # noqa: E402

SCENARIOS = ROOT / "scenarios"
HEATMAP_DPI = 100  # 16 x 9 inches: 1600 x 900 px
NAMES = (
    "cascade",
    "heatmaps",
    "traders",
    "replay_2025_10_10",
    "venues",
    "adl_policies",
    "crowds",
    "multi_asset_crash",
    "usde_depeg",
    "replay_2025_10_10_multi",
    "severity",
)


def _run(name):
    return sim.run(sim.load_scenario(SCENARIOS / f"{name}.toml"))


def make(names, out, sweep):
    default = None
    for name in names:
        t0 = time.perf_counter()
        png = out / f"{name}.png"
        if name in ("cascade", "heatmaps"):
            default = default or _run("btc_flash_crash")
            if name == "cascade":
                plots.save_cascade_png(default, png)
            else:
                plots.plot_heatmaps(default).savefig(png, dpi=HEATMAP_DPI)
        elif name in ("traders", "replay_2025_10_10"):
            plots.save_cascade_png(_run(name), png)
        elif name in ("venues", "adl_policies"):
            scn = sim.load_scenario(SCENARIOS / "venue_comparison.toml")
            if name == "venues":
                cmp = compare(scn)
            else:
                cmp = compare(scn, venues=["binance"], policies=["venue_queue", "pro_rata", "leverage_drain"])
            cmp.plot().savefig(png, dpi=plots.COMPARISON_DPI)
        elif name in ("multi_asset_crash", "usde_depeg", "replay_2025_10_10_multi"):
            save_instruments_png(_run(name), png)
        elif name == "crowds":
            crowd_study(sim.load_scenario(SCENARIOS / "btc_flash_crash.toml")).plot().savefig(png, dpi=CROWDS_DPI)
        else:
            table = run_sweep(SCENARIOS / "leverage_mix_severity.toml", out=sweep)
            plot_severity(table).savefig(png, dpi=SEVERITY_DPI)
        print(f"{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}: {time.perf_counter() - t0:.1f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Rebuild the README's figures.")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"figures to make (default: all): {', '.join(NAMES)}")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--sweep", type=Path, default=ROOT / "runs" / "severity")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; the figures are {', '.join(NAMES)}")
    make(args.names or NAMES, args.out, args.sweep)


if __name__ == "__main__":
    main()
