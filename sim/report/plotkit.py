"""Colours, number formats and small Axes helpers shared by the figures of :mod:`sim.report.plots`."""

import math
import os
import uuid

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

LONG_COLOR = "#d62728"
SHORT_COLOR = "#2ca02c"
INDEX_COLOR = "#262626"
MARK_COLOR = "#1f77b4"
LAST_COLOR = "#ff7f0e"
FUND_COLOR = "#6a3d9a"
SPOT_COLOR = "#17a398"  # the spot venues of the index (endogenous prices)
USD_PER_M = 1e6

CASCADE_FIGSIZE = (16.0, 10.0)  # inches; 1600 x 1000 px at CASCADE_DPI
CASCADE_DPI = 100


# --------------------------------------------------------------------------------------------
# Small helpers


def write_png(fig, path, dpi=CASCADE_DPI):
    """Write ``fig`` as a PNG at ``path`` atomically: to a temporary name in the same folder, then moved over
    ``path`` with ``os.replace``; the temporary file is removed if anything fails. Returns ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fig.savefig(fh, format="png", dpi=dpi)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


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


def _usd(x):
    """:func:`fmt_usd` with the dollar escaped, so two amounts in one text never start mathtext."""
    return fmt_usd(x).replace("$", r"\$")


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


# --------------------------------------------------------------------------------------------
# Titles: the scenario, and what was set on top of its file

_MOST_OVERRIDES = 4  # a title names at most this many overridden keys, then "+N more"


def _value_text(value):
    """A scenario value as a title shows it: ``degen``, ``0.5``, ``1_000_000``, ``{10x=0.5, 20x=0.5}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}"
    if isinstance(value, float):
        return f"{value:_}" if value.is_integer() and abs(value) >= 1e4 else f"{value:g}"
    if isinstance(value, tuple | list) and value and all(isinstance(v, tuple | list) and len(v) == 2 for v in value):
        return "{" + ", ".join(f"{lev:g}x={w:g}" for lev, w in value) + "}"  # a leverage mix
    if isinstance(value, tuple | list):
        return f"[{len(value)} rows]"
    text = str(value)
    return text if len(text) <= 32 else text[:31] + "…"


def overrides_text(scenario):
    """``population.leverage_mix=degen, scenario.seed=8``: the keys set on top of the scenario's file (``--set``,
    ``--seed``, ``overrides=``), in key order, with their values; empty when there are none."""
    keys = sorted(getattr(scenario, "overridden", None) or ())
    parts = []
    for key in keys[:_MOST_OVERRIDES]:
        table, _, name = key.partition(".")
        value = getattr(getattr(scenario, table, None), name, None)
        if name == "file" and isinstance(value, str):
            value = value.replace("\\", "/").rsplit("/", 1)[-1]  # a data file by its name, not its whole path
        parts.append(f"{key}={_value_text(value)}")
    if len(keys) > _MOST_OVERRIDES:
        parts.append(f"+{len(keys) - _MOST_OVERRIDES} more")
    return ", ".join(parts)


def scenario_name(scenario, default="liqsim run"):
    """The scenario's name, followed by what was overridden: ``btc_flash_crash (population.leverage_mix=degen)``."""
    name = str(getattr(getattr(scenario, "scenario", None), "name", None) or default)
    extra = overrides_text(scenario)
    return f"{name} ({extra})" if extra else name


def shock_label(shock):
    """``ramp -10%`` for a gap or ramp (the only kinds ``size_pct`` applies to), else the kind alone."""
    kind = getattr(shock, "kind", "?")
    size = getattr(shock, "size_pct", None)
    return f"{kind} {size:g}%" if kind in ("gap", "ramp") and size is not None else str(kind)


def plain_log_ticks(axis, suffix=""):
    """Plain tick labels on a log ``axis`` (``ax.xaxis``): 1, 2, 5, 10, 20, ... with ``suffix`` (``"×"``; only the
    powers of ten when the axis spans more than 2.5 decades), no minor labels, never matplotlib's ``6×10⁰``."""

    def label(v, _pos):
        if not v > 0:
            return ""
        lo, hi = sorted(axis.get_view_interval())
        mantissa = v / 10 ** math.floor(math.log10(v) + 1e-9)
        if lo > 0 and math.log10(hi / lo) > 2.5 and abs(mantissa - 1.0) > 1e-6:
            return ""
        return f"{v:,.{max(0, -math.floor(math.log10(v) + 1e-9))}f}{suffix}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())
