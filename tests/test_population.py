"""Populations as the market has them (docs/model.md §5.1-§5.2): entries along a recorded or synthetic history with
a survival screen, heavy-tailed accounts and sizes, separate mixes per side, and account snapshots."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import assert_money_conserved

import sim
from sim import enums as E
from sim.config import snapshot
from sim.engine import prepare, simulate
from sim.errors import ScenarioError
from sim.kernels.margin import liquidation_prices_nb
from sim.world.population import generate, history_of, recorded_history, sample_entries

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "scenarios" / "data" / "hyperliquid_snapshot_example.csv"
P0 = 121000.0


def write_history(tmp_path, rows, volume=None, name="hist.csv"):
    """A history CSV from ``(seconds, price)`` rows (oldest first), optionally with volumes."""
    head = "timestamp,price" + (",volume" if volume is not None else "")
    lines = [head] + [f"{t},{p}" + (f",{volume[i]}" if volume is not None else "") for i, (t, p) in enumerate(rows)]
    path = tmp_path / name
    path.write_text("# a test history\n" + "\n".join(lines) + "\n")
    return path


def scenario(**overrides):
    base = {"population.n_positions": 20000, "population.open_interest_usd": 1e9}
    return sim.load_scenario(None, overrides={**base, **overrides})


def pop_of(scn, seed=1):
    return generate(scn.population, scn.market, np.random.default_rng(seed))


# A dip: from the start price down 8% 20 hours before the start, and back; 48 hours long.
DIP = [(0, P0), (28 * 3600, P0 * 0.92), (48 * 3600, P0)]


# ------------------------------------------------------------------------------------------ entries along a history


def test_entries_by_time_follow_the_segments_durations():
    # newest first: a 1 h segment then a 3 h one; by time, a quarter of the entries fall in the first
    h = history_of(np.array([100.0, 110.0, 90.0]), np.array([0.0, 3600.0, 4 * 3600.0]))
    entry, seg = sample_entries(h, np.random.default_rng(0), 200_000)
    assert np.mean(seg == 0) == pytest.approx(0.25, abs=0.005)
    assert np.all((entry >= 90.0) & (entry <= 110.0))
    assert np.all(np.where(seg == 0, (entry >= 100.0) & (entry <= 110.0), (entry >= 90.0) & (entry <= 110.0)))


def test_entries_by_volume_follow_the_volume():
    arrays = {
        "t_s": np.array([0.0, 3600.0, 7200.0]),
        "price": np.array([90.0, 110.0, 100.0]),
        "volume": np.array([0.0, 9.0, 1.0]),  # the first segment (oldest) closes with 9, the newest with 1
    }
    h = recorded_history(arrays, 100.0, 10.0, "volume")
    _, seg = sample_entries(h, np.random.default_rng(0), 100_000)
    assert np.mean(seg == 0) == pytest.approx(0.1, abs=0.005)  # seg 0 is the newest
    by_time = recorded_history(arrays, 100.0, 10.0, "time")
    _, seg = sample_entries(by_time, np.random.default_rng(0), 100_000)
    assert np.mean(seg == 0) == pytest.approx(0.5, abs=0.01)


def test_a_recorded_history_ends_at_the_start_price_and_is_cut_at_the_lookback():
    arrays = {"t_s": np.array([0.0, 3600.0, 7200.0]), "price": np.array([50.0, 60.0, 80.0]), "volume": np.zeros(3)}
    h = recorded_history(arrays, 100.0, 1.5, "time")
    assert h.price[0] == 100.0  # scaled by 100/80
    assert h.age_s[-1] == pytest.approx(1.5 * 3600.0)
    assert h.price[-1] == pytest.approx(0.5 * (75.0 + 62.5))  # halfway between the scaled 60 and 50


def test_entries_come_from_the_history_file(tmp_path):
    path = write_history(tmp_path, [(0, 126000.0), (3600, 124000.0), (7200, P0)])
    pop = pop_of(scenario(**{"population.history_file": str(path), "population.entry_lookback_h": 2.0}))
    traders = pop.entry[:-1]
    assert traders.min() >= P0 - 1e-6 and traders.max() <= 126000.0 + 1e-6
    assert np.mean(traders > 122000.0) > 0.5  # most were opened above the start, as on 10 Oct 2025
    assert np.nanmax(pop.age_s) <= 7200.0 + 1e-9


# ------------------------------------------------------------------------------------------------ survival screen


def crossed_since_entry(pop, rows_newest_first, ages):
    """Brute force: whether the path, from each trader's entry to the start, reached its liquidation price."""
    n = pop.n - 1
    out = np.zeros(n, bool)
    for i in range(n):
        seen = rows_newest_first[ages <= pop.age_s[i] + 1e-6]
        s = pop.side[i]
        out[i] = np.any(seen <= pop.lp[i]) if s > 0 else np.any(seen >= pop.lp[i])
    return out


def test_the_screen_removes_every_position_the_history_liquidated(tmp_path):
    path = write_history(tmp_path, DIP)
    prices = np.array([P0, P0 * 0.92, P0])
    ages = np.array([0.0, 20 * 3600.0, 48 * 3600.0])
    kw = {"population.history_file": str(path), "population.entry_lookback_h": 48.0, "population.n_positions": 4000}
    screened = pop_of(scenario(**kw, **{"population.survival_screen": True}))
    assert screened.n - 1 == 4000
    assert not crossed_since_entry(screened, prices, ages).any()
    # switched off: positions the dip would have liquidated are still there
    unscreened = pop_of(scenario(**kw))
    assert crossed_since_entry(unscreened, prices, ages).mean() > 0.02
    # and the survivors lean to lower leverage than the mix they were opened from
    lev = lambda p: np.mean(p.size[:-1] * p.entry[:-1] / p.wallet[:-1])  # noqa: E731
    assert lev(screened) < lev(unscreened)


def test_the_screened_population_holds_the_open_interest_and_is_reproducible(tmp_path):
    path = write_history(tmp_path, DIP)
    scn = scenario(**{"population.history_file": str(path), "population.survival_screen": True})
    a, b = pop_of(scn, seed=3), pop_of(scn, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    held = a.size[:-1] * P0
    larger = max(held[a.side[:-1] > 0].sum(), held[a.side[:-1] < 0].sum())
    assert larger == pytest.approx(1e9, rel=5e-3)
    # the liquidation prices it reports are the engine's own for the rows
    floor, mmr, cum, _ = scn.market.tier_arrays()
    fresh = liquidation_prices_nb(
        a.side[:-1], a.size[:-1], a.entry[:-1], a.wallet[:-1], floor, mmr, cum, 0, np.empty(a.n - 1)
    )
    np.testing.assert_allclose(fresh, a.lp[:-1], rtol=1e-12)


def test_the_screen_changes_a_run(compiled, tmp_path):
    # the same crowd opened over a history with an 8% dip; a 6% fall then liquidates far fewer of the survivors
    path = write_history(tmp_path, DIP)
    base = {
        "population.n_positions": 3000,
        "population.open_interest_usd": 2e7,
        "population.history_file": str(path),
        "population.entry_lookback_h": 48.0,
        "scenario.duration_s": 120.0,
        "shock.kind": "gap",
        "shock.start_s": 10.0,
        "shock.size_pct": -6.0,
        "book.depth_usd_1pct": 5e8,
        "prices.model": "imposed",  # the index reaches -6% and stops there: the screen's effect alone
    }
    off = sim.run(sim.load_scenario(None, overrides=base))
    on = sim.run(sim.load_scenario(None, overrides={**base, "population.survival_screen": True}))
    assert on.summary["liquidations"]["full"] < 0.5 * off.summary["liquidations"]["full"]


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31), size=st.floats(-25.0, -2.0), screen=st.booleans())
def test_money_is_conserved_with_history_entries(compiled, tmp_path_factory, seed, size, screen):
    path = write_history(tmp_path_factory.mktemp("h"), DIP)
    scn = sim.load_scenario(
        None,
        overrides={
            "scenario.seed": seed,
            "population.n_positions": 400,
            "population.open_interest_usd": 5e6,
            "population.history_file": str(path),
            "population.survival_screen": screen,
            "population.cross_spare": "lomax",
            "population.size_tail_alpha": 0.9,
            "population.notional_max_usd": 1e300,
            "scenario.duration_s": 120.0,
            "shock.start_s": 10.0,
            "shock.duration_s": 30.0,
            "shock.size_pct": size,
            "book.depth_usd_1pct": 2e6,
            "insurance_fund.initial_usd": 0.0,
        },
    )
    inp = prepare(scn)
    assert_money_conserved(inp, simulate(inp))


# ------------------------------------------------------------------------------------------------ accounts and sizes


def test_lomax_spare_balances_put_some_accounts_below_1x():
    kw = {"population.cross_share": 1.0, "population.n_positions": 100_000}
    expo = pop_of(scenario(**kw))
    heavy = pop_of(
        scenario(
            **kw,
            **{
                "population.cross_spare": "lomax",
                "population.cross_spare_median": 3.0,
                "population.cross_spare_tail_alpha": 0.8,
            },
        )
    )

    def effective(p):
        return (p.size * P0 / (p.wallet + p.side * p.size * (P0 - p.entry)))[:-1]

    assert np.mean(effective(heavy) < 1.0) > np.mean(effective(expo) < 1.0) + 0.1


def test_lomax_spare_has_the_median_asked_for():
    scn = scenario(
        **{
            "population.cross_share": 1.0,
            "population.cross_spare": "lomax",
            "population.cross_spare_median": 3.0,
            "population.cross_spare_tail_alpha": 0.8,
            "population.leverage_mix": {"5": 1.0},
            "population.n_positions": 100_000,
        }
    )
    p = pop_of(scn)
    spare = p.wallet[:-1] / (p.size[:-1] * p.entry[:-1] / 5.0) - 1.0
    assert np.median(spare) == pytest.approx(3.0, rel=0.03)
    # tail index: P(spare > x) ~ x^-0.8 far out
    x1, x2 = 100.0, 1000.0
    slope = math.log(np.mean(spare > x2) / np.mean(spare > x1)) / math.log(x2 / x1)
    assert slope == pytest.approx(-0.8, abs=0.1)


def test_a_short_mix_applies_to_shorts_only():
    pop = pop_of(
        scenario(
            **{
                "population.leverage_mix_short": {"3": 1.0},
                "population.open_interest_usd": 0.0,
                "population.cross_share": 0.0,
            }
        )
    )
    lev = (pop.size * pop.entry / pop.wallet)[:-1]
    shorts, longs = pop.side[:-1] < 0, pop.side[:-1] > 0
    np.testing.assert_allclose(lev[shorts], 3.0)
    assert len(np.unique(np.round(lev[longs], 6))) > 3


def test_a_tail_below_1_without_a_cap_puts_most_notional_in_the_largest_positions():
    def top_share(p):
        x = np.sort(p.size[:-1])[::-1]
        return x[: x.size // 100].sum() / x.sum()

    heavy = pop_of(
        scenario(
            **{"population.size_tail_alpha": 0.9, "population.notional_max_usd": 1e300, "population.long_share": 0.5}
        )
    )
    capped = pop_of(scenario())
    assert top_share(heavy) > 0.5 > top_share(capped)
    assert (heavy.size[:-1] * P0).max() > 20e6  # the default cap would have hidden it


def test_the_lot_check_takes_a_tail_without_a_mean():
    # alpha ≤ 1 and no cap: the check must not blow up nor refuse a fine lot
    scn = scenario(**{"population.size_tail_alpha": 0.8, "population.notional_max_usd": 1e300})
    assert scn.population.size_tail_alpha == 0.8


# ------------------------------------------------------------------------------------------------ snapshots


def hl_formula_lp(side, q, mark, equity, l_rate):
    """Hyperliquid's documented liquidation price: price − side·margin_available / Q / (1 − l·side)."""
    return mark - side * (equity - q * mark * l_rate) / q / (1.0 - l_rate * side)


def test_a_snapshot_reproduces_its_accounts_equities_and_liquidation_prices():
    scn = sim.load_scenario("snapshot_hyperliquid")
    pos = scn.population.positions
    with open(SNAPSHOT) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for r in rows:
        for k in ("szi", "marginUsed", "accountValue", "positionValue", "maxLeverage"):
            r[k] = float(r[k])
        r["liquidationPx"] = float(r["liquidationPx"] or "nan")
    btc = {k: np.array([r[k] for r in rows if r["coin"] == "BTC"]) for k in rows[0]}
    assert len(pos["side"]) == len(btc["user"]) == 40
    # equity at the snapshot's mark: the isolated margin used, or the account value less the other coins' MM
    other_mm = {
        u: sum(
            r["positionValue"] / (2 * r["maxLeverage"])
            for r in rows
            if r["user"] == u and r["coin"] != "BTC" and r["leverage_type"] == "cross"
        )
        for u in btc["user"]
    }
    expected = np.where(
        btc["leverage_type"] == "isolated",
        btc["marginUsed"],
        btc["accountValue"] - np.array([other_mm[u] for u in btc["user"]]),
    )
    equity = pos["wallet"] + pos["side"] * pos["size"] * (P0 - pos["entry_price"])
    np.testing.assert_allclose(equity, expected, rtol=1e-12)
    assert any(other_mm.values())  # the file does hold accounts with other coins
    # the engine's liquidation prices under the Hyperliquid pack are the file's and the documented formula's
    inp = prepare(scn)
    lp = liquidation_prices_nb(
        inp.pos_side[:-1],
        inp.pos_size[:-1],
        inp.pos_entry[:-1],
        inp.pos_wallet[:-1],
        *_trigger_tiers(scn),
        np.empty(40),
    )
    np.testing.assert_allclose(lp, np.nan_to_num(btc["liquidationPx"], nan=0.0), rtol=1e-8)  # blank: none (0)
    np.testing.assert_allclose(
        lp, np.maximum(hl_formula_lp(pos["side"], pos["size"], P0, equity, 0.0125), 0.0), rtol=1e-9
    )


def _trigger_tiers(scn):
    from sim.engine import trigger_tiers

    return trigger_tiers(scn.market, scn.rules())


def test_the_snapshot_scenario_runs_and_conserves_money(compiled):
    scn = sim.load_scenario("snapshot_hyperliquid")
    inp = prepare(scn)
    raw = simulate(inp)
    assert_money_conserved(inp, raw)
    assert (raw.accounts["status"][:40] == E.LIQUIDATED).any()


SNAP_HEAD = "user,coin,szi,entryPx,leverage_type,leverage_value,marginUsed,accountValue,positionValue,maxLeverage\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("a,BTC,0,120000,cross,5,1,1000,,\n", "line 2: szi = '0': must not be 0"),
        ("a,BTC,0.1,120000,margin,5,1,1000,,\n", "line 2: leverage_type = 'margin': must be one of isolated, cross"),
        ("a,BTC,0.1,120000,cross,5,1,1000,,\na,ETH,1,4000,cross,5,1,900,,\n", "accountValue differs"),
        ("a,BTC,0.1,120000,cross,5,1,1000,,\na,ETH,1,4000,cross,5,1,1000,,\n", "needs positionValue and maxLeverage"),
        ("a,ETH,1,4000,cross,5,1,1000,4000,25\n", "no position in BTC (market.asset); coins found: ETH"),
        ("a,BTC,0.1,120000,cross,5,1,10,,\n", "the wallet behind this position would be"),
    ],
)
def test_a_malformed_snapshot_says_what_is_wrong(tmp_path, body, expected):
    path = tmp_path / "snap.csv"
    path.write_text(SNAP_HEAD + body)
    assert snapshot.is_snapshot(path)
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(None, overrides={"population.file": str(path), "market.start_price_usd": P0})
    assert any(expected in p for p in info.value.problems), info.value.problems


# ------------------------------------------------------------------------------------------------ validation


def test_volume_weighting_needs_a_history_with_volume(tmp_path):
    with pytest.raises(ScenarioError) as info:
        scenario(**{"population.entry_weighting": "volume"})
    assert info.value.problems == [
        "override: population.entry_weighting = 'volume': volume needs population.history_file with a volume "
        "column (the synthetic history has no volume)"
    ]
    path = write_history(tmp_path, DIP)
    with pytest.raises(ScenarioError) as info:
        scenario(**{"population.entry_weighting": "volume", "population.history_file": str(path)})
    assert "needs a volume column in population.history_file" in info.value.problems[0]


def test_the_synthetic_volatility_cannot_go_with_a_history_file(tmp_path):
    path = write_history(tmp_path, DIP)
    with pytest.raises(ScenarioError) as info:
        scenario(**{"population.history_file": str(path), "population.entry_volatility_pct_per_day": 5.0})
    assert info.value.problems == [
        "override: population.entry_volatility_pct_per_day = 5.0: only for the synthetic history; it cannot be set "
        "together with population.history_file"
    ]


def test_a_bad_history_row_names_the_line(tmp_path):
    path = write_history(tmp_path, DIP, volume=[1, -2, 3])
    with pytest.raises(ScenarioError) as info:
        scenario(**{"population.history_file": str(path)})
    assert info.value.problems == [f"{path}: line 4: volume = '-2': must be a number ≥ 0"]


def test_history_keys_cannot_go_with_a_positions_file(tmp_path):
    with pytest.raises(ScenarioError) as info:
        sim.load_scenario(
            None,
            overrides={
                "population.file": str(SNAPSHOT),
                "population.survival_screen": True,
                "market.venue": "hyperliquid",
            },
        )
    assert any(
        "population.survival_screen = True: cannot be set together with population.file" in p
        for p in info.value.problems
    )


def test_sizes_stay_whole_lots():
    pop = pop_of(scenario(**{"population.survival_screen": True}))
    lots = pop.size[:-1] / 0.001
    assert np.all(np.abs(lots - np.round(lots)) < 1e-6) and math.isfinite(pop.size.sum())


def test_the_replay_draws_its_entries_along_its_recorded_history():
    scn = sim.load_scenario("replay_2025_10_10", overrides={"population.n_positions": 5000})
    pop = pop_of(scn)
    longs = pop.side[:-1] > 0
    # longs opened at 121-126k before the sell-off are still open when the replay starts (at 116.6k)
    assert np.mean(pop.entry[:-1][longs] > 121000.0) > 0.2
    assert pop.entry[:-1].max() > 125000.0
    assert np.nanmax(pop.age_s) > 100 * 3600.0
    assert not np.any(np.where(longs, pop.lp[:-1] >= scn.market.start_price_usd, pop.lp[:-1] <= 116617.1))
