"""Several markets in one run and cross accounts across them (sim.multi, sim.kernels.cross).

* A one-market run whose rows are one-row cross accounts is a single-market run, bit for bit, on every venue's rules.
* The bands never miss a liquidation: after every tick, every account the layer holds healthy is safe at every
  market's mark (a brute-force check of every account).
* Money is conserved across markets; contracts within each.
* Contagion is real and measured: a well-margined BTC long is liquidated by its account's ETH losses, and is not
  when the same rows are isolated.
* Each venue's share-out: Binance's takes the row with the largest maintenance margin first, holding the whole
  equity; OKX's takes every row at once.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import enums as E
from sim.config.scenario import load_scenario
from sim.engine import prepare, simulate
from sim.multi import simulate_markets

METHOD = {
    "binance": E.ACCT_CROSS,
    "bybit": E.ACCT_CROSS,
    "okx": E.ACCT_OKX,
    "hyperliquid": E.ACCT_HYPERLIQUID,
    "dydx": E.ACCT_DYDX,
}


def one_row_accounts(inp):
    """Every trader row its own cross account (rows with a stop or a top-up stay isolated)."""
    member = (inp.pos_kind == E.TRADER) & np.isnan(inp.pos_stop) & (inp.pos_reserve <= 0.0)
    acct = np.full(inp.pos_kind.size, -1, np.int64)
    acct[member] = np.arange(int(member.sum()))
    return acct


@pytest.mark.parametrize(
    "name", ["binance_ramp_venue_queue", "okx_gbm_leverage_drain", "hyperliquid_ramp", "dydx_gap", "bybit_gap_pro_rata"]
)
def test_one_row_cross_accounts_give_the_single_market_run_bit_for_bit(compiled, name):
    scn = load_scenario(f"tests/golden/scenarios/{name}.toml")
    inp = prepare(scn)
    acct = one_row_accounts(inp)
    assert np.all(acct[inp.pos_kind == E.TRADER] >= 0)  # every trader goes through the account layer
    alone = simulate(inp)
    multi = simulate_markets([inp], [acct], METHOD[scn.market.venue])
    assert multi.rounds > 0 and multi.accounts.n[5] > 0  # accounts were liquidated through the layer
    raw = multi.markets[0]
    assert raw.fills.size == alone.fills.size
    assert raw.fills.tobytes() == alone.fills.tobytes()
    assert raw.accounts.tobytes() == alone.accounts.tobytes()
    assert raw.series.tobytes() == alone.series.tobytes()


# ------------------------------------------------------------------------------------------ two markets

BASE = {
    "scenario.duration_s": 120.0,
    "population.n_positions": 1500,
    "population.open_interest_usd": 4e8,
    "population.cross_share": 0.0,
    "book.depth_usd_1pct": 2e7,
    "shock.kind": "ramp",
    "shock.start_s": 10.0,
    "shock.duration_s": 60.0,
    "prices.model": "imposed",
}
ETH = {"market.asset": "ETH", "market.symbol": "ETHUSDT", "market.start_price_usd": 4000.0, "market.lot_size": 0.01}


def market(venue, drop_pct, seed, extra=None):
    over = {**BASE, "market.venue": venue, "scenario.seed": seed, "shock.size_pct": drop_pct, **(extra or {})}
    return prepare(load_scenario(None, overrides=over))


def paired_accounts(inputs, share=1.0, seed=7):
    """Accounts holding one row of each market: trader k of every market (k below the smallest count) in account
    k, for a ``share`` of them; the others isolated."""
    traders = [np.flatnonzero(inp.pos_kind == E.TRADER) for inp in inputs]
    n = min(t.size for t in traders)
    rng = np.random.default_rng(seed)
    chosen = np.flatnonzero(rng.random(n) < share)
    out = []
    for inp, t in zip(inputs, traders):
        a = np.full(inp.pos_kind.size, -1, np.int64)
        a[t[chosen]] = np.arange(chosen.size)
        out.append(a)
    return out


def brute_force(markets, g, ca, cl=None):
    """Every account's equity and maintenance margin at the markets' marks, from scratch (NumPy over every row, no
    bands, no account layer)."""
    n_acct = ca.state.size
    rows = ca.rows
    acct = ca.row_acct[rows]
    mkt = ca.row_mkt[rows]
    marks = np.array([m.perp.px["mark"] for m in markets])[mkt]
    live = g.status[rows] == E.OPEN
    q, ep, x = g.size[rows], g.entry[rows], marks
    eq = g.wallet[rows] + np.where(live, g.side[rows] * q * (x - ep), 0.0)
    mm = np.zeros(rows.size)
    for m, mk in enumerate(markets):
        t = mk.tiers
        sel = live & (mkt == m)
        base = {E.MM_MARK: q * x, E.MM_ENTRY: q * ep, E.MM_SIZE: q}[t.basis][sel]
        j = np.searchsorted(t.floor, base, side="right") - 1
        mm[sel] = np.where(t.basis == E.MM_SIZE, x[sel] * (q[sel] * t.mmr[j] - t.cum[j]), base * t.mmr[j] - t.cum[j])
    equity = np.bincount(acct, eq, n_acct)
    if cl is not None and cl.k.size:  # collateral: w + k·p at the asset's price now
        holder = np.repeat(np.arange(n_acct), np.diff(cl.ptr))
        equity += np.bincount(holder, cl.w + cl.k * cl.price[cl.asset], n_acct)
    margin = np.bincount(acct, mm, n_acct)
    return equity, margin


def assert_no_miss(markets, g, ca, t, cl=None):
    """No account the layer holds healthy is liquidatable, rows waiting out a partial step's cooldown included."""
    equity, mm = brute_force(markets, g, ca, cl)
    healthy = (ca.state == 0) & (mm > 0)
    missed = healthy & (equity < mm * (1 - 1e-9))
    assert not missed.any(), f"t={t}: accounts {np.flatnonzero(missed)[:5]} liquidatable but held healthy"
    return int(healthy.sum())


@pytest.mark.parametrize("venue", ["binance", "okx", "hyperliquid", "dydx"])
def test_the_bands_never_miss_a_liquidatable_account(compiled, venue):
    inputs = [market(venue, -6.0, 11), market(venue, -14.0, 12, ETH)]
    accts = paired_accounts(inputs, share=0.7)
    seen = {"ticks": 0, "healthy": 0}

    def check(t, markets, g, ca, cl):
        seen["ticks"] += 1
        seen["healthy"] += assert_no_miss(markets, g, ca, t, cl)

    out = simulate_markets(inputs, accts, METHOD[venue], on_tick=check)
    assert seen["ticks"] == 121 and seen["healthy"] > 0
    assert out.accounts.n[5] > 20  # accounts were liquidated ...
    assert out.accounts.n[4] > 20  # ... and others had their slack shared out again when a band was crossed


@settings(max_examples=20 * settings.default.max_examples // 100, deadline=None)
@given(
    venue=st.sampled_from(sorted(METHOD)),
    drops=st.tuples(st.floats(-15.0, 8.0), st.floats(-30.0, 12.0), st.floats(-35.0, 15.0)),
    share=st.floats(0.2, 1.0),
    seed=st.integers(0, 1000),
    weights=st.tuples(st.floats(0.2, 5.0), st.floats(0.2, 5.0), st.floats(0.2, 5.0)),
    trend=st.sampled_from([0.0, 1.0, 3.0, 20.0]),
)
def test_randomized_runs_never_hold_a_liquidatable_account_healthy(compiled, venue, drops, share, seed, weights, trend):
    """Three markets moving apart or together, random account sets, slack weights and look-backs of the recent
    moves, checked against the brute force after every tick."""
    sol = {"market.asset": "SOL", "market.symbol": "SOLUSDT", "market.start_price_usd": 200.0, "market.lot_size": 0.1}
    extras = (None, ETH, sol)
    inputs = [
        market(venue, d, seed + k, {**(e or {}), "population.n_positions": 600})
        for k, (d, e) in enumerate(zip(drops, extras))
    ]
    accts = paired_accounts(inputs, share=share, seed=seed)
    n_acct = int(max(a.max() for a in accts)) + 1
    rng = np.random.default_rng(seed)
    holders = np.flatnonzero(rng.random(n_acct) < 0.5)  # half the accounts also hold a stablecoin ...
    margin = np.zeros(n_acct)
    for inp, a in zip(inputs, accts):
        np.add.at(margin, a[a >= 0], inp.pos_wallet[a >= 0])
    units = margin[holders] * rng.uniform(0.05, 2.0, holders.size) + 1.0
    depth = rng.uniform(0.0, 0.6)  # ... that loses up to 60% of its value between two random times
    t0 = rng.uniform(0.0, 80.0)
    coll = {
        "assets": [([0.0, t0, t0 + 30.0], [1.0, 1.0, 1.0 - depth], 1.0)],
        "account": holders,
        "asset": np.zeros(holders.size, np.int64),
        "units": units * 0.95,
    }
    simulate_markets(
        inputs,
        accts,
        METHOD[venue],
        weight=weights,
        collateral=coll,
        on_tick=lambda t, m, g, ca, cl: assert_no_miss(m, g, ca, t, cl),
        trend_s=trend,
    )


def test_recent_moves_steer_the_slack_to_the_losing_rows_fewer_looks_same_liquidations(compiled):
    """With the slack shared by volatility alone, a row whose market falls faster than its scale says crosses its band
    again and again while its account's other rows hold slack they do not use; weighting the recent move against
    each side (sim.multi.slack_weights) looks at the accounts less often, and liquidates exactly the same."""
    sol = {"market.asset": "SOL", "market.symbol": "SOLUSDT", "market.start_price_usd": 200.0, "market.lot_size": 0.1}
    inputs = [
        market("binance", d, 31 + k, {**(e or {}), "population.n_positions": 5000})
        for k, (d, e) in enumerate(zip((-8.0, -14.0, -22.0), (None, ETH, sol)))
    ]
    accts = paired_accounts(inputs, share=1.0)
    still, steered = (
        simulate_markets(inputs, accts, E.ACCT_CROSS, weight=(1.0, 1.6, 2.4), trend_s=ts) for ts in (0.0, 3.0)
    )
    assert steered.accounts.n[4] < 0.9 * still.accounts.n[4]  # re-sharings: 2,993 against 3,487 here
    assert steered.accounts.n[6] == still.accounts.n[6] > 1000  # the same rows forced ...
    for a, b in zip(still.markets, steered.markets):  # ... at the same times, for the same notional: the shares'
        assert a.fills.size == b.fills.size  # rounding can only swap two rows whose keys differ in the last bits
        fa, fb = (
            [f[k][np.lexsort((f["account"], f["kind"], f["t"]))] for k in ("t", "kind", "account")]
            for f in (a.fills, b.fills)
        )
        for x, y in zip(fa, fb):
            np.testing.assert_array_equal(x, y)
        usd = [math.fsum(f["qty"] * f["price"]) for f in (a.fills, b.fills)]
        assert usd[1] == pytest.approx(usd[0], rel=1e-9)


def test_money_is_conserved_across_markets_and_contracts_within_each(compiled):
    inputs = [market("binance", -8.0, 21), market("binance", -18.0, 22, ETH)]
    out = simulate_markets(inputs, paired_accounts(inputs, share=0.8), E.ACCT_CROSS)
    start = math.fsum(math.fsum(r.accounts["cash_start"]) for r in out.markets)
    end = math.fsum(math.fsum(r.accounts["cash_end"]) for r in out.markets)
    assert end == pytest.approx(start, rel=1e-12, abs=1e-6)
    for r in out.markets:
        assert math.fsum(r.accounts["position_end"]) == pytest.approx(0.0, abs=1e-9)
    # and money did move between markets: each market alone no longer balances
    moved = [math.fsum(r.accounts["cash_end"]) - math.fsum(r.accounts["cash_start"]) for r in out.markets]
    assert abs(moved[0]) > 1.0


def contagion_world(cross):
    """Two markets: BTC flat, ETH down 30%. Account 0 holds a well-margined BTC long (5×) and a 10× ETH long twice
    its size; crowds in both markets are far from liquidation (2×), so only account 0's rows can go."""
    rows = []
    for drop, seed, extra in ((0.0, 31, None), (-30.0, 32, ETH)):
        inp = market("binance", drop, seed, {"population.leverage_mix": {2: 1.0}, **(extra or {})})
        rows.append(inp)
    # the account's rows: the first trader of each market, set by hand
    for k, (lev, usd) in enumerate(((5.0, 2e6), (10.0, 4e6))):
        inp = rows[k]
        side, size, entry, wallet = (np.array(a) for a in (inp.pos_side, inp.pos_size, inp.pos_entry, inp.pos_wallet))
        i = int(np.flatnonzero(inp.pos_kind == E.TRADER)[0])
        c = int(np.flatnonzero(inp.pos_kind == E.COUNTERPARTY)[0])
        q = np.round(usd / inp.start_price / inp.lot) * inp.lot
        side[i], size[i], entry[i], wallet[i] = 1, q, inp.start_price, q * inp.start_price / lev
        net = float(np.sum(side[:c] * size[:c]) + np.sum(side[c + 1 :] * size[c + 1 :]))
        side[c], size[c], entry[c] = (-1 if net > 0 else 1), abs(net), inp.start_price  # the residual, at 1×
        wallet[c] = abs(net) * inp.start_price
        rows[k] = inp._replace(pos_side=side, pos_size=size, pos_entry=entry, pos_wallet=wallet)
    btc, eth = rows
    accts = [np.full(inp.pos_kind.size, -1, np.int64) for inp in rows]
    if cross:
        for a, inp in zip(accts, rows):
            a[int(np.flatnonzero(inp.pos_kind == E.TRADER)[0])] = 0
    return rows, accts


def test_a_btc_long_is_liquidated_by_its_accounts_eth_losses_and_not_when_isolated(compiled):
    out = {}
    for cross in (True, False):
        inputs, accts = contagion_world(cross)
        res = simulate_markets(inputs, accts, E.ACCT_CROSS)
        btc_row = int(np.flatnonzero(inputs[0].pos_kind == E.TRADER)[0])
        out[cross] = (res, res.markets[0].accounts["status"][btc_row], btc_row)
    res, status, row = out[True]
    assert status == E.LIQUIDATED  # cross: the BTC long went with its account
    assert res.accounts.why[row] == E.WHY_OTHERS  # and it went for the ETH losses: its own price never got there
    assert out[False][1] == E.OPEN  # isolated, the same BTC long survives


def forced_fills(raw, row):
    """The liquidation-side fills of position row ``row`` (partial, liquidation or takeover), in record order."""
    f = raw.fills
    return f[(f["account"] == row) & np.isin(f["kind"], (E.PARTIAL, E.LIQUIDATION, E.TAKEOVER))]


@pytest.mark.parametrize("method", [E.ACCT_CROSS, E.ACCT_OKX])
def test_the_share_out_follows_the_venues_rule(compiled, method):
    """Binance's (cross): the row with the larger maintenance margin (ETH, twice the notional) is taken first, holding
    the whole equity; the row closed last holds what is left, none, so it closes at its mark. OKX's: both rows go at
    the same tick, their equities summing to the account's, shared by trigger margin."""
    inputs, accts = contagion_world(cross=True)
    res = simulate_markets(inputs, accts, method)
    rows = [int(np.flatnonzero(inp.pos_kind == E.TRADER)[0]) for inp in inputs]
    btc, eth = (forced_fills(r, row) for r, row in zip(res.markets, rows))
    cash = sum(float(inp.pos_wallet[row]) for inp, row in zip(inputs, rows))
    marks = (btc[0]["mark"], eth[0]["mark"])
    upnl = sum(float(inp.pos_size[row]) * (m - float(inp.pos_entry[row])) for inp, row, m in zip(inputs, rows, marks))
    if method == E.ACCT_CROSS:
        assert eth[0]["t"] <= btc[0]["t"]
        assert eth[0]["equity"] == pytest.approx(cash + upnl, rel=1e-6)  # the whole equity, at ETH's first fill
        last = btc[-1] if btc[-1]["t"] >= eth[-1]["t"] else eth[-1]
        assert last["kind"] != E.PARTIAL and abs(last["equity"]) < 1e-6 * last["qty"] * last["mark"] + 1.0
        assert last["bankruptcy_price"] == pytest.approx(last["mark"], rel=1e-9)  # nothing left: at its mark
    else:
        assert btc[0]["t"] == eth[0]["t"]  # together
        assert btc[0]["equity"] + eth[0]["equity"] == pytest.approx(cash + upnl, rel=1e-6)
        from sim.kernels.margin import position_mm_nb

        mm = [
            position_mm_nb(
                inp.pos_size[row],
                inp.pos_entry[row],
                f["mark"],
                inp.tier_floor,
                inp.tier_mmr,
                inp.tier_cum,
                inp.tier_basis,
            )
            for inp, row, f in zip(inputs, rows, (btc[0], eth[0]))
        ]  # under the trigger tiers, which on OKX include the clearance fee: the denominator of its margin ratio
        assert btc[0]["equity"] / eth[0]["equity"] == pytest.approx(mm[0] / mm[1], rel=1e-9)


def test_contagion_counts_the_btc_long_that_eth_losses_took():
    """The contagion section: in the two-market world, BTC's only forced closes are the account's BTC long, all of
    them cross-asset; ETH's are its own (the ETH long crossed the price it started with); isolated, BTC has none."""
    from sim.multi import contagion

    inputs, accts = contagion_world(cross=True)
    c = contagion(simulate_markets(inputs, accts, E.ACCT_CROSS), ["BTC", "ETH"])
    btc, eth = c["markets"]["BTC"], c["markets"]["ETH"]
    assert btc["liquidated_usd"] > 1e6 and btc["cross_asset_share"] == pytest.approx(1.0)
    assert btc["positions_cross_asset"] == 1 and btc["in_cross_accounts_usd"] == btc["liquidated_usd"]
    assert eth["cross_asset_usd"] == 0.0 and eth["in_cross_accounts_usd"] > 1e6
    assert c["accounts_liquidated"] == 1
    inputs, accts = contagion_world(cross=False)
    iso = contagion(simulate_markets(inputs, accts, E.ACCT_CROSS), ["BTC", "ETH"])
    assert iso["markets"]["BTC"]["liquidated_usd"] == 0.0 and iso["accounts_liquidated"] == 0


def depeg_world(depth):
    """One market (BTC, flat) and one cross account: a 4M USD BTC long with 10k USD of its own cash, backed by 60k
    USDe at a collateral ratio of 0.95 that falls by ``depth`` (a fraction) from t = 20 s to 60 s. The crowd is at
    2× and never liquidated."""
    inp = market("binance", 0.0, 41, {"population.leverage_mix": {2: 1.0}})
    side, size, entry, wallet = (np.array(a) for a in (inp.pos_side, inp.pos_size, inp.pos_entry, inp.pos_wallet))
    i = int(np.flatnonzero(inp.pos_kind == E.TRADER)[0])
    c = int(np.flatnonzero(inp.pos_kind == E.COUNTERPARTY)[0])
    q = np.round(4e6 / inp.start_price / inp.lot) * inp.lot
    side[i], size[i], entry[i], wallet[i] = 1, q, inp.start_price, 10_000.0
    net = float(np.sum(side[:c] * size[:c]) + np.sum(side[c + 1 :] * size[c + 1 :]))
    side[c], size[c], entry[c], wallet[c] = (
        (-1 if net > 0 else 1),
        abs(net),
        inp.start_price,
        abs(net) * inp.start_price,
    )
    inp = inp._replace(pos_side=side, pos_size=size, pos_entry=entry, pos_wallet=wallet)
    acct = np.full(inp.pos_kind.size, -1, np.int64)
    acct[i] = 0
    coll = {
        "assets": [([0.0, 20.0, 60.0], [1.0, 1.0, 1.0 - depth], 1.0)],
        "account": [0],
        "asset": [0],
        "units": [60_000.0 * 0.95],
    }
    return inp, acct, coll, i


def test_a_collateral_depeg_alone_liquidates_an_account_whose_position_did_not_move(compiled):
    """At par the account is safe although its own cash (10k) is below its position's maintenance margin (28k): the
    USDe carries it. A 70% depeg liquidates it with BTC flat (cause: collateral; Binance's step-down leaves a
    smaller position); a flat USDe does not."""
    out = {}
    for depth in (0.7, 0.0):
        inp, acct, coll, row = depeg_world(depth)
        res = simulate_markets([inp], [acct], E.ACCT_CROSS, collateral=coll)
        out[depth] = (res, row)
    res, row = out[0.7]
    fills = forced_fills(res.markets[0], row)
    assert fills.size > 0 and fills["t"][0] > 40.0  # liquidated (a step down to a lower tier) as USDe fell
    assert res.accounts.why[row] == E.WHY_COLLATERAL
    assert np.all(np.abs(fills["mark"] / 121000.0 - 1) < 0.01)  # BTC did not move
    res, row = out[0.0]
    assert forced_fills(res.markets[0], row).size == 0 and res.accounts.why[row] == 0
    # money: the rows' cash and the holding's cash (negative: borrowed against the USDe) are conserved
    for depth in (0.7, 0.0):
        res, _ = out[depth]
        cash = math.fsum(res.markets[0].accounts["cash_end"]) + math.fsum(res.collateral.w)
        assert cash == pytest.approx(math.fsum(res.markets[0].accounts["cash_start"]), rel=1e-12, abs=1e-6)


def test_a_scenario_of_several_instruments_runs_every_market_and_compare_and_sweep_refuse_it(compiled, tmp_path):
    """The shipped multi_asset_crash: every instrument's market runs, rows of multi-instrument accounts are grouped
    across them, and BTC has cross-asset liquidations. `liqsim compare` and `sweep` refuse it with one message and
    exit status 2 instead of running its first market alone, before claiming an output folder."""
    import sim
    from sim.cli import main
    from sim.multi import run_scenario

    scn = sim.load_scenario("multi_asset_crash", overrides={"population.n_positions": 20000})
    out = run_scenario(scn)
    assert out.names == ["BTC", "ETH", "SOL", "ALT"]
    assert [float(inp.start_price) for inp in out.inputs] == [121000.0, 4000.0, 200.0, 26.0]
    assert all(int((a >= 0).sum()) > 0 for a in out.row_acct)
    btc = out.contagion["markets"]["BTC"]
    assert btc["liquidated_usd"] > 0 and 0 < btc["cross_asset_share"] < 1
    assert out.contagion["accounts_liquidated"] > 0
    with pytest.raises(sim.ScenarioError, match="liqsim compare and sweep run one market for now"):
        sim.engine.run(scn)
    assert main(["compare", "multi_asset_crash", "--out", str(tmp_path / "c")]) == 2
    assert main(["sweep", "multi_asset_crash", "--grid", "shock.size_pct=[-5]", "--out", str(tmp_path / "s")]) == 2
    assert not (tmp_path / "c").exists() and not (tmp_path / "s").exists()


def test_one_gbm_path_drives_every_instrument_through_its_beta(compiled):
    """A GBM (or a replay) is drawn once, for the first market; every other instrument follows its relative moves
    times its beta. A beta that would take a path outside its book is refused, naming the instrument's key."""
    import sim
    from sim.multi import run_scenario

    over = {
        "population.n_positions": 3000,
        "shock.kind": "gbm",
        "scenario.duration_s": 120.0,
    }
    over["instruments.ETH"] = {
        "start_price_usd": 4000.0,
        "tick_size_usd": 0.01,
        "lot_size": 0.01,
        "open_interest_usd": 2e8,
        "beta": 1.5,
    }
    out = run_scenario(sim.load_scenario("multi_asset_crash", overrides={**over, "instruments.SOL": None}))
    btc, eth = out.inputs[0], out.inputs[1]
    rel_btc = btc.path_p / btc.path_p[0] - 1.0
    assert np.array_equal(eth.path_t, btc.path_t) and np.ptp(rel_btc) > 0.001
    assert eth.path_p / 4000.0 - 1.0 == pytest.approx(1.5 * rel_btc, rel=1e-12, abs=1e-15)
    over["instruments.ETH"]["beta"] = 9.0  # jumps of about −3% four times in the two minutes: beyond ETH's book
    over["shock.jump_rate_per_h"] = 120.0
    with pytest.raises(sim.ScenarioError, match=r"instruments\.(ETH|ALT)\.beta = [49]: with shock\.kind = 'gbm'"):
        run_scenario(sim.load_scenario("multi_asset_crash", overrides={**over, "instruments.SOL": None}))


def test_weights_look_backs_and_collateral_markets_must_be_valid(compiled):
    """A market or a collateral asset with weight 0 would get no slack: its band at the price itself, a safe account
    taken for liquidatable. Refused, as are paths out of order."""
    inputs, accts = contagion_world(cross=True)
    for bad in ((0.0, 1.0), (1.0, np.nan), (1.0,)):
        with pytest.raises(ValueError, match="weight"):
            simulate_markets(inputs, accts, E.ACCT_CROSS, weight=bad)
    inp, acct, coll, _ = depeg_world(0.0)
    with pytest.raises(ValueError, match="weight"):
        simulate_markets([inp], [acct], E.ACCT_CROSS, collateral={**coll, "assets": [(*coll["assets"][0][:2], 0.0)]})
    with pytest.raises(ValueError, match="in order"):
        simulate_markets(
            [inp], [acct], E.ACCT_CROSS, collateral={**coll, "assets": [([0.0, 60.0, 20.0], [1.0, 1.0, 0.5], 1.0)]}
        )
    with pytest.raises(ValueError, match="market must be one of the 1 markets or -1, got 1"):
        simulate_markets([inp], [acct], E.ACCT_CROSS, collateral={**coll, "assets": [(*coll["assets"][0][:3], 1)]})
    for trend in (-1.0, np.nan):
        with pytest.raises(ValueError, match="trend_s"):
            simulate_markets(inputs, accts, E.ACCT_CROSS, trend_s=trend)
    simulate_markets(inputs, accts, E.ACCT_CROSS, trend_s=1e12)  # a look-back longer than the run: the whole run


def test_contagion_leaves_out_the_funds_remainder_of_an_adl_with_no_holder_left(compiled):
    """When no holder is left, an ADL's remainder goes to the fund as a takeover on the fund's account number, past
    the market's rows: it is not a position, and the contagion section neither counts it nor reads another row."""
    from sim.multi import contagion

    inputs, accts = contagion_world(cross=True)
    res = simulate_markets(inputs, accts, E.ACCT_CROSS)
    before = contagion(res, ["BTC", "ETH"])
    for m, raw in enumerate(res.markets):
        extra = np.zeros(1, raw.fills.dtype)
        extra["kind"] = E.TAKEOVER
        extra["account"] = int(res.lo[m + 1] - res.lo[m]) + 2  # the fund's number (sim.kernels.adl)
        extra["qty"], extra["price"] = 1.0, 100.0
        res.markets[m] = raw._replace(fills=np.concatenate([raw.fills, extra]))
    assert contagion(res, ["BTC", "ETH"]) == before


def band_entries(trig, work, side):
    """The valid entries of a market's band index for ``side`` (rows, by walking each bucket's list), checking that
    each sits in its key's bucket and that no bucket above ``band_top`` holds one."""
    from sim.kernels.bands import band_bucket_nb

    h = 0 if side > 0 else 1
    head, ent = trig.band_head, trig.band_ent
    lo, inv, top = work["band_lo"][h], work["band_inv"][h], int(work["band_top"][h])
    rows = []
    for b in np.flatnonzero(head[h] >= 0):
        assert b <= top, f"bucket {b} holds entries above the top {top}"
        e = head[h, b]
        while e >= 0:
            rows.append((int(ent[e, 0]), int(ent[e, 1]), b))
            e = ent[e, 2]
    return rows, (lambda key: band_bucket_nb(lo, inv, head.shape[1], key))


def assert_indexed(markets, g, ca, t):
    """Every open row of a healthy cross account, out of cooldown, is in its market's trigger index at its key: a
    valid entry of its band index (which the account layer fills itself, through views of ``ca.band_*``), of the
    re-index heap or of the sorted index past its cursor. The heaps keep their order, (key, row); every band entry
    is in its key's bucket."""
    for m, mk in enumerate(markets):
        pos, trig, work = mk.pos, mk.trig, mk.perp.work
        assert np.shares_memory(trig.heap_key, ca.heap_key) and np.shares_memory(trig.heap_id, ca.heap_id)
        assert np.shares_memory(trig.band_ent, ca.band_ent) and np.shares_memory(trig.band_head, ca.band_head)
        acct = ca.row_acct[ca.lo[m] : ca.lo[m + 1]]
        live = (acct >= 0) & (pos.status == E.OPEN) & (pos.eligible <= work["tick"]) & (pos.cross == 1)
        live[live] = ca.state[acct[live]] == 0
        for h, side in ((0, 1), (1, -1)):
            n = int(work["heap_n"][h])
            hk, hi, hv = trig.heap_key[h, :n], trig.heap_id[h, :n], trig.heap_ver[h, :n]
            child = np.arange(1, n)
            up = (child - 1) // 2
            assert not np.any((hk[child] > hk[up]) | ((hk[child] == hk[up]) & (hi[child] < hi[up]))), f"t={t}"
            valid = (hv == pos.version[hi]) & (pos.status[hi] == E.OPEN)
            assert np.array_equal(hk[valid], pos.key[hi[valid]]), f"t={t}: a heap entry's key is not its row's"
            indexed = np.zeros(pos.side.size, bool)
            indexed[hi[valid]] = True
            entries, bucket = band_entries(trig, work, side)
            for i, ver, b in entries:
                if ver == pos.version[i] and pos.status[i] == E.OPEN:
                    assert pos.cross[i] == 1 and pos.side[i] == side, f"t={t}: row {i} in the wrong band index"
                    assert b == bucket(pos.key[i]), f"t={t}: row {i} is not in its key's bucket"
                    indexed[i] = True
            rest = (trig.order_long if side > 0 else trig.order_short)[int(work["cur"][h]) :]
            indexed[rest[pos.version[rest] == 0]] = True
            lost = np.flatnonzero(live & (pos.side == side) & ~indexed)
            assert lost.size == 0, f"t={t}: rows {lost[:5]} of market {m} are out of its index"


def test_rewriting_the_band_index_when_it_is_full_changes_nothing(compiled, monkeypatch):
    """With room for one entry per row plus 64, the band index is rewritten with its live entries every few dozen
    puts: every row stays indexed, and the run is the same bit for bit."""
    import sim.multi

    inputs = [market("binance", -6.0, 41), market("binance", -14.0, 42, ETH)]
    accts = paired_accounts(inputs, share=0.8)
    roomy = simulate_markets(inputs, accts, E.ACCT_CROSS)
    monkeypatch.setattr(sim.multi, "BAND_ROOM", 1)
    writes = []

    def check(t, markets, g, ca, cl):
        assert_indexed(markets, g, ca, t)
        writes.append(int(ca.band_n.sum()))

    tight = simulate_markets(inputs, accts, E.ACCT_CROSS, on_tick=check)
    assert tight.accounts.band_ent.shape[0] < roomy.accounts.band_ent.shape[0]
    assert any(b < a for a, b in zip(writes, writes[1:]))  # rewritten at least once
    for a, b in zip(roomy.markets, tight.markets):
        assert a.fills.tobytes() == b.fills.tobytes() and a.accounts.tobytes() == b.accounts.tobytes()


def test_a_funding_settlement_mid_crash_puts_the_cross_rows_back_in_the_sorted_index(compiled):
    """A funding settlement moves every wallet, re-prices every row and rebuilds the sorted index from all of them,
    cross rows included, and empties the band index: no row is lost and no account missed, before or after."""
    extra = {"market.time_to_funding_s": 40.0, "market.funding_rate_pct": 0.5, "funding.enabled": True}
    inputs = [market("binance", -6.0, 51, extra), market("binance", -14.0, 52, {**ETH, **extra})]
    seen = {"before": 0, "after": 0}

    def check(t, markets, g, ca, cl):
        assert_indexed(markets, g, ca, t)
        assert_no_miss(markets, g, ca, t, cl)
        if t == 40_000:  # the settlement's tick: the band index has only what the layer put back since
            seen["after"] = int(ca.band_n.sum())
        elif t == 39_000:
            seen["before"] = int(ca.band_n.sum())

    out = simulate_markets(inputs, paired_accounts(inputs, share=0.8), E.ACCT_CROSS, on_tick=check)
    assert all(raw.behaviour["funding_settlements"] == 1 for raw in out.markets)
    assert seen["after"] < seen["before"] / 2
    assert out.accounts.n[5] > 20 and out.accounts.n[4] > 20


@pytest.mark.parametrize("venue", ["binance", "okx", "hyperliquid", "dydx"])
def test_every_row_of_a_healthy_account_stays_in_its_markets_index(compiled, venue):
    """The account layer puts the rows it re-prices back in their markets' heaps itself, in whatever order it
    looks at accounts: after every tick, no row that could cross its band is missing from its index."""
    inputs = [market(venue, -6.0, 41), market(venue, -14.0, 42, ETH)]
    seen = {"ticks": 0}

    def check(t, markets, g, ca, cl):
        seen["ticks"] += 1
        assert_indexed(markets, g, ca, t)

    out = simulate_markets(inputs, paired_accounts(inputs, share=0.8), METHOD[venue], on_tick=check)
    assert seen["ticks"] == 121 and out.accounts.n[4] > 20  # re-sharings happened


@settings(deadline=None)
@given(st.lists(st.integers(-1, 30), max_size=200))
def test_each_accounts_rows_are_grouped_in_row_order(accounts):
    """The accounts' row lists (a counting sort) are the stable argsort of the rows' accounts."""
    from sim.kernels.cross import group_rows_nb

    row_acct = np.array(accounts, np.int64)
    n_acct = int(row_acct.max()) + 1 if row_acct.size and row_acct.max() >= 0 else 0
    ptr, rows = np.zeros(n_acct + 1, np.int64), np.empty(int(np.count_nonzero(row_acct >= 0)), np.int64)
    group_rows_nb(row_acct, ptr, rows)
    member = np.flatnonzero(row_acct >= 0)
    assert np.array_equal(rows, member[np.argsort(row_acct[member], kind="stable")])
    assert np.array_equal(np.diff(ptr), np.bincount(row_acct[member], minlength=n_acct))


def test_timings_say_where_the_run_went(compiled):
    """``simulate_markets(timings=...)``: each part of the run's wall time, which add up to the whole."""
    inputs, accts = contagion_world(cross=True)
    tm = {}
    simulate_markets(inputs, accts, E.ACCT_CROSS, timings=tm)
    parts = ("start", "loops", "layer", "python", "end")
    assert set(tm) == {*parts, "total"} and all(tm[k] >= 0.0 for k in parts)
    assert tm["layer"] > 0.0 and tm["loops"] > 0.0
    assert math.fsum(tm[k] for k in parts) == pytest.approx(tm["total"], rel=1e-9)


def test_a_fills_buffer_that_grows_mid_run_changes_nothing(compiled, monkeypatch):
    """The lockstep calls each market's loop through its machine code looked up once (sim._jit.compiled); when a
    market's fills run out the buffer is replaced by a larger one and the loop called again: with room for 64 fills
    at the start, the run grows every market's buffer several times and gives the same fills and tables."""
    import sim.state

    inputs = [market("binance", -6.0, 41), market("binance", -14.0, 42, ETH)]
    accts = paired_accounts(inputs, share=0.8)
    roomy = simulate_markets(inputs, accts, E.ACCT_CROSS)
    small = sim.state.allocate_fills
    sizes = []

    def grown(capacity):  # the markets' first buffers hold 64; the larger ones that replace them, what is asked
        sizes.append(capacity)
        return small(64 if len(sizes) <= len(inputs) else capacity)

    monkeypatch.setattr(sim.state, "allocate_fills", grown)
    tight = simulate_markets(inputs, accts, E.ACCT_CROSS)
    assert len(sizes) > 2 * len(inputs)  # every market started with 64 and grew
    for a, b in zip(roomy.markets, tight.markets):
        assert a.fills.size > 4 * 64  # so each buffer grew at least twice
        assert a.fills.tobytes() == b.fills.tobytes() and a.accounts.tobytes() == b.accounts.tobytes()
