"""The crowd study's picture (:mod:`sim.studies.crowds`): one fundamental shock, three crowds, three index paths."""

import numpy as np
from matplotlib.figure import Figure

from sim.metrics import liquidated_notional, liquidation_mask
from sim.report.plotkit import INDEX_COLOR, _style, fmt_usd, mix_color, shock_label
from sim.world.market import shock_path

CROWDS_FIGSIZE = (14.0, 5.5)
CROWDS_DPI = 100


def plot_crowds(study, fig=None):
    """(a) the index under each crowd against the fundamental value (dashed), (b) cumulative liquidated notional."""
    fig = fig or Figure(figsize=CROWDS_FIGSIZE, layout="constrained")
    ax_p, ax_l = fig.subplots(1, 2)
    scn = study.scenario
    t_ms, p = shock_path(scn.shock, scn.market, scn.scenario.duration_s, scn.scenario.seed)
    t_end = scn.scenario.duration_s
    first = next(iter(study.results.values()))
    t = first.series["t"]
    fundamental = np.interp(t, t_ms / 1000.0, p)
    ax_p.plot(t, fundamental, color=INDEX_COLOR, linestyle="--", linewidth=1.4, label="fundamental value")
    for name, res in study.results.items():
        fb = res.summary["feedback"]
        mult = fb["cascade_multiplier"]
        label = f"{name}: index low {fb['move_pct']['index']:+.1f}%" + (f", {mult:.2f}× static" if mult else "")
        ax_p.plot(res.series["t"], res.series["index"], color=mix_color(name), linewidth=1.6, label=label)
        liq = res.fills[liquidation_mask(res.fills)]
        usd = np.cumsum(liquidated_notional(liq))
        ax_l.step(np.r_[0.0, liq["t"], t_end], np.r_[0.0, usd, usd[-1] if usd.size else 0.0] / 1e9, where="post",
                  color=mix_color(name), linewidth=1.6, label=f"{name}: {fmt_usd(usd[-1] if usd.size else 0.0)}")  # fmt: skip
        static = fb["static_liquidated_usd"]
        if static:
            ax_l.axhline(static / 1e9, color=mix_color(name), linestyle=":", linewidth=1.0)
    ax_p.set_title(f"(a) index under each crowd: {shock_label(scn.shock)} of the fundamental value", loc="left")
    ax_p.set_xlabel("time (s)")
    ax_p.set_ylabel("USD")
    ax_p.legend(loc="upper right", fontsize=9)
    ax_l.set_title("(b) liquidated so far (dotted: the static map under the fundamental path)", loc="left")
    ax_l.set_xlabel("time (s)")
    ax_l.set_ylabel("USD bn")
    ax_l.legend(loc="upper left", fontsize=9)
    for ax in (ax_p, ax_l):
        _style(ax)
        ax.set_xlim(0.0, t_end)
    fig.suptitle("One fundamental shock, three crowds: with prices formed by flows the crowd sets the drawdown")
    return fig
