"""The time axis of a run's figures: which seconds to show, in which clock, and how wide a bar is.

- :func:`time_window` zooms to where things happen: from a little before the shock starts to a margin after both the
  shock's own move and the last liquidation, so a 10% ramp over a minute in a five-minute run fills the panel rather
  than 20% of it. A replay (or a GBM path) moves the index to its end, so its window is the whole run.
- :func:`clock_origin` is the UTC time of a replay's t = 0 (from the recorded path's first timestamp), and
  :func:`time_axis` labels the x axis in UTC clock time then, else in seconds since the start of the run, with a note
  of the full span when the window shows part of it.
- :func:`bar_width` picks a readable bin for the liquidation tape from the shown span (about 200 bars).

Times are seconds since the start of the run, as in the records; only the tick labels change with the clock.
"""

import math
from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
from matplotlib.ticker import Formatter, Locator, MaxNLocator

from sim import metrics

#: Bar widths (s) the tape is binned at; the smallest that gives at most :data:`BARS` bars over the window is used.
BAR_WIDTHS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
BARS = 200
#: Clock tick steps (s).
_CLOCK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
#: Show the whole run when the window would cover at least this share of it.
_WHOLE = 0.8


class TimeWindow(NamedTuple):
    """Seconds since the start of the run: the span shown (``lo``, ``hi``) and the run's whole span."""

    lo: float
    hi: float
    start: float
    end: float

    @property
    def zoomed(self):
        return self.lo > self.start or self.hi < self.end


def _scenario(result):
    return getattr(result, "scenario", None)


def shock_span(scenario, end):
    """``(start, end)`` in s of the exogenous move of the index, None without a shock (``end`` is the run's end)."""
    shock = getattr(scenario, "shock", None)
    kind = getattr(shock, "kind", None)
    if kind in (None, "none"):
        return None
    start = float(getattr(shock, "start_s", 0.0) or 0.0)
    if kind == "gap":
        return start, start
    if kind == "ramp":
        return start, start + float(getattr(shock, "duration_s", 0.0) or 0.0)
    path = getattr(shock, "path", None)
    if kind == "replay" and path is not None and len(path.get("t_s", ())):
        return start, min(end, start + float(path["t_s"][-1]))
    return start, end  # gbm, or a replay without its path: the index moves to the end


def _run_end(result):
    scn = _scenario(result)
    duration = getattr(getattr(scn, "scenario", None), "duration_s", None)
    if duration:
        return float(duration)
    t = np.concatenate((result.series["t"], result.fills["t"], [0.0]))
    return float(np.nanmax(t))


def time_window(results):
    """The :class:`TimeWindow` of one run or of several runs of one scenario (their union).

    From the shock's start less ``max(5 s, 15%)`` of the active span to the later of the shock's end and the last
    liquidation plus ``max(10 s, 30%)`` of it, within the run; the whole run without a shock and without
    liquidations, or when that window would cover most of it anyway.
    """
    results = results if isinstance(results, list | tuple) else [results]
    end = max(_run_end(r) for r in results)
    lo, hi = math.inf, -math.inf
    for res in results:
        span = shock_span(_scenario(res), end)
        liq_t = res.fills["t"][metrics.liquidation_mask(res.fills)]
        if span is not None:
            lo, hi = min(lo, span[0]), max(hi, span[1])
            liq_t = liq_t[
                liq_t >= span[0]
            ]  # a position tipped over by the background flow before it is not the cascade
        if len(liq_t):
            lo, hi = min(lo, float(liq_t.min())), max(hi, float(liq_t.max()))
    if not math.isfinite(lo):
        return TimeWindow(0.0, end, 0.0, end)
    active = hi - lo
    lo = max(0.0, float(math.floor(lo - max(5.0, 0.15 * active))))
    hi = min(end, float(math.ceil(hi + max(10.0, 0.3 * active))))
    if hi - lo >= _WHOLE * end:
        lo, hi = 0.0, end
    return TimeWindow(lo, hi, 0.0, end)


def bar_width(window, bars=BARS, least=1.0):
    """A bin (s) for a window: the smallest of :data:`BAR_WIDTHS`, at least ``least``, giving at most ``bars``."""
    span = max(window.hi - window.lo, 1.0)
    return float(next((w for w in BAR_WIDTHS if w >= least and span / w <= bars), BAR_WIDTHS[-1]))


def bar_label(width):
    """``1 s``, ``30 s``, ``1 min``, ``5 min``, ``1 h``."""
    if width >= 3600 and width % 3600 == 0:
        return f"{width / 3600:g} h"
    if width >= 60 and width % 60 == 0:
        return f"{width / 60:g} min"
    return f"{width:g} s"


# --------------------------------------------------------------------------------------------
# Clock time


#: A path whose first timestamp is earlier than this (2000-01-01 UTC) counts its seconds from its own start: no clock.
CLOCK_SINCE_UNIX_S = 946_684_800


def clock_origin(result):
    """UTC time (unix seconds) of the run's t = 0 for a replay whose path is written in unix time, else None."""
    shock = getattr(_scenario(result), "shock", None)
    path = getattr(shock, "path", None)
    if getattr(shock, "kind", None) != "replay" or not path or path.get("start_unix_s", 0.0) < CLOCK_SINCE_UNIX_S:
        return None
    return float(path["start_unix_s"]) - float(getattr(shock, "start_s", 0.0) or 0.0)


class ClockLocator(Locator):
    """Ticks at round UTC clock times (every 1 s ... 1 day) for an axis in seconds since ``origin`` (unix s)."""

    def __init__(self, origin, most=8):
        self.origin, self.most, self.step = float(origin), most, 60.0

    def __call__(self):
        lo, hi = self.axis.get_view_interval()
        return self.tick_values(lo, hi)

    def tick_values(self, vmin, vmax):
        lo, hi = sorted((float(vmin), float(vmax)))
        span = max(hi - lo, 1e-9)
        self.step = float(next((s for s in _CLOCK_STEPS if span / s <= self.most), _CLOCK_STEPS[-1]))
        first = math.ceil((self.origin + lo) / self.step) * self.step - self.origin
        return np.arange(first, hi + 1e-9, self.step)


class ClockFormatter(Formatter):
    """``21:10`` (or ``21:10:30`` when the ticks are less than a minute apart) for seconds since ``origin``."""

    def __init__(self, origin, locator):
        self.origin, self.locator = float(origin), locator

    def __call__(self, x, pos=None):
        stamp = datetime.fromtimestamp(self.origin + float(x), tz=UTC)
        return stamp.strftime("%H:%M" if self.locator.step >= 60 else "%H:%M:%S")


def _span_note(window):
    return f"; shown {window.lo:,.0f}–{window.hi:,.0f} s of the run's {window.start:,.0f}–{window.end:,.0f} s"


def time_axis(ax, window, origin=None, note=True):
    """Limit ``ax`` (and the axes sharing its x) to ``window`` and label its x axis: UTC clock time when ``origin``
    (unix s of t = 0) is given, else seconds since the start of the run; ``note`` adds the full span when the window
    shows part of the run."""
    ax.set_xlim(window.lo, window.hi)
    if origin is not None:
        locator = ClockLocator(origin)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ClockFormatter(origin, locator))
        day = datetime.fromtimestamp(origin + window.lo, tz=UTC)
        last = datetime.fromtimestamp(origin + window.hi, tz=UTC)
        days = f"{day.day} {day:%b %Y}" + ("" if last.date() == day.date() else f" – {last.day} {last:%b %Y}")
        label = f"time (UTC, {days})"
    else:
        ax.xaxis.set_major_locator(MaxNLocator(steps=[1, 2, 5, 10]))  # whole seconds: 55, 60, 65, not 57.5
        label = "time since start of run (s)"
    if note and window.zoomed:
        label += _span_note(window)
    ax.set_xlabel(label)


def fit_y(ax, window, margin=0.05):
    """Scale the y axis to the lines' values inside ``window`` (matplotlib scales to all the data, shown or not);
    horizontal reference lines (``axhline``) count wherever they are."""
    lo, hi = math.inf, -math.inf
    for line in ax.get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        if not len(y):
            continue
        if line.get_transform() != ax.transData:  # an axhline: x in axes coordinates
            seen = y
        else:
            x = np.asarray(line.get_xdata(), dtype=float)
            inside = (x >= window.lo) & (x <= window.hi)
            seen = y[inside]
            if len(x) > 1 and np.all(np.diff(x) >= 0):  # a line crossing the window's edges
                edges = np.interp([window.lo, window.hi], x, y, left=np.nan, right=np.nan)
                seen = np.concatenate((seen, edges))
        seen = seen[np.isfinite(seen)]
        if len(seen):
            lo, hi = min(lo, float(seen.min())), max(hi, float(seen.max()))
    if math.isfinite(lo):
        pad = margin * (hi - lo) if hi > lo else max(abs(hi) * 1e-3, 1e-9)
        ax.set_ylim(lo - pad, hi + pad)
