"""Severity studies: how big a cascade gets as the shock grows, per leverage mix, with uncertainty over seeds.

A sweep over ``shock.size_pct`` × ``population.leverage_mix`` × N seeds (``liqsim sweep``, :mod:`sim.studies.sweep`) has one
row per run. :func:`severity_table` reduces it to one row per (group, shock size): the mean over seeds of a
severity metric (:data:`METRICS`) with a confidence interval for that mean; :func:`plot_severity` draws the curves
with their bands and :func:`save_severity` writes ``severity.png`` and ``severity.csv`` into the sweep's folder
(``liqsim plot severity DIR``).

**The x axis and the groups.** By default x is ``shock.size_pct`` when it is a grid key, else the only numeric grid
key; the groups are the other grid keys' combinations (one curve each: ``degen``, or ``degen, okx`` when the venue
varies too), in the order the sweep lists them.

**Uncertainty.** The seeds of one point are independent draws of the population, background flow and (for GBM
shocks) the path, so the interval is Student's t for the mean: ``mean ± t(1 - (1 - level)/2, n - 1) · sd / √n``,
sd the sample standard deviation (ddof 1). With one seed there is no interval (NaN) and the band is not drawn. A
failed run, or a run whose metric is undefined (amplification with no exogenous move), is left out and counted in
``failed`` / ``undefined``, never read as 0. A metric that cannot be negative (notional, a drawdown of the fund)
has its interval clipped at 0. A point pools every run with its curve's ``by`` values and its x: with ``by``
leaving out a grid key (``--by population.leverage_mix`` on a sweep over venues too), one seed's runs under that
key's values share their random draws, so they are not independent and the band is narrower than it should be;
the default (every grid key but x) keeps one run per seed at each point.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import cast

import numpy as np

from sim.errors import ScenarioError
from sim.outputs import SEVERITY_FILES, write_atomic

#: Severity metrics: name → (axis label, unit, the results-table column or (start, low) columns for a drawdown,
#: the least value the metric can take: an interval is clipped there, as the mean cannot lie below it).
METRICS = {
    "liquidated_notional": ("Liquidated notional", "usd", "liquidated_notional_usd.total", 0.0),
    "realized_drawdown": ("Realized drawdown of the last price (signed)", "pct", "realized_drawdown_pct", None),
    "amplification": ("Amplification: realized / exogenous move", "ratio", "amplification", None),
    "adl_notional": ("ADL notional", "usd", "adl.notional_usd", 0.0),
    "fund_drawdown": (
        "Insurance-fund drawdown (start − lowest balance)",
        "usd",
        ("insurance_fund_usd.start", "insurance_fund_usd.min"),
        0.0,
    ),
}
#: The x key preferred when a sweep varies it.
SHOCK_KEY = "shock.size_pct"
#: What :func:`save_severity` writes into a sweep folder.
#: One colour per named leverage mix, kept across figures; other groups take the spare colours in turn.
MIX_COLORS = {"conservative": "#2ca02c", "balanced": "#1f77b4", "degen": "#d62728"}
_SPARE_COLORS = ("#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#17a398")

FIGSIZE = (14.0, 8.0)  # inches; 1680 x 960 px at DPI
DPI = 120


def load_sweep(folder: str | Path):
    """A finished sweep's table (``results.parquet`` in ``folder``) as a pandas DataFrame."""
    import pandas as pd

    path = Path(folder) / "results.parquet"
    if not Path(folder).is_dir():
        raise ScenarioError(f"{folder}: no such folder (give the --out folder of a `liqsim sweep`)")
    if not path.is_file():
        raise ScenarioError(
            f"{folder}: holds no results.parquet: not a finished sweep's folder (run `liqsim sweep "
            f"... --out {folder}` first, or let an interrupted one finish)"
        )
    try:
        return pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - an unreadable table is bad input, reported as such
        raise ScenarioError(f"{path}: cannot be read as a sweep's table: {err}") from None


def grid_keys(table) -> list[str]:
    """The sweep's grid keys: the columns between ``seed`` and ``status``, in the sweep's order."""
    cols = list(table.columns)
    if "seed" not in cols or "status" not in cols or cols.index("status") < cols.index("seed"):
        raise ScenarioError(
            "the table is not a sweep's results table (it needs the columns run_id, seed, the grid keys, status, ...)"
        )
    if not len(table):
        raise ScenarioError("the sweep's table has no runs")
    return cols[cols.index("seed") + 1 : cols.index("status")]


def metric_values(table, metric: str) -> np.ndarray:
    """One severity metric per row as float64, NaN where it is undefined or the run failed."""
    if metric not in METRICS:
        raise ScenarioError(f"metric = {metric!r}: unknown; the severity metrics are {', '.join(METRICS)}")
    grid_keys(table)
    column = METRICS[metric][2]

    def col(name):
        if name not in table.columns:
            return np.full(len(table), np.nan)
        return table[name].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)

    values = col(column[0]) - col(column[1]) if isinstance(column, tuple) else col(column)
    return np.where(np.asarray(table["status"] == "ok", dtype=bool), values, np.nan)


def _axes_keys(table, x: str | None, by: str | list[str] | None) -> tuple[str, list[str]]:
    keys = grid_keys(table)
    numeric = [k for k in keys if _numeric(table[k])]
    if x is None:
        if SHOCK_KEY in numeric:
            x = SHOCK_KEY
        elif len(numeric) == 1:
            x = numeric[0]
        else:
            raise ScenarioError(
                f"x = None: the sweep's numeric grid keys are {', '.join(numeric) or 'none'}; name "
                f"the one to put on the x axis (--x KEY); a severity study sweeps {SHOCK_KEY}"
            )
    elif x not in numeric:
        raise ScenarioError(
            f"x = {x!r}: not a numeric grid key of this sweep; its numeric grid keys are {', '.join(numeric) or 'none'}"
        )
    by = [k for k in keys if k != x] if by is None else [by] if isinstance(by, str) else list(dict.fromkeys(by))
    for key in by:
        if key not in keys or key == x:
            raise ScenarioError(
                f"by = {key!r}: not a grid key of this sweep other than x ({x}); the others are "
                f"{', '.join(k for k in keys if k != x) or 'none'}"
            )
    return x, by


def _names(metrics: str | list[str] | None) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(METRICS if metrics is None else metrics))
    if not names:
        raise ScenarioError(f"metric: name at least one; the severity metrics are {', '.join(METRICS)}")
    return names


def _numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def severity_table(
    table,
    metric: str = "liquidated_notional",
    x: str | None = None,
    by: str | list[str] | None = None,
    level: float = 0.95,
):
    """One row per (group, x): ``group`` (its label), the ``by`` keys, x, ``runs``, ``n`` (runs with a value),
    ``failed``, ``undefined``, ``mean``, ``sd``, ``lo``, ``hi`` (the t interval for the mean), ``median``, ``min``,
    ``max``; groups in the sweep's order, x ascending within each group."""
    import pandas as pd
    from scipy import stats

    _check_level(level)
    x, by = _axes_keys(table, x, by)
    values = metric_values(table, metric)
    table = table.reset_index(drop=True)  # positions, whatever index the caller's table has
    ok = np.asarray(table["status"] == "ok", dtype=bool)
    frame = pd.DataFrame(
        {"group": _labels(table, by), "x": table[x].astype("Float64").to_numpy(np.float64), "value": values, "ok": ok}
    )
    floor, rows = METRICS[metric][3], []
    for (label, _), part in frame.groupby(["group", "x"], sort=False):
        v = part["value"].to_numpy()
        v = v[np.isfinite(v)]
        n = len(v)
        mean = float(v.mean()) if n else math.nan
        sd = float(v.std(ddof=1)) if n > 1 else math.nan
        half = float(stats.t.ppf(0.5 + float(level) / 2, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
        lo = mean - half if floor is None or math.isnan(half) else max(floor, mean - half)
        first = table.iloc[part.index[0]]
        rows.append(
            {
                "group": label,
                **{k: first[k] for k in by},
                x: first[x],
                "runs": len(part),
                "n": n,
                "failed": int((~part["ok"]).sum()),
                "undefined": int(part["ok"].sum()) - n,
                "mean": mean,
                "sd": sd,
                "lo": lo,
                "hi": mean + half,
                "median": float(np.median(v)) if n else math.nan,
                "min": float(v.min()) if n else math.nan,
                "max": float(v.max()) if n else math.nan,
            }
        )
    out = pd.DataFrame(rows)
    order = {g: i for i, g in enumerate(dict.fromkeys(frame["group"]))}
    out = out.sort_values([x], kind="stable").sort_values("group", key=lambda s: s.map(order), kind="stable")
    out = out.reset_index(drop=True)
    out.attrs.update(metric=metric, x=x, by=by, level=level)
    return out


def _check_level(level) -> None:
    if not (isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < cast(float, level) < 1):
        raise ScenarioError(f"level = {level!r}: must be a probability in (0, 1), e.g. 0.95")


def _labels(table, by: list[str]) -> list[str]:
    """Each row's group label: its ``by`` values, joined (``degen, okx``); ``all runs`` when nothing varies."""
    if not by:
        return ["all runs"] * len(table)
    return [", ".join(str(v) for v in values) for values in zip(*(table[k].tolist() for k in by))]


def _line_styles(groups: list[str]) -> dict[str, tuple[str, str, str]]:
    """``{label: (colour, line style, marker)}``: the colour follows a curve's first ``by`` value (a named mix keeps
    its own), the line style and marker the other values, so "degen, okx" and "degen, binance" are both red but
    drawn differently."""
    firsts: dict[str, str]
    rests: dict[str, int]
    firsts, rests, out = {}, {}, {}
    for label in groups:
        first, _, rest = label.partition(", ")
        color = MIX_COLORS.get(first) or firsts.setdefault(first, _SPARE_COLORS[len(firsts) % len(_SPARE_COLORS)])
        k = rests.setdefault(rest, len(rests))
        out[label] = (color, ("-", "--", ":", "-.")[k % 4], ("o", "s", "^", "D", "v")[k % 5])
    return out


def _value_axis(ax, unit: str) -> None:
    from matplotlib.ticker import FuncFormatter

    from sim.report.plotkit import fmt_usd

    if unit == "usd":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_usd(v) if v else "$0"))
    elif unit == "pct":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}%"))
    elif unit == "ratio":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))


def plot_severity(
    table,
    metrics: str | list[str] | None = None,
    x: str | None = None,
    by: str | list[str] | None = None,
    level: float = 0.95,
    fig=None,
):
    """A figure with one panel per severity metric (default: all of :data:`METRICS`): the mean over seeds against
    x, one line per group, its confidence band shaded; ``table`` is a sweep's results table."""
    names = _names(metrics)
    return _draw(table, [severity_table(table, name, x, by, level) for name in names], level, fig)


def _draw(table, tables: list, level: float, fig=None):
    """The figure of :func:`plot_severity` from its :func:`severity_table` tables, one per metric."""
    from matplotlib.figure import Figure

    from sim.report.plotkit import _style

    names = [sev.attrs["metric"] for sev in tables]
    x, by = tables[0].attrs["x"], tables[0].attrs["by"]
    if fig is None:
        fig = Figure(figsize=FIGSIZE if len(names) > 1 else (9.0, 5.5), layout="constrained")
    cols = 1 if len(names) == 1 else 2 if len(names) <= 4 else 3
    rows = math.ceil(len(names) / cols)
    styles, most = _line_styles(list(dict.fromkeys(tables[0]["group"]))), int(tables[0]["runs"].max())
    per_point = f"{'' if tables[0]['runs'].min() == most else 'up to '}{most} run{'s' if most > 1 else ''}"
    for i, (name, sev) in enumerate(zip(names, tables)):
        ax = fig.add_subplot(rows, cols, i + 1)
        label, unit = METRICS[name][:2]
        for group, part in sev.groupby("group", sort=False):
            color, line, marker = styles[group]
            ax.plot(part[x], part["mean"], color=color, ls=line, marker=marker, lw=1.8, ms=4, label=group)
            if (part["n"] > 1).any():
                ax.fill_between(part[x], part["lo"], part["hi"], color=color, alpha=0.18, lw=0)
        _style(ax)
        _value_axis(ax, unit)
        ax.set_title(label, fontsize=10)
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
    fig.suptitle(
        f"Cascade severity against {'shock size' if x == SHOCK_KEY else x}: mean over {per_point} per "
        f"point, band = {level:.0%} confidence interval of the mean{left_out}",
        fontsize=11,
    )
    return fig


def save_severity(
    folder: str | Path,
    metrics: str | list[str] | None = None,
    x: str | None = None,
    by: str | list[str] | None = None,
    level: float = 0.95,
    out: str | Path | None = None,
) -> Path:
    """Draw :func:`plot_severity` for the sweep in ``folder`` and write it (``out``, default ``severity.png`` in the
    folder) and the numbers behind it (``severity.csv`` beside it, one row per metric, group and x), atomically."""
    import pandas as pd

    table = load_sweep(folder)
    png = Path(out) if out is not None else Path(folder) / SEVERITY_FILES[0]
    shown = f"out = {str(out)!r}"
    if png.suffix.lower() != ".png":
        raise ScenarioError(f"{shown}: must name a .png file")
    if not png.parent.is_dir():
        raise ScenarioError(f"{shown}: the folder {png.parent} does not exist")
    if png.parent.resolve() == Path(folder).resolve() and png.name != SEVERITY_FILES[0]:
        raise ScenarioError(
            f"{shown}: in the sweep's own folder only {SEVERITY_FILES[0]} may be written (another "
            "file there would stop the sweep from running again in it); leave out --out, or "
            "choose another folder"
        )
    for path in (png, png.with_suffix(".csv")):
        if path.is_dir():
            raise ScenarioError(f"{shown}: {path} is a folder")
    tables = [severity_table(table, name, x, by, level) for name in _names(metrics)]
    fig = _draw(table, tables, level)
    numbers = pd.concat([sev.assign(metric=sev.attrs["metric"]) for sev in tables])
    numbers = numbers[["metric", *[c for c in numbers.columns if c != "metric"]]]
    write_atomic(
        {
            png: lambda tmp: fig.savefig(tmp, format="png", dpi=DPI),
            png.with_suffix(".csv"): lambda tmp: numbers.to_csv(tmp, index=False),
        }
    )
    return png
