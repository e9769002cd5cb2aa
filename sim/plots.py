"""Pictures of a run (the only module that imports matplotlib).

Everything draws on :class:`matplotlib.figure.Figure` objects directly: no pyplot state, no
``show()``, no changes to global rcParams, so it works headless and inside other programs.

``result`` is any object with attributes ``fills`` (``FILL_DTYPE``), ``series`` (``SERIES_DTYPE``),
``summary`` (the dict of :func:`sim.metrics.summarize`) and ``scenario`` (with
``.scenario.name``, ``.shock.kind`` and ``.shock.size_pct``). Axes-level functions take
``(result, ax=None)``, draw on ``ax`` (or on a new Figure) and return the Axes.
"""

import os
import uuid

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim import metrics
from sim.enums import ADL

LONG_COLOR = "#d62728"
SHORT_COLOR = "#2ca02c"
INDEX_COLOR = "#7f7f7f"
MARK_COLOR = "#1f77b4"
LAST_COLOR = "#ff7f0e"
FUND_COLOR = "#6a3d9a"
USD_PER_M = 1e6

CASCADE_FIGSIZE = (16.0, 10.0)  # inches; 1600 x 1000 px at CASCADE_DPI
CASCADE_DPI = 100


# --------------------------------------------------------------------------------------------
# Small helpers


def _axes(ax, figsize=(10.0, 4.0)):
    """``ax`` itself, or the single Axes of a new Figure."""
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def _style(ax):
    ax.grid(True, alpha=0.3, linewidth=0.6)
    ax.set_axisbelow(True)


def _summary(result):
    return getattr(result, "summary", None) or {}


def _get(mapping, *keys):
    """Nested ``mapping[k1][k2]...`` or None if any level is missing."""
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping:
            return None
        mapping = mapping[key]
    return mapping


def fmt_usd(x):
    """Money for titles: ``$1.23B``, ``$45.6M``, ``$7.8k``, ``$12``; ``n/a`` for None."""
    if x is None or not np.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(float(x))
    for scale, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            v = a / scale
            digits = 2 if v < 10 else (1 if v < 100 else 0)
            return f"{sign}${v:,.{digits}f}{unit}"
    return f"{sign}${a:,.0f}"


def fmt_pct(x):
    """Signed percent for titles (``-12.3%``); ``n/a`` for None."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:+.1f}%"


def _price_formatter(*arrays):
    """Tick labels with thousands separators and as many decimals as the price range needs."""
    vals = np.concatenate([np.asarray(a, dtype=float) for a in arrays])
    vals = vals[np.isfinite(vals)]
    span = float(vals.max() - vals.min()) if len(vals) else 0.0
    digits = 0
    for limit in (50.0, 5.0, 0.5, 0.05):
        if span >= limit:
            break
        digits += 1
    return FuncFormatter(lambda x, _pos: f"{x:,.{digits}f}")


# --------------------------------------------------------------------------------------------
# Panels


def plot_prices(result, ax=None):
    """Index (dashed), mark (thick) and last (thin) in USD against time (s); the min last is marked."""
    ax = _axes(ax)
    s = result.series
    t = s["t"]
    ax.plot(t, s["index"], color=INDEX_COLOR, lw=1.2, ls="--", label="index")
    ax.plot(t, s["mark"], color=MARK_COLOR, lw=2.4, label="mark")
    ax.plot(t, s["last"], color=LAST_COLOR, lw=0.8, label="last")
    last = np.asarray(s["last"], dtype=float)
    if np.isfinite(last).any():
        k = int(np.nanargmin(last))
        ax.plot(
            [t[k]], [last[k]], ls="none", marker="v", ms=10, color="black",
            label=f"min last {last[k]:,.2f}",
        )
    ax.set_ylabel("price (USD)")
    ax.yaxis.set_major_formatter(_price_formatter(s["index"], s["mark"], s["last"]))
    ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    _style(ax)
    return ax


def plot_liquidation_tape(result, ax=None, bin_s=1.0):
    """Liquidated notional per ``bin_s`` seconds in $M, stacked: longs (red) below shorts (green).

    Uses the liquidated-side rule of :mod:`sim.metrics` (ADL fills count for the bankrupt side).
    """
    ax = _axes(ax)
    edges, long_usd, short_usd = metrics.liquidation_bins(result.fills, bin_s)
    if len(long_usd):
        long_m = long_usd / USD_PER_M
        total_m = (long_usd + short_usd) / USD_PER_M
        ax.stairs(long_m, edges, fill=True, color=LONG_COLOR, alpha=0.9,
                  label=f"longs liquidated ({fmt_usd(long_usd.sum())})")
        ax.stairs(total_m, edges, baseline=long_m, fill=True, color=SHORT_COLOR, alpha=0.9,
                  label=f"shorts liquidated ({fmt_usd(short_usd.sum())})")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    else:
        ax.text(0.5, 0.5, "no liquidations", transform=ax.transAxes, ha="center", va="center",
                color="0.4")
    ax.set_ylabel(f"liquidated per {bin_s:g} s ($M)")
    _style(ax)
    return ax


def plot_insurance_fund(result, ax=None):
    """Insurance-fund balance in $M against time (s), its start level dotted, ADL fills marked ``x``."""
    ax = _axes(ax)
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
        ax.plot(adl["t"], y / USD_PER_M, ls="none", marker="x", ms=7, mew=1.5, color="black",
                label=f"ADL fills ({len(adl)})")
    ax.set_ylabel("insurance fund ($M)")
    ax.ticklabel_format(axis="y", style="plain", useOffset=False)
    ax.legend(loc="upper right", fontsize=10, framealpha=0.9)
    _style(ax)
    return ax


# --------------------------------------------------------------------------------------------
# The cascade picture


def cascade_title(result):
    """Two title lines: scenario and shock, then the key figures of the summary."""
    scn = getattr(result, "scenario", None)
    name = getattr(getattr(scn, "scenario", None), "name", None) or "liqsim run"
    shock = getattr(scn, "shock", None)
    head = str(name)
    if shock is not None:
        size = getattr(shock, "size_pct", None)
        size_txt = "" if size is None else f" {size:g}%"
        head += f"  ·  shock: {getattr(shock, 'kind', '?')}{size_txt}"
    sm = _summary(result)
    total = _get(sm, "liquidated_notional_usd", "total")
    share = sm.get("long_share_of_liquidated")
    liq = f"liquidated {fmt_usd(total)}"
    if share is not None:
        liq += f" ({100 * share:.0f}% longs)"
    min_last = sm.get("min_last_price")
    min_txt = "n/a" if min_last is None else f"{min_last:,.2f}"
    moves = (f"min last {min_txt} ({fmt_pct(sm.get('realized_drawdown_pct'))}) vs exogenous "
             f"{fmt_pct(sm.get('exogenous_drawdown_pct'))}")
    amp = sm.get("amplification")
    if amp is not None:
        moves += f" (x{amp:.2f})"
    adl = f"ADL {fmt_usd(_get(sm, 'adl', 'notional_usd'))}"
    bad = f"bad debt {fmt_usd(sm.get('bad_debt_usd'))}"
    return head, "   |   ".join((liq, moves, adl, bad))


def plot_cascade(result, fig=None):
    """The three-panel cascade picture (prices, liquidation tape, insurance fund) on a shared time axis.

    Draws on ``fig`` (expected empty) or on a new 16 x 10 inch Figure, and returns the Figure.
    """
    if fig is None:
        fig = Figure(figsize=CASCADE_FIGSIZE, layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3.0, 2.0, 1.5]})
    plot_prices(result, axes[0])
    plot_liquidation_tape(result, axes[1])
    plot_insurance_fund(result, axes[2])
    axes[-1].set_xlabel("time since start of run (s)")
    head, figures = cascade_title(result)
    fig.suptitle(head, fontsize=17, fontweight="bold")
    axes[0].set_title(figures, fontsize=12, loc="left", color="0.2")
    times = np.concatenate((result.series["t"], result.fills["t"]))
    times = times[np.isfinite(times)]
    if len(times) and times.max() > times.min():
        axes[-1].set_xlim(float(times.min()), float(times.max()))
    return fig


def save_cascade_png(result, path):
    """Draw :func:`plot_cascade` and write it as a 1600 x 1000 px PNG at ``path``, atomically.

    The image is written to a temporary name in the same folder and moved over ``path`` with
    ``os.replace``; the temporary file is removed if anything fails. Returns ``path``.
    """
    fig = plot_cascade(result)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=CASCADE_DPI)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
