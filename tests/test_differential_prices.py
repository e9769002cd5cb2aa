"""The Numba engine against the pure-Python reference engine under endogenous prices (docs/engine.md §12).

Small scenarios built by the real scenario loader and ``sim.engine.prepare`` (a couple of hundred positions, a
minute, spot books a hundredth of their calibrated depth so that hedgers, arbitrageurs and flows move them): both
engines must give the same tape (ARB and FLOW fills included), the same series (index, mark, last …), the same
final accounts (the arbitrageurs' and the flow's perp legs included) and the same spot ledger (the venues' mids at
every sample, base, cash and volume per participant and venue, extremes, the makers' share of depth). Each case
also checks that the mechanism it is about did act, so a case cannot pass by doing nothing; the mutation tests at
the end check that a wrong reference fails these comparisons.
"""

import math

import numpy as np
import pytest
import reference
from dsl import engine_result
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import _Reference, reference_run
from test_differential import ATOL, RTOL, assert_same

import sim
from sim import enums as E
from sim.engine import prepare, simulate

BASE = {
    "population.n_positions": 200,
    "population.open_interest_usd": 2e7,
    "scenario.duration_s": 60.0,
    "shock.start_s": 10.0,
    "shock.duration_s": 20.0,
    "shock.size_pct": -10.0,
    "book.depth_usd_1pct": 3e4,
    "book.range_pct": 20.0,
    "market.tick_size_usd": 10.0,
    "prices.model": "endogenous",
    "prices.depth_factor": 0.01,
    "prices.hedge_threshold_usd": 0.0,  # these small books and crowds never reach the makers' default threshold
}
FLOW = {"shock.kind": "flow", "shock.flow_usd": -3e6}
OUTAGE = {"prices.outage_venue": "coinbase", "prices.outage_start_s": 5.0, "prices.outage_duration_s": 30.0}

# case: (overrides, fill kinds that must be on the tape, spot participants that must have traded, ... that must not)
CASES = {
    "ramp": ({}, {E.ARB_FILL}, {"informed", "hedgers", "arbitrageurs", "venue_arbitrageurs"}, {"flow"}),
    "gap": ({"shock.kind": "gap"}, {E.ARB_FILL, E.LIQUIDATION}, {"informed", "hedgers", "arbitrageurs"}, {"flow"}),
    "flow_into_perp": ({**FLOW, "shock.flow_into": "perp"}, {E.FLOW_FILL}, {"hedgers"}, {"flow"}),
    "flow_into_spot": ({**FLOW, "shock.flow_into": "spot"}, set(), {"flow", "informed"}, set()),
    "flow_into_both_shape_2": (
        {**FLOW, "shock.flow_into": "both", "prices.shape": 2.0},
        {E.FLOW_FILL, E.ARB_FILL},
        {"flow", "hedgers", "arbitrageurs"},
        set(),
    ),
    "ramp_shape_2_no_home_venue": ({"prices.shape": 2.0, "prices.home_share": 0.0}, {E.ARB_FILL}, {"hedgers"}, set()),
    "skewed_quotes": ({"prices.inventory_skew": 1.0}, {E.ARB_FILL, E.LIQUIDATION}, {"hedgers", "arbitrageurs"}, set()),
    "no_hedgers": ({"prices.hedge_share": 0.0}, {E.ARB_FILL}, {"arbitrageurs"}, {"hedgers"}),
    "no_arbitrageurs": ({"prices.arb_capital_usd": 0.0}, set(), {"hedgers"}, {"arbitrageurs"}),
    "no_informed_no_venue_arbitrage": (
        {"prices.informed_half_life_s": 0.0, "prices.venue_arb_half_life_s": 0.0, **FLOW, "shock.flow_into": "spot"},
        set(),
        {"flow"},
        {"informed", "venue_arbitrageurs"},
    ),
    "withdrawal": ({"book.withdrawal": True, "prices.withdrawal": True}, set(), {"hedgers", "informed"}, set()),
    "outage_stale_weighted_mean": (
        # a fall within the outlier band (5%), so only staleness can take the frozen venue out of the index
        {
            **OUTAGE,
            "prices.stale_s": 5.0,
            "prices.index_method": "weighted_mean",
            "shock.kind": "gap",
            "shock.size_pct": -3.0,
            "prices.depth_factor": 1.0,  # on BASE's thin books the frozen venue is an outlier anyway
        },
        set(),
        {"informed", "hedgers"},
        set(),
    ),
    "outage_home_venue_weighted_median": (
        {**OUTAGE, "prices.outage_venue": "binance", "prices.index_method": "weighted_median"},
        set(),
        {"informed", "hedgers"},
        set(),
    ),
    "hyperliquid_oracle_no_lag": (
        {"market.venue": "hyperliquid", "prices.hedge_latency_s": 0.0, "prices.arb_latency_s": 1.0},
        set(),
        {"informed", "hedgers"},
        set(),
    ),
    "imposed_with_flow_into_perp": (
        {"prices.model": "imposed", "prices.depth_factor": 1.0, **FLOW, "shock.flow_into": "perp"},
        {E.FLOW_FILL},
        set(),
        set(),
    ),
}


def run_both(over):
    inp = prepare(sim.load_scenario(None, overrides={**BASE, **over}))
    raw = simulate(inp)
    return inp, raw, reference_run(inp)


def assert_same_prices(raw, ref):
    """The tape, the series and the accounts (test_differential.assert_same), then the spot ledger."""
    assert_same(engine_result(raw), ref)
    fast, slow = raw.spot, ref["spot"]
    if fast is None:
        assert slow is None
        return
    assert tuple(fast["names"]) == tuple(slow["names"])
    assert np.asarray(fast["mid"]).shape == np.asarray(slow["mid"]).shape
    for key in ("mid", "low", "high", "end", "share_end"):
        np.testing.assert_allclose(fast[key], np.array(slow[key]), rtol=RTOL, atol=ATOL, err_msg=key)
    # base and cash are differences of trades of the size of the book: compared on the scale of what was traded
    scale = max(1.0, float(np.abs(fast["volume"]).max()))
    for key, atol in (("volume", ATOL), ("cash", RTOL * scale), ("base", RTOL * scale / raw.final_mark)):
        np.testing.assert_allclose(fast[key], np.array(slow[key]), rtol=RTOL, atol=atol, err_msg=key)


def traded(raw):
    """The spot participants (enums.SPOT_PARTICIPANT_NAMES) that traded on some venue."""
    vol = raw.spot["volume"] if raw.spot is not None else np.zeros((6, 0))
    return {name for row, name in enumerate(E.SPOT_PARTICIPANT_NAMES) if row and vol[row].sum() > 0.0}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference_under_endogenous_prices(compiled, case):
    over, kinds, acting, idle = CASES[case]
    inp, raw, ref = run_both(over)
    assert_same_prices(raw, ref)
    assert kinds <= {int(k) for k in raw.fills["kind"]}, case
    assert acting <= traded(raw), (case, traded(raw))
    assert not (idle & traded(raw)), (case, traded(raw))
    if raw.spot is not None:  # the run moved the spot venues
        assert np.ptp(raw.spot["mid"]) > 0.005 * inp.start_price
    if "outage" in case:  # the venue's price froze for the outage
        v = raw.spot["names"].index(over["prices.outage_venue"])
        inside = (raw.spot["t"] >= 6.0) & (raw.spot["t"] < 35.0)
        assert np.ptp(raw.spot["mid"][inside, v]) == 0.0 and np.ptp(raw.spot["mid"][:, v]) > 0.0
    if case == "withdrawal":
        assert raw.spot["share_end"].min() < 0.99
    if case == "skewed_quotes":  # the makers' long inventory lowered their quotes, and the mark with them
        assert np.any(raw.series["mark"] < 0.99 * raw.series["index"])


@st.composite
def endogenous_scenarios(draw):
    """Small endogenous scenarios over every switch of the price model (docs/model.md §1.6)."""
    kind = draw(st.sampled_from(["gap", "ramp", "flow", "none"]))
    size = draw(st.floats(-15.0, 15.0))
    over = {
        "scenario.seed": draw(st.integers(0, 2**31)),
        "population.n_positions": 150,
        "scenario.duration_s": 45.0,
        "shock.kind": kind,
        "shock.size_pct": size,
        "shock.flow_usd": size * 3e5,
        "shock.flow_into": draw(st.sampled_from(["perp", "spot", "both"])),
        "prices.depth_factor": draw(st.sampled_from([0.003, 0.01, 0.1])),
        "prices.shape": draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
        "prices.permanent_share": draw(st.sampled_from([0.0, 0.3, 1.0])),
        "prices.resilience_s": draw(st.sampled_from([2.0, 30.0])),
        "prices.hedge_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "prices.hedge_latency_s": draw(st.sampled_from([0.0, 1.0, 3.0])),
        "prices.hedge_capacity_usd_per_s": draw(st.sampled_from([2e5, 2e7])),
        "prices.home_share": draw(st.sampled_from([0.0, 0.5, 1.0])),
        "prices.arb_capital_usd": draw(st.sampled_from([0.0, 1e6, 5e8])),
        "prices.inventory_skew": draw(st.sampled_from([0.0, 0.3, 3.0])),
        "prices.arb_threshold_bps": draw(st.sampled_from([5.0, 50.0])),
        "prices.arb_latency_s": draw(st.sampled_from([1.0, 2.0, 4.0])),
        "prices.informed_half_life_s": draw(st.sampled_from([0.0, 2.0, 20.0])),
        "prices.venue_arb_half_life_s": draw(st.sampled_from([0.0, 2.0])),
        "prices.index_method": draw(st.sampled_from(["venue", "weighted_mean", "weighted_median"])),
        "prices.outlier_pct": draw(st.sampled_from([1.0, 5.0])),
        "prices.constituents": draw(st.sampled_from(["venue", "top4", "hyperliquid_oracle"])),
        "book.withdrawal": draw(st.booleans()),
        "prices.withdrawal": draw(st.booleans()),
    }
    if draw(st.booleans()):
        venue = {"venue": "binance", "top4": "okx", "hyperliquid_oracle": "kraken"}[over["prices.constituents"]]
        over.update(
            {
                "prices.outage_venue": venue,
                "prices.outage_start_s": draw(st.sampled_from([0.0, 8.0])),
                "prices.outage_duration_s": draw(st.sampled_from([5.0, 30.0])),
                "prices.stale_s": draw(st.sampled_from([0.0, 3.0, 60.0])),
            }
        )
    return over


@settings(max_examples=20 * settings.default.max_examples // 100)
@given(endogenous_scenarios())
def test_matches_reference_on_random_endogenous_scenarios(compiled, over):
    _inp, raw, ref = run_both(over)
    assert_same_prices(raw, ref)


# ------------------------------------------------------------------------------------------ mutations
# A deliberate error in the reference must make the comparison fail: each mutation is one plausible mistake in
# §12 (a formula term dropped, an order of operations changed, a rule ignored) and the cases that must catch it.


def _setting(name, value):
    """A mutation: after the reference reads its spot inputs, ``name`` becomes ``value(self)``."""

    def mutate(monkeypatch):
        init = _Reference.spot_init

        def spot_init(self, setup):
            init(self, setup)
            setattr(self, name, value(self))

        monkeypatch.setattr(_Reference, "spot_init", spot_init)

    return mutate


def _method(name, body):
    def mutate(monkeypatch):
        monkeypatch.setattr(_Reference, name, body)

    return mutate


def _informed_transient(self, v, fundamental):  # informed trades as if uninformed (only the permanent share stays)
    r = self.sp_center[v]
    m0 = self.sp_mid[v]
    self.trade_to(v, E.SPOT_INFORMED, m0 * math.exp(self.informed * math.log(fundamental / r)), self.permanent)


def _quote_unhedged_perp(self):  # the makers' perp position only, as if their hedges did not offset it
    excess = abs(self.maker_pos * self.index) - self.hedge_free
    if excess <= 0.0:
        return self.index
    return self.index * (1.0 - math.copysign(min(0.5, self.skew * excess), self.maker_pos))


def _module(name, value):
    def mutate(monkeypatch):
        monkeypatch.setattr(reference, name, value)

    return mutate


MUTATIONS = {
    "permanent share dropped": (_setting("permanent", lambda s: 0.0), ["ramp"]),
    "the shape left out of the resilience decay": (
        _setting("resilience", lambda s: s.resilience / s.shape),
        ["ramp_shape_2_no_home_venue"],
    ),
    "no home venue": (_setting("home_share", lambda s: 0.0), ["ramp"]),
    "hedgers one tick late": (_setting("hedge_lag", lambda s: s.hedge_lag + 1), ["ramp"]),
    "arbitrageurs one tick late": (_setting("arb_lag", lambda s: s.arb_lag + 1), ["ramp"]),
    "stale constituents kept": (_setting("stale", lambda s: 10**12), ["outage_stale_weighted_mean"]),
    "withdrawal on spot ignored": (_setting("wd_flow_share", lambda s: 1e12), ["withdrawal"]),
    "informed trades transient": (_method("informed_trade", _informed_transient), ["ramp"]),
    "basis never observed": (_method("observe_basis", lambda self: None), ["ramp"]),
    "fills at the centre, not the integral over the book": (_module("_area", lambda u, d, a: u), ["ramp"]),
    "flow into perp ignored": (_method("flow_slice", lambda self, t: None), ["flow_into_perp"]),
    "makers quote around the index whatever they hold": (_setting("skew", lambda s: 0.0), ["skewed_quotes"]),
    "the skew blind to the hedgers' spot holdings": (_method("maker_quote", _quote_unhedged_perp), ["skewed_quotes"]),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_wrong_reference_fails(compiled, monkeypatch, mutation):
    mutate, cases = MUTATIONS[mutation]
    mutate(monkeypatch)
    for case in cases:
        inp = prepare(sim.load_scenario(None, overrides={**BASE, **CASES[case][0]}))
        with pytest.raises(AssertionError):
            assert_same_prices(simulate(inp), reference_run(inp))
