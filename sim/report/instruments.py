"""The picture of a run of several instruments (:class:`sim.multi_result.MultiResult`).

Three panels on one time axis and one summary panel: (a) every instrument's mark as a move from its start, so a
beta of 2 shows as twice the fall; (b) each instrument's liquidated notional over time, cumulated, on a log scale
(ALT's millions and BTC's billions on one axis); (c) what set the liquidations off, per instrument: rows of no cross
account, rows whose own loss led their account's, rows forced by the account's other instruments (cross-asset) and
by its collateral, as horizontal stacked bars.
"""

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sim.enums import CAUSE_NAMES
from sim.report.legends import place_legends
from sim.report.plotkit import CASCADE_FIGSIZE, _style, _usd, fmt_usd, write_png
from sim.report.timeaxis import clock_origin, time_axis, time_window

#: One colour per instrument, in the scenario's order (market.asset first).
INSTRUMENT_COLORS = ("#1f77b4", "#9467bd", "#17a398", "#d62728", "#8c564b", "#e377c2")
#: Colours of the causes (enums.CAUSE_NAMES): isolated, own loss, other instruments, collateral.
CAUSE_COLORS = ("#bdbdbd", "#6baed6", "#e6550d", "#756bb1")


def _color(i):
    return INSTRUMENT_COLORS[i % len(INSTRUMENT_COLORS)]


def plot_moves(multi, ax, window):
    """Panel (a): each instrument's mark, % from its start; each collateral asset's price (black), % from its start."""
    for i, name in enumerate(multi.names):
        ser = multi.markets[name].series
        start = multi.markets[name].scenario.market.start_price_usd
        ax.plot(ser["t"], 100.0 * (ser["mark"] / start - 1.0), color=_color(i), lw=1.6, label=f"{name} mark")
    end = max(float(multi.markets[n].series["t"][-1]) for n in multi.names)
    for c, (name, (t, p)) in enumerate(multi.collateral.items()):
        t, p = np.append(t, max(end, t[-1])), np.append(p, p[-1])  # held flat after its last point
        ax.plot(
            t, 100.0 * (p / p[0] - 1.0), color="0.15", lw=1.6, ls=("--", ":", "-.")[c % 3], label=f"{name} (collateral)"
        )
    ax.axhline(0.0, color="0.5", lw=0.8, ls=":")
    ax.set_ylabel("% from start")
    ax.legend(fontsize=10, framealpha=0.9)


def plot_cumulative(multi, ax, window):
    """Panel (b): each instrument's forced closes, cumulated in USD (log scale); dashed: the cross-asset part."""
    drawn = False
    for i, name in enumerate(multi.names):
        t, usd, cause = multi.forced(name)
        if not usd.size:
            continue
        order = np.argsort(t, kind="stable")
        t, usd, cause = t[order], usd[order], cause[order]
        ax.step(t, np.cumsum(usd), where="post", color=_color(i), lw=1.6, label=f"{name} ({fmt_usd(usd.sum())})")
        other = np.cumsum(np.where(cause == 2, usd, 0.0))
        if other[-1] > 0:
            ax.step(t, other, where="post", color=_color(i), lw=1.1, ls="--")
        drawn = True
    if drawn:
        ax.plot([], [], color="0.3", lw=1.1, ls="--", label="of it cross-asset")
        ax.set_yscale("log")
        ax.legend(fontsize=10, framealpha=0.9, ncols=2)
    else:
        ax.text(0.5, 0.5, "no liquidations", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylabel("liquidated so far (USD)")


def plot_causes(multi, ax):
    """Panel (c): liquidated notional per instrument by cause, stacked bars, the cross-asset share written."""
    names = list(multi.names)
    y = np.arange(len(names))[::-1]
    left = np.zeros(len(names))
    forced = [multi.forced(n) for n in names]
    for c, label in enumerate(CAUSE_NAMES):
        width = np.array([usd[cause == c].sum() for _, usd, cause in forced]) / 1e6
        ax.barh(y, width, left=left, color=CAUSE_COLORS[c], height=0.6, label=label)
        left += width
    for yy, name in zip(y, names):
        c = multi.contagion["markets"][name]
        ax.text(
            0.0,
            yy + 0.36,
            f"{name}: {100 * c['cross_asset_share']:.1f}% cross-asset"
            + (f", {_usd(c['collateral_driven_usd'])} collateral-driven" if c["collateral_driven_usd"] > 0 else ""),
            fontsize=9,
            color="0.25",
            va="bottom",
        )
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(names) - 0.1)
    ax.set_xlabel("liquidated ($M), by what set it off")
    ax.legend(fontsize=9, framealpha=0.9, loc="lower right")
    _style(ax)


def _title(multi):
    s = multi.summary
    scn = multi.scenario
    head = f"{scn.scenario.name}: {len(multi.names)} instruments on {scn.market.venue}, cross accounts across them"
    c = s["contagion"]
    held = ", ".join(multi.collateral)
    figures = (
        f"liquidated {fmt_usd(s['liquidated_usd'])}, of it cross-asset {fmt_usd(s['cross_asset_usd'])} "
        f"({100 * s['cross_asset_share']:.1f}%)"
        + (f", collateral-driven ({held}) {fmt_usd(s['collateral_driven_usd'])}" if held else "")
        + f"; {c['accounts_liquidated']:,} accounts liquidated"
    )
    return head, figures


def plot_instruments(multi, fig=None):
    """The instruments picture (see the module's docs) on ``fig`` or a new 16 x 10 inch Figure; returns it."""
    if fig is None:
        fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    first = multi.markets[multi.names[0]]
    window = time_window([multi.markets[n] for n in multi.names])
    grid = fig.add_gridspec(2, 2, width_ratios=[2.2, 1.0], height_ratios=[1.0, 1.0])
    a = fig.add_subplot(grid[0, 0])
    b = fig.add_subplot(grid[1, 0], sharex=a)
    c = fig.add_subplot(grid[:, 1])
    plot_moves(multi, a, window)
    plot_cumulative(multi, b, window)
    for ax in (a, b):
        time_axis(ax, window, clock_origin(first))
        _style(ax)
    a.set_xlabel("")
    plot_causes(multi, c)
    head, figures = _title(multi)
    fig.suptitle(head, fontsize=17, fontweight="bold")
    a.set_title(figures.replace("$", r"\$"), fontsize=12, loc="left", color="0.2")
    place_legends(fig, [a, b])
    return fig


def save_instruments_png(multi, path):
    """:func:`plot_instruments` as a 1600 x 1000 px PNG at ``path``, written to a temporary name and renamed."""
    fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    FigureCanvasAgg(fig)
    plot_instruments(multi, fig=fig)
    return write_png(fig, path)
