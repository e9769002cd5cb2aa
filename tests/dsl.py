"""A tiny DSL to build engine inputs by hand, and helpers to read both engines' results alike.

``make_input(positions, ...)`` takes positions as ``(side, Q, EP, W, kind)`` tuples, an index path
as ``(t_ms, price)`` points, background orders as ``(t_ms, side, qty)`` and a flat book profile, and
returns a :class:`sim.engine.Inputs` that both the Numba engine and the reference engine accept.
The default grid is ticks 0..999 with tick 0.5 (prices 0 .. 499.5), start price 100.
"""

import math

import numpy as np

from sim import enums
from sim.engine import Inputs

ONE_TIER = ([0.0], [0.004], [0.0])
# two tiers with a continuous maintenance margin: cum1 = 1000 * (0.05 - 0.01) = 40
TWO_TIERS = ([0.0, 1000.0], [0.01, 0.05], [0.0, 40.0])

DEFAULTS = dict(
    duration=1000,
    oracle_interval=1000,
    sample_interval=1000,
    unwind_interval=1000,
    index_coupling=0.0,
    funding_rate=0.0,
    funding_interval=8 * 3600 * 1000,
    time_to_funding=3600 * 1000,
    basis_window=5,
    refill_half_life=1000.0,
    clearance=0.005,
    band=0.05,
    taker_fee=0.0005,
    noise_band=0.05,
    fund_initial=1000.0,
    max_inventory=1.0,
    unwind_fraction=0.5,
    unwind_band=0.1,
    adl_enabled=True,
    start_price=100.0,
    tick=0.5,
    lot=0.001,
    grid_lo=0,
    n_levels=1000,
    tier_basis=enums.MM_MARK,
    partial_rule=enums.PARTIAL_STEP_IOC,
    partial_min_tier=1,
    partial_tiers_down=0,
    partial_cooldown=0,
    slice_threshold=1e5,
    slice_fraction=0.2,
    settle_fill=False,
    backstop_fraction=0.0,
    mark_method=enums.MARK_BINANCE,
    ema_slow=150_000.0,
    ema_fast=30_000.0,
    adl_drawdown=0.0,
    adl_window=8 * 3600 * 1000,
    adl_ranking=enums.RANK_PNL_LEVERAGE,
    adl_price=enums.ADL_AT_BANKRUPTCY,
    adl_policy=enums.POLICY_QUEUE,
    adl_trigger=enums.ADL_TRIGGER_CAPACITY,
    adl_seed=12345,
    settle_fillable=False,
    fill_ba=1.0,
    fill_smmr=1.5,
    fee_cap=True,
    block_ticks=1,
    block_pos_frac=1.0,
    block_pos_min=0.0,
    block_acct=math.inf,
    block_fund_loss=math.inf,
    block_liquidations=0,
    block_deleveragings=0,
    deleverage_holders=0,
    depth_shock_factor=1.0,
    depth_shock_start=0,
    depth_shock_end=0,
    wd_on=False,
    wd_vol_half=0.001,
    wd_flow_half=1e6,
    wd_window=10_000.0,
    wd_floor=0.05,
    wd_recovery=30_000.0,
    wd_spread=0.0,
    stop_on_mark=False,
    tu_threshold=0.8,
    tu_target=0.4,
    funding_on=False,
    funding_fixed=math.nan,
    funding_interest=0.0001,
    funding_clamp=0.0005,
    funding_cap=0.003,
    funding_scale=1.0,
    funding_at_index=False,
    funding_linear=True,
    arr_on=False,
    arr_row0=0,
    arr_dip_mult=1.0,
    arr_dip_dd=0.1,
    arr_dip_window=3600 * 1000,
)


def make_input(
    positions,
    tiers=ONE_TIER,
    path=((0, 100.0),),
    noise=(),
    prof=100.0,
    depth_levels=40,
    stops=None,
    reserves=None,
    delays=None,
    arrivals=(),
    **params,
):
    """Engine inputs from a readable description (see the module docstring).

    ``prof`` is the target size of every level for offsets 1..``depth_levels`` (a scalar), or an
    array of length ``depth_levels + 1`` used as is. ``stops`` (trigger prices, NaN = none), ``reserves``
    (top-up cash, USD) and ``delays`` (top-up reaction delays, ms) are per position, default none. ``arrivals`` are
    ``(t_ms, u, side, leverage, margin)`` candidates (sim.world.arrivals), sorted by time; each gets a flat row after
    the positions, its margin held in its reserve.
    """
    if len(arrivals):
        positions = list(positions) + [(a[2], 0.0, 0.0, 0.0, 0) for a in arrivals]
        n_pos = len(positions) - len(arrivals)
        stops = None if stops is None else list(stops) + [math.nan] * len(arrivals)
        reserves = (list(reserves) if reserves is not None else [0.0] * n_pos) + [a[4] for a in arrivals]
        delays = None if delays is None else list(delays) + [0] * len(arrivals)
        params.setdefault("tu_on", bool(np.any(np.array(reserves[:n_pos]) > 0)))  # an arrival's margin is no top-up
        params.update(arr_on=True, arr_row0=n_pos)
    base = dict(DEFAULTS)
    base.update(params)
    base["adl_enabled"] = bool(base["adl_enabled"])
    if np.ndim(prof) == 0:
        profile = np.full(depth_levels + 1, float(prof))
        profile[0] = 0.0
    else:
        profile = np.asarray(prof, dtype=np.float64)
    floors, mmrs, cums = tiers
    side = np.array([p[0] for p in positions], dtype=np.int8)
    size = np.array([p[1] for p in positions], dtype=np.float64)
    entry = np.array([p[2] for p in positions], dtype=np.float64)
    wallet = np.array([p[3] for p in positions], dtype=np.float64)
    n = side.size
    stop = np.full(n, np.nan) if stops is None else np.array(stops, dtype=np.float64)
    reserve = np.zeros(n) if reserves is None else np.array(reserves, dtype=np.float64)
    delay = np.zeros(n, np.int64) if delays is None else np.array(delays, dtype=np.int64)
    base.setdefault("stops_on", bool(np.any(~np.isnan(stop))))
    base.setdefault("tu_on", bool(np.any(reserve > 0)))
    return Inputs(
        pos_side=side,
        pos_size=size,
        pos_entry=entry,
        pos_wallet=wallet,
        pos_kind=np.array([p[4] for p in positions], dtype=np.int8),
        pos_mode=np.zeros(side.size, np.int8),
        pos_stop=stop,
        pos_reserve=reserve,
        pos_delay=delay,
        pos_leverage=np.where(wallet > 0, size * entry / np.where(wallet > 0, wallet, 1.0), np.nan),
        tier_floor=np.array(floors, dtype=np.float64),
        tier_mmr=np.array(mmrs, dtype=np.float64),
        tier_cum=np.array(cums, dtype=np.float64),
        prof_bid=profile.copy(),
        prof_ask=profile.copy(),
        path_t=np.array([p[0] for p in path], dtype=np.int64),
        path_p=np.array([p[1] for p in path], dtype=np.float64),
        noise_t=np.array([x[0] for x in noise], dtype=np.int64),
        noise_side=np.array([x[1] for x in noise], dtype=np.int8),
        noise_qty=np.array([x[2] for x in noise], dtype=np.float64),
        arr_t=np.array([a[0] for a in arrivals], dtype=np.int64),
        arr_u=np.array([a[1] for a in arrivals], dtype=np.float64),
        arr_lev=np.array([a[3] for a in arrivals], dtype=np.float64),
        **base,
    )


def initial_cash(inp):
    """Cash of every account at the start: position rows, then maker, noise, fund, fee."""
    n = len(inp.pos_side)
    cash = [
        float(inp.pos_wallet[i])
        + float(inp.pos_reserve[i])
        - int(inp.pos_side[i]) * float(inp.pos_size[i]) * float(inp.pos_entry[i])
        for i in range(n)
    ]
    return cash + [0.0, 0.0, float(inp.fund_initial), 0.0]


def engine_result(raw):
    """The Numba engine's :class:`sim.engine.Raw` in the reference engine's dict shape."""
    acc = raw.accounts
    n = int(np.sum(acc["kind"] <= enums.COUNTERPARTY))
    f = raw.fills
    fills = [
        (
            int(round(r["t"] * 1000)),
            int(r["kind"]),
            int(r["account"]),
            int(r["side"]),
            float(r["qty"]),
            float(r["price"]),
            float(r["bankruptcy_price"]),
            float(r["fund_delta"]),
            float(r["fee"]),
            float(r["mark"]),
            float(r["equity"]),
            int(r["adl_cause"]),
        )
        for r in f
    ]
    series = [(round(row[0] * 1000),) + tuple(float(v) for v in row[1:]) for row in raw.series.tolist()]
    return {
        "fills": fills,
        "series": series,
        "pos_size": [abs(float(v)) for v in acc["position_end"][:n]],
        "pos_status": [int(v) for v in acc["status"][:n]],
        "cash": [float(v) for v in acc["cash_end"]],
        "topup": [float(v) for v in acc["topup_usd"][:n]],
        "position": [float(v) for v in acc["position_end"]],
        "fund_balance": raw.fund_balance,
        "fund_q": raw.fund_q,
        "mark": raw.final_mark,
    }


def money_total(cash):
    return math.fsum(cash)
