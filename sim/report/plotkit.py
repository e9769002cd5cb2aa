"""Colours, number formats and small Axes helpers shared by the figures of :mod:`sim.report.plots`."""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

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
# Named leverage mixes: one colour each, in every figure and notebook

#: One colour per named leverage mix (``sim.config.mixes``): the severity curves and the notebooks use these.
MIX_COLORS = {"conservative": "#2ca02c", "balanced": "#1f77b4", "degen": "#d62728"}
#: Colours for curves that are not a named mix, taken in turn.
SPARE_COLORS = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#17a398")


def mix_color(name):
    """The colour of a named leverage mix (``"degen"``), None for any other name."""
    return MIX_COLORS.get(str(name))
