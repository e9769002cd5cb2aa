"""The severity figure: curves of a severity metric against x (shock size), one per group of a sweep, with their
confidence bands.

It draws the tables of :func:`sim.studies.severity.severity_table` (one per metric), whose ``attrs`` carry the metric
(``metric``, its axis ``label`` and ``unit``: ``usd``, ``pct`` or ``ratio``), the x key, the ``by`` keys and the
confidence ``level``; the numbers are computed there, never here.
"""

import math

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.report.legends import place_legends
from sim.report.plotkit import SPARE_COLORS, _style, fmt_usd, mix_color

#: The grid key drawn as "shock size" (a fall to the right when every size is a fall).
SHOCK_KEY = "shock.size_pct"

#: The y axis label of each unit (the panel's title names the metric).
UNIT_LABELS = {
    "usd": "USD, mean over seeds",
    "pct": "% of the start price, mean over seeds",
    "ratio": "×, mean over seeds",
}

FIGSIZE = (14.0, 8.0)  # inches; 1680 x 960 px at DPI
DPI = 120


def line_styles(groups: list[str]) -> dict[str, tuple[str, str, str]]:
    """``{label: (colour, line style, marker)}``: the colour follows a curve's first ``by`` value (a named mix keeps
    its own, :func:`sim.report.plotkit.mix_color`), the line style and marker the other values, so "degen, okx" and
    "degen, binance" are both red but drawn differently."""
    firsts: dict[str, str] = {}
    rests: dict[str, int] = {}
    out: dict[str, tuple[str, str, str]] = {}
    for label in groups:
        first, _, rest = label.partition(", ")
        color = mix_color(first) or firsts.setdefault(first, SPARE_COLORS[len(firsts) % len(SPARE_COLORS)])
        k = rests.setdefault(rest, len(rests))
        out[label] = (color, ("-", "--", ":", "-.")[k % 4], ("o", "s", "^", "D", "v")[k % 5])
    return out


def value_axis(ax, unit: str) -> None:
    """Tick labels of a metric's unit: ``$1.00B``, ``-4%``, ``1.2×``."""
    if unit == "usd":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_usd(v) if v else "$0"))
    elif unit == "pct":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    elif unit == "ratio":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))


def draw_severity(table, tables: list, level: float, fig=None):
    """The severity figure of a sweep's results ``table`` from its severity ``tables`` (one per metric, each with the
    ``attrs`` of :func:`sim.studies.severity.severity_table`): one panel per metric, the mean over seeds against x,
    one line per group, its confidence band shaded. Returns the Figure (``fig``, expected empty, or a new one)."""
    names = [sev.attrs["metric"] for sev in tables]
    x, by = tables[0].attrs["x"], tables[0].attrs["by"]
    if fig is None:
        fig = Figure(figsize=FIGSIZE if len(names) > 1 else (9.0, 5.5), layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    cols = 1 if len(names) == 1 else 2 if len(names) <= 4 else 3
    rows = math.ceil(len(names) / cols)
    styles, most = line_styles(list(dict.fromkeys(tables[0]["group"]))), int(tables[0]["runs"].max())
    per_point = f"{'' if tables[0]['runs'].min() == most else 'up to '}{most} run{'s' if most > 1 else ''}"
    for i, sev in enumerate(tables):
        ax = fig.add_subplot(rows, cols, i + 1)
        for group, part in sev.groupby("group", sort=False):
            color, line, marker = styles[group]
            ax.plot(part[x], part["mean"], color=color, ls=line, marker=marker, lw=1.8, ms=4, label=group)
            if (part["n"] > 1).any():
                ax.fill_between(part[x], part["lo"], part["hi"], color=color, alpha=0.18, lw=0)
        _style(ax)
        value_axis(ax, sev.attrs.get("unit"))
        ax.set_ylabel(UNIT_LABELS.get(sev.attrs.get("unit"), ""), fontsize=9)
        ax.set_title(sev.attrs.get("label", sev.attrs["metric"]), fontsize=10)
        ax.set_xlabel("shock size, % (negative = a fall)" if x == SHOCK_KEY else x, fontsize=9)
        if x == SHOCK_KEY and (sev[x] <= 0).all():
            ax.invert_xaxis()  # a bigger crash to the right
    runs, failed = len(table), int((table["status"] != "ok").sum())
    left_out = f"; {failed} failed run(s) left out" if failed else ""
    note = (
        f"{runs} runs{left_out}\n{per_point} per point\nband: Student-t {level:.0%} interval\nof the mean over the runs"
    )
    if len(names) < rows * cols:  # a spare panel holds the legend and the note
        spare_ax = fig.add_subplot(rows, cols, rows * cols)
        spare_ax.axis("off")
        spare_ax.legend(
            *fig.axes[0].get_legend_handles_labels(),
            title=", ".join(by) or None,
            loc="upper left",
            fontsize=10,
            title_fontsize=10,
            frameon=False,
        )
        spare_ax.text(0.02, 0.02, note, transform=spare_ax.transAxes, fontsize=9, va="bottom", color="#444444")
    else:
        fig.axes[0].legend(title=", ".join(by) or None, fontsize=8, title_fontsize=8)
        place_legends(fig)
    fig.suptitle(
        f"Cascade severity against {'shock size' if x == SHOCK_KEY else x}: mean over {per_point} per "
        f"point, band = {level:.0%} confidence interval of the mean{left_out}",
        fontsize=11,
    )
    return fig
