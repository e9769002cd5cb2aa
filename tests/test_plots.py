"""Tests of sim.report.plots: artists drawn, headless operation, atomic PNG output."""

import io
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
from sim.report import legends, plotkit, plots, timeaxis
from sim.report.legends import lay_out, place_legends

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
    scenario = SimpleNamespace(
        scenario=SimpleNamespace(name=name),
        shock=SimpleNamespace(kind="ramp", size_pct=-4.0, start_s=10.0, duration_s=30.0),
    )
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
    # the mark sits on the index: it is drawn wide and see-through below the index, so both show
    assert index.get_zorder() > mark.get_zorder() and last.get_zorder() > mark.get_zorder()
    assert mark.get_alpha() < 1 and mark.get_linewidth() > 2 * index.get_linewidth()
    assert index.get_linestyle() != "-" and index.get_alpha() in (None, 1.0)
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
    assert len(ax.lines) == 4  # balance, start level, ADL markers, the note of the end of the run
    balance, start, adl, end = ax.lines
    assert np.allclose(balance.get_ydata(), result.series["fund_balance"] / 1e6)
    assert start.get_ydata()[0] == pytest.approx(5.0)
    assert list(adl.get_xdata()) == [41.0, 42.0]
    assert adl.get_linestyle() == "None"
    assert "$M" in ax.get_ylabel()
    # the window ends at 52 s, the fund falls on to 80 s: the legend gives its balance at the end of the run
    assert ax.get_xlim() == (5.0, 52.0)
    assert legend_texts(ax)[-1] == r"end of run (120 s): \$3.40M" and len(end.get_xdata()) == 0
    assert ax.get_ylim()[0] > 3.4  # the y axis fits what the window shows


def test_plot_insurance_fund_without_adl(quiet_result):
    ax = plots.plot_insurance_fund(quiet_result)
    assert len(ax.lines) == 3  # balance, start level, the note of the end of the run


def test_plot_insurance_fund_without_series(result):
    result.series = np.zeros(0, dtype=SERIES_DTYPE)
    ax = plots.plot_insurance_fund(result)
    assert len(ax.lines) == 3  # empty balance line, start level from the summary, ADL markers
    assert np.allclose(ax.lines[2].get_ydata(), 5.0)
    assert ax.get_xlim() == (0.0, 42.0)  # the run is known up to its last fill


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
    assert len(top.lines) == 4 and len(fund.lines) == 4
    assert len([p for p in tape.patches if isinstance(p, StepPatch)]) == 2
    title = fig.get_suptitle()
    assert "flash crash" in title and "ramp -4%" in title
    assert plots.shock_label(SimpleNamespace(kind="replay", size_pct=-10.0)) == "replay"  # size applies to gap, ramp
    figures = top.get_title(loc="left")
    assert figures.count("$") == figures.count(r"\$")  # every dollar sign escaped: never read as mathematics
    figures = figures.replace(r"\$", "$")
    for piece in ("liquidated $", "min last", "exogenous -4.0%", "ADL $", "bad debt $0"):
        assert piece in figures
    # zoomed to the cascade: from 5 s before the shock (10 s) to 10 s after the last liquidation (42 s), with a
    # note of the run's full span; the panels share it
    assert fund.get_xlabel() == "time since start of run (s); shown 5–52 s of the run's 0–120 s"
    assert top.get_xlabel() == tape.get_xlabel() == ""
    assert top.get_xlim() == tape.get_xlim() == fund.get_xlim() == (5.0, 52.0)


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


# --------------------------------------------------------------------------------------------
# The time axis: where things happen, in which clock, with bars of a readable width


def window_of(kind="ramp", start=60.0, duration=60.0, liq_t=(61.0, 125.0), run_s=300.0, path=None):
    fills = make_fills([(t, LIQUIDATION, -1, 1.0, 59_000.0, 59_000.0) for t in liq_t])
    shock = SimpleNamespace(kind=kind, size_pct=-10.0, start_s=start, duration_s=duration, path=path)
    res = SimpleNamespace(
        fills=fills,
        series=make_series(int(run_s) + 1),
        scenario=SimpleNamespace(scenario=SimpleNamespace(duration_s=run_s), shock=shock),
    )
    return timeaxis.time_window(res)


def test_the_window_runs_from_before_the_shock_to_after_the_last_liquidation():
    # a 60 s ramp from 60 s, liquidations to 125 s, a 300 s run: 15% of the 65 s before, 30% after
    assert window_of() == (50.0, 145.0, 0.0, 300.0) and window_of().zoomed
    # a gap: the shock is an instant, the liquidations make the span
    assert window_of("gap", liq_t=(60.0, 64.0))[:2] == (55.0, 74.0)
    # a position tipped over by the background flow before the shock is not the cascade
    assert window_of(liq_t=(5.0, 61.0, 125.0))[:2] == (50.0, 145.0)
    # a replay moves the index to its end, a GBM path too: the whole run
    replay = {"t_s": np.array([0.0, 10_800.0]), "price": np.array([1.0, 1.0])}
    assert window_of("replay", 0.0, run_s=10_800.0, path=replay)[:2] == (0.0, 10_800.0)
    assert window_of("gbm", 0.0)[:2] == (0.0, 300.0)
    # no shock and nothing liquidated: the whole run; a window covering most of it anyway: the whole run
    assert window_of("none", liq_t=())[:2] == (0.0, 300.0)
    assert window_of(liq_t=(61.0, 240.0))[:2] == (0.0, 300.0)


def test_bars_are_about_two_hundred_over_the_window():
    w = timeaxis.TimeWindow
    assert timeaxis.bar_width(w(50.0, 145.0, 0.0, 300.0)) == 1.0
    assert timeaxis.bar_width(w(0.0, 10_800.0, 0.0, 10_800.0)) == 60.0
    assert timeaxis.bar_width(w(0.0, 3000.0, 0.0, 3000.0)) == 15.0
    assert [timeaxis.bar_label(x) for x in (1.0, 30.0, 60.0, 300.0, 3600.0)] == ["1 s", "30 s", "1 min", "5 min", "1 h"]


def replay_result(start_unix_s):
    """Three hours of a replayed path (one sample a minute), liquidations in its second hour."""
    series = make_series(181)
    series["t"] = np.arange(181) * 60.0
    fills = make_fills([(3600.0 + 10 * k, LIQUIDATION, -1, 1.0, 59_000.0, 59_000.0) for k in range(300)])
    res = make_result(fills=fills, series=series, name="replay")
    path = {"t_s": np.array([0.0, 10_800.0]), "price": np.array([60_000.0, 57_600.0]), "start_unix_s": start_unix_s}
    res.scenario.shock = SimpleNamespace(kind="replay", size_pct=-10.0, start_s=0.0, duration_s=60.0, path=path)
    res.scenario.scenario.duration_s = 10_800.0
    return res


def test_a_replay_is_drawn_in_utc_clock_time_with_minute_bars():
    fig = plots.plot_cascade(replay_result(1_760_126_400.0))  # 2025-10-10 20:00:00 UTC
    top, tape, fund = fig.axes
    fig.draw_without_rendering()
    assert fund.get_xlim() == (0.0, 10_800.0)
    assert fund.get_xlabel() == "time (UTC, 10 Oct 2025)"
    ticks = [t.get_text() for t in fund.get_xticklabels() if t.get_text()]
    assert ticks[0] == "20:00" and ticks[-1] == "23:00" and all(len(t) == 5 and t[2] == ":" for t in ticks)
    assert tape.get_ylabel() == "liquidated per 1 min ($M)"
    steps = [p for p in tape.patches if isinstance(p, StepPatch)]
    assert np.diff(steps[0].get_data().edges)[0] == 60.0


def test_a_path_in_seconds_from_its_own_start_has_no_clock():
    fig = plots.plot_cascade(replay_result(0.0))
    assert fig.axes[-1].get_xlabel() == "time since start of run (s)"


# --------------------------------------------------------------------------------------------
# Legends where the data is not


def _inside(points, box):
    return (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)


def legend_hits(ax):
    """What the axes' legend covers, measured here independently of sim.report.legends: every line's segments
    sampled every few pixels in display coordinates, every marker, every bar, inside the legend's frame."""
    legend = ax.get_legend()
    box = legend.get_window_extent()
    hits = []
    for line in ax.get_lines():
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not len(xy):
            continue
        pts = line.get_transform().transform(xy)
        if line.get_linestyle() not in ("None", "", " ") and len(pts) > 1:
            steps = np.linspace(0.0, 1.0, 40)[:, None, None]
            pts = (pts[:-1] + steps * (pts[1:] - pts[:-1])).reshape(-1, 2)
        if _inside(pts, box).any():
            hits.append(line.get_label())
    for patch in ax.patches:
        if patch.get_data_transform() == ax.transData:
            ext = patch.get_window_extent()
            if ext.width > 0 and ext.height > 0 and ext.overlaps(box):
                hits.append(patch.get_label() or type(patch).__name__)
    return hits


def assert_legends_clear(fig):
    fig.draw_without_rendering()
    checked = 0
    for ax in fig.axes:
        if ax.get_legend() is not None and ax.axison:
            assert not legend_hits(ax), (ax.get_title(loc="left"), legend_hits(ax))
            checked += 1
    return checked


def test_the_cascade_legends_cover_no_data(small_run):
    assert assert_legends_clear(plots.plot_cascade(small_run)) == 3


def test_the_heatmap_legends_cover_no_data(small_run):
    fig = plots.plot_heatmaps(small_run)
    assert assert_legends_clear(fig) == 2
    left = fig.axes[0]
    # the start price and the extremes are labelled on their lines, at the right, clear of the bars
    assert [t.get_text().split()[0] for t in left.texts][:1] == ["start"]


def test_a_legend_avoids_lines_that_cross_a_corner_between_vertices():
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="up")  # two vertices each: both diagonals cross all four corners
    ax.plot([0, 1], [1, 0], label="down")
    ax.legend(loc="upper right")
    fig.draw_without_rendering()
    assert legend_hits(ax) == ["up"]  # the check sees a segment under a legend with no vertex under it
    places = place_legends(fig)
    assert places[ax] in ("upper center", "lower center", "center right", "center left")
    assert assert_legends_clear(fig) == 1


def test_a_legend_with_no_free_place_inside_goes_outside():
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 400)
    ax.fill_between(x, 0, 1, alpha=0.3, label="everywhere")
    ax.plot(x, 0.5 + 0.45 * np.sin(80 * x), label="dense")
    ax.legend()
    assert place_legends(fig) == {ax: "outside"}
    fig.draw_without_rendering()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1


def _two_panels(layout):
    """An autoscaled panel and an equal-aspect one, each with a legend."""
    fig = Figure(figsize=(8, 4), layout=layout)
    left, right = fig.subplots(1, 2)
    x = np.linspace(0.0, 10.0, 50)
    left.plot(x, x**2, label="square")
    right.plot(x, np.sin(x), label="sine")
    right.set_aspect("equal")
    for ax in (left, right):
        ax.legend(loc="lower right")
    return fig


@pytest.mark.parametrize("layout", ["constrained", None])
def test_lay_out_measures_what_a_draw_would(layout):
    """The legends are placed on a figure laid out without drawing it: the axes' boxes, view limits and legend boxes
    must be those a draw gives (aspect applied, autoscale done, layout engine run)."""
    laid, drawn = _two_panels(layout), _two_panels(layout)
    lay_out(laid)
    drawn.draw_without_rendering()
    probe = [[0.0, -1.0], [10.0, 100.0]]
    for a, b in zip(laid.axes, drawn.axes, strict=True):
        # transData reads the limits as they stand (an autoscale still pending shows here), bbox the position as set
        np.testing.assert_array_equal(a.transData.transform(probe), b.transData.transform(probe))
        assert a.bbox.bounds == b.bbox.bounds
        assert a.get_legend().get_window_extent().bounds == b.get_legend().get_window_extent().bounds


def test_legends_are_placed_without_drawing_and_the_picture_is_unchanged(small_run, tmp_path, monkeypatch):
    """plot_cascade places its legends on a figure laid out, not drawn; save_cascade_png (on its own Agg canvas, whose
    renderer the placement and savefig share) writes, byte for byte, the PNG of a full draw before each placement
    pass and a plain savefig."""
    drawn = io.BytesIO()
    with monkeypatch.context() as m:  # the placement as it was: a full draw before each pass
        m.setattr(legends, "lay_out", lambda fig: fig.draw_without_rendering() or fig._get_renderer())
        plots.plot_cascade(small_run).savefig(drawn, format="png", dpi=plots.CASCADE_DPI)
    draws = []
    with monkeypatch.context() as m:
        draw = Figure.draw
        m.setattr(Figure, "draw", lambda self, renderer: draws.append(self) or draw(self, renderer))
        plots.plot_cascade(small_run)
    assert draws == []
    path = plots.save_cascade_png(small_run, tmp_path / "cascade.png")
    assert path.read_bytes() == drawn.getvalue()


# --------------------------------------------------------------------------------------------
# Titles say what was set on top of the scenario's file


def test_titles_name_the_overridden_keys():
    import sim

    scn = sim.load_scenario(None, overrides={"population.leverage_mix": "degen", "population.n_positions": 3000})
    head, _ = plots.cascade_title(SimpleNamespace(scenario=scn, summary={}))
    assert head == "btc_flash_crash (population.leverage_mix=degen, population.n_positions=3_000)  ·  shock: ramp -10%"
    plain = sim.load_scenario(None)
    assert plots.cascade_title(SimpleNamespace(scenario=plain, summary={}))[0] == "btc_flash_crash  ·  shock: ramp -10%"
    more = scn.with_overrides({"shock.size_pct": -4.0, "scenario.seed": 8, "book.withdrawal": True})
    assert plotkit.overrides_text(more) == (
        "book.withdrawal=true, population.leverage_mix=degen, population.n_positions=3_000, scenario.seed=8, +1 more"
    )
    mix = sim.load_scenario(None, overrides={"population.leverage_mix": {10: 0.5, 20: 0.5}})
    assert plotkit.overrides_text(mix) == "population.leverage_mix={10x=0.5, 20x=0.5}"


# --------------------------------------------------------------------------------------------
# Comparisons: runs that print the same curve stay two lines


def fake_comparison(venues, policies):
    from sim.studies.compare import Comparison

    results = []
    for venue, policy in zip(venues, policies):
        res = make_result(name="venue_comparison")
        res.scenario.market = SimpleNamespace(venue=venue, start_price_usd=60_000.0)
        res.scenario.adl = SimpleNamespace(policy=policy)
        res.accounts = np.zeros(0, dtype=ACCOUNT_DTYPE)
        res.seed = 7
        results.append(res)
    labels = tuple(policies if len(set(venues)) == 1 else venues)
    return Comparison(results[0].scenario, labels, tuple({} for _ in venues), tuple(results))


def test_venues_with_the_same_curve_differ_in_colour_style_and_marker():
    fig = plots.plot_venue_comparison(fake_comparison(["binance", "bybit"], ["venue_queue"] * 2))
    for ax in (fig.axes[0], fig.axes[2]):  # cumulative liquidations, last price
        binance, bybit = [line for line in ax.lines if line.get_label().startswith(("binance", "bybit"))]
        assert np.array_equal(binance.get_ydata(), bybit.get_ydata())  # the same data ...
        assert binance.get_color() != bybit.get_color()  # ... told apart three ways
        assert binance.get_linestyle() != bybit.get_linestyle() and binance.get_marker() != bybit.get_marker()
        assert binance.get_linewidth() > bybit.get_linewidth()  # the later one drawn on top, narrower
    assert assert_legends_clear(fig) >= 2


def test_the_policy_figure_draws_an_identical_cascade_once():
    cmp = fake_comparison(["binance"] * 3, ["venue_queue", "pro_rata", "leverage_drain"])
    fig = plots.plot_venue_comparison(cmp)
    cascade = fig.axes[3]
    assert "the same under every policy" in cascade.get_title(loc="left")
    assert [line.get_label() for line in cascade.lines if not line.get_label().startswith("_")][0].startswith(
        "every run"
    )
