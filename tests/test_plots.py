"""Tests of sim.report.plots: artists drawn, headless operation, atomic PNG output."""

import math
import os
import struct
import subprocess
import sys
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from sim import metrics
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE, SERIES_DTYPE
from sim.enums import ADL, LIQUIDATION, NOISE_FILL, PARTIAL, TAKEOVER
from sim.report import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_fills(rows):
    """rows: (t, kind, side, qty, price, mark)."""
    out = np.zeros(len(rows), dtype=FILL_DTYPE)
    out["bankruptcy_price"] = np.nan
    for i, (t, kind, side, qty, price, mark) in enumerate(rows):
        out[i]["t"], out[i]["kind"], out[i]["side"] = t, kind, side
        out[i]["qty"], out[i]["price"], out[i]["mark"] = qty, price, mark
    return out


def make_series(n=121):
    t = np.arange(n, dtype=float)
    out = np.zeros(n, dtype=SERIES_DTYPE)
    out["t"] = t
    out["index"] = 60_000.0 - 40.0 * np.minimum(t, 60.0)
    out["mark"] = out["index"] - 15.0
    out["last"] = out["index"] - 40.0 + 30.0 * np.sin(t)
    out["fund_balance"] = 5e6 - 2e4 * np.minimum(t, 80.0)
    out["oi_long"] = 1000.0 - 3.0 * np.minimum(t, 90.0)
    out["oi_short"] = out["oi_long"]
    return out


def make_result(fills=None, series=None, name="flash crash"):
    fills = (
        make_fills(
            [
                (1.0, NOISE_FILL, 1, 0.5, 60_000.0, 60_000.0),
                (20.3, LIQUIDATION, -1, 10.0, 59_100.0, 59_150.0),  # long
                (20.8, PARTIAL, -1, 5.0, 59_050.0, 59_100.0),  # long
                (25.0, LIQUIDATION, 1, 3.0, 59_000.0, 58_990.0),  # short
                (40.0, TAKEOVER, -1, 20.0, 58_400.0, 58_300.0),  # long
                (41.0, ADL, 1, 30.0, 58_300.0, 58_200.0),  # ADL on a short: bankrupt long
                (42.0, ADL, 1, 10.0, 58_250.0, 58_200.0),
            ]
        )
        if fills is None
        else fills
    )
    series = make_series() if series is None else series
    accounts = np.zeros(0, dtype=ACCOUNT_DTYPE)
    meta = dict(
        fund_initial=5e6,
        fund_balance_end=float(series["fund_balance"][-1]) if len(series) else 5e6,
        bad_debt_usd=0.0,
        final_mark=57_600.0,
        path_p=np.array([60_000.0, 57_600.0]),
        start_price=60_000.0,
        shock_start_s=10.0,
        n_positions=1000,
        runtime_s=0.5,
    )
    summary = metrics.summarize(fills, series, accounts, meta)
    scenario = SimpleNamespace(scenario=SimpleNamespace(name=name), shock=SimpleNamespace(kind="ramp", size_pct=-4.0))
    return SimpleNamespace(fills=fills, series=series, summary=summary, scenario=scenario)


@pytest.fixture
def result():
    return make_result()


@pytest.fixture
def quiet_result():
    """A run with no liquidation and no ADL."""
    fills = make_fills([(1.0, NOISE_FILL, 1, 0.5, 60_000.0, 60_000.0)])
    return make_result(fills=fills)


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------------------------
# Panels


def test_plot_prices(result):
    ax = plots.plot_prices(result)
    assert isinstance(ax, Axes)
    assert isinstance(ax.figure, Figure)
    assert len(ax.lines) == 4  # index, mark, last, min-last marker
    index, mark, last, low = ax.lines
    assert mark.get_linewidth() > last.get_linewidth()
    k = int(np.argmin(result.series["last"]))
    assert low.get_xdata()[0] == result.series["t"][k]
    assert low.get_ydata()[0] == result.series["last"][k]
    texts = legend_texts(ax)
    assert texts[:3] == ["index", "mark", "last"] and texts[3].startswith("min last")
    assert "USD" in ax.get_ylabel()


def test_plot_prices_on_given_axes_without_finite_last(result):
    result.series["last"] = np.nan
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_prices(result, ax) is ax
    assert len(ax.lines) == 3


def test_plot_liquidation_tape(result):
    ax = plots.plot_liquidation_tape(result)
    assert isinstance(ax, Axes)
    steps = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert len(steps) == 2
    _, long_usd, short_usd = metrics.liquidation_bins(result.fills)
    long_step, total_step = steps
    assert np.allclose(long_step.get_data().values, long_usd / 1e6)
    assert np.allclose(total_step.get_data().values, (long_usd + short_usd) / 1e6)
    assert np.allclose(total_step.get_data().baseline, long_usd / 1e6)
    # the ADL'd shorts buy: the bankrupt side is long, so the red (long) layer holds them
    assert long_step.get_data().values[41] == pytest.approx(30 * 58_300.0 / 1e6)
    assert short_step_share(total_step, long_step, 25) == pytest.approx(3 * 59_000.0 / 1e6)
    assert np.allclose(long_step.get_facecolor()[:3], matplotlib.colors.to_rgb(plots.LONG_COLOR))
    assert np.allclose(total_step.get_facecolor()[:3], matplotlib.colors.to_rgb(plots.SHORT_COLOR))
    assert "$M" in ax.get_ylabel()
    assert len(legend_texts(ax)) == 2


def short_step_share(total_step, long_step, k):
    return total_step.get_data().values[k] - long_step.get_data().values[k]


def test_plot_liquidation_tape_without_liquidations(quiet_result):
    ax = plots.plot_liquidation_tape(quiet_result)
    assert not [p for p in ax.patches if isinstance(p, StepPatch)]
    assert any("no liquidations" in t.get_text() for t in ax.texts)


def test_plot_insurance_fund(result):
    ax = plots.plot_insurance_fund(result)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 3  # balance, start level, ADL markers
    balance, start, adl = ax.lines
    assert np.allclose(balance.get_ydata(), result.series["fund_balance"] / 1e6)
    assert start.get_ydata()[0] == pytest.approx(5.0)
    assert list(adl.get_xdata()) == [41.0, 42.0]
    assert adl.get_linestyle() == "None"
    assert "$M" in ax.get_ylabel()


def test_plot_insurance_fund_without_adl(quiet_result):
    ax = plots.plot_insurance_fund(quiet_result)
    assert len(ax.lines) == 2


def test_plot_insurance_fund_without_series(result):
    result.series = np.zeros(0, dtype=SERIES_DTYPE)
    ax = plots.plot_insurance_fund(result)
    assert len(ax.lines) == 3  # empty balance line, start level from the summary, ADL markers
    assert np.allclose(ax.lines[2].get_ydata(), 5.0)


# --------------------------------------------------------------------------------------------
# The cascade picture


def test_plot_cascade(result):
    fig = plots.plot_cascade(result)
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == (16.0, 10.0)
    axes = fig.axes
    assert len(axes) == 3
    top, tape, fund = axes
    assert top.get_shared_x_axes().joined(top, fund)
    assert tape.get_shared_x_axes().joined(tape, fund)
    assert len(top.lines) == 4 and len(fund.lines) == 3
    assert len([p for p in tape.patches if isinstance(p, StepPatch)]) == 2
    title = fig.get_suptitle()
    assert "flash crash" in title and "ramp -4%" in title
    assert plots.shock_label(SimpleNamespace(kind="replay", size_pct=-10.0)) == "replay"  # size applies to gap, ramp
    figures = top.get_title(loc="left")
    assert figures.count("$") == figures.count(r"\$")  # every dollar sign escaped: never read as mathematics
    figures = figures.replace(r"\$", "$")
    for piece in ("liquidated $", "min last", "exogenous -4.0%", "ADL $", "bad debt $0"):
        assert piece in figures
    assert "s" in fund.get_xlabel()
    assert fund.get_xlim() == (0.0, 120.0)


def test_plot_cascade_on_given_figure(result):
    fig = Figure(figsize=(8, 5))
    assert plots.plot_cascade(result, fig) is fig
    assert len(fig.axes) == 3
    assert fig.get_layout_engine() is not None


def test_plot_cascade_tolerates_sparse_inputs(quiet_result):
    quiet_result.summary = {}
    quiet_result.scenario = SimpleNamespace()
    fig = plots.plot_cascade(quiet_result)
    assert "liqsim run" in fig.get_suptitle()
    assert "n/a" in fig.axes[0].get_title(loc="left")
    fig.canvas.draw()  # nothing fails at draw time either


def test_cascade_does_not_touch_rcparams(result):
    before = dict(matplotlib.rcParams)
    plots.plot_cascade(result).canvas.draw()
    assert dict(matplotlib.rcParams) == before


def test_no_pyplot_import():
    code = "import sys, sim.report.plots; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_formatters():
    assert plots.fmt_usd(None) == "n/a"
    assert plots.fmt_usd(math.nan) == "n/a"
    assert plots.fmt_usd(0.0) == "$0"
    assert plots.fmt_usd(950.4) == "$950"
    assert plots.fmt_usd(1234.0) == "$1.23k"
    assert plots.fmt_usd(45_600_000.0) == "$45.6M"
    assert plots.fmt_usd(123_000_000.0) == "$123M"
    assert plots.fmt_usd(-2.5e9) == "-$2.50B"
    assert plots.fmt_pct(-12.34) == "-12.3%"
    assert plots.fmt_pct(3.0) == "+3.0%"
    assert plots.fmt_pct(None) == "n/a"


# --------------------------------------------------------------------------------------------
# PNG output


def png_size(data):
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_save_cascade_png(result, tmp_path):
    path = tmp_path / "cascade.png"
    assert plots.save_cascade_png(result, path) == path
    data = path.read_bytes()
    assert png_size(data) == (1600, 1000)
    assert os.listdir(tmp_path) == ["cascade.png"]


def test_save_cascade_png_overwrites(result, tmp_path):
    path = tmp_path / "cascade.png"
    path.write_bytes(b"old")
    plots.save_cascade_png(result, str(path))
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert os.listdir(tmp_path) == ["cascade.png"]


def test_save_cascade_png_failure_leaves_no_temp(result, tmp_path, monkeypatch):
    path = tmp_path / "cascade.png"
    path.write_bytes(b"old")

    def broken(self, fh, **kwargs):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.save_cascade_png(result, path)
    assert os.listdir(tmp_path) == ["cascade.png"]
    assert path.read_bytes() == b"old"


def test_price_tick_labels(result):
    ax = plots.plot_prices(result)
    fmt = ax.yaxis.get_major_formatter()
    assert fmt(60_000.0, 0) == "60,000"
    result.series["index"] = result.series["mark"] = np.linspace(1.0, 1.02, len(result.series))
    result.series["last"] = result.series["index"]
    fmt = plots.plot_prices(result).yaxis.get_major_formatter()
    assert fmt(1.015, 0) == "1.0150"


def test_the_tape_panel_outlines_stop_orders(compiled):
    import sim
    from sim.enums import STOP

    res = sim.run(
        sim.load_scenario(
            None, overrides={"population.n_positions": 3000, "stops.share": 0.2, "scenario.duration_s": 150.0}
        )
    )
    stops = res.fills[res.fills["kind"] == STOP]
    assert len(stops)
    ax = plots.plot_liquidation_tape(res)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("stop orders filled") for lab in labels)
    assert plots.fmt_usd(float((stops["qty"] * stops["price"]).sum())) in labels[-1]
