"""The spot venues of an endogenous run (docs/model.md §1.6): which venues make the index, with what weights and depth.

Weights are the venues' published index or oracle weights; depths are USD per side within 1% of the mid on a normal
day. Sources (the figures are restated with their dates in docs/model.md §1.6):

* Binance's BTCUSDT index constituents and weights: the example response of Binance's USDⓈ-M API
  ``GET /fapi/v1/constituents`` (developers.binance.com, April 2025): Binance 51.28%, Coinbase 15.38%, Bybit, Bitget,
  KuCoin and MEXC 7.69% each, Gate 2.56%.
* Hyperliquid's oracle: a weighted median of spot mids with weights Binance 3, OKX 2, Bybit 2, Kraken, KuCoin, Gate and
  MEXC 1 (Hyperliquid docs, "Oracle").
* Depth: Binance BTC spot about $16.5M within 1% of the mid (Amberdata, BTC/FDUSD, Jul–Aug 2025); CoinDesk Research's
  exchange reviews of Oct–Nov 2025 put the largest venues' BTC 1% depth at roughly $14–20M each; Kaiko reported US
  venues' combined BTC 1% depth at $290M in May 2025 (both sides, all pairs). The figures below are per side for
  the venue's largest BTC pairs; those of the smaller venues are estimates scaled from these, marked [INF].
* ETH: depth taken as half of BTC's on every venue [INF] (Kaiko's depth reports show ETH's 1% depth at roughly
  40–60% of BTC's in 2025).

docs/calibration.md checked these depths with the calibrated book shape (``prices.shape``): a $10M market order on
Binance's book moves it 57 bp, where Amberdata reports more than 50 bp; they were kept.
"""

from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim import state as S

#: USD per side within 1% of the mid, BTC, normal day (see the module docstring; [INF] = estimated).
DEPTH_USD = {
    "binance": 20e6,  # Amberdata $16.5M on BTC/FDUSD alone; USDT pairs add to it
    "coinbase": 15e6,  # CoinDesk Research range
    "okx": 10e6,  # [INF]
    "bybit": 8e6,  # [INF]
    "kraken": 6e6,  # [INF]
    "bitget": 5e6,  # [INF]
    "kucoin": 4e6,  # [INF]
    "mexc": 4e6,  # [INF]
    "gate": 3e6,  # [INF]
}
ASSET_DEPTH = {"BTC": 1.0, "ETH": 0.5}

#: name -> ((venue, weight), ...), index method
SETS = {
    "binance_index": (
        (
            ("binance", 0.5128),
            ("coinbase", 0.1538),
            ("bybit", 0.0769),
            ("bitget", 0.0769),
            ("kucoin", 0.0769),
            ("mexc", 0.0769),
            ("gate", 0.0256),
        ),
        "weighted_mean",
    ),
    "hyperliquid_oracle": (
        (
            ("binance", 3.0),
            ("okx", 2.0),
            ("bybit", 2.0),
            ("kraken", 1.0),
            ("kucoin", 1.0),
            ("gate", 1.0),
            ("mexc", 1.0),
        ),
        "weighted_median",
    ),
    # four venues at equal weight: a small set for studies and speed measurements
    "top4": ((("binance", 0.25), ("coinbase", 0.25), ("okx", 0.25), ("bybit", 0.25)), "weighted_mean"),
}
#: the set a perp venue's index uses by default. Bybit's and OKX's index constituents are not restated here; they use
#: Binance's set and method [INF].
VENUE_SET = {
    "binance": "binance_index",
    "bybit": "binance_index",
    "okx": "binance_index",
    "hyperliquid": "hyperliquid_oracle",
}


class SpotSetup(NamedTuple):
    """What the engine needs of the spot venues: their names and arrays, and the kernel scalars."""

    names: tuple
    depth: np.ndarray  # USD per side within 1%
    weight: np.ndarray
    out_start: np.ndarray  # int64 ms
    out_end: np.ndarray  # int64 ms
    lag: int  # the longest lag in oracle ticks (sizes the ring of lagged views)
    params: S.SpotParams


def venue_set(name, market_venue):
    """``(names, weights, method)`` of a constituent set (``venue``: the perp venue's own)."""
    rows, method = SETS[VENUE_SET.get(market_venue, "binance_index") if name == "venue" else name]
    return tuple(r[0] for r in rows), np.array([r[1] for r in rows]), method


def _ticks(seconds, oracle_ms):
    return int(round(seconds * 1000.0 / oracle_ms))


def setup(scn, oracle_ms, duration_ms):
    """The spot venues and kernel scalars of a validated scenario (an empty set under the imposed model)."""
    pr, shock, mk, book = scn.prices, scn.shock, scn.market, scn.book
    on = pr.model == "endogenous"
    names, weight, method = venue_set(pr.constituents, mk.venue) if on else ((), np.zeros(0), "weighted_mean")
    if pr.index_method != "venue":
        method = pr.index_method
    depth = np.array([DEPTH_USD[n] for n in names]) * ASSET_DEPTH.get(mk.asset, 1.0) * pr.depth_factor
    out_start = np.zeros(len(names), np.int64)
    out_end = np.zeros(len(names), np.int64)
    if on and pr.outage_venue:
        k = names.index(pr.outage_venue)
        out_start[k] = int(round(pr.outage_start_s * 1000.0))
        out_end[k] = out_start[k] + int(round(pr.outage_duration_s * 1000.0))
    flow_on = shock.kind == "flow" and shock.flow_usd != 0.0
    flow_ms = max(1, int(round(shock.duration_s * 1000.0)))
    flow_start = int(round(shock.start_s * 1000.0))
    dt = float(oracle_ms)
    hedge_lag = _ticks(pr.hedge_latency_s, oracle_ms)
    # a tick's basis is seen once its forced orders are through the book, so at the next tick at the earliest
    arb_lag = max(1, _ticks(pr.arb_latency_s, oracle_ms))
    half = pr.informed_half_life_s
    params = S.SpotParams(
        on=on,
        flow_on=flow_on,
        method=E.INDEX_METHOD_NAMES.index(method),
        outlier=pr.outlier_pct / 100.0,
        stale=int(round(pr.stale_s * 1000.0)),
        shape=float(pr.shape),
        resilience=pr.resilience_s * 1000.0,
        permanent=float(pr.permanent_share),
        informed=0.0 if half == 0 else 1.0 - 2.0 ** (-dt / (half * 1000.0)),
        venue_arb=0.0 if pr.venue_arb_half_life_s == 0 else 1.0 - 2.0 ** (-dt / (pr.venue_arb_half_life_s * 1000.0)),
        hedge_share=float(pr.hedge_share) if on else 0.0,
        hedge_free=float(pr.hedge_threshold_usd),
        hedge_lag=hedge_lag,
        hedge_cap=float(pr.hedge_capacity_usd_per_s),
        # per USD of excess inventory: 1% over the constituents' combined depth within 1%, times the key
        skew=pr.inventory_skew * 0.01 / depth.sum() if on and depth.sum() > 0.0 else 0.0,
        home_share=float(pr.home_share),
        arb_enter=pr.arb_threshold_bps / 10_000.0,
        arb_exit=pr.arb_threshold_bps / 20_000.0,
        arb_capital=float(pr.arb_capital_usd) if on else 0.0,
        arb_rate=float(pr.arb_rate_usd_per_s),
        arb_lag=arb_lag,
        wd_on=bool(pr.withdrawal) and on,
        wd_flow_share=float(book.withdrawal_flow_share),
        flow_rate=float(shock.flow_usd) / flow_ms if flow_on else 0.0,
        flow_start=flow_start,
        flow_end=min(flow_start + flow_ms, duration_ms + 1),
        flow_perp={"perp": 1.0, "spot": 0.0, "both": 0.5}[shock.flow_into] if on else 1.0,
    )
    return SpotSetup(names, depth, weight, out_start, out_end, max(hedge_lag, arb_lag), params)


def state(setup_, start_price, n_samples):
    """Fresh spot state for a run: every venue at the start price, its makers' share of depth whole."""
    k = len(setup_.names)
    mid = np.full(k, float(start_price))
    return S.SpotState(
        mid=mid,
        center=mid.copy(),
        depth=np.ascontiguousarray(setup_.depth, np.float64),
        weight=np.ascontiguousarray(setup_.weight, np.float64),
        out_start=np.ascontiguousarray(setup_.out_start, np.int64),
        out_end=np.ascontiguousarray(setup_.out_end, np.int64),
        share=np.ones(k),
        vol=np.zeros(k),
        flow=np.zeros(k),
        flow_acc=np.zeros(k),
        prev=mid.copy(),
        low=mid.copy(),
        high=mid.copy(),
        base=np.zeros((6, k)),
        cash=np.zeros((6, k)),
        volume=np.zeros((6, k)),
        hist=np.zeros((2, setup_.lag + 1)),
        perp_q=np.zeros(2),
        perp_cash=np.zeros(2),
        ticks=np.zeros(1, np.int64),
        series=np.full((n_samples if k else 0, k), np.nan),
        scr_px=np.zeros(k),
        scr_wt=np.zeros(k),
        scr_order=np.zeros(k, np.int64),
    )


#: The imposed model: no spot venues, no flow.
OFF = SpotSetup((), np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), 0, S.SpotParams(
    on=False, flow_on=False, method=0, outlier=0.05, stale=10_000, shape=1.0, resilience=30_000.0, permanent=0.3,
    informed=0.0, venue_arb=0.0, hedge_share=0.0, hedge_free=0.0, hedge_lag=0, hedge_cap=0.0, skew=0.0, home_share=0.0, arb_enter=0.001, arb_exit=0.0005, arb_capital=0.0,
    arb_rate=0.0, arb_lag=0, wd_on=False, wd_flow_share=1.0, flow_rate=0.0, flow_start=0, flow_end=0, flow_perp=1.0,
))  # fmt: skip


def ledger(setup_, sp, t_s):
    """What a run leaves of its spot venues: their mids at the samples (``t``: the samples' times, seconds), extremes,
    and the spot ledger (base, cash and volume per participant, rows enums.SPOT_*, and venue)."""
    k = min(len(t_s), sp.series.shape[0])
    return {
        "names": setup_.names,
        "index_method": E.INDEX_METHOD_NAMES[setup_.params.method],
        "weight": setup_.weight.copy(),
        "depth_usd": setup_.depth.copy(),
        "t": np.array(t_s[:k], np.float64),
        "mid": sp.series[:k].copy(),
        "low": sp.low.copy(),
        "high": sp.high.copy(),
        "end": sp.mid.copy(),
        "share_end": sp.share.copy(),
        "base": sp.base.copy(),
        "cash": sp.cash.copy(),
        "volume": sp.volume.copy(),
    }
