"""Several instruments in a scenario, and populations that draw portfolios (sim.config.instruments,
sim.world.portfolio).

* ``[instruments.ETH]`` and ``[portfolio]`` are read, written back and overridden like every table; each bad input
  gives one message naming the instrument's key, the value and what is allowed.
* Each instrument's market is a single-market scenario with the instrument's price, tick, lot, tier table, open
  interest, scaled defaults, beta-scaled shock and a seed of its own; the first is the scenario's own market.
* ``group_accounts`` gives each account at most one row per market and only rows that may be in a cross account,
  hits the share and the instruments-per-account distribution, the leverage rank correlation ρ (0 for ρ = 0), and
  is deterministic for a seed; a two-instrument scenario runs end to end through the several-market engine.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import enums as E
from sim import venues
from sim.config.instruments import PortfolioTable, instrument_seed, market_scenarios, portfolio_rng
from sim.config.scenario import load_scenario, parse_scenario
from sim.errors import ScenarioError
from sim.world.portfolio import eligible_rows, group_accounts

ETH = {"start_price_usd": 4000.0, "tick_size_usd": 0.01, "lot_size": 0.01, "open_interest_usd": 3e9}

TOML = """
[scenario]
seed = 3

[shock]
kind = "gap"
size_pct = -10

[instruments.ETH]
start_price_usd = 4000.0
tick_size_usd = 0.01
lot_size = 0.01
open_interest_usd = 3e9
beta = 1.6

[instruments.SOL]
start_price_usd = 200.0
tick_size_usd = 0.01
lot_size = 0.1
open_interest_usd = 1e9
n_positions = 20000
book_depth_usd_1pct = 5e7

[portfolio]
share = 0.4
instruments = {2 = 0.6, 3 = 0.4}
leverage_correlation = 0.3
"""


def problems_of(over):
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, over)
    return info.value.problems


# ----------------------------------------------------------------------------------------------- reading


def test_a_file_with_instruments_and_a_portfolio_is_read_and_written_back(tmp_path):
    path = tmp_path / "multi.toml"
    path.write_text(TOML)
    scn = load_scenario(path)
    assert [a for a, _ in scn.instruments.items()] == ["ETH", "SOL"]
    eth = scn.instruments.ETH
    assert (eth.start_price_usd, eth.lot_size, eth.beta, eth.n_positions) == (4000.0, 0.01, 1.6, None)
    assert scn.instruments.SOL.beta == 1.0 and scn.instruments.SOL.n_positions == 20000
    assert scn.portfolio.instruments == ((2, 0.6), (3, 0.4)) and scn.portfolio.leverage_correlation == 0.3
    again = tmp_path / "again.toml"
    again.write_text(scn.to_toml(relative_to=tmp_path))
    assert load_scenario(again) == scn
    assert load_scenario(None) == load_scenario(None, {"portfolio.share": 0.0})  # the defaults: one instrument


def test_one_key_of_an_instrument_can_be_overridden():
    scn = load_scenario(None, {"instruments.ETH": ETH, "instruments.ETH.beta": "2"})
    assert scn.instruments.ETH.beta == 2.0 and "instruments.ETH" in scn.overridden
    assert scn.with_overrides({"instruments.ETH.beta": 0.5}).instruments.ETH.beta == 0.5
    assert scn.with_overrides({"instruments.ETH": None}).instruments.items() == []


@pytest.mark.parametrize(
    "over, message",
    [
        (
            {"instruments.DOGE": ETH},
            "override: instruments.DOGE: unknown key; allowed: instruments.ALT, instruments.BTC, instruments.ETH, "
            "instruments.SOL",
        ),
        (
            {"market.venue_version": "2021-03", "instruments.SOL": ETH},
            "override: instruments.SOL: the binance 2021-03 pack has no tier table for it; allowed there: ETH",
        ),
        (
            {"instruments.BTC": ETH},
            "override: instruments.BTC: is market.asset, the first instrument; list the other instruments",
        ),
        (
            {"instruments.ETH": {**ETH, "beta": 20}},
            "override: instruments.ETH.beta = 20: must be a number in [-10, 10]",
        ),
        (
            {"instruments.ETH": {**ETH, "beta": "steep"}},
            "override: instruments.ETH.beta = 'steep': must be a number in [-10, 10]",
        ),
        (
            {"instruments.ETH": {k: v for k, v in ETH.items() if k != "lot_size"}},
            "override: instruments.ETH.lot_size: missing; every instrument needs start_price_usd, tick_size_usd, "
            "lot_size, open_interest_usd",
        ),
        (
            {"instruments.ETH": {**ETH, "tick_size_usd": 500.0}},
            "override: instruments.ETH.tick_size_usd = 500.0: must be a number in (0, 400] "
            "(400 = instruments.ETH.start_price_usd / 10)",
        ),
        (
            {"instruments.ETH": {**ETH, "beta": 5.0}},
            "override: instruments.ETH.beta = 5: shock.size_pct × beta = -50.0: the index path reaches 2000 USD, "
            "outside the book ladder less its 1% margin (2440–5560 USD for book.range_pct = 40); book.range_pct would "
            "have to be at least 51",
        ),
        (
            {"instruments.ETH": {**ETH, "beta": 2.0}, "shock.kind": "flow", "prices.model": "imposed"},
            "override: instruments.ETH.beta = 2.0: must be 1 with shock.kind = 'flow' (a flow sends the same USD into "
            "every market, for now)",
        ),
        (
            {"portfolio.share": 0.5},
            "override: portfolio.share = 0.5: needs instruments beside [market]'s ([instruments.ETH], ...); allowed "
            "here: 0",
        ),
        (
            {"instruments.ETH": ETH, "portfolio.instruments": {"1": 0.5, "2": 0.5}},
            "override: portfolio.instruments.1: the key must be a number of instruments: an integer in [2, 1000]",
        ),
        (
            {
                "instruments.ETH": ETH,
                "portfolio.instruments": {"99999999999999999999": 1},
            },  # a traceback in a run before
            "override: portfolio.instruments.99999999999999999999: the key must be a number of instruments: an "
            "integer in [2, 1000]",
        ),
        (
            {"instruments.ETH": ETH, "portfolio.instruments": {"+3": 1}},
            "override: portfolio.instruments.+3: the key must be a number of instruments: an integer in [2, 1000]",
        ),
        (
            {"instruments.ETH": ETH, "portfolio.leverage_correlation": 2},
            "override: portfolio.leverage_correlation = 2: must be a number in [-1, 1]",
        ),
        (
            {
                "instruments.ALT": {**ETH, "start_price_usd": 20.0, "tick_size_usd": 0.001},
                "population.leverage_mix": {"100": 1},
            },
            "override: population.leverage_mix.100: leverage must be in [1, 75] (market.tiers[0].max_leverage) (in "
            "the market of instruments.ALT)",
        ),
    ],
)
def test_each_bad_input_gives_its_one_message(over, message):
    assert problems_of(over) == [message]


def test_a_replayed_path_is_refused_without_rescaling():
    over = {"shock.kind": "replay", "shock.file": "tests/data/scn_path.csv", "prices.model": "imposed"}
    load_scenario(None, {**over, "instruments.ETH": {**ETH, "beta": 1.5}})  # a beta scales the replayed moves
    over["market.start_price_usd"] = 60000.0  # the recorded prices, which the first market then replays as they are
    (msg,) = problems_of({**over, "instruments.ETH": ETH, "shock.rescale": False})
    assert msg.startswith("override: shock.rescale = False: must be true with [instruments]")


def test_a_file_names_the_instruments_keys_with_its_own_name(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TOML.replace("beta = 1.6", "beta = -11"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems == [f"{path}: instruments.ETH.beta = -11: must be a number in [-10, 10]"]
    with pytest.raises(ScenarioError) as info:
        parse_scenario({"instruments": {"ETH": {**ETH, "start_price_usd": 0}}})
    assert info.value.problems == ["<dict>: instruments.ETH.start_price_usd = 0: must be a number in (0, 1e9]"]


# ------------------------------------------------------------------------------------------ market scenarios


def test_each_instrument_is_a_single_market_scenario_of_its_own(tmp_path):
    path = tmp_path / "multi.toml"
    path.write_text(TOML)
    scn = load_scenario(path)
    first, eth, sol = market_scenarios(scn)
    alone = load_scenario(None, {"scenario.seed": 3, "shock.kind": "gap", "shock.size_pct": -10})
    assert first == alone  # the first market is the scenario without its instruments
    for m in (first, eth, sol):
        assert m.instruments.items() == [] and m.portfolio.share == 0.0
    assert (eth.market.asset, eth.market.symbol, eth.market.start_price_usd) == ("ETH", "ETHUSDT", 4000.0)
    assert (eth.market.tick_size_usd, eth.market.lot_size) == (0.01, 0.01)
    rows = venues.pack("binance").tier_rows("ETH", 4000.0)
    assert [(t.notional_floor_usd, t.max_leverage, t.mmr_pct) for t in eth.market.tier_table()] == [
        (r.notional_floor_usd, r.max_leverage, r.mmr_pct) for r in rows
    ]
    assert eth.market.tier_table() != first.market.tier_table()
    assert eth.shock.size_pct == pytest.approx(-16.0) and sol.shock.size_pct == -10.0
    assert eth.population.open_interest_usd == 3e9 and eth.population.n_positions == 37500  # 100000 × 3e9 / 8e9
    assert eth.book.depth_usd_1pct == pytest.approx(270e6 * 3 / 8)
    assert (sol.population.n_positions, sol.book.depth_usd_1pct, sol.market.symbol) == (20000, 5e7, "SOLUSDT")
    seeds = [m.scenario.seed for m in (first, eth, sol)]
    assert seeds == [3, instrument_seed(3, "ETH"), instrument_seed(3, "SOL")] and len(set(seeds)) == 3
    assert [m.scenario.seed for m in market_scenarios(load_scenario(path))] == seeds  # deterministic
    assert eth.population.leverage_mix == first.population.leverage_mix and eth.venue == first.venue


def test_an_instrument_on_an_asset_first_scenario_takes_the_btc_table():
    scn = load_scenario(
        None,
        {
            "market.asset": "ETH",
            "market.symbol": "ETH-USDT-SWAP",
            "market.venue": "okx",
            "market.start_price_usd": 4000.0,
            "market.lot_size": 0.01,
            "instruments.BTC": {**ETH, "start_price_usd": 121000.0, "tick_size_usd": 0.1, "lot_size": 0.001},
        },
    )
    _, btc = market_scenarios(scn)
    assert (btc.market.venue, btc.market.asset, btc.market.symbol) == ("okx", "BTC", "BTC-USDT-SWAP")


# --------------------------------------------------------------------------------------------- portfolios


def fake_market(n, rng, mode=None):
    """A market's inputs as group_accounts reads them: n cross traders with continuous leverages."""
    return SimpleNamespace(
        pos_kind=np.full(n, E.TRADER, np.int8),
        pos_mode=np.full(n, E.CROSS, np.int8) if mode is None else mode,
        pos_stop=np.full(n, np.nan),
        pos_reserve=np.zeros(n),
        pos_leverage=rng.lognormal(2.0, 0.8, n),
        arr_on=False,
        arr_row0=n,
    )


def by_account(inputs, accts):
    """Each account's leverage in each market (NaN where it holds none) and its number of markets."""
    n = max(int(a.max()) for a in accts) + 1
    lev = np.full((len(inputs), n), np.nan)
    for m, (inp, a) in enumerate(zip(inputs, accts)):
        member = a >= 0
        lev[m, a[member]] = inp.pos_leverage[member]
    return lev, np.sum(~np.isnan(lev), axis=0)


def spearman(x, y):
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def test_accounts_hit_the_share_the_counts_and_hold_one_row_per_market():
    rng = np.random.default_rng(0)
    inputs = [fake_market(60_000, rng) for _ in range(3)]
    pf = PortfolioTable(share=0.4, instruments=((2, 0.6), (3, 0.4)), leverage_correlation=0.5)
    accts = group_accounts(inputs, pf, np.random.default_rng(1))
    for a in accts:
        assert a.dtype == np.int64 and np.mean(a >= 0) == pytest.approx(0.4, abs=0.01)
    lev, held = by_account(inputs, accts)
    counts = np.concatenate([a[a >= 0] for a in accts])
    assert np.array_equal(np.bincount(counts), held)  # a row per market at most: rows = markets held
    assert held.min() >= 2
    n = held.size
    assert np.mean(held == 2) == pytest.approx(0.6, abs=3 * np.sqrt(0.24 / n) + 0.005)
    assert np.mean(held == 3) == pytest.approx(0.4, abs=3 * np.sqrt(0.24 / n) + 0.005)


@pytest.mark.parametrize("rho", [0.7, 0.0, -0.6])
def test_the_leverages_of_an_accounts_rows_have_rank_correlation_rho(rho):
    rng = np.random.default_rng(2)
    inputs = [fake_market(40_000, rng) for _ in range(2)]
    pf = PortfolioTable(share=0.5, leverage_correlation=rho)
    lev, held = by_account(inputs, group_accounts(inputs, pf, np.random.default_rng(3)))
    assert held.size > 9000
    assert spearman(lev[0], lev[1]) == pytest.approx(rho, abs=0.03)


def test_the_grouping_is_deterministic_for_a_seed_and_moves_with_it():
    rng = np.random.default_rng(4)
    inputs = [fake_market(5000, rng) for _ in range(3)]
    pf = PortfolioTable(share=0.3, instruments=((2, 0.5), (3, 0.5)))
    one, two = (group_accounts(inputs, pf, np.random.default_rng(9)) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    other = group_accounts(inputs, pf, np.random.default_rng(10))
    assert not all(np.array_equal(a, b) for a, b in zip(one, other))
    assert all(np.all(a == -1) for a in group_accounts(inputs, PortfolioTable(share=0.0), np.random.default_rng(9)))


def test_only_cross_traders_without_stop_top_up_or_arrival_join():
    rng = np.random.default_rng(5)
    n = 4000
    inputs = [fake_market(n, rng), fake_market(n, rng, mode=(np.arange(n) % 2).astype(np.int8))]
    a = inputs[0]
    a.pos_kind[2999] = E.COUNTERPARTY  # the counterparty row comes before the arrivals
    a.pos_stop[:500] = 1.0
    a.pos_reserve[500:1000] = 10.0
    a.arr_on, a.arr_row0 = True, 3000
    assert eligible_rows(a).size == 1999  # rows 1000..2998
    accts = group_accounts(inputs, PortfolioTable(share=1.0), np.random.default_rng(6))
    assert np.all(accts[0][:1000] == -1) and np.all(accts[0][3000:] == -1)
    assert np.all(accts[1][inputs[1].pos_mode == E.ISOLATED] == -1)
    assert np.sum(accts[0] >= 0) == np.sum(accts[1] >= 0) == 1999  # pairs: as many of each
    assert group_accounts(inputs[:1], PortfolioTable(share=1.0), np.random.default_rng(6))[0].max() == -1


def test_an_instrument_with_more_traders_gets_fewer_in_accounts():
    rng = np.random.default_rng(7)
    inputs = [fake_market(20_000, rng), fake_market(2000, rng)]
    accts = group_accounts(inputs, PortfolioTable(share=0.5), np.random.default_rng(8))
    assert np.sum(accts[1] >= 0) == np.sum(accts[0] >= 0) == 1000  # the small market's share; the big one pairs


def test_a_million_rows_a_market_group_quickly():
    import time

    rng = np.random.default_rng(11)
    inputs = [fake_market(1_000_000, rng) for _ in range(2)]
    pf = PortfolioTable(share=0.5, leverage_correlation=0.5)
    t0 = time.perf_counter()
    group_accounts(inputs, pf, np.random.default_rng(12))
    assert time.perf_counter() - t0 < 2.0  # about 0.5 s here; generous for a loaded CI machine


# ---------------------------------------------------------------------------------------------- end to end


def test_a_two_instrument_scenario_runs_through_the_several_market_engine(compiled):
    from sim.engine import prepare
    from sim.multi import simulate_markets

    over = {
        "scenario.duration_s": 120.0,
        "population.n_positions": 1500,
        "population.open_interest_usd": 4e8,
        "population.cross_share": 0.6,
        "book.depth_usd_1pct": 2e7,
        "shock.kind": "ramp",
        "shock.start_s": 10.0,
        "shock.duration_s": 60.0,
        "shock.size_pct": -8.0,
        "prices.model": "imposed",
        "instruments.ETH": {**ETH, "open_interest_usd": 2e8, "beta": 1.5},
        "portfolio.share": 0.8,
    }
    scn = load_scenario(None, over)
    markets = market_scenarios(scn)
    inputs = [prepare(m) for m in markets]
    assert inputs[1].pos_kind.size == 751  # 750 traders (1500 × 2e8 / 4e8) and the counterparty
    accts = group_accounts(inputs, scn.portfolio, portfolio_rng(scn))
    assert np.sum(accts[0] >= 0) == np.sum(accts[1] >= 0) > 300
    out = simulate_markets(inputs, accts, E.ACCT_CROSS)
    assert out.accounts.n[5] > 0  # accounts were liquidated through the layer
    eth = out.markets[1]
    assert eth.extremes["min_mark"] < 4000.0 * (1 - 0.11)  # ETH fell by beta × 8%
    again = group_accounts(inputs, scn.portfolio, portfolio_rng(scn))
    assert all(np.array_equal(a, b) for a, b in zip(accts, again))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inst=st.fixed_dictionaries(
        {
            "start_price_usd": st.floats(1e-6, 1e9),
            "tick_size_usd": st.floats(1e-9, 1e8),
            "lot_size": st.floats(1e-9, 1e6),
            "open_interest_usd": st.floats(1e-6, 1e13),
        },
        optional={
            "beta": st.floats(-10, 10),
            "n_positions": st.integers(1, 50_000_000),
            "book_depth_usd_1pct": st.floats(1e-6, 1e13),
        },
    ),
    oi=st.sampled_from([5e-324, 1.0, 8e9, 1e13]),
)
def test_fuzz_instruments_in_range_return_or_refuse(inst, oi):
    try:
        load_scenario(None, {"instruments.ETH": inst, "population.open_interest_usd": oi, "prices.model": "imposed"})
    except ScenarioError as err:
        assert err.problems and all(isinstance(p, str) and p for p in err.problems)
