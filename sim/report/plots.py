"""Pictures of a run (with its colours and formats in :mod:`sim.report.plotkit`; :mod:`sim.report` holds the only
modules that import matplotlib).

Everything draws on :class:`matplotlib.figure.Figure` objects directly: no pyplot state, no
``show()``, no changes to global rcParams, so it works headless and inside other programs.

``result`` is any object with attributes ``fills`` (``FILL_DTYPE``), ``series`` (``SERIES_DTYPE``),
``summary`` (the dict of :func:`sim.metrics.summarize`) and ``scenario`` (with
``.scenario.name``, ``.shock.kind`` and ``.shock.size_pct``). Axes-level functions take
``(result, ax=None, window=None)``, draw on ``ax`` (or on a new Figure) and return the Axes; their time axis shows
``window`` (a :class:`sim.report.timeaxis.TimeWindow`; by default the run's :func:`~sim.report.timeaxis.time_window`,
from a little before the shock to a margin after the last liquidation), in UTC clock time for a replay. A figure
composed of these panels places its legends last, with :func:`sim.report.legends.place_legends`.
"""

import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim import metrics
from sim.enums import ADL, STOP
from sim.report import heatmaps
from sim.report.comparison import (  # noqa: F401 (the comparison picture is part of this module's face)
    COMPARISON_DPI,
    COMPARISON_FIGSIZE,
    POLICY_COLORS,
    VENUE_COLORS,
    comparison_title,
    plot_venue_comparison,
)
from sim.report.legends import place_legends
from sim.report.plotkit import (  # noqa: F401 (fmt_usd, fmt_pct and the colours are part of this module's face)
    CASCADE_DPI,
    CASCADE_FIGSIZE,
    FUND_COLOR,
    INDEX_COLOR,
    LAST_COLOR,
    LONG_COLOR,
    MARK_COLOR,
    SHORT_COLOR,
    SPOT_COLOR,
    USD_PER_M,
    _axes,
    _get,
    _price_formatter,
    _style,
    _summary,
    _usd,
    fmt_pct,
    fmt_usd,
    scenario_name,
    shock_label,
    write_png,
)
from sim.report.timeaxis import bar_label, bar_width, clock_origin, fit_y, time_axis, time_window
from sim.world.market import shock_path

# --------------------------------------------------------------------------------------------
# Panels


def _window(result, window):
    return time_window(result) if window is None else window


def _finish(ax, result, window, own):
    """The time axis of a panel; a panel on its own Figure places its legend too."""
    time_axis(ax, window, clock_origin(result))
    _style(ax)
    if own:
        place_legends(ax.figure)
    return ax


def plot_prices(result, ax=None, window=None):
    """Index (dark, dashed, on top), mark (wide, light, below it) and last (thin) in USD against time; the lowest
    last is marked. With endogenous prices, the index's constituent spot venues: the band from the lowest to the
    highest, the home venue (the set's first) as a line, and the fundamental value the shock sets (dotted)."""
    own, ax = ax is None, _axes(ax)
    window = _window(result, window)
    s = result.series
    t = s["t"]
    # the mark sits on the index most of the time: drawn wide and light below it, so both stay visible
    ax.plot(t, s["index"], color=INDEX_COLOR, lw=1.3, ls=(0, (5, 3)), label="index", zorder=3.2)
    ax.plot(t, s["mark"], color=MARK_COLOR, lw=4.0, alpha=0.45, solid_capstyle="butt", label="mark", zorder=3.0)
    ax.plot(t, s["last"], color=LAST_COLOR, lw=1.0, label="last", zorder=3.1)
    spot = getattr(result, "spot", None)
    if spot is not None and len(spot["names"]) and len(spot["t"]):  # the index's constituents (endogenous prices)
        mids = np.asarray(spot["mid"], dtype=float)
        ts = spot["t"]
        ax.fill_between(ts, mids.min(axis=1), mids.max(axis=1), color=SPOT_COLOR, alpha=0.25, lw=0, zorder=2.0,
                        label=f"spot venues, lowest to highest ({len(spot['names'])})")  # fmt: skip
        ax.plot(ts, mids[:, 0], color=SPOT_COLOR, lw=0.9, label=f"{spot['names'][0]} spot", zorder=2.1)
        scn = result.scenario
        path_t, path_p = shock_path(scn.shock, scn.market, scn.scenario.duration_s, scn.scenario.seed)
        ax.plot(t, np.interp(t, path_t / 1000.0, path_p), color="0.45", lw=1.0, ls=":", label="fundamental value",
                zorder=2.2)  # fmt: skip
    last = np.asarray(s["last"], dtype=float)
    if np.isfinite(last).any():
        k = int(np.nanargmin(last))
        ax.plot(
            [t[k]],
            [last[k]],
            ls="none",
            marker="v",
            ms=10,
            color="black",
            label=f"min last {last[k]:,.2f}",
            zorder=4,
        )
    ax.set_ylabel("price (USD)")
    ax.yaxis.set_major_formatter(_price_formatter(s["index"], s["mark"], s["last"]))
    ax.legend(fontsize=10, framealpha=0.9)
    fit_y(ax, window)
    return _finish(ax, result, window, own)


def plot_liquidation_tape(result, ax=None, bin_s=None, window=None):
    """Liquidated notional per bar in $M, stacked: longs (red) below shorts (green); traders' own stop-loss orders,
    when the run has any, as a black outline over the same bars. A bar is ``bin_s`` seconds wide, by default about
    1/200 of the time shown (:func:`sim.report.timeaxis.bar_width`: 1 s for a one-minute crash, 1 min for three
    hours).

    Uses the liquidated-side rule of :mod:`sim.metrics` (ADL fills count for the bankrupt side).
    """
    own, ax = ax is None, _axes(ax)
    window = _window(result, window)
    bin_s = bar_width(window) if bin_s is None else float(bin_s)
    edges, long_usd, short_usd = metrics.liquidation_bins(result.fills, bin_s)
    if len(long_usd):
        long_m = long_usd / USD_PER_M
        total_m = (long_usd + short_usd) / USD_PER_M
        ax.stairs(
            long_m, edges, fill=True, color=LONG_COLOR, alpha=0.9, label=f"longs liquidated ({fmt_usd(long_usd.sum())})"
        )
        ax.stairs(
            total_m,
            edges,
            baseline=long_m,
            fill=True,
            color=SHORT_COLOR,
            alpha=0.9,
            label=f"shorts liquidated ({fmt_usd(short_usd.sum())})",
        )
        stops = result.fills[result.fills["kind"] == STOP]
        if len(stops):
            usd = stops["qty"] * stops["price"]
            ax.stairs(
                np.histogram(stops["t"], edges, weights=usd)[0] / USD_PER_M,
                edges,
                color="black",
                lw=1.2,
                label=f"stop orders filled ({fmt_usd(usd.sum())})",
            )
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=10, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no liquidations", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylabel(f"liquidated per {bar_label(bin_s)} ($M)")
    return _finish(ax, result, window, own)


def plot_insurance_fund(result, ax=None, window=None):
    """Insurance-fund balance in $M against time, its start level dotted, ADL fills marked ``x``; when the window
    ends before the run and the fund still moves after it, the legend gives its balance at the end of the run."""
    own, ax = ax is None, _axes(ax)
    window = _window(result, window)
    s = result.series
    balance_m = s["fund_balance"] / USD_PER_M
    ax.plot(s["t"], balance_m, color=FUND_COLOR, lw=1.8, label="fund balance")
    start = _get(_summary(result), "insurance_fund_usd", "start")
    if start is None and len(s):
        start = float(s["fund_balance"][0])
    if start is not None:
        ax.axhline(start / USD_PER_M, color="0.45", ls=":", lw=1.2, label="start")
    adl = result.fills[result.fills["kind"] == ADL]
    if len(adl):
        if len(s):
            y = np.interp(adl["t"], s["t"], s["fund_balance"])
        else:
            y = np.full(len(adl), start if start is not None else 0.0)
        ax.plot(
            adl["t"],
            y / USD_PER_M,
            ls="none",
            marker="x",
            ms=7,
            mew=1.5,
            color="black",
            label=f"ADL fills ({len(adl)})",
        )
    if len(s) and s["t"][-1] > window.hi:
        at_hi = float(np.interp(window.hi, s["t"], s["fund_balance"]))
        end = float(s["fund_balance"][-1])
        if abs(end - at_hi) > 0.001 * max(abs(at_hi), 1.0):
            ax.plot([], [], ls="none", label=f"end of run ({s['t'][-1]:,.0f} s): {fmt_usd(end)}".replace("$", r"\$"))
    ax.set_ylabel("insurance fund ($M)")
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.legend(fontsize=10, framealpha=0.9)
    fit_y(ax, window)
    return _finish(ax, result, window, own)


# --------------------------------------------------------------------------------------------
# The cascade picture


def cascade_title(result):
    """Two title lines: scenario (with what was set on top of its file) and shock, then the summary's key figures."""
    scn = getattr(result, "scenario", None)
    head = scenario_name(scn)
    shock = getattr(scn, "shock", None)
    if shock is not None:
        head += f"  ·  shock: {shock_label(shock)}"
    sm = _summary(result)
    total = _get(sm, "liquidated_notional_usd", "total")
    share = sm.get("long_share_of_liquidated")
    liq = f"liquidated {fmt_usd(total)}"
    if share is not None:
        liq += f" ({100 * share:.0f}% longs)"
    min_last = sm.get("min_last_price")
    min_txt = "n/a" if min_last is None else f"{min_last:,.2f}"
    moves = (
        f"min last {min_txt} ({fmt_pct(sm.get('realized_drawdown_pct'))}) vs exogenous "
        f"{fmt_pct(sm.get('exogenous_drawdown_pct'))}"
    )
    amp = sm.get("amplification")
    if amp is not None:
        moves += f" (x{amp:.2f})"
    adl = f"ADL {fmt_usd(_get(sm, 'adl', 'notional_usd'))}"
    bad = f"bad debt {fmt_usd(sm.get('bad_debt_usd'))}"
    return head, "   |   ".join((liq, moves, adl, bad))


def plot_cascade(result, fig=None, window=None):
    """The three-panel cascade picture (prices, liquidation tape, insurance fund) on a shared time axis, zoomed to
    ``window`` (by default where the cascade happens: :func:`sim.report.timeaxis.time_window`; the x label gives the
    run's full span when the window shows part of it).

    Draws on ``fig`` (expected empty) or on a new 16 x 10 inch Figure, and returns the Figure.
    """
    if fig is None:
        fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    window = _window(result, window)
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0, 1.5]})
    plot_prices(result, axes[0], window)
    plot_liquidation_tape(result, axes[1], window=window)
    plot_insurance_fund(result, axes[2], window)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    head, figures = cascade_title(result)
    fig.suptitle(head, fontsize=17, fontweight="bold")
    # matplotlib reads the text between two "$" as mathematics: show dollar signs as themselves
    axes[0].set_title(figures.replace("$", r"\$"), fontsize=12, loc="left", color="0.2")
    place_legends(fig)
    return fig


def save_cascade_png(result, path):
    """Draw :func:`plot_cascade` and write it as a 1600 x 1000 px PNG at ``path``, atomically.

    The image is written to a temporary name in the same folder and moved over ``path`` with
    ``os.replace``; the temporary file is removed if anything fails. Returns ``path``.
    """
    # an Agg canvas of its own from the start: the legend placement, the layout and savefig then share one renderer,
    # and with it matplotlib's cache of text sizes (a figure without a canvas gets a new renderer at every measurement)
    fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    FigureCanvasAgg(fig)
    plot_cascade(result, fig=fig)
    return write_png(fig, path)


# --------------------------------------------------------------------------------------------
# Liquidation heatmaps (sim.report.heatmaps): what was liquidatable before the shock, and what was liquidated

HEATMAP_FIGSIZE = (16.0, 9.0)  # inches
WITHIN_PCT = 10.0  # the predictive panel's title totals what a move of this size would liquidate


def _start_price(result):
    """``scenario.market.start_price_usd``, else the first index sample."""
    market = getattr(getattr(result, "scenario", None), "market", None)
    return getattr(market, "start_price_usd", None) or float(result.series["index"][0])


def _window_pct(result, start):
    """(below, above) in % of the start price: 1.25 x the run's largest move of mark, last or a liquidation
    fill, rounded up to 5 %, on the side it moved to; ``WITHIN_PCT`` on the other side and at least."""
    s, fills = result.series, result.fills
    prices = np.concatenate((s["mark"], s["last"], fills["price"][metrics.liquidation_mask(fills)]))
    move = metrics.move_pct(prices, start) or 0.0
    wide = max(WITHIN_PCT, 5.0 * math.ceil(1.25 * abs(move) / 5.0))
    return (wide, WITHIN_PCT) if move < 0 else (WITHIN_PCT, wide)


def _extreme_prices(result, start, min_pct):
    """(label, price, colour, style) of the start price and the run's extreme mark and last (lowest in a fall),
    each if it moved at least ``min_pct`` % from the start."""
    sm, out = _summary(result), [(f"start {start:,.0f}", start, "black", "--")]
    found = {}
    for key, low, color in (("mark", "min_mark_price", MARK_COLOR), ("last", "min_last_price", LAST_COLOR)):
        move = metrics.move_pct(np.append(result.series[key], sm.get(low) or np.nan), start)
        if move is not None and abs(move) >= min_pct:
            found[key] = (start * (1.0 + move / 100.0), move, color)
    if len(found) == 2 and abs(found["mark"][0] - found["last"][0]) < 0.01 * start:
        # two labels a line apart would cover each other: one line, one label (the last's, the further one)
        (pm, _, _), (pl, move, color) = found["mark"], found["last"]
        word = "lowest" if move < 0 else "highest"
        return out + [(f"{word} mark {pm:,.0f} / last {pl:,.0f} ({fmt_pct(move)})", pl, color, ":")]
    for key, (price, move, color) in found.items():
        word = "lowest" if move < 0 else "highest"
        out.append((f"{word} {key} {price:,.0f} ({fmt_pct(move)})", price, color, ":"))
    return out


def plot_predictive_heatmap(result, ax=None, bin_pct=0.25, range_pct=None):
    """Liquidatable notional per price level before the shock (``sim.report.heatmaps.predictive_heatmap``).

    Horizontal bars of ``bin_pct`` % of the start price, longs (red) and shorts (green) stacked, over
    ``range_pct`` % either side of the start (by default the run's move with room to spare); dashed
    line at the start price, dotted at the run's extreme mark and last. Needs ``result.accounts``.
    """
    own, ax = ax is None, _axes(ax, figsize=(6.0, 8.0))
    start = _start_price(result)
    below, above = (range_pct, range_pct) if range_pct else _window_pct(result, start)
    lo, hi = start * (1 - below / 100.0), start * (1 + above / 100.0)
    hm = heatmaps.predictive_heatmap(result.accounts, start, bin_pct, max(below, above, WITHIN_PCT))
    seen = (hm.edges[1:] > lo) & (hm.edges[:-1] < hi)
    low, height, longs, shorts = hm.edges[:-1][seen], np.diff(hm.edges)[seen], hm.long_usd[seen], hm.short_usd[seen]
    ax.barh(low, longs, height, align="edge", color=LONG_COLOR, label="longs")
    ax.barh(low, shorts, height, left=longs, align="edge", color=SHORT_COLOR, label="shorts")
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, 1.5 * max(1.0, (longs + shorts).max(initial=0.0)))  # room for the labels beside the bars
    total, band = longs + shorts, 0.03 * (hi - lo)  # a label is about 3% of the axis tall
    for label, price, color, ls in _extreme_prices(result, start, bin_pct):
        if not lo <= price <= hi:
            continue  # a narrower range_pct than the run's move
        # labelled at its right end (the bars reach 2/3 of the width at most), on the side of the line where the
        # bars are shorter
        above = total[(low + height > price) & (low < price + band)].max(initial=0.0)
        below = total[(low + height > price - band) & (low < price)].max(initial=0.0)
        up = above <= below
        ax.axhline(price, color=color, ls=ls, lw=1.4)
        ax.annotate(
            label,
            (1.0, price),
            xycoords=("axes fraction", "data"),
            xytext=(-3, 2 if up else -2),
            textcoords="offset points",
            ha="right",
            va="bottom" if up else "top",
            fontsize=9,
            color=color,
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _usd(x) if x else "0"))
    ax.set_xlabel(f"liquidatable per {bin_pct:g}% ({_usd(hm.edges[1] - hm.edges[0])}) price level")
    ax.set_ylabel("liquidation price at the start (USD)")
    ax.yaxis.set_major_formatter(_price_formatter(hm.edges))
    longs, shorts = heatmaps.liquidatable_within(hm, WITHIN_PCT)
    ax.set_title(
        f"before the shock, liquidatable within ±{WITHIN_PCT:g}%:\nlongs {_usd(longs)}, shorts {_usd(shorts)}",
        loc="left",
        fontsize=11,
    )
    ax.legend(fontsize=9, framealpha=0.9)
    _style(ax)
    if own:
        place_legends(ax.figure)
    return ax


def plot_historical_heatmap(result, ax=None, bin_s=None, bin_pct=0.25, window=None):
    """Liquidated notional by time and fill price (``sim.report.heatmaps.historical_heatmap``) on a log colour
    scale: longs in reds, shorts in greens, empty cells white; last (black) and mark (blue) on top. The
    time axis shows ``window``, by default the cascade's (:func:`sim.report.timeaxis.time_window`), in cells of
    ``bin_s`` seconds (by default at most 60 columns over the window: 2 s for a one-minute crash, 5 min for three
    hours).
    """
    own, ax = ax is None, _axes(ax)
    window = _window(result, window)
    bin_s = bar_width(window, bars=60) if bin_s is None else float(bin_s)
    hm = heatmaps.historical_heatmap(result.fills, _start_price(result), bin_s, bin_pct)
    peak = max(hm.long_usd.max(initial=0.0), hm.short_usd.max(initial=0.0))
    for values, cmap, who in ((hm.long_usd, "Reds", "longs"), (hm.short_usd, "Greens", "shorts")):
        if values.any():
            mesh = ax.pcolormesh(
                hm.t_edges,
                hm.price_edges,
                np.ma.masked_less_equal(values.T, 0.0),
                cmap=cmap,
                norm=LogNorm(peak / 1e3, peak),
            )
            bar = ax.figure.colorbar(mesh, ax=ax, pad=0.01, fraction=0.05, aspect=40)
            bar.set_label(f"{who} liquidated per cell")
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _usd(x)))
    if peak == 0:
        ax.text(0.5, 0.8, "no liquidations", transform=ax.transAxes, ha="center", va="center", color="0.4")
    s = result.series
    ax.plot(s["t"], s["last"], color="black", lw=0.9, label="last")
    ax.plot(s["t"], s["mark"], color=MARK_COLOR, lw=1.2, ls="--", label="mark")
    time_axis(ax, window, clock_origin(result))
    ax.set_ylabel("fill price (USD)")
    cell = _usd(hm.start_price * bin_pct / 100.0)
    ax.set_title(
        f"where and when: longs {_usd(hm.long_usd.sum())}, shorts {_usd(hm.short_usd.sum())} liquidated,\n"
        f"per {bin_s:g} s × {bin_pct:g}% ({cell}) cell",
        loc="left",
        fontsize=11,
    )
    ax.legend(fontsize=9, framealpha=0.9)
    _style(ax)
    if own:
        place_legends(ax.figure)
    return ax


def plot_heatmaps(result, fig=None, bin_s=None, bin_pct=0.25):
    """The predictive heatmap (left) and the historical one (right) on a shared price axis; returns the
    Figure (``fig``, expected empty, or a new 16 x 9 inch one)."""
    if fig is None:
        fig = Figure(figsize=HEATMAP_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=[1.0, 2.2])
    plot_predictive_heatmap(result, left, bin_pct)
    plot_historical_heatmap(result, right, bin_s, bin_pct)
    left.set_ylabel("price (USD)")
    right.set_ylabel("")
    head, figures = cascade_title(result)
    n = _summary(result).get("n_positions")
    head += "" if n is None else f"  ·  {n:,} positions"
    fig.suptitle(f"{head}\n{figures}".replace("$", r"\$"), fontsize=13)
    place_legends(fig)
    return fig
