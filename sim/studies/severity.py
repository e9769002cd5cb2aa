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
import os
from pathlib import Path
from typing import cast

import numpy as np

from sim.errors import ScenarioError
from sim.outputs import SEVERITY_FILES, folder_lock, read_marker, unchanged, write_atomic, write_new

#: Severity metrics: name → (axis label, unit, the results-table column or (start, low) columns for a drawdown,
#: the least value the metric can take: an interval is clipped there, as the mean cannot lie below it).
METRICS = {
    "liquidated_notional": ("Liquidated notional", "usd", "liquidated_notional_usd.total", 0.0),
    "realized_drawdown": ("Realized drawdown of the last price (signed)", "pct", "realized_drawdown_pct", None),
    "amplification": ("Amplification: realized / exogenous move", "ratio", "amplification", None),
    "cascade_multiplier": (
        "Cascade multiplier: liquidated ÷ the static map",
        "ratio",
        "feedback.cascade_multiplier",
        0.0,
    ),
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
    x, by, problems = _axes_problems(table, x, by)
    if problems:
        raise ScenarioError(problems)
    return cast(str, x), by


def _axes_problems(table, x: str | None, by: str | list[str] | None) -> tuple[str | None, list[str], list[str]]:
    """``(x, by, problems)``: the x key and the group keys, chosen or checked, and every problem with them."""
    keys, problems = grid_keys(table), []
    numeric = [k for k in keys if _numeric(table[k])]
    if x is None:
        if SHOCK_KEY in numeric:
            x = SHOCK_KEY
        elif len(numeric) == 1:
            x = numeric[0]
        else:
            problems.append(
                f"x = None: the sweep's numeric grid keys are {', '.join(numeric) or 'none'}; name "
                f"the one to put on the x axis (--x KEY); a severity study sweeps {SHOCK_KEY}"
            )
    elif x not in numeric:
        problems.append(
            f"x = {x!r}: not a numeric grid key of this sweep; its numeric grid keys are {', '.join(numeric) or 'none'}"
        )
        x = None
    by = [k for k in keys if k != x] if by is None else [by] if isinstance(by, str) else list(dict.fromkeys(by))
    for key in by:
        if key not in keys or key == x:
            problems.append(
                f"by = {key!r}: not a grid key of this sweep other than x ({x}); the others are "
                f"{', '.join(k for k in keys if k != x) or 'none'}"
            )
    return x, by, problems


def _names(metrics: str | list[str] | None) -> list[str]:
    names, problems = _name_problems(metrics)
    if problems:
        raise ScenarioError(problems)
    return names


def _name_problems(metrics: str | list[str] | None) -> tuple[list[str], list[str]]:
    """``(names, problems)``: the metrics asked for (default: all), and one problem per unknown name."""
    names = [metrics] if isinstance(metrics, str) else list(dict.fromkeys(METRICS if metrics is None else metrics))
    if not names:
        return names, [f"metric: name at least one; the severity metrics are {', '.join(METRICS)}"]
    return names, [
        f"metric = {name!r}: unknown; the severity metrics are {', '.join(METRICS)}"
        for name in names
        if name not in METRICS
    ]


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
    out.attrs.update(metric=metric, label=METRICS[metric][0], unit=METRICS[metric][1], x=x, by=by, level=level)
    return out


def _check_level(level) -> None:
    if problem := _level_problem(level):
        raise ScenarioError(problem)


def _level_problem(level) -> str | None:
    if not (isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < cast(float, level) < 1):
        return f"level = {level!r}: must be a probability in (0, 1), e.g. 0.95"
    return None


def _labels(table, by: list[str]) -> list[str]:
    """Each row's group label: its ``by`` values, joined (``degen, okx``); ``all runs`` when nothing varies."""
    if not by:
        return ["all runs"] * len(table)
    return [", ".join(str(v) for v in values) for values in zip(*(table[k].tolist() for k in by))]


def plot_severity(
    table,
    metrics: str | list[str] | None = None,
    x: str | None = None,
    by: str | list[str] | None = None,
    level: float = 0.95,
    fig=None,
):
    """A figure with one panel per severity metric (default: all of :data:`METRICS`): the mean over seeds against
    x, one line per group, its confidence band shaded; ``table`` is a sweep's results table. The tables are computed
    here and drawn by :func:`sim.report.severity.draw_severity`."""
    from sim.report.severity import draw_severity  # matplotlib: loaded when a figure is drawn

    names = _names(metrics)
    return draw_severity(table, [severity_table(table, name, x, by, level) for name in names], level, fig)


def save_severity(
    folder: str | Path,
    metrics: str | list[str] | None = None,
    x: str | None = None,
    by: str | list[str] | None = None,
    level: float = 0.95,
    out: str | Path | None = None,
) -> Path:
    """Draw :func:`plot_severity` for the sweep in ``folder`` and write it (``out``, default ``severity.png`` in the
    folder) and the numbers behind it (``severity.csv`` beside it, one row per metric, group and x), atomically.

    Every problem with the arguments is reported at once (:class:`ScenarioError`). No file is written over unless
    liqsim provably wrote it: in the sweep's folder, ``severity.png`` and ``severity.csv`` are replaced only when
    the folder's marker lists them as they are (and the folder is locked while they are written); elsewhere an
    existing PNG or CSV of that name is refused."""
    import pandas as pd

    from sim.report.severity import DPI, draw_severity

    problems, table = [], None
    try:
        table = load_sweep(folder)
    except ScenarioError as err:
        problems += err.problems
    names, more = _name_problems(metrics)
    problems += more
    if problem := _level_problem(level):
        problems.append(problem)
    if table is not None:
        try:
            x, by, more = _axes_problems(table, x, by)
            problems += more
        except ScenarioError as err:  # not a sweep's table
            problems += err.problems
            table = None
    png = Path(out) if out is not None else Path(folder) / SEVERITY_FILES[0]
    if out is not None or table is not None:
        problems += _out_problems(png, folder, f"out = {str(out)!r}" if out is not None else str(png))
    if problems:
        raise ScenarioError(problems)
    tables = [severity_table(table, name, x, by, level) for name in names]
    fig = draw_severity(table, tables, level)
    numbers = pd.concat([sev.assign(metric=sev.attrs["metric"]) for sev in tables])
    numbers = numbers[["metric", *[c for c in numbers.columns if c != "metric"]]]
    files = {
        png: lambda tmp: fig.savefig(tmp, format="png", dpi=DPI),
        png.with_suffix(".csv"): lambda tmp: numbers.to_csv(tmp, index=False),
    }
    sweep_dir = Path(folder).resolve()
    if png.parent.resolve() != sweep_dir:
        write_new(files)  # never over an existing file
        return png
    with folder_lock(sweep_dir):  # no sweep writes its folder meanwhile
        doc, _ = read_marker(sweep_dir)
        if doc is not None and doc["kind"] == "sweep":
            if bad := _not_provably_ours(png):
                raise ScenarioError(bad)
            write_atomic(files, folder=sweep_dir)  # the marker lists them: a sweep run again removes them
        else:  # an older liqsim's sweep (no marker): add the files, replace nothing
            write_new(files)
    return png


def _out_problems(png: Path, folder: str | Path, shown: str) -> list[str]:
    """What is wrong with writing the figure at ``png`` (and its numbers beside it) for the sweep in ``folder``."""
    if png.suffix.lower() != ".png":
        return [f"{shown}: must name a .png file"]
    if not png.parent.is_dir():
        return [f"{shown}: the folder {png.parent} does not exist"]
    inside = png.parent.resolve() == Path(folder).resolve()
    if inside and png.name != SEVERITY_FILES[0]:
        return [
            f"{shown}: in the sweep's own folder only {SEVERITY_FILES[0]} may be written (another "
            "file there would stop the sweep from running again in it); leave out --out, or "
            "choose another folder"
        ]
    problems = [f"{shown}: {path} is a folder" for path in (png, png.with_suffix(".csv")) if path.is_dir()]
    return problems or ([bad] if (bad := _not_provably_ours(png, inside)) else [])


def _not_provably_ours(png: Path, inside: bool = True) -> str | None:
    """Why the figure or its numbers may not be written over (they exist and liqsim cannot prove it wrote them)."""
    found = [
        path
        for path in (png, png.with_suffix(".csv"))
        if os.path.lexists(path) and not (inside and unchanged(path.parent, path.name))
    ]
    if not found:
        return None
    return (
        f"{', '.join(str(p) for p in found)}: exist{'s' if len(found) == 1 else ''} and liqsim cannot prove it wrote "
        f"{'it' if len(found) == 1 else 'them'} (it replaces only files its folder's marker lists unchanged); move "
        "or remove them yourself, or choose another --out"
    )
