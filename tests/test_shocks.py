"""GBM-with-jumps index paths (docs/model.md §6): drawn from the scenario's seed, with the statistics asked for,
checked against the book ladder before a run, and reproducible runs on them."""

import math

import numpy as np
import pytest

import sim
from sim.config.tables import ShockTable
from sim.engine import prepare
from sim.errors import ScenarioError
from sim.world.price_paths import gbm_path


def path(seed=0, duration_s=86_400.0, **shock):
    cfg = ShockTable(kind="gbm", **{"start_s": 0.0, "step_s": 10.0, **shock})
    return gbm_path(cfg, 100.0, duration_s, seed)


def test_the_path_is_the_seeds_and_flat_before_the_start():
    t, p = path(seed=3, start_s=600.0, duration_s=3600.0)
    t2, p2 = path(seed=3, start_s=600.0, duration_s=3600.0)
    np.testing.assert_array_equal(p, p2)
    assert not np.array_equal(p, path(seed=4, start_s=600.0, duration_s=3600.0)[1])
    assert t[0] == 0.0 and p[0] == 100.0 and t[1] == 600.0 and p[1] == 100.0  # flat until start_s
    assert np.all(np.diff(t[1:]) == pytest.approx(10.0)) and t[-1] == pytest.approx(3600.0)


def test_volatility_and_drift_per_day():
    # 8,640 steps of 10 s: the log increments have sd σ·√dt and mean (μ − σ²/2)·dt
    sigma, mu, dt = 0.05, 0.02, 10.0 / 86_400.0
    _, p = path(volatility_pct_per_day=100 * sigma, drift_pct_per_day=100 * mu)
    r = np.diff(np.log(p[1:]))
    assert r.size == 8640
    assert r.std() == pytest.approx(sigma * math.sqrt(dt), rel=0.03)
    # the drift is small against the noise: the mean is within four standard errors of its value
    assert abs(r.mean() - (mu - sigma**2 / 2) * dt) < 4 * sigma * math.sqrt(dt) / math.sqrt(r.size)


def test_jumps_arrive_at_their_rate_with_their_size():
    # no diffusion: every increment is a whole number of jumps of log(0.97)
    _, p = path(volatility_pct_per_day=0.0, jump_rate_per_h=60.0, jump_mean_pct=-3.0, jump_sd_pct=0.0)
    r = np.diff(np.log(p[1:]))
    k = r / math.log(0.97)
    np.testing.assert_allclose(k, np.rint(k), atol=1e-9)
    assert abs(k.sum() - 1440.0) < 4 * math.sqrt(1440.0)  # Poisson(60 per hour × 24 h)
    quiet = path(volatility_pct_per_day=0.0, jump_rate_per_h=0.0)[1]
    np.testing.assert_allclose(quiet, 100.0)


def test_a_path_leaving_the_book_is_refused_before_the_run():
    with pytest.raises(ScenarioError) as exc:
        sim.load_scenario(
            None,
            overrides={
                "shock.kind": "gbm",
                "shock.volatility_pct_per_day": 100,
                "scenario.duration_s": 86_400,
                "shock.step_s": 60,
            },
        )
    (msg,) = exc.value.problems
    assert msg.startswith("override: shock.volatility_pct_per_day = 100: the index path reaches ")
    # 242% away: beyond what book.range_pct allows (the message asked for a range of 242 before)
    assert msg.endswith("beyond its largest value 95: the path moves too far for any ladder; make the move smaller")


def test_a_gbm_run_is_reproducible_and_drives_the_index(compiled):
    overrides = {
        "shock.kind": "gbm",
        "shock.volatility_pct_per_day": 5,
        "shock.jump_rate_per_h": 30,
        "population.n_positions": 2000,
        "scenario.duration_s": 180.0,
    }
    scn = sim.load_scenario(None, overrides=overrides)
    inp = prepare(scn)
    t_s, prices = gbm_path(scn.shock, scn.market.start_price_usd, 180.0, scn.scenario.seed)
    np.testing.assert_array_equal(inp.path_p, prices)
    a, b = sim.run(scn), sim.run(scn)
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.summary["exogenous_drawdown_pct"] != 0.0


def test_a_liquidity_shock_thins_the_book_at_once_and_deepens_the_wick(compiled):
    base = {"population.n_positions": 5000, "scenario.duration_s": 240.0, "prices.model": "imposed"}
    calm = sim.run(sim.load_scenario(None, overrides=base))
    shocked = sim.run(
        sim.load_scenario(
            None,
            overrides={
                **base,
                "shock.liquidity_factor": 0.2,
                "shock.liquidity_start_s": 50.0,
                "shock.liquidity_duration_s": 100.0,
            },
        )
    )
    s0, s1 = calm.series, shocked.series
    before, during, after = s1["t"] == 40.0, s1["t"] == 55.0, s1["t"] == 230.0
    # (noise orders touch a few levels, hence 1%): the depth within 1% falls to a fifth the moment makers pull, and is back afterwards
    assert s1["depth_bid_1pct_usd"][before] == pytest.approx(s0["depth_bid_1pct_usd"][before], rel=1e-12)
    assert s1["depth_ask_1pct_usd"][during] == pytest.approx(0.2 * s0["depth_ask_1pct_usd"][during], rel=1e-2)
    assert s1["depth_ask_1pct_usd"][after] == pytest.approx(s0["depth_ask_1pct_usd"][after], rel=1e-2)
    # the same forced selling into a fifth of the book wicks deeper
    assert shocked.summary["realized_drawdown_pct"] < calm.summary["realized_drawdown_pct"] - 1.0
    assert shocked.summary["min_last_price"] < calm.summary["min_last_price"]


def test_makers_withdraw_in_a_crash_and_return_as_it_calms(compiled):
    base = {"population.n_positions": 5000, "scenario.duration_s": 300.0, "prices.model": "imposed"}
    off = sim.run(sim.load_scenario(None, overrides=base))
    on = sim.run(sim.load_scenario(None, overrides={**base, "book.withdrawal": True}))
    s0, s1 = off.series, on.series
    crash = (s1["t"] >= 70) & (s1["t"] <= 120)
    calm_before, calm_after = s1["t"] <= 50, s1["t"] >= 280
    # before the shock nothing moves: makers keep (nearly) all their depth
    assert np.all(s1["depth_bid_1pct_usd"][calm_before] >= 0.97 * s0["depth_bid_1pct_usd"][calm_before])
    # while the index falls and forced sells hit the bids, they pull far more than the book was eaten
    assert s1["depth_bid_1pct_usd"][crash].mean() < 0.5 * s0["depth_bid_1pct_usd"][crash].mean()
    assert s1["depth_ask_1pct_usd"][crash].mean() < 0.5 * s0["depth_ask_1pct_usd"][crash].mean()
    # and come back once it is calm
    assert s1["depth_ask_1pct_usd"][calm_after].mean() > 0.8 * s0["depth_ask_1pct_usd"][calm_after].mean()
    # a thinner book under the same forced selling: a deeper wick
    assert on.summary["realized_drawdown_pct"] < off.summary["realized_drawdown_pct"] - 0.5


def test_withdrawal_leaves_a_calm_market_alone(compiled):
    base = {
        "population.n_positions": 2000,
        "scenario.duration_s": 120.0,
        "shock.kind": "none",
        "prices.model": "imposed",
    }
    off = sim.run(sim.load_scenario(None, overrides=base))
    on = sim.run(sim.load_scenario(None, overrides={**base, "book.withdrawal": True}))
    ratio = on.series["depth_bid_1pct_usd"] / off.series["depth_bid_1pct_usd"]
    assert ratio.min() > 0.95


def test_the_last_gbm_step_reaches_the_end_of_the_run():
    t, p = path(duration_s=600.0, step_s=500.0, volatility_pct_per_day=50.0)
    assert t.tolist() == [0.0, 0.0, 500.0, 600.0] and p[-1] != p[-2]
    t, p = path(duration_s=600.0, step_s=3600.0, volatility_pct_per_day=50.0)
    assert t.tolist() == [0.0, 0.0, 600.0] and p[-1] != 100.0  # one step shorter than step_s, not a flat index


def test_makers_withdrawing_can_widen_the_book_as_well(compiled):
    base = {
        "population.n_positions": 5000,
        "scenario.duration_s": 200.0,
        "book.withdrawal": True,
        "prices.model": "imposed",
    }
    thin = sim.run(sim.load_scenario(None, overrides=base))
    wide = sim.run(sim.load_scenario(None, overrides={**base, "book.withdrawal_spread_bps": 20.0}))

    def ask_bp(res):  # the asks are not what forced sales eat in a fall: their distance is the makers' own
        s = res.series
        return 1e4 * (s["best_ask"] - s["index"]) / s["index"]

    crash = (thin.series["t"] >= 65) & (thin.series["t"] <= 120)
    calm = thin.series["t"] <= 50
    assert np.nanmax(ask_bp(thin)[crash]) < 1.0  # thinned, but still quoted next to the fair price
    assert np.nanmax(ask_bp(wide)[crash]) > 5.0  # quoted several bp away while makers are out
    assert np.nanmax(ask_bp(wide)[calm]) < 1.0  # nothing moves before the shock
    assert wide.summary["realized_drawdown_pct"] <= thin.summary["realized_drawdown_pct"]
