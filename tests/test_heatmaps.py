"""Tests of sim.report.heatmaps (hand-built records with known bins, one real run) and of the heatmap plots."""

import math
import warnings
from types import SimpleNamespace

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from sim import metrics
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE
from sim.enums import ADL, COUNTERPARTY, FUND, FUND_UNWIND, LIQUIDATION, MAKER, NOISE_FILL, PARTIAL, TAKEOVER, TRADER
from sim.report import heatmaps, plots

START = 60_000.0  # with bin_pct 0.25 the bins are 150 USD wide and every edge is exact in binary
WIDTH = 150.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_accounts(*rows):
    """rows: (kind, position_start, liquidation_price_start)."""
    out = np.zeros(len(rows), dtype=ACCOUNT_DTYPE)
    out["entry_price"] = np.nan
    for i, (kind, q, lp) in enumerate(rows):
        out[i]["id"], out[i]["kind"] = i, kind
        out[i]["position_start"], out[i]["liquidation_price_start"] = q, lp
    return out


def make_fills(*rows):
    """rows: (t, kind, side, qty, price)."""
    out = np.zeros(len(rows), dtype=FILL_DTYPE)
    out["bankruptcy_price"] = np.nan
    for i, (t, kind, side, qty, price) in enumerate(rows):
        out[i]["t"], out[i]["kind"], out[i]["side"] = t, kind, side
        out[i]["qty"], out[i]["price"], out[i]["mark"] = qty, price, price
    return out


@pytest.fixture
def population():
    return make_accounts(
        (TRADER, 2.0, 54_000.0),  # long
        (TRADER, 0.5, 54_100.0),  # long, same bin [54,000, 54,150)
        (TRADER, 1.0, 57_000.0),  # long
        (TRADER, -3.0, 66_000.0),  # short
        (TRADER, -1.5, 61_000.0),  # short
        (TRADER, 4.0, math.nan),  # never liquidated: left out
        (TRADER, 1.0, 0.0),  # 1x long, never liquidated: left out
        (TRADER, 0.0, 55_000.0),  # flat: left out
        (COUNTERPARTY, -7.0, 70_000.0),  # the residual holder: left out
        (MAKER, 0.0, math.nan),
        (FUND, 0.0, math.nan),
    )


# --------------------------------------------------------------------------------------------
# Predictive heatmap


def test_predictive_sums_per_side(population):
    hm = heatmaps.predictive_heatmap(population, START)
    assert hm.long_usd.sum() == pytest.approx(2.0 * 54_000 + 0.5 * 54_100 + 1.0 * 57_000)
    assert hm.short_usd.sum() == pytest.approx(3.0 * 66_000 + 1.5 * 61_000)
    assert hm.long_count.sum() == 3 and hm.short_count.sum() == 2
    assert hm.long_count.dtype == np.int64
    assert len(hm.edges) == len(hm.long_usd) + 1 == len(hm.short_usd) + 1 == len(hm.long_count) + 1
    assert np.allclose(np.diff(hm.edges), WIDTH)
    assert START in hm.edges  # anchored on the start price
    assert hm.edges[0] == 54_000.0 and hm.edges[-1] == 66_150.0  # spans the counted LPs, no more
    assert hm.start_price == START


def test_predictive_bins(population):
    hm = heatmaps.predictive_heatmap(population, START)
    k = int(np.searchsorted(hm.edges, 54_000.0))
    assert hm.long_usd[k] == pytest.approx(2.0 * 54_000 + 0.5 * 54_100) and hm.long_count[k] == 2
    k = int(np.searchsorted(hm.edges, 66_000.0))
    assert hm.short_usd[k] == pytest.approx(3.0 * 66_000) and hm.short_count[k] == 1
    assert np.count_nonzero(hm.long_usd) == 2 and np.count_nonzero(hm.short_usd) == 2
    assert not (hm.long_usd[hm.edges[:-1] >= START]).any()  # longs below the start, shorts above
    assert not (hm.short_usd[hm.edges[1:] <= START]).any()


def test_predictive_edges_are_half_open():
    # edges START + k * 150 within +-1 %: 59,400 ... 60,600 (8 bins)
    on_edge, below_edge = START - 2 * WIDTH, START - 2 * WIDTH - 0.01
    acc = make_accounts(
        (TRADER, 1.0, on_edge),  # exactly on an edge: the bin above it
        (TRADER, 1.0, below_edge),  # just below: the bin under it
        (TRADER, -1.0, START),  # the start price is an edge: first bin above the start
        (TRADER, -1.0, START + 4 * WIDTH),  # the top edge itself: outside [59,400, 60,600)
        (TRADER, 1.0, START - 4 * WIDTH),  # the bottom edge: inside
        (TRADER, 1.0, 50_000.0),  # outside the range: left out
    )
    hm = heatmaps.predictive_heatmap(acc, START, bin_pct=0.25, range_pct=1.0)
    assert list(hm.edges) == [START + k * WIDTH for k in range(-4, 5)]
    assert hm.long_count.tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert hm.long_usd[2] == on_edge and hm.long_usd[1] == below_edge
    assert hm.short_count.tolist() == [0, 0, 0, 0, 1, 0, 0, 0]
    assert hm.short_usd[4] == START


def test_predictive_range_rounds_out_to_whole_bins():
    hm = heatmaps.predictive_heatmap(make_accounts(), START, bin_pct=0.25, range_pct=0.3)
    assert list(hm.edges) == [START + k * WIDTH for k in range(-2, 3)]
    assert hm.long_usd.tolist() == [0.0] * 4


def test_predictive_extremes_inside_auto_edges():
    rng = np.random.default_rng(7)
    lps = START * rng.uniform(0.2, 3.0, 500)
    acc = make_accounts(*[(TRADER, 1.0 if p < START else -1.0, p) for p in lps])
    hm = heatmaps.predictive_heatmap(acc, START, bin_pct=0.1)
    assert hm.edges[0] <= lps.min() < hm.edges[1]
    assert hm.edges[-2] <= lps.max() < hm.edges[-1]
    assert hm.long_count.sum() + hm.short_count.sum() == 500
    assert hm.long_usd.sum() + hm.short_usd.sum() == pytest.approx(lps.sum())


def test_predictive_without_liquidatable_positions():
    acc = make_accounts((TRADER, 1.0, math.nan), (COUNTERPARTY, -1.0, 70_000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hm = heatmaps.predictive_heatmap(acc, START)
        assert heatmaps.liquidatable_within(hm, 10.0) == (0.0, 0.0)
    assert hm.edges.tolist() == [START]
    assert len(hm.long_usd) == len(hm.short_usd) == len(hm.long_count) == 0


def test_liquidatable_within(population):
    hm = heatmaps.predictive_heatmap(population, START)
    longs, shorts = heatmaps.liquidatable_within(hm, 5.0)  # 57,000 .. 63,000
    assert longs == pytest.approx(57_000.0) and shorts == pytest.approx(1.5 * 61_000)
    longs, shorts = heatmaps.liquidatable_within(hm, 10.0)  # 54,000 .. 66,000: the 66,000 bin ends above
    assert longs == pytest.approx(2.0 * 54_000 + 0.5 * 54_100 + 57_000) and shorts == pytest.approx(1.5 * 61_000)


@pytest.mark.parametrize(
    "kwargs",
    [dict(bin_pct=0.0), dict(bin_pct=-1.0), dict(range_pct=0.0), dict(range_pct=math.nan), dict(start_price=0.0)],
)
def test_predictive_rejects_bad_arguments(population, kwargs):
    args = dict(start_price=START, bin_pct=0.25, range_pct=None) | kwargs
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        heatmaps.predictive_heatmap(population, **args)


# --------------------------------------------------------------------------------------------
# Historical heatmap


@pytest.fixture
def tape():
    return make_fills(
        (0.5, NOISE_FILL, 1, 9.0, 60_010.0),  # not a liquidation
        (12.0, LIQUIDATION, -1, 2.0, 59_850.0),  # long, t bin 2, [59,850, 60,000)
        (14.9, PARTIAL, -1, 1.0, 59_900.0),  # long, same cell
        (15.0, TAKEOVER, -1, 1.0, 59_700.0),  # long, t bin 3 (edge), [59,700, 59,850)
        (16.0, ADL, 1, 0.5, 59_690.0),  # ADL on a short: the bankrupt side is long
        (17.0, LIQUIDATION, 1, 3.0, 60_000.0),  # short, on the start price: [60,000, 60,150)
        (18.0, FUND_UNWIND, -1, 5.0, 59_000.0),  # not a liquidation
    )


def test_historical_cells(tape):
    hm = heatmaps.historical_heatmap(tape, START, bin_s=4.0, bin_pct=0.25)
    # time bins of 4 s: 12.0 -> 3, 14.9 -> 3, 15.0 -> 3, 16.0 -> 4 (edge), 17.0 -> 4
    assert hm.t_edges.tolist() == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0]
    assert hm.price_edges.tolist() == [59_550.0, 59_700.0, 59_850.0, 60_000.0, 60_150.0]
    long_usd = np.zeros((5, 4))
    long_usd[3, 2] = 2.0 * 59_850 + 59_900  # 59,850 is an edge: the bin above it
    long_usd[3, 1] = 59_700.0  # 59,700 likewise
    long_usd[4, 0] = 0.5 * 59_690  # ADL counted for the bankrupt long
    short_usd = np.zeros((5, 4))
    short_usd[4, 3] = 3.0 * 60_000  # the start price is the lower edge of the first bin above it
    assert np.allclose(hm.long_usd, long_usd) and np.allclose(hm.short_usd, short_usd)


def test_historical_agrees_with_the_tape_metrics(tape):
    hm = heatmaps.historical_heatmap(tape, START, bin_s=2.5)
    t_edges, long_usd, short_usd = metrics.liquidation_bins(tape, 2.5)
    assert np.array_equal(hm.t_edges, t_edges)
    assert np.allclose(hm.long_usd.sum(axis=1), long_usd)
    assert np.allclose(hm.short_usd.sum(axis=1), short_usd)
    side, notional = metrics.liquidated_side(tape), metrics.liquidated_notional(tape)
    assert hm.long_usd.sum() == pytest.approx(notional[side > 0].sum())
    assert hm.short_usd.sum() == pytest.approx(notional[side < 0].sum())


def test_historical_without_liquidations():
    fills = make_fills((1.0, NOISE_FILL, 1, 1.0, 60_000.0), (2.0, FUND_UNWIND, -1, 1.0, 59_000.0))
    for tape in (fills, fills[:0]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            hm = heatmaps.historical_heatmap(tape, START)
        assert hm.t_edges.tolist() == [0.0] and hm.price_edges.tolist() == [START]
        assert hm.long_usd.shape == hm.short_usd.shape == (0, 0)


@pytest.mark.parametrize("kwargs", [dict(bin_s=0.0), dict(bin_s=math.inf), dict(bin_pct=0.0)])
def test_historical_rejects_bad_arguments(tape, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        heatmaps.historical_heatmap(tape, START, **kwargs)


# --------------------------------------------------------------------------------------------
# One real run


def test_result_heatmaps_match_the_run(small_run):
    res = small_run
    start = res.scenario.market.start_price_usd
    hist = res.historical_heatmap()
    liq = res.summary["liquidated_notional_usd"]
    assert liq["total"] > 0
    assert hist.long_usd.sum() == pytest.approx(liq["long"], rel=1e-12, abs=1e-6)
    assert hist.short_usd.sum() == pytest.approx(liq["short"], rel=1e-12, abs=1e-6)
    assert hist.start_price == start and start in hist.price_edges
    _, long_usd, short_usd = metrics.liquidation_bins(res.fills, 5.0)
    assert np.allclose(hist.long_usd.sum(axis=1), long_usd) and np.allclose(hist.short_usd.sum(axis=1), short_usd)

    pred = res.predictive_heatmap()
    rows = res.accounts[res.accounts["kind"] == TRADER]
    lp, q = rows["liquidation_price_start"], rows["position_start"]
    ok = np.isfinite(lp) & (lp > 0)
    assert pred.long_usd.sum() == pytest.approx(np.sum((q * lp)[ok & (q > 0)]))
    assert pred.short_usd.sum() == pytest.approx(np.sum((-q * lp)[ok & (q < 0)]))
    assert pred.long_count.sum() == np.count_nonzero(ok & (q > 0))
    narrow = res.predictive_heatmap(bin_pct=0.5, range_pct=5.0)
    assert len(narrow.edges) == 21 and narrow.edges[10] == start


# --------------------------------------------------------------------------------------------
# Plots


def _quiet(res):
    """The run with its liquidations taken off the tape."""
    keep = ~metrics.liquidation_mask(res.fills)
    return SimpleNamespace(
        fills=res.fills[keep], series=res.series, accounts=res.accounts, summary={}, scenario=res.scenario
    )


def test_plot_predictive_heatmap(small_run):
    ax = plots.plot_predictive_heatmap(small_run)
    assert isinstance(ax, Axes) and isinstance(ax.figure, Figure)
    longs, shorts = ax.containers  # one bar container per side
    lo, hi = ax.get_ylim()
    start = small_run.scenario.market.start_price_usd
    assert lo < start < hi
    pred = small_run.predictive_heatmap(range_pct=40.0)  # wider than the plotted window, whatever the run's move
    seen = (pred.edges[1:] > lo) & (pred.edges[:-1] < hi)
    assert sum(b.get_width() for b in longs) == pytest.approx(pred.long_usd[seen].sum())
    assert start in [line.get_ydata()[0] for line in ax.lines]  # the start price is drawn
    title = ax.get_title(loc="left")
    assert "±10%" in title and title.count("$") == title.count(r"\$")


def test_plot_predictive_heatmap_range(small_run):
    ax = plots.plot_predictive_heatmap(small_run, range_pct=3.0)
    start = small_run.scenario.market.start_price_usd
    assert ax.get_ylim() == pytest.approx((0.97 * start, 1.03 * start))


def test_plot_historical_heatmap(small_run):
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.plot_historical_heatmap(small_run, ax, bin_s=2.0) is ax
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    hist = small_run.historical_heatmap(bin_s=2.0)
    assert len(meshes) == int(hist.long_usd.any()) + int(hist.short_usd.any())
    assert len(fig.axes) == 1 + len(meshes)  # one colour bar per side drawn
    assert np.ma.sum(meshes[0].get_array()) == pytest.approx(hist.long_usd.sum())
    assert [line.get_label() for line in ax.lines] == ["last", "mark"]
    t = small_run.fills["t"][metrics.liquidation_mask(small_run.fills)]
    lo, hi = ax.get_xlim()
    assert lo <= np.percentile(t, 1) and np.percentile(t, 99) <= hi  # zoomed on the cascade
    title = ax.get_title(loc="left")
    assert title.count("$") == title.count(r"\$")


def test_plot_historical_heatmap_without_liquidations(small_run):
    ax = plots.plot_historical_heatmap(_quiet(small_run))
    assert not [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert any("no liquidations" in t.get_text() for t in ax.texts)
    ax.figure.canvas.draw()


def test_plot_heatmaps(small_run, tmp_path):
    before = dict(matplotlib.rcParams)
    fig = plots.plot_heatmaps(small_run)
    assert isinstance(fig, Figure)
    left, right = fig.axes[:2]
    assert left.get_shared_y_axes().joined(left, right)
    assert right.get_ylim() == left.get_ylim()
    suptitle = fig.get_suptitle()
    assert f"{small_run.summary['n_positions']:,} positions" in suptitle
    assert suptitle.count("$") == suptitle.count(r"\$")
    path = tmp_path / "heatmaps.png"
    fig.savefig(path, format="png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    assert dict(matplotlib.rcParams) == before


def test_plot_heatmaps_quiet_run_on_given_figure(small_run, tmp_path):
    fig = Figure(figsize=(8, 5))
    assert plots.plot_heatmaps(_quiet(small_run), fig) is fig
    assert fig.get_layout_engine() is not None
    fig.savefig(tmp_path / "quiet.png", format="png")


def test_extreme_price_labels_never_sit_on_each_other(small_run):
    """The lowest mark and last a line apart get one line and one label, not two labels over each other."""
    from sim.report.plots import _extreme_prices

    start = small_run.scenario.market.start_price_usd
    lines = _extreme_prices(small_run, start, 0.25)
    prices = sorted(price for _, price, _, _ in lines)
    assert all(b - a >= 0.01 * start for a, b in zip(prices, prices[1:]))
    assert any("lowest" in label for label, *_ in lines)
