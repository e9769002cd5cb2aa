"""Account snapshots with several coins per account, in a run of several instruments (docs/model.md §5.5).

* Each row goes to its coin's market; a user's cross rows in several markets are one cross account, whose equity
  (the account value less the margin of its rows in coins without a market) its rows share; an isolated row, and
  a user's only cross row, stay alone; rows of other coins are held still and counted.
* Contagion through a snapshot's account: a cross BTC row is liquidated by its account's ETH losses, while the same
  BTC position held isolated is not.
* What the file gives may not be drawn too: a portfolio share, an instrument's open interest or number of positions,
  stops and top-ups are refused, each with one message; the scenario is written back and read again as it was.
"""

import math

import numpy as np
import pytest

import sim
from sim import enums as E
from sim.config.instruments import market_scenarios
from sim.config.scenario import load_scenario
from sim.errors import ScenarioError

HEAD = "user,coin,szi,entryPx,leverage_type,leverage_value,marginUsed,accountValue,positionValue,maxLeverage\n"
ROWS = (
    "a,BTC,1,121000,cross,10,12100,60000,121000,40\n"  # row 1: a's BTC, in one account with ...
    "a,ETH,100,4350,cross,10,43500,60000,435000,25\n"  # ... a's ETH, whose fall liquidates the account
    "b,BTC,1,121000,isolated,10,13058,13058,121000,40\n"  # a's BTC position alone, as an isolated row
    "c,BTC,-0.5,121000,cross,10,6050,20000,60500,40\n"  # a user's only cross row: no account of several
    "d,ETH,-10,4350,isolated,5,8700,8700,43500,25\n"
    "e,SOL,10,222,cross,5,444,5000,2220,20\n"  # no SOL market: held still, its margin reserved
    "e,BTC,0.1,121000,cross,5,2420,5000,12100,40\n"
)
ETH = {"start_price_usd": 4350.0, "tick_size_usd": 0.1, "lot_size": 0.001, "book_depth_usd_1pct": 1e6, "beta": 10.0}
BASE = {
    "market.venue": "hyperliquid",
    "market.start_price_usd": 121000.0,
    "book.depth_usd_1pct": 2e6,
    "shock.kind": "ramp",
    "shock.start_s": 10.0,
    "shock.duration_s": 60.0,
    "shock.size_pct": -2.0,  # ETH: −20%
    "scenario.duration_s": 120.0,
    "prices.model": "imposed",
}


@pytest.fixture
def snap(tmp_path):
    path = tmp_path / "snap.csv"
    path.write_text(HEAD + ROWS)
    return {**BASE, "population.file": str(path), "instruments.ETH": ETH}


def test_each_row_goes_to_its_coins_market_and_a_users_cross_rows_share_its_equity(snap):
    btc, eth = market_scenarios(load_scenario(None, snap))
    pb, pe = btc.population.positions, eth.population.positions
    assert pb["side"].tolist() == [1, 1, -1, 1] and pe["side"].tolist() == [1, -1]  # a, b, c, e; a, d
    equity = lambda p, px: p["wallet"] + p["side"] * p["size"] * (px - p["entry_price"])  # noqa: E731
    eb, ee = equity(pb, 121000.0), equity(pe, 4350.0)
    assert eb[0] + ee[0] == pytest.approx(60000.0, rel=1e-12)  # a's account value, shared ...
    assert eb[0] / ee[0] == pytest.approx(121000.0 / 435000.0, rel=1e-12)  # ... by entry notional
    assert eb[1] == 13058.0 and ee[1] == 8700.0  # isolated rows: their margin used
    assert eb[2] == 20000.0 and eb[3] == pytest.approx(5000.0 - 2220.0 / 40.0)  # SOL's margin reserved from e's
    assert pb["held_still_coins"].tolist() == ["SOL"] and pb["held_still_rows"].tolist() == [1]
    from sim.engine import prepare
    from sim.world.portfolio import file_accounts

    inputs = [prepare(m) for m in (btc, eth)]
    accts = file_accounts(inputs, [pb, pe])
    assert accts[0].tolist() == [0, -1, -1, -1, -1] and accts[1].tolist() == [0, -1, -1]  # counterparties last


def test_a_snapshots_btc_row_is_liquidated_by_its_accounts_eth_loss_and_not_when_isolated(compiled, snap):
    from sim.multi import run_scenario

    out = run_scenario(load_scenario(None, snap))
    ca, raw = out.raw.accounts, out.raw.markets[0]
    forced = np.isin(raw.fills["kind"], (E.LIQUIDATION, E.PARTIAL, E.TAKEOVER))
    rows = set(raw.fills["account"][forced].tolist())
    assert 0 in rows and ca.why[0] == E.WHY_OTHERS  # a's BTC: its account's ETH loss took it
    assert 1 not in rows and 2 not in rows and 3 not in rows  # b's, the same position isolated; c's; e's
    assert out.contagion["markets"]["BTC"]["positions_cross_asset"] == 1
    cash = sum(math.fsum(m.accounts["cash_end"]) for m in out.raw.markets)
    assert cash == pytest.approx(sum(math.fsum(m.accounts["cash_start"]) for m in out.raw.markets), rel=1e-9)


def test_the_shipped_example_holds_users_with_several_coins_and_isolated_ones(compiled):
    from sim.multi import run_scenario

    out = run_scenario(sim.load_scenario("snapshot_hyperliquid_multi"))
    assert out.names == ["BTC", "ETH", "SOL"]
    held = np.concatenate([a[a >= 0] for a in out.row_acct])
    counts = np.bincount(held)
    assert counts.min() >= 2 and (counts == 3).any()  # accounts of two and of three coins
    for m, scn in enumerate(out.scenarios):
        pos = scn.population.positions
        n = pos["side"].size
        assert np.all(out.row_acct[m][:n][pos["mode"] == E.ISOLATED] == -1)
        assert np.all(out.row_acct[m][n:] == -1)  # the counterparty
    assert (out.scenarios[1].population.positions["mode"] == E.ISOLATED).any()  # isolated ETH rows
    assert out.contagion["accounts_liquidated"] > 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            {"portfolio.share": 0.5},
            "override: portfolio.share = 0.5: must be 0 with population.file: the snapshot's users are the accounts "
            "(a user's cross rows in several instruments are one cross account), none is drawn",
        ),
        (
            {"instruments.ETH": {**ETH, "open_interest_usd": 1e9}},
            "override: instruments.ETH.open_interest_usd = 1000000000.0: not with population.file: the snapshot's rows "
            "of ETH are the instrument's positions; leave it out",
        ),
        (
            {"instruments.ETH": {k: v for k, v in ETH.items() if k != "book_depth_usd_1pct"}},
            "override: instruments.ETH.book_depth_usd_1pct: missing; required with population.file (no open interest "
            "to scale by)",
        ),
        (
            {"stops.share": 0.2},
            "override: stops.share = 0.2: must be 0 with population.file and [instruments]: a snapshot's cross "
            "accounts carry no stop-loss and no top-up reserve",
        ),
        (
            {"population.file": "tests/data/scn_positions.csv", "market.venue": "binance"},
            "override: population.file = 'tests/data/scn_positions.csv': with [instruments] it must be an account "
            "snapshot (a szi column: each row goes to its coin's market); a positions file's rows are the first "
            "instrument's",
        ),
    ],
)
def test_what_the_file_gives_may_not_be_drawn_too(snap, extra, message):
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, {**snap, **extra})
    assert message in info.value.problems, info.value.problems


def test_the_shipped_scenario_is_written_back_and_read_again(tmp_path):
    scn = sim.load_scenario("snapshot_hyperliquid_multi")
    (tmp_path / "again.toml").write_text(scn.to_toml(relative_to=tmp_path))
    again = sim.load_scenario(tmp_path / "again.toml")
    assert again == scn
    for one, two in zip(market_scenarios(scn), market_scenarios(again)):
        assert np.array_equal(one.population.positions["wallet"], two.population.positions["wallet"])


def test_an_instrument_whose_coin_the_file_lacks_is_named(snap):
    sol = {"start_price_usd": 222.0, "tick_size_usd": 0.01, "lot_size": 0.01, "book_depth_usd_1pct": 5e5}
    over = {**snap, "instruments.ETH": None, "instruments.SOL": sol}
    assert load_scenario(None, over).instruments.SOL is not None  # e holds SOL
    path = snap["population.file"]
    with open(path, "w") as f:
        f.write(HEAD + "".join(r + "\n" for r in ROWS.splitlines() if ",SOL," not in r))
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, over)
    assert info.value.problems == [f"{path}: no position in SOL (instruments.SOL); coins found: BTC, ETH"]


def test_a_blank_position_value_in_an_instruments_coin_is_its_markets_start_price(snap):
    """a's ETH row without positionValue: ETH is a market of the run, so its mark is ETH's start price (4350, what
    the file gave) and nothing changes; refused before, as if ETH were a coin held still. Without the ETH
    instrument the row is held still and needs it: one message, not a second about a NaN wallet."""
    full = [m.population.positions for m in market_scenarios(load_scenario(None, snap))]
    path = snap["population.file"]
    with open(path, "w") as f:
        f.write(
            HEAD
            + ROWS.replace("a,ETH,100,4350,cross,10,43500,60000,435000,25", "a,ETH,100,4350,cross,10,43500,60000,,")
        )
    blank = [m.population.positions for m in market_scenarios(load_scenario(None, snap))]
    for a, b in zip(full, blank):
        for k in ("side", "size", "entry_price", "wallet", "mark", "equity"):
            np.testing.assert_array_equal(a[k], b[k])
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, {**snap, "instruments.ETH": None})
    assert info.value.problems == [
        f"{path}: line 3: a cross position in ETH (no market of the run) needs positionValue and maxLeverage: its "
        "maintenance margin is reserved from the user's account value"
    ]


def test_a_missing_or_plain_positions_file_beside_instruments_is_one_message(snap, tmp_path):
    """Each said twice before: the positions reader's complaint followed the instruments' (or the reverse)."""
    missing = str(tmp_path / "nofile.csv")
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, {**snap, "population.file": missing})
    assert info.value.problems == [f"override: population.file = {missing!r}: no such file ({missing})"]
    plain = tmp_path / "plain.csv"
    plain.write_text("side,size,entry_price,margin\nlong,1,121000,12100\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, {**snap, "population.file": str(plain)})
    (msg,) = info.value.problems
    assert "with [instruments] it must be an account snapshot" in msg
