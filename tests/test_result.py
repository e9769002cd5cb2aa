"""Result objects and outputs: DataFrames, atomic saves, replay shocks and explicit book files."""

import numpy as np
import pytest

import sim
from sim import enums as E


def test_to_frames_names_codes(small_run):
    frames = small_run.to_frames()
    assert set(frames) == {"fills", "series", "accounts", "adl"}
    fills = frames["fills"]
    assert len(fills) == len(small_run.fills)
    assert set(fills["kind"]) <= set(E.FILL_KIND_NAMES)
    accounts = frames["accounts"]
    assert {"kind", "cash_start", "cash_end", "position_start", "position_end"} <= set(accounts.columns)
    legs = {"arbitrageur", "flow"} if small_run.spot is not None else set()  # the endogenous model's perp legs
    assert set(accounts["kind"]) == {"trader", "counterparty", "maker", "noise", "fund", "fee", *legs}


def test_repr_html_and_plot(small_run):
    html = small_run._repr_html_()
    assert "liquidated" in html and small_run.scenario.scenario.name in html
    fig = small_run.plot()
    assert len(fig.axes) == 3


def test_save_replaces_atomically_and_cleans_up_on_failure(small_run, tmp_path, monkeypatch):
    target = tmp_path / "out"
    small_run.save(target, plot=False)
    first = (target / "summary.json").read_text()
    # a failure half-way leaves the previous folder untouched and no temporary folder behind
    import sim.result as result_mod

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(result_mod, "write_csv", boom)
    with pytest.raises(OSError):
        small_run.save(target, plot=False)
    assert (target / "summary.json").read_text() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_replay_shock_drives_the_index(tmp_path, compiled):
    path = tmp_path / "path.csv"
    # unix seconds; a 6% fall and partial rebound over two minutes (rescaled to the start price)
    rows = ["timestamp,price"] + [
        f"{1_760_000_000 + t},{p}" for t, p in ((0, 50_000), (30, 50_000), (60, 47_000), (90, 48_500), (120, 48_500))
    ]
    path.write_text("\n".join(rows) + "\n")
    # the recorded path starts at shock.start_s = 10 s
    scn = sim.load_scenario(
        None,
        overrides={
            "shock.kind": "replay",
            "shock.file": str(path),
            "shock.start_s": 10.0,
            "scenario.duration_s": 160.0,
            "population.n_positions": 2000,
            "market.index_coupling": 0.0,
            "prices.model": "imposed",  # the index is the recorded path itself
        },
    )
    res = sim.run(scn)
    ser = res.series
    p0 = scn.market.start_price_usd
    at = {round(t): i for i, t in enumerate(ser["t"])}
    assert ser["index"][at[0]] == pytest.approx(p0)
    assert ser["index"][at[40]] == pytest.approx(p0)
    assert ser["index"][at[70]] == pytest.approx(p0 * 0.94)
    assert ser["index"][at[85]] == pytest.approx(p0 * 0.955)
    assert res.summary["exogenous_drawdown_pct"] == pytest.approx(-6.0)
    assert res.summary["liquidated_notional_usd"]["long"] > 0


def test_explicit_book_file_sets_the_ladder(tmp_path, compiled):
    path = tmp_path / "book.csv"
    p0 = 121_000.0
    lines = ["side,price,size"]
    for k in range(1, 6):
        lines += [f"bid,{p0 - k * 10:.1f},{k}", f"ask,{p0 + k * 10:.1f},{k}"]
    path.write_text("\n".join(lines) + "\n")
    scn = sim.load_scenario(
        None,
        overrides={
            "book.file": str(path),
            "shock.kind": "none",
            "book.noise_rate_per_s": 0.0,
            "scenario.duration_s": 5.0,
            "shock.start_s": 0.0,
            "population.n_positions": 100,
        },
    )
    res = sim.run(scn)
    first = res.series[0]
    assert first["best_bid"] == pytest.approx(p0 - 10.0)
    assert first["best_ask"] == pytest.approx(p0 + 10.0)
    expected = sum(k * (p0 - k * 10) for k in range(1, 6))
    assert first["depth_bid_1pct_usd"] == pytest.approx(expected)


def test_open_interest_is_scaled_to_the_setting(compiled):
    scn = sim.load_scenario(
        None,
        overrides={
            "population.n_positions": 20_000,
            "shock.kind": "none",
            "scenario.duration_s": 1.0,
            "shock.start_s": 0.0,
            "population.open_interest_usd": 2e9,
        },
    )
    res = sim.run(scn)
    acc = res.accounts
    traders = acc["kind"] == E.TRADER
    longs = acc["position_start"][traders & (acc["position_start"] > 0)].sum()
    shorts = -acc["position_start"][traders & (acc["position_start"] < 0)].sum()
    assert max(longs, shorts) * scn.market.start_price_usd == pytest.approx(2e9, rel=0.01)
    # the residual counterparty balances open interest
    assert np.sum(acc["position_start"]) == pytest.approx(0.0, abs=1e-6)


def test_save_never_replaces_a_folder_with_other_files(small_run, tmp_path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(sim.ScenarioError, match="thesis.tex"):
        small_run.save(precious, plot=False)
    assert (precious / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(sim.ScenarioError, match="is a file"):
        small_run.save(a_file, plot=False)
    assert a_file.read_text() == "x"
