"""Instruments that replay recorded paths of their own (``instruments.<ASSET>.path_file``; docs/model.md §6).

* Each instrument of the shipped 10 Oct 2025 multi replay follows its own column of the alts' file, on BTC's
  clock: its start price is the column's first price, its lowest mark its recorded low, at the recorded time.
* A blank cell keeps the last price; rows before the run's start are cut at the run's price then; a bar's close
  sits at its end with ``path_time = "bar_end"``.
* ``start_price_usd`` sets the start and scales the path with ``shock.rescale``, and contradicts it without.
* Every bad key gives one message naming the instrument's key, its value and what is allowed; the scenario is
  written back and read again as it was.
"""

import numpy as np
import pytest

import sim
from sim.config.scenario import load_scenario
from sim.errors import ScenarioError
from sim.world.price_paths import recorded_path

ALTS = "shipped:data/alts_2025_10_10.csv"
T0 = 1760126400  # 20:00:00 UTC, the BTC path's first timestamp
ETH = {
    "path_file": ALTS,
    "path_column": "eth_close",
    "path_time": "bar_end",
    "tick_size_usd": 0.01,
    "lot_size": 0.01,
    "open_interest_usd": 4e9,
}
REPLAY = {
    "shock.kind": "replay",
    "shock.file": "shipped:data/btc_2025_10_10.csv",
    "shock.rescale": False,
    "shock.start_s": 0.0,
    "market.start_price_usd": 116617.1,
    "prices.model": "imposed",
    "scenario.duration_s": 10800.0,
}


def problems_of(over):
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, over)
    return info.value.problems


def recorded(column):
    """The column of the alts' file as written: (bar end, Unix seconds; price, NaN where blank)."""
    path = sim.config.shipped.resolve_reference(ALTS)
    rows = [line.split(",") for line in open(path) if line[:1].isdigit()]
    header = next(line for line in open(path) if line.startswith("timestamp")).strip().split(",")
    j = header.index(column)
    end = np.array([float(r[0]) + float(r[1]) for r in rows])
    price = np.array([float(r[j]) if r[j].strip() else np.nan for r in rows])
    return end, price


# ------------------------------------------------------------------------------------------------ the paths


def test_each_instrument_of_the_multi_replay_follows_its_own_column(compiled):
    from sim.multi import run_scenario

    scn = load_scenario("replay_2025_10_10_multi", {"population.n_positions": 4000})
    out = run_scenario(scn)
    assert out.names == ["BTC", "ETH", "SOL", "ALT"]
    btc = load_scenario(
        "replay_2025_10_10_multi",
        {"instruments.ETH": None, "instruments.SOL": None, "instruments.ALT": None, "portfolio.share": 0.0},
    )
    assert np.array_equal(out.inputs[0].path_p, sim.engine.prepare(btc).path_p)  # BTC: the index, as recorded
    for name, column, low in (("ETH", "eth_close", 3681.0), ("SOL", "sol_close", 172.1), ("ALT", "avax_close", 6.02)):
        inp = out.inputs[out.names.index(name)]
        end, price = recorded(column)
        first = int(np.argmax(np.isfinite(price)))
        assert inp.start_price == price[first] == inp.path_p[0]  # the path sets the start price
        assert inp.path_p.min() == pytest.approx(low, abs=1e-12) == np.nanmin(price)
        at = inp.path_t[np.argmin(inp.path_p)] / 1000.0
        assert at == end[np.nanargmin(price)] - T0  # the low at its recorded time, on BTC's clock
        # every row at its bar's end, a blank cell holding the last price
        filled = price.copy()
        for k in range(1, filled.size):
            if np.isnan(filled[k]):
                filled[k] = filled[k - 1]
        assert np.array_equal(inp.path_t, np.rint((end[first:] - T0) * 1000).astype(np.int64))
        assert np.array_equal(inp.path_p, filled[first:])
        raw = out.raw.markets[out.names.index(name)]
        assert raw.extremes["min_mark"] == pytest.approx(low, rel=0.002)  # the mark follows it (prices imposed)
    assert out.contagion["accounts_liquidated"] > 0


def test_blank_cells_keep_the_last_price_and_rows_before_the_start_are_cut():
    t, p = recorded_path([90.0, 100.0, 110.0, 120.0, 130.0], [np.nan, 5.0, np.nan, 7.0, np.nan], 100.0)
    assert t.tolist() == [0.0, 10.0, 20.0, 30.0] and p.tolist() == [5.0, 5.0, 7.0, 7.0]
    t, p = recorded_path([0.0, 20.0, 40.0], [4.0, 8.0, 6.0], 10.0)  # the start between two rows: linear
    assert t.tolist() == [0.0, 10.0, 30.0] and p.tolist() == [6.0, 8.0, 6.0]
    t, p = recorded_path([50.0, 60.0], [3.0, 4.0], 0.0)  # a later start: the first price holds until then
    assert t.tolist() == [50.0, 60.0] and p.tolist() == [3.0, 4.0]
    assert recorded_path([1.0], [np.nan], 0.0)[0].size == 0


def test_a_start_price_scales_the_path_with_rescale_and_contradicts_it_without():
    scn = load_scenario(None, {**REPLAY, "shock.rescale": True, "instruments.ETH": {**ETH, "start_price_usd": 2000.0}})
    eth = scn.instruments.ETH
    assert eth.start_price() == 2000.0 and eth.path["price"][0] == 2000.0
    assert eth.path["price"].min() == pytest.approx(3681.0 / 4003.57 * 2000.0, rel=1e-12)
    half = load_scenario(None, {**REPLAY, "shock.move_scale": 0.5, "instruments.ETH": ETH}).instruments.ETH.path
    assert half["price"].min() == pytest.approx(4003.57 * (3681.0 / 4003.57) ** 0.5, rel=1e-12)  # moves × 0.5
    (msg,) = problems_of({**REPLAY, "instruments.ETH": {**ETH, "start_price_usd": 4000.0}})
    assert msg == (
        "override: instruments.ETH.start_price_usd = 4000.0: with shock.rescale = false it must be the path's price "
        "at the run's start, 4003.57 (path_column eth_close); leave it out, or set shock.rescale = true to scale the "
        "path to it"
    )
    ok = load_scenario(None, {**REPLAY, "instruments.ETH": {**ETH, "start_price_usd": 4003.57}})
    assert ok.instruments.ETH.start_price() == 4003.57


# --------------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "over, message",
    [
        (
            {"instruments.ETH": {**ETH, "path_column": "doge_close"}},
            "override: instruments.ETH.path_column = 'doge_close': not a price column of {alts}; allowed: btc_open, "
            "btc_high, btc_low, btc_close, eth_open, eth_high, eth_low, eth_close, sol_open, sol_high, sol_low, "
            "sol_close, avax_open, avax_high, avax_low, avax_close",
        ),
        (
            {"instruments.ETH": {**ETH, "path_file": "no/such.csv"}},
            "override: instruments.ETH.path_file = 'no/such.csv': no such file ({cwd}/no/such.csv)",
        ),
        (
            {"instruments.ETH": {k: v for k, v in ETH.items() if k != "path_column"}},
            "override: instruments.ETH.path_column: missing; path_file needs the column of prices to replay",
        ),
        (
            {"instruments.ETH": {**ETH, "path_time": "close"}},
            "override: instruments.ETH.path_time = 'close': must be one of timestamp, bar_end",
        ),
        (
            {"instruments.ETH": {**ETH, "beta": 1.5}},
            "override: instruments.ETH.beta = 1.5: not used with path_file (the instrument replays its own recorded "
            "moves)",
        ),
        (
            {"instruments.ETH": {**ETH, "path_column": "avax_close"}, "book.range_pct": 40.0},
            "override: instruments.ETH.path_column = 'avax_close': the recorded path reaches 6.02 USD, outside the "
            "book ladder less its 1% margin (16.1162–36.7238 USD for book.range_pct = 40); book.range_pct would have "
            "to be at least 78.21",
        ),
        (
            {
                "instruments.ETH": {
                    **{k: v for k, v in ETH.items() if k not in ("path_file", "path_time")},
                    "start_price_usd": 4000.0,
                },
                "shock.rescale": True,
            },
            "override: instruments.ETH.path_column = 'eth_close': only with path_file (the recorded path the "
            "instrument replays)",
        ),
    ],
)
def test_each_bad_key_gives_its_one_message(over, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    alts = sim.config.shipped.resolve_reference(ALTS)
    problems = [p for p in problems_of({**REPLAY, **over}) if "ETH.start_price_usd" not in p]
    assert problems == [message.format(alts=alts, cwd=tmp_path)]


def test_a_path_needs_a_replay_its_columns_and_unix_times(tmp_path):
    (msg,) = problems_of({"shock.kind": "gap", "instruments.ETH": {**ETH, "start_price_usd": 4000.0}})
    assert msg.startswith(
        "override: instruments.ETH.path_file = 'shipped:data/alts_2025_10_10.csv': needs "
        "shock.kind = 'replay' (it is 'gap')"
    )
    bars = tmp_path / "bars.csv"
    bars.write_text("timestamp,eth\n1760126400,4000\n1760126460,\n1760126520,3990.5\n")
    eth = {**ETH, "path_file": str(bars), "path_column": "eth", "path_time": "timestamp"}
    path = load_scenario(None, {**REPLAY, "instruments.ETH": eth}).instruments.ETH.path
    assert path["t_s"].tolist() == [0.0, 60.0, 120.0] and path["price"].tolist() == [4000.0, 4000.0, 3990.5]
    (msg,) = problems_of({**REPLAY, "instruments.ETH": {**eth, "path_time": "bar_end"}})
    assert msg == (
        f"override: instruments.ETH.path_time = 'bar_end': bar_end needs a seconds column (each bar's length) in "
        f"{bars}; allowed here: timestamp"
    )
    bars.write_text("timestamp,eth\n1760126400,4000\n1760126460000,3990\n1760126300,3995\n1760126600,x\n")
    assert problems_of({**REPLAY, "instruments.ETH": eth}) == [
        f"{bars}: line 3: timestamp = '1760126460000': must be a Unix time in seconds (between 1990 and 2100), on "
        "the clock of shock.file",
        f"{bars}: line 4: timestamp = '1760126300': must not be earlier than the previous row's",
        f"{bars}: line 5: eth = 'x': must be a number > 0",
    ]
    # bars that overlap: the third starts 30 s into the second (accepted before, and its price replayed)
    bars.write_text("timestamp,seconds,eth\n1760126400,60,4000\n1760126460,60,3990\n1760126490,60,3000\n")
    assert problems_of({**REPLAY, "instruments.ETH": {**eth, "path_time": "bar_end"}}) == [
        f"{bars}: line 4: timestamp = '1760126490': must not be earlier than the previous row's end (timestamp + "
        "seconds)"
    ]


def test_the_scenario_is_written_back_and_read_again(tmp_path):
    scn = load_scenario("replay_2025_10_10_multi", {"population.leverage_mix": {"2": 0.5, "20": 0.5}})
    text = scn.to_toml(relative_to=tmp_path)
    assert 'path_file = "shipped:data/alts_2025_10_10.csv"' in text and "beta" not in text
    (tmp_path / "again.toml").write_text(text)
    again = load_scenario(tmp_path / "again.toml")
    assert again == scn and np.array_equal(again.instruments.ALT.path["price"], scn.instruments.ALT.path["price"])
    assert again.with_overrides({"instruments.ALT.tick_size_usd": 0.01}).instruments.ALT.path_file == (
        scn.instruments.ALT.path_file  # a key of the table overridden alone: the file stays the scenario's
    )
