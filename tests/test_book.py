"""The book kernels act on one book (sim.state.BookState) and nothing else: tested alone, without a run."""

import numpy as np
import pytest
from dsl import make_input
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.allocate import new_book
from sim.engine import _params
from sim.kernels.book import best_price_nb, depth_usd_nb, walk_nb, withdraw_nb


def params(**over):
    inp = make_input([(1, 1.0, 100.0, 10.0, 0)], prof=2.0, depth_levels=40, **over)
    return _params(inp), inp


def fresh(inp):
    return new_book(inp.n_levels, inp.prof_bid, inp.prof_ask, inp.start_price)


def test_a_sell_walks_the_bids_level_by_level(compiled):
    p, inp = params()
    book = fresh(inp)
    fair = 100.0
    top = best_price_nb(book, True, fair, 0, p)
    filled, notional, last = walk_nb(book, -1, 5.0, 0.0, fair, 0, p)  # 2 per level: levels 1, 2 and half of 3
    assert filled == 5.0
    prices = top - p.tick * np.array([0, 1, 2])
    assert notional == pytest.approx(2 * prices[0] + 2 * prices[1] + 1 * prices[2])
    assert last == pytest.approx(prices[2])
    assert best_price_nb(book, True, fair, 0, p) == pytest.approx(prices[2])  # the half-eaten level is the best now
    assert book.flow_acc[0] == pytest.approx(-notional)  # the taker flow its makers see
    assert book.cur_a[0] == round(prices[2] / p.tick)


def test_a_limit_stops_the_walk_and_the_other_side_is_untouched(compiled):
    p, inp = params()
    book = fresh(inp)
    asks = book.ask_q.copy(), book.ask_t.copy()
    top = best_price_nb(book, True, 100.0, 0, p)
    filled, _, _ = walk_nb(book, -1, 100.0, top - p.tick, 100.0, 0, p)
    assert filled == 4.0  # two levels at or above the limit
    assert np.array_equal(book.ask_q, asks[0]) and np.array_equal(book.ask_t, asks[1])


def test_depth_refills_with_the_half_life(compiled):
    p, inp = params()
    book = fresh(inp)
    full = depth_usd_nb(book, True, 100.0, 0, p, 0.01)
    walk_nb(book, -1, 10.0, 0.0, 100.0, 0, p)
    assert depth_usd_nb(book, True, 100.0, 0, p, 0.01) < full
    later = int(p.refill_half_life)
    lost_now = full - depth_usd_nb(book, True, 100.0, 1, p, 0.01)
    lost_later = full - depth_usd_nb(book, True, 100.0, 1 + later, p, 0.01)
    assert lost_later == pytest.approx(lost_now / 2, rel=1e-6)


def test_two_books_are_independent_and_withdrawal_thins_only_its_own(compiled):
    p, inp = params(wd_on=True, wd_floor=0.2, wd_vol_half=0.001, wd_flow_half=1e3, wd_window=1000.0)
    a, b = fresh(inp), fresh(inp)
    walk_nb(a, -1, 30.0, 0.0, 100.0, 0, p)
    withdraw_nb(a, 97.0, p)  # a 3% drop in one tick and the flow just taken: makers pull
    withdraw_nb(b, 100.0, p)
    assert a.share[0] < 1.0 and b.share[0] == 1.0
    assert depth_usd_nb(a, True, 97.0, 10_000_000, p, 0.01) < depth_usd_nb(b, True, 97.0, 10_000_000, p, 0.01)


def _depth_level_by_level(book, is_bid, fair, t, p, pct):
    """The depth within ``pct`` as a plain loop over the levels (what depth_usd_nb sums by blocks)."""
    from sim.kernels.book import level_now_nb, top_ticks_nb

    bid_top, ask_bot = top_ticks_nb(fair, p.tick)
    q, tt, prof = (book.bid_q, book.bid_t, book.prof_bid) if is_bid else (book.ask_q, book.ask_t, book.prof_ask)
    a, step, total = (bid_top, -1, 0.0) if is_bid else (ask_bot, 1, 0.0)
    for d in range(1, prof.size):
        i = a - p.grid_lo
        price = a * p.tick
        if not 0 <= i < p.n_levels or (price < fair * (1 - pct) if is_bid else price > fair * (1 + pct)):
            break
        total += level_now_nb(q[i], tt[i], prof[d], d, t, book, p) * price
        a += step
    return total


@given(
    walks=st.lists(
        st.tuples(st.integers(0, 5_000), st.sampled_from([-1, 1]), st.floats(0.1, 400.0), st.floats(97.0, 103.0)),
        min_size=1,
        max_size=12,
    ),
    wd=st.booleans(),
)
@settings(max_examples=60, deadline=None)
def test_depth_by_blocks_equals_the_sum_over_levels(compiled, walks, wd):
    """Blocks of untouched levels come from the profile's running sums; after any walks, at any later time
    (refilled, half refilled or long full) the depth equals the level-by-level sum."""
    rng = np.random.default_rng(len(walks))
    prof = np.concatenate([[0.0], rng.uniform(0.5, 3.0, 3000)])
    inp = make_input([(1, 1.0, 100.0, 10.0, 0)], prof=prof, tick=0.001, n_levels=200_000, refill_half_life=50.0)
    p = _params(inp._replace(wd_on=wd, wd_floor=0.3, wd_vol_half=0.001, wd_flow_half=1e3, wd_spread=0.002))
    book = fresh(inp)
    t = 0
    for dt, side, qty, fair in sorted(walks):
        t += dt
        walk_nb(book, side, qty, 0.0 if side < 0 else 1e9, fair, t, p)
        if wd:
            withdraw_nb(book, fair, p)
    for later in (0, 30, 500, 10_000):
        for fair in (97.3, 100.0, 102.9):
            for is_bid in (True, False):
                fast = depth_usd_nb(book, is_bid, fair, t + later, p, 0.01)
                slow = _depth_level_by_level(book, is_bid, fair, t + later, p, 0.01)
                assert fast == pytest.approx(slow, rel=1e-12, abs=1e-9)
