"""The summary's ``feedback`` section (sim.feedback): the static counterfactual, the cascade multiplier, which
forced closes the cascade itself set off, and how much of each price's move it caused."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sim
from sim import enums as E
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE
from sim.feedback import feedback_section, path_at, running_extremes
from sim.kernels.loop import path_price_nb
from sim.metrics import WAVE_DTYPE


@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=8),
    st.lists(st.floats(50.0, 150.0), min_size=8, max_size=8),
    st.lists(st.integers(-5_000, 60_000), min_size=1, max_size=20),
)
def test_the_path_is_read_as_the_engine_reads_it(steps, prices, times_ms):
    # repeated times (steps of 0) are gaps; times before the first point and after the last are flat
    path_t = np.cumsum(np.array(steps, np.int64) * 1000)
    path_p = np.array(prices[: path_t.size])
    for t in times_ms:
        assert path_at(path_t / 1000.0, path_p, [t / 1000.0])[0] == pytest.approx(
            path_price_nb(path_t, path_p, np.int64(t)), rel=1e-12
        )


def test_running_extremes_see_the_points_passed_and_the_value_now():
    t, p = np.array([0.0, 10.0, 20.0, 30.0]), np.array([100.0, 90.0, 110.0, 95.0])
    low, high = running_extremes(t, p, [0.0, 5.0, 15.0, 25.0, 40.0])
    assert low.tolist() == [100.0, 95.0, 90.0, 90.0, 90.0]
    assert high.tolist() == [100.0, 100.0, 100.0, 110.0, 110.0]


def _records():
    """Three long traders (liquidation prices 95, 90, 80) and one short (110) under a path 100 -> 93 over 10 s:
    the path crosses only the first long's price. The first long is liquidated at 8 s, after the path reached 95;
    the second at 4 s, when the path was still at 97.2: forced orders took the price there."""
    acc = np.zeros(4, ACCOUNT_DTYPE)
    acc["id"] = [0, 1, 2, 3]
    acc["kind"] = E.TRADER
    acc["position_start"] = [2.0, 3.0, 1.0, -1.0]
    acc["liquidation_price_start"] = [95.0, 90.0, 80.0, 110.0]
    fills = np.zeros(3, FILL_DTYPE)
    fills["t"] = [8.0, 4.0, 9.0]
    fills["kind"] = [E.LIQUIDATION, E.PARTIAL, E.NOISE_FILL]
    fills["account"] = [0, 1, -1]
    fills["side"] = [-1, -1, 1]
    fills["qty"] = [2.0, 1.5, 7.0]
    fills["price"] = [94.0, 89.0, 93.0]
    waves = np.zeros(1, WAVE_DTYPE)
    waves["start_s"], waves["end_s"] = 4.0, 8.0
    return fills, acc, waves


def test_static_counterfactual_multiplier_and_which_closes_the_cascade_caused():
    fills, acc, waves = _records()
    extremes = {"index": (93.0, 100.0), "mark": (91.0, 100.0), "last": (86.0, 100.0)}
    f = feedback_section(fills, acc, [0.0, 10.0], [100.0, 93.0], 100.0, 10.0, extremes, waves)
    assert f["static_liquidated_usd"] == pytest.approx(2.0 * 95.0)  # only the crossed long, whole, at its price
    assert f["static_liquidated_contracts"] == 2.0 and f["liquidated_contracts"] == 3.5
    assert f["cascade_multiplier"] == pytest.approx(3.5 / 2.0)
    assert f["attributed_usd"] == pytest.approx(2.0 * 94.0 + 1.5 * 89.0)  # the noise fill is no forced close
    assert f["endogenous_usd"] == pytest.approx(1.5 * 89.0)
    assert f["endogenous_share"] == pytest.approx(133.5 / 321.5)
    assert f["move_pct"] == pytest.approx({"fundamental": -7.0, "index": -7.0, "mark": -9.0, "last": -14.0})
    shares = f["endogenous_share_of_move"]
    assert shares["index"] == pytest.approx(0.0) and shares["mark"] == pytest.approx(1 - 7 / 9)
    assert shares["last"] == pytest.approx(0.5)  # the last price went twice as far as the fundamental
    assert f["waves"] == [
        {
            "start_s": 4.0,
            "end_s": 8.0,
            "attributed_usd": 321.5,
            "endogenous_usd": 133.5,
            "endogenous_share": 133.5 / 321.5,
        }
    ]


def test_a_short_is_exogenous_once_the_path_has_risen_to_it():
    fills, acc, waves = _records()
    fills = fills[:1].copy()
    fills["account"], fills["side"], fills["t"], fills["price"] = 3, 1, 6.0, 111.0
    f = feedback_section(fills, acc, [0.0, 5.0, 10.0], [100.0, 112.0, 100.0], 100.0, 10.0, {}, waves[:0])
    assert f["endogenous_usd"] == 0.0 and f["attributed_usd"] == pytest.approx(2.0 * 111.0)
    assert f["static_liquidated_usd"] == pytest.approx(110.0)  # the short; no long's price is reached
    assert f["move_pct"]["fundamental"] == pytest.approx(12.0)
    assert f["move_pct"]["index"] is None and f["endogenous_share_of_move"]["index"] is None


def _feedback(**overrides):
    scn = sim.load_scenario(
        None,
        # the perp's book alone decides the feedback under the index path (test_prices has the endogenous model)
        overrides={
            "population.n_positions": 20_000,
            "scenario.duration_s": 200.0,
            "prices.model": "imposed",
            **overrides,
        },
    )
    return sim.run(scn).summary["feedback"]


@pytest.fixture(scope="module")
def depths(compiled):
    return {depth: _feedback(**{"book.depth_usd_1pct": depth}) for depth in (1e12, 2.7e8, 3e7)}


def test_with_no_impact_the_run_is_its_own_static_counterfactual(depths):
    deep = depths[1e12]
    assert deep["cascade_multiplier"] == pytest.approx(1.0, abs=0.01)
    assert deep["endogenous_usd"] == 0.0
    for name in ("index", "mark", "last"):
        assert abs(deep["endogenous_share_of_move"][name]) < 1e-3


def test_thinner_books_make_the_cascade_cause_more(depths):
    deep, normal, thin = depths[1e12], depths[2.7e8], depths[3e7]
    assert deep["cascade_multiplier"] < normal["cascade_multiplier"] < thin["cascade_multiplier"]
    assert deep["endogenous_share"] < normal["endogenous_share"] < thin["endogenous_share"]
    shares = [d["endogenous_share_of_move"]["last"] for d in (deep, normal, thin)]
    assert shares == sorted(shares) and shares[-1] > 0.1
    assert thin["static_liquidated_usd"] == deep["static_liquidated_usd"]  # the same population, the same path
