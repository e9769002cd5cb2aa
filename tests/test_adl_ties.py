"""Ties in the ADL ranking (docs/engine.md §7.10): both engines order candidates by ``(score, id)`` and compute
every score with the same floating-point operations in the same order, so they agree on every queue, ties
included.

Two kinds of tie matter. Candidates with *equal* float scores (identical positions) go by row id. Candidates
whose scores are equal in exact arithmetic but round apart (the same entry and the same wallet per unit at
different sizes) are ordered by their rounded scores, which must be the same bits in both engines: a different
operation order in either would flip such a pair in one engine only. The tests below build both kinds by hand,
check the kernels' score function against the reference's bit for bit, and let Hypothesis draw markets made of
such families.
"""

import math
import struct
from fractions import Fraction

import pytest
from dsl import ONE_TIER, TWO_TIERS, engine_result, make_input
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import reference_adl_score, reference_run
from test_differential import SIZE_TIERS, THREE_TIERS, assert_same

from sim import enums as E
from sim.engine import simulate
from sim.kernels.adl import adl_score_nb

NEVER = 10**9
RANKINGS = [E.RANK_PNL_LEVERAGE, E.RANK_LEVERAGE_PNL, E.RANK_HYPERLIQUID]
POLICIES = [E.POLICY_QUEUE, E.POLICY_PRO_RATA, E.POLICY_LEVERAGE_DRAIN]


def bits(x):
    return struct.pack("<d", x)


def adl_fills(res):
    """``(account, qty, price, fund_delta)`` of every ADL fill, in tape order."""
    return [(f[2], f[4], f[5], f[7]) for f in res["fills"] if f[1] == E.ADL]


def run_both(inp):
    fast, ref = engine_result(simulate(inp)), reference_run(inp)
    assert_same(fast, ref)
    assert adl_fills(fast) == adl_fills(ref)  # the same victims in the same order, the same fills to the bit
    return fast, ref


# ------------------------------------------------------------------------------------------------
# the score itself, bit for bit
# ------------------------------------------------------------------------------------------------

# Sizes and wallets per unit with few mantissa bits, so k·q0 and k·w0 are exact: the positions of a family are
# then exactly proportional, and their scores equal in exact arithmetic.
DYADIC_Q = [0.375, 0.5, 0.625, 1.25, 3.0]
DYADIC_W = [7.75, 10.25, 22.5, 40.125, 3.375]
AWKWARD_PRICES = [85.37, 86.1, 84.93, 87.77, 90.1, 95.7, 103.3, 113.19]


@settings(max_examples=300 * settings.default.max_examples // 100)
@given(
    s=st.sampled_from([1, -1]),
    q0=st.sampled_from(DYADIC_Q) | st.floats(0.001, 50.0),
    w0=st.sampled_from(DYADIC_W) | st.floats(0.5, 500.0),
    k=st.integers(1, 40),
    ep=st.sampled_from(AWKWARD_PRICES) | st.floats(50.0, 150.0),
    m=st.sampled_from(AWKWARD_PRICES) | st.floats(50.0, 150.0),
    mmr=st.sampled_from([0.004, 0.01, 0.025]),
    ranking=st.sampled_from(RANKINGS),
)
def test_kernel_and_reference_scores_are_the_same_bits(compiled, s, q0, w0, k, ep, m, mmr, ranking):
    q, w = k * q0, k * w0
    eq = w + s * q * (m - ep)
    assume(eq > 0.0)
    mm = q * m * mmr if s * (m - ep) > 0.0 else 0.0  # what either engine passes (a loser's score ignores it)
    fast = adl_score_nb(s, q, ep, w, m, eq, mm, ranking)
    ref = reference_adl_score(s, q, ep, w, m, eq, mm, ranking)
    assert bits(fast) == bits(ref), (fast, ref)


# ------------------------------------------------------------------------------------------------
# exact ties: identical positions go by row id
# ------------------------------------------------------------------------------------------------

# A bankrupt long 4 @ 100 (W 40, BP 90) gaps to the mark 85 with no book and no fund: a pool of R = 4 at B̄ = 90.
# Rows 1–5 are five identical winning shorts (1 @ 90, W 22.5: E = 27.5 at 85), so every score ties exactly; row 6
# is the counterparty long that balances the book.
IDENTICAL = (
    [(1, 4.0, 100.0, 40.0, E.TRADER)] + [(-1, 1.0, 90.0, 22.5, E.TRADER)] * 5 + [(1, 1.0, 100.0, 100.0, E.COUNTERPARTY)]
)
GAP_TO_85 = ((0, 100.0), (1500, 100.0), (1500, 85.0))


def gap_market(positions, path=GAP_TO_85, **params):
    base = dict(path=path, prof=0.0, duration=2000, unwind_interval=NEVER, fund_initial=0.0)
    base.update(params)
    return make_input(positions, **base)


@pytest.mark.parametrize("ranking", RANKINGS, ids=[E.ADL_RANKING_NAMES[r] for r in RANKINGS])
@pytest.mark.parametrize(
    "policy, closes",
    [
        # the queue takes whole positions: the four lowest ids, row 5 untouched
        (E.POLICY_QUEUE, [1.0, 1.0, 1.0, 1.0]),
        # pro rata: 4/5 of every winner's contracts, in id order
        (E.POLICY_PRO_RATA, [0.8] * 5),
        # leverage draining: all five are equally levered, so all five are cut to one common leverage, 0.8 each
        (E.POLICY_LEVERAGE_DRAIN, [0.8] * 5),
    ],
    ids=list(E.ADL_POLICY_NAMES),
)
def test_identical_positions_are_deleveraged_in_id_order(compiled, ranking, policy, closes):
    fast, ref = run_both(gap_market(IDENTICAL, adl_ranking=ranking, adl_policy=policy))
    for res in (fast, ref):
        fills = adl_fills(res)
        assert [f[0] for f in fills] == list(range(1, len(closes) + 1))
        assert [f[1] for f in fills] == pytest.approx(closes, rel=1e-12)
        assert math.fsum(f[1] for f in fills) == pytest.approx(4.0, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# ties in exact arithmetic that round apart
# ------------------------------------------------------------------------------------------------

# One family of winning shorts: k · (0.375 @ 90.1, W 10.25) for k = 1, 3, 5, 7, 11, 13 (exact products), marked at
# 85.37. In exact arithmetic every member has the same PnL%, the same leverage, the same uPnL and MM per unit of
# wallet: all three rankings (and leverage draining) tie the whole family. In floats k·0.375·85.37 rounds
# differently for different k, so the scores spread over a few ulps and the queue follows those bits, not the ids.
FAMILY_K = (1, 3, 5, 7, 11, 13)
FAMILY = [(-1, k * 0.375, 90.1, k * 10.25, E.TRADER) for k in FAMILY_K]
ROUNDING = (
    [(1, 4.0, 100.0, 40.0, E.TRADER)] + FAMILY + [(1, 0.375 * sum(FAMILY_K) - 4.0, 100.0, 1000.0, E.COUNTERPARTY)]
)
MARK = 85.37
GAP_TO_MARK = ((0, 100.0), (1500, 100.0), (1500, MARK))


def exact_score(s, q, ep, w, m, mmr, ranking):
    """The ranking in exact rational arithmetic (one tier: MM = Q·m·MMR)."""
    s, q, ep, w, m = Fraction(s), Fraction(q), Fraction(ep), Fraction(w), Fraction(m)
    eq = w + s * q * (m - ep)
    if ranking == E.RANK_LEVERAGE_PNL:
        return max(Fraction(0), s * q * (m - ep)) / max(Fraction(1), w) * q * m * Fraction(mmr) / eq
    lev = q * m / eq
    if ranking == E.RANK_HYPERLIQUID:
        return (m / ep if s > 0 else ep / m) * lev
    pnl = s * (m - ep) / ep
    return pnl * lev if pnl > 0 else pnl / lev


@pytest.mark.parametrize("ranking", RANKINGS, ids=[E.ADL_RANKING_NAMES[r] for r in RANKINGS])
def test_scores_equal_in_exact_arithmetic_are_ordered_alike_by_both_engines(compiled, ranking):
    mmr = ONE_TIER[1][0]
    rows = range(1, len(FAMILY) + 1)
    exact = {exact_score(*FAMILY[r - 1][:4], MARK, mmr, ranking) for r in rows}
    assert len(exact) == 1  # one tie in exact arithmetic
    floats = {}
    for r in rows:
        s, q, ep, w, _ = FAMILY[r - 1]
        eq = w + s * q * (MARK - ep)
        floats[r] = reference_adl_score(s, q, ep, w, MARK, eq, q * MARK * mmr, ranking)
    assert len(set(floats.values())) > 1  # ... that rounding splits
    queue = sorted(rows, key=lambda r: (-floats[r], r))  # the contract: (score, id) with score = −ranking
    assert queue != list(rows)  # so the order is the floats', not the ids'
    fast, ref = run_both(gap_market(ROUNDING, path=GAP_TO_MARK, adl_ranking=ranking))
    expected, left = [], 4.0
    for r in queue:  # whole positions in queue order until the pool of 4 is matched
        if left <= 0.0:
            break
        expected.append((r, min(FAMILY[r - 1][1], left)))
        left -= FAMILY[r - 1][1]
    for res in (fast, ref):
        fills = adl_fills(res)
        assert [f[0] for f in fills] == [r for r, _ in expected]
        assert [f[1] for f in fills] == pytest.approx([y for _, y in expected], rel=1e-12)


# ------------------------------------------------------------------------------------------------
# differential: markets made of tie families
# ------------------------------------------------------------------------------------------------


@st.composite
def tie_markets(draw):
    """A side that gaps into bankruptcy (one or two positions, so a pool of one or two causes) against winners
    made of families of exactly proportional positions (exact ties that may round apart), exact duplicates
    (float ties) and a few unrelated positions; every ranking, policy, ADL price and trigger, and tier basis."""
    d = draw(st.sampled_from([1, -1]))  # the bankrupt side
    m = 100.0 - d * draw(st.sampled_from([13.7, 14.63, 15.0, 16.1, 12.23]))
    bankrupt = [
        (d, draw(st.sampled_from([2.0, 4.0, 6.5])), 100.0, w, E.TRADER)
        for w in draw(st.lists(st.sampled_from([10.0, 25.0, 40.0, 55.5]), min_size=1, max_size=2))
    ]
    winners = []
    for _ in range(draw(st.integers(1, 3))):
        q0, w0 = draw(st.sampled_from(DYADIC_Q)), draw(st.sampled_from(DYADIC_W))
        ep = 100.0 - d * draw(st.sampled_from([0.0, 1.3, 4.1, 9.9, 12.0, -3.7]))  # most of them winning at m
        for k in draw(st.lists(st.integers(1, 13), min_size=2, max_size=6)):
            winners.append((-d, k * q0, ep, k * w0 * draw(st.sampled_from([1.0, 1.0, 1.0, 4.0])), E.TRADER))
    winners += draw(
        st.lists(
            st.tuples(st.just(-d), st.floats(0.1, 5.0), st.floats(85.0, 115.0), st.floats(5.0, 300.0), st.just(0)),
            max_size=3,
        )
    )
    order = draw(st.permutations(range(len(winners))))
    positions = bankrupt + [winners[i] for i in order]
    imbalance = sum(p[0] * p[1] for p in positions)
    positions.append((-1 if imbalance > 0 else 1, abs(imbalance) + 1.0, 100.0, 1e5, E.COUNTERPARTY))
    basis = draw(st.sampled_from([E.MM_MARK, E.MM_ENTRY, E.MM_SIZE]))
    tiers = SIZE_TIERS if basis == E.MM_SIZE else draw(st.sampled_from([ONE_TIER, TWO_TIERS, THREE_TIERS]))
    return make_input(
        positions,
        tiers=tiers,
        tier_basis=basis,
        path=((0, 100.0), (1500, 100.0), (1500, m), (3500, m + d * draw(st.sampled_from([0.0, 0.7, 2.3])))),
        prof=draw(st.sampled_from([0.0, 0.0, 0.3, 2.0])),
        depth_levels=20,
        duration=4000,
        unwind_interval=NEVER,
        fund_initial=draw(st.sampled_from([0.0, 0.0, 30.0, 500.0])),
        max_inventory=draw(st.sampled_from([0.0, 1.0])),
        adl_drawdown=draw(st.sampled_from([0.0, 0.3])),
        adl_ranking=draw(st.sampled_from(RANKINGS)),
        adl_policy=draw(st.sampled_from(POLICIES)),
        adl_price=draw(st.sampled_from([E.ADL_AT_BANKRUPTCY, E.ADL_AT_MARK, E.ADL_AT_PREVIOUS_MARK])),
        adl_trigger=draw(st.sampled_from([E.ADL_TRIGGER_CAPACITY, E.ADL_TRIGGER_DEFICIT])),
    )


@settings(max_examples=200 * settings.default.max_examples // 100)
@given(tie_markets())
def test_engines_agree_on_markets_full_of_ties(compiled, inp):
    run_both(inp)
