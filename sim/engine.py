"""``run(scenario) → Result``: validate, draw, allocate, call the kernels, wrap.

The Python face does everything that is not a hot loop: it draws all randomness from a seeded
generator (population and background flow get independent child streams, so changing one does not
reshuffle the other), builds the book profile and the shock path, allocates the state arrays, then
runs :func:`sim.kernels.loop.run_nb` in time chunks (so a caller can show progress) and grows the
fill buffer when the kernel asks for it.
"""

import sys
import time
from typing import NamedTuple

import numpy as np

from sim import enums as E
from sim import state as S
from sim.allocate import allocate
from sim.dtypes import ACCOUNT_DTYPE, FILL_DTYPE, SERIES_DTYPE
from sim.errors import ScenarioError
from sim.kernels.accounts import pack_positions_nb
from sim.kernels.adl import MINSTD_M
from sim.kernels.loop import path_price_nb, run_nb, start_nb
from sim.kernels.margin import liquidation_prices_nb
from sim.world import arrivals
from sim.world import spot as spot_world
from sim.world.market import book_profile, noise_flow, shock_path
from sim.world.population import behaviour_draws, from_arrays, generate, no_behaviour
from sim.world.streams import generator

_INPUT_ARRAYS = [
    (name, np.ndarray)
    for name in (
        "pos_side",
        "pos_size",
        "pos_entry",
        "pos_wallet",
        "pos_kind",
        "pos_mode",
        "pos_leverage",
        "pos_stop",
        "pos_reserve",
        "pos_delay",
        "tier_floor",
        "tier_mmr",
        "tier_cum",
        "prof_bid",
        "prof_ask",
        "path_t",
        "path_p",
        "noise_t",
        "noise_side",
        "noise_qty",
        "arr_t",
        "arr_u",
        "arr_lev",
    )
]

#: Everything a run depends on, as arrays and scalars (docs/engine.md §2, §10): the arrays above, the
#: basis window (it sizes an array) and every kernel scalar of :class:`sim.state.Params`. The
#: pure-Python reference engine in the tests consumes exactly this, so both engines see the same draws.
Inputs = NamedTuple(  # type: ignore[misc]  # fields listed at run time, from the state's arrays and Params
    "Inputs",
    _INPUT_ARRAYS
    + [("basis_window", int), ("tier_basis", int), ("tu_threshold", float)]
    + list(S.Params.__annotations__.items())
    + [("spot", spot_world.SpotSetup)],
)
Inputs.__new__.__defaults__ = (spot_world.OFF,)  # the imposed model: inputs built by hand need not say it


class Raw(NamedTuple):
    """What a simulation leaves behind, before it is wrapped into a Result."""

    fills: np.ndarray  # FILL_DTYPE
    series: np.ndarray  # SERIES_DTYPE
    accounts: np.ndarray  # ACCOUNT_DTYPE
    fund_balance: float
    fund_cash: float
    fund_q: float
    final_mark: float
    lp_start: np.ndarray  # liquidation price of every position row at the start
    extremes: dict  # min/max of last and mark over the run (USD)
    full: int
    partial: int
    behaviour: dict  # stops, top-ups and funding over the run (docs/engine.md §9)
    spot: dict | None = None  # the spot venues and the traders between them and the perp (endogenous prices)

    @property
    def bad_debt(self):
        """What the fund could not pay: its negative equity at the final mark (docs/engine.md §8)."""
        return max(0.0, -(self.fund_cash + self.fund_q * self.final_mark))


def _ms(seconds):
    return int(round(seconds * 1000.0))


def trigger_tiers(mk, rules):
    """The engine's tier arrays and margin basis (docs/engine.md §2–§3): the pack's table set in position
    size (OKX: floors and amounts in coins) unless ``market.tiers`` replaces it, with the clearance fee
    added to the rates where the venue counts it in the trigger."""
    pack = mk.pack()
    if mk.tiers is None and pack.sized_in_coins(mk.asset):
        rows = pack.tier_rows(mk.asset, 1.0)  # USD per coin = 1: floors and amounts in coins
        floor, mmr, cum = (
            np.array(c, np.float64)
            for c in zip(*[(r.notional_floor_usd, r.mmr_pct / 100.0, r.maintenance_amount_usd) for r in rows])
        )
        basis = E.MM_SIZE
    else:
        floor, mmr, cum, _ = mk.tier_arrays()
        basis = E.MM_ENTRY if rules.mm_basis == "entry" else E.MM_MARK
    if rules.trigger_includes_fee:  # OKX: liquidation when equity ≤ MM + the clearance fee
        mmr = mmr + rules.clearance_fee_pct / 100.0
    return floor, mmr, cum, basis


def prepare(scn):
    """Draw and derive every input of a run from a validated scenario."""
    seed = scn.scenario.seed
    pop_rng, noise_rng, behaviour_rng = (generator(seed, name) for name in ("population", "noise", "behaviour"))
    mk, pcfg, book, fund = scn.market, scn.population, scn.book, scn.insurance_fund
    rules = scn.rules()
    floor, mmr, cum, basis = trigger_tiers(mk, rules)
    if getattr(pcfg, "positions", None) is not None:
        pop = from_arrays(pcfg.positions, mk, pcfg.counterparty_leverage)
    else:
        pop = generate(pcfg, mk, pop_rng, (floor, mmr, cum, basis))
    if scn.stops.share > 0 or scn.topups.share > 0:
        lp = pop.lp  # drawn populations know their traders' (the only rows with stops or top-ups)
        if lp is None:
            lp = np.full(pop.n, np.nan)
            live = pop.size > mk.lot_size * 1e-9  # not a counterparty facing a balanced book (size 0)
            lp[live] = liquidation_prices_nb(
                pop.side[live],
                pop.size[live],
                pop.entry[live],
                pop.wallet[live],
                floor,
                mmr,
                cum,
                basis,
                np.empty(int(live.sum())),
            )
        acts = behaviour_draws(
            scn.stops, scn.topups, pop.side, pop.kind, pop.wallet, lp, mk.start_price_usd, behaviour_rng
        )
    else:
        acts = no_behaviour(pop.n)
    prof = book_profile(book, mk)
    path_t, path_p = shock_path(scn.shock, mk, scn.scenario.duration_s, scn.scenario.seed)
    duration = _ms(scn.scenario.duration_s)
    noise_t, noise_side, noise_qty = noise_flow(book, mk, duration, noise_rng)
    arr = arrivals.draw(scn.arrivals, pcfg, mk, pop, duration, generator(seed, "arrivals"))
    cols = (pop.side, pop.size, pop.entry, pop.wallet, pop.kind, pop.mode, pop.leverage, acts.stop, acts.reserve)
    cols += (acts.delay_ms,)
    if arr.n:  # the candidates' rows follow the population's (sim.world.arrivals)
        cols = tuple(np.concatenate([a, b]) for a, b in zip(cols, arrivals.rows(arr, pop)))
    side, size, entry, wallet, kind, mode, leverage, stop, reserve, delay = cols
    oracle = max(1, _ms(mk.oracle_interval_s))
    return Inputs(
        pos_side=side,
        pos_size=size,
        pos_entry=entry,
        pos_wallet=wallet,
        pos_kind=kind,
        pos_mode=mode,
        pos_leverage=leverage,
        pos_stop=stop,
        pos_reserve=reserve,
        pos_delay=delay,
        tier_floor=floor,
        tier_mmr=mmr,
        tier_cum=cum,
        tier_basis=basis,
        tick=float(mk.tick_size_usd),
        lot=float(mk.lot_size),
        grid_lo=prof.grid_lo,
        n_levels=prof.n_levels,
        prof_bid=prof.prof_bid,
        prof_ask=prof.prof_ask,
        path_t=path_t,
        path_p=path_p,
        noise_t=noise_t,
        noise_side=noise_side,
        noise_qty=noise_qty,
        arr_t=arr.t_ms,
        arr_u=arr.u,
        arr_lev=arr.leverage,
        **arrival_params(scn.arrivals, arr, pop.n),
        duration=duration,
        oracle_interval=oracle,
        sample_interval=max(1, _ms(scn.output.sample_interval_s)),
        unwind_interval=max(1, _ms(fund.unwind_interval_s)),
        index_coupling=float(mk.index_coupling),
        funding_rate=mk.funding_rate_pct / 100.0,
        **funding_params(scn.funding, rules, mk.time_to_funding_s, mk.tier_table()[0]),
        stops_on=bool(np.any(~np.isnan(acts.stop))),
        stop_on_mark=rules.stop_trigger == "mark",
        tu_on=bool(np.any(acts.reserve > 0)),
        tu_threshold=float(scn.topups.threshold),
        tu_target=float(scn.topups.target),
        basis_window=max(1, int(round(rules.mark_basis_window_s * 1000.0 / oracle))),
        refill_half_life=float(_ms(book.refill_half_life_s)),
        clearance=rules.clearance_fee_pct / 100.0,
        band=rules.liquidation_band_pct / 100.0,
        taker_fee=mk.taker_fee_bps / 10_000.0,
        noise_band=book.noise_band_pct / 100.0,
        fund_initial=fund_initial_usd(fund, rules),
        max_inventory=rules.max_inventory_pct / 100.0,
        unwind_fraction=float(fund.unwind_fraction),
        unwind_band=fund.unwind_band_pct / 100.0,
        adl_enabled=bool(scn.adl.enabled),
        start_price=float(mk.start_price_usd),
        **venue_params(rules, scn.adl.policy, oracle),
        adl_seed=int(generator(seed, "adl").integers(1, MINSTD_M)),
        **liquidity_shock(scn.shock, duration),
        wd_on=bool(book.withdrawal),
        wd_vol_half=book.withdrawal_volatility_pct / 100.0,
        wd_flow_half=book.withdrawal_flow_share * depth_within_1pct_usd(prof, mk),
        wd_window=float(max(1, _ms(book.withdrawal_window_s))),
        wd_floor=float(book.withdrawal_floor),
        wd_recovery=float(max(1, _ms(book.withdrawal_recovery_s))),
        wd_spread=book.withdrawal_spread_bps / 10_000.0,
        spot=spot_world.setup(scn, oracle, duration),
    )


def fund_initial_usd(fund, rules):
    """The fund's balance at the start: the venue's shared fund for a cross market, the market's own for an isolated
    one (dYdX, venue.market_type; docs/model.md §2.8), which ``insurance_fund.isolated_initial_usd`` sets (unset: the
    same as the shared one). With one market per run this is all the switch changes."""
    if rules.market_type == "isolated" and fund.isolated_initial_usd is not None:
        return float(fund.isolated_initial_usd)
    return float(fund.initial_usd)


def arrival_params(cfg, arr, row0):
    """Kernel scalars of arrivals (docs/engine.md §9): on when there is a candidate, the row of the first one and the
    buy-the-dip rule."""
    return dict(
        arr_on=arr.n > 0,
        arr_row0=int(row0),
        arr_dip_mult=float(cfg.dip_multiplier),
        arr_dip_dd=cfg.dip_drawdown_pct / 100.0,
        arr_dip_window=max(1, _ms(cfg.dip_window_s)),
    )


def funding_cap(rules, first_tier):
    """The cap on the rate paid per interval (a fraction): ``funding_cap_pct``, or tighter where the venue caps the
    8-hour rate at ``funding_cap_margin_factor × (IMF − MMF)`` of the market's first tier (dYdX: 600% × (2% − 1.2%) =
    4.8% per 8 h, 0.6% an hour; docs/model.md §2.8), scaled like the rate by the interval's share of 8 hours."""
    cap = rules.funding_cap_pct / 100.0
    if rules.funding_cap_margin_factor > 0.0:
        imf, mmf = 1.0 / first_tier.max_leverage, first_tier.mmr_pct / 100.0
        cap = min(cap, rules.funding_cap_margin_factor * max(imf - mmf, 0.0) * rules.funding_interval_h / 8.0)
    return cap


def funding_params(funding, rules, time_to_funding_s, first_tier):
    """Kernel scalars of funding (docs/engine.md §9): the venue's interval, formula and price, or a fixed rate;
    ``first_tier`` is the market's first tier row (:class:`sim.venues.TierRow`), whose margins set dYdX's cap."""
    interval_s = rules.funding_interval_h * 3600.0
    # a schedule given for a longer interval (a Binance file run on Hyperliquid) keeps its hours: modulo the interval
    first = 0.5 * interval_s if time_to_funding_s is None else time_to_funding_s % interval_s
    return dict(
        funding_on=bool(funding.enabled),
        funding_interval=max(1, _ms(interval_s)),
        time_to_funding=_ms(first),
        funding_fixed=np.nan if funding.rate_pct is None else funding.rate_pct / 100.0,
        funding_interest=rules.funding_interest_pct / 100.0,
        funding_clamp=rules.funding_clamp_pct / 100.0,
        funding_cap=funding_cap(rules, first_tier),
        funding_scale=rules.funding_interval_h / 8.0,
        funding_at_index=rules.funding_price == "index",
        funding_linear=rules.funding_weighting == "linear",
    )


def depth_within_1pct_usd(prof, mk):
    """The book's normal depth per side within 1% of the start price (USD, the two sides' average), from the
    profile itself, so a ladder read from book.file counts what the file holds."""
    tick, p0 = float(mk.tick_size_usd), float(mk.start_price_usd)
    d = np.arange(prof.prof_bid.size)
    near = d * tick <= 0.01 * p0
    return 0.5 * float(np.sum((prof.prof_bid[near] + prof.prof_ask[near]) * p0))


def liquidity_shock(shock, duration_ms):
    """Kernel scalars of the liquidity shock: the factor and the times it applies (docs/engine.md §5)."""
    if shock.liquidity_factor == 1.0:
        return dict(depth_shock_factor=1.0, depth_shock_start=0, depth_shock_end=0)
    start = _ms(shock.liquidity_start_s)
    end = start + max(1, _ms(shock.liquidity_duration_s)) if shock.liquidity_duration_s > 0 else duration_ms + 1
    return dict(depth_shock_factor=float(shock.liquidity_factor), depth_shock_start=start, depth_shock_end=end)


def venue_params(rules, policy, oracle_ms):
    """The kernel scalars of a venue's rules (sim.venues.Rules) and an ADL policy name."""
    return dict(
        partial_rule=E.PARTIAL_RULE_NAMES.index(rules.partial_rule),
        partial_min_tier=max(1, int(rules.partial_min_tier) - 1),
        partial_tiers_down=int(rules.partial_tiers_down),
        partial_cooldown=_ms(rules.partial_cooldown_s),
        slice_threshold=float(rules.slice_threshold_usd),
        slice_fraction=float(rules.slice_fraction),
        settle_fill=rules.settle == "fill",
        backstop_fraction=float(rules.backstop_mm_fraction),
        mark_method=E.MARK_METHOD_NAMES.index(rules.mark_method),
        ema_slow=float(max(1, _ms(rules.mark_ema_slow_s))),
        ema_fast=float(max(1, _ms(rules.mark_ema_fast_s))),
        adl_drawdown=rules.adl_drawdown_pct / 100.0,
        adl_window=max(1, _ms(rules.adl_drawdown_window_h * 3600.0)),
        adl_ranking=E.ADL_RANKING_NAMES.index(rules.adl_ranking),
        adl_price=E.ADL_PRICE_NAMES.index(rules.adl_price),
        adl_policy=E.ADL_POLICY_NAMES.index(policy),
        adl_trigger=E.ADL_TRIGGER_NAMES.index(rules.adl_trigger),
        settle_fillable=rules.settle == "fillable",
        fill_ba=float(rules.fillable_ba),
        fill_smmr=float(rules.fillable_smmr),
        fee_cap=bool(rules.liquidation_fee_cap),
        block_ticks=max(1, -(-_ms(rules.block_s) // oracle_ms)),
        block_pos_frac=rules.block_position_pct / 100.0,
        block_pos_min=float(rules.block_position_min_usd),
        block_acct=float(rules.block_account_usd) if rules.block_account_usd > 0 else np.inf,
        block_fund_loss=float(rules.block_fund_loss_usd) if rules.block_fund_loss_usd > 0 else np.inf,
        block_liquidations=int(rules.block_liquidations),
        block_deleveragings=int(rules.block_deleveragings),
        deleverage_holders=int(rules.deleverage_holders),
    )


def _params(inp):
    """The kernel scalars: the fields of :class:`sim.state.Params`, taken from the inputs by name."""
    return S.Params(**{name: getattr(inp, name) for name in S.Params._fields})


def simulate(inp, progress=None, n_chunks=50):
    """Run the kernels on prepared inputs; ``progress(fraction)`` is called after each time chunk."""
    pos, tiers, book, trig, ev, mk, sp, spp, fills, series, perp = allocate(inp)
    lp_start = np.where(pos.status == E.FLAT, np.nan, pos.lp)
    p = _params(inp)
    pc = S.perp_cells(perp)
    start_nb(ev, mk, perp.clk, p)
    stops = np.linspace(0, inp.duration, n_chunks + 1)[1:].astype(np.int64)
    for t_stop in stops:
        while True:
            status = run_nb(pos, tiers, book, trig, ev, mk, sp, spp, fills, series, pc, p, t_stop)
            if status != E.ST_FILLS_FULL:
                break
            fills = S.grow_fills(fills, 2 * fills.t.size)
        if progress is not None:
            progress(float(t_stop) / max(inp.duration, 1))
        if status == E.ST_FINISHED:
            break
    return _wrap(inp, pos, fills, series, perp, lp_start, sp)


def _wrap(inp, pos, fills, series, perp, lp_start, sp):
    px, ac, tot = perp.px, perp.acc, perp.tot
    nf = perp.clk["nfills"]
    f = np.zeros(nf, FILL_DTYPE)
    f["t"] = fills.t[:nf] / 1000.0
    for name, col in (
        ("kind", fills.kind),
        ("account", fills.account),
        ("side", fills.side),
        ("qty", fills.qty),
        ("price", fills.price),
        ("bankruptcy_price", fills.bp),
        ("fund_delta", fills.fund_delta),
        ("fee", fills.fee),
        ("mark", fills.mark),
        ("equity", fills.equity),
        ("adl_cause", fills.cause),
    ):
        f[name] = col[:nf]
    ns = perp.clk["nseries"]
    ser = np.zeros(ns, SERIES_DTYPE)
    for k, name in enumerate(SERIES_DTYPE.names):
        ser[name] = series[:ns, k]
    mark = px["mark"]
    n = pos.side.size
    spp = inp.spot.params
    n_other = 6 if (spp.on or spp.flow_on) else 4  # the arbitrageurs' and the flow's perp legs, when they trade
    acc = _account_rows(inp, pos, lp_start, mark, n_other)
    if inp.arr_on:  # arrival rows: the entry at arrival (NaN: never opened); posting margin is not a top-up
        rows = acc[inp.arr_row0 : n]
        opened = pos.status[inp.arr_row0 :] != E.FLAT
        rows["entry_price"] = np.where(opened, pos.entry[inp.arr_row0 :], np.nan)
        rows["topup_usd"] = 0.0
    other = acc[n:]
    other["id"] = np.arange(n, n + n_other)
    other["kind"] = (E.MAKER, E.NOISE, E.FUND, E.FEE, E.ARBITRAGEUR, E.FLOW)[:n_other]
    other["mode"] = other["status"] = -1
    for name in ("leverage", "entry_price", "liquidation_price_start"):
        other[name] = np.nan
    other["position_start"] = 0.0
    other["cash_start"] = (0.0, 0.0, inp.fund_initial, 0.0, 0.0, 0.0)[:n_other]
    other["position_end"] = (ac["maker_q"], ac["noise_q"], ac["fund_q"], 0.0, *sp.perp_q)[:n_other]
    other["cash_end"] = (ac["maker_cash"], ac["noise_cash"], ac["fund_cash"], ac["fee_cash"], *sp.perp_cash)[:n_other]
    other["equity_start"] = other["cash_start"]
    other["equity_end"] = other["cash_end"] + other["position_end"] * mark
    return Raw(
        fills=f,
        series=ser,
        accounts=acc,
        fund_balance=float(ac["fund_bal"]),
        fund_cash=float(ac["fund_cash"]),
        fund_q=float(ac["fund_q"]),
        final_mark=float(mark),
        lp_start=lp_start,
        extremes={
            "min_last": float(px["min_last"]),
            "max_last": float(px["max_last"]),
            "min_mark": float(px["min_mark"]),
            "max_mark": float(px["max_mark"]),
        },
        full=int(tot["full"]),
        partial=int(tot["partial"]),
        behaviour={
            "stop_fills": int(tot["stops"]),
            "stop_notional_usd": float(tot["stop_usd"]),
            "topups": int(tot["topups"]),
            "topup_usd": float(tot["topup_usd"]),
            "funding_settlements": int(tot["fundings"]),
            "funding_paid_by_traders_usd": float(tot["funding_usd"]),
            "funding_rate_last_pct": float(px["funding_rate"]) * 100.0,
            **(
                {"arrivals": int(tot["arrivals"]), "arrival_notional_usd": float(tot["arrival_usd"])}
                if inp.arr_on
                else {}
            ),
        },
        spot=spot_world.ledger(inp.spot, sp, series[:ns, 0]) if spp.on else None,
    )


def path_within(inp):
    """Prices of the exogenous path the run actually reached: its points up to the end of the run,
    plus the path's value at that end."""
    inside = inp.path_p[inp.path_t <= inp.duration]
    at_end = path_price_nb(inp.path_t, inp.path_p, inp.duration)
    return np.append(inside, at_end)


def refuse_several(scn, what="liqsim compare and sweep"):
    """A scenario of several instruments runs through :func:`sim.multi_result.run` (``sim.run`` and ``liqsim run``
    go there): refuse it here, where every single-market path passes, rather than run its first market alone."""
    assets = [asset for asset, _ in scn.instruments.items()]
    if assets:
        raise ScenarioError(
            f"instruments = {', '.join(assets)}: {what} run one market for now; a scenario of several instruments "
            "runs with liqsim run or sim.run (remove [instruments] and [portfolio] to study the first market alone)"
        )


def run(scn, progress=None):
    """Run a validated scenario end to end and return a :class:`sim.result.Result`."""
    refuse_several(scn)
    from sim._compile import compile_clock, helper_wanted

    helper = _start_compile_helper() if helper_wanted(_LOOP) else None
    try:
        with compile_clock() as clock:  # compiling or loading kernels is not the run's time
            t0 = time.perf_counter()
            inp = prepare(scn)
            t_prep = time.perf_counter()
            c_prep = clock.seconds
            raw = simulate(inp, progress=progress)
            t_run = time.perf_counter()
    finally:
        if helper is not None:
            helper.stop()
    compile_s = clock.seconds
    timings = {
        "prepare_s": t_prep - t0 - c_prep,
        "simulate_s": t_run - t_prep - (compile_s - c_prep),
        "compile_s": compile_s,  # prepare_s + simulate_s + compile_s = total_s
        "total_s": t_run - t0,
    }
    return result(scn, inp, raw, timings)


def result(scn, inp, raw, timings):
    """A :class:`sim.result.Result` of one market's run (``raw``: :func:`simulate`'s, or one market's of a run of
    several): its summary (:func:`sim.metrics.summarize`) and records; ``timings`` as :func:`run` reports them."""
    from sim import metrics
    from sim.outputs import versions
    from sim.result import Result

    meta = {
        "fund_initial": inp.fund_initial,
        "fund_balance_end": raw.fund_balance,
        "bad_debt_usd": raw.bad_debt,
        "final_mark": raw.final_mark,
        "path_p": path_within(inp),
        "fundamental_t_s": inp.path_t / 1000.0,
        "fundamental_p": inp.path_p,
        "duration_s": inp.duration / 1000.0,
        "fund_equity_end": raw.fund_cash + raw.fund_q * raw.final_mark,
        **raw.extremes,
        "start_price": inp.start_price,
        "shock_start_s": scn.shock.start_s if scn.shock.kind != "none" else None,
        "n_positions": int(np.sum(inp.pos_kind[: inp.arr_row0 if inp.arr_on else None] == E.TRADER)),
        "runtime_s": timings["prepare_s"] + timings["simulate_s"],
        "behaviour": raw.behaviour,
    }
    summary = metrics.summarize(raw.fills, raw.series, raw.accounts, meta)
    if raw.spot is not None:
        from sim.feedback import prices_section

        summary["prices"] = prices_section(raw.spot, raw.series)
    return Result(
        scenario=scn,
        summary=summary,
        fills=raw.fills,
        series=raw.series,
        accounts=raw.accounts,
        seed=scn.scenario.seed,
        versions=versions(),
        timings=timings,
        spot=raw.spot,
    )


#: The kernel whose compile a helper process shortens: the event loop, which compiles the kernels it calls as
#: it is typed (see sim._compile).
_LOOP = "sim.kernels.loop.run_nb"


def _start_compile_helper():
    """Start ``python -m sim.compiling --compile-helper`` on this very package (see
    :func:`sim.compiling.compile_helper`)."""
    import os
    from pathlib import Path

    from sim._compile import Helper

    env = dict(os.environ, LIQSIM_COMPILE_HELPER="0")
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    try:
        return Helper([sys.executable, "-m", "sim.compiling", "--compile-helper", str(os.getpid())], env=env)
    except OSError:  # no process to spare: compile alone
        return None


def _account_rows(inp, pos, lp_start, mark, n_other):
    """The account table: one row per trader position (filled by the kernel) and ``n_other`` rows after them."""
    acc = np.zeros(pos.side.size + n_other, ACCOUNT_DTYPE)  # zeros, not empty: padding bytes must be reproducible
    pack_positions_nb(
        acc,
        inp.pos_side,
        inp.pos_size,
        inp.pos_entry,
        inp.pos_wallet,
        inp.pos_reserve,
        inp.pos_kind,
        inp.pos_mode,
        inp.pos_leverage,
        lp_start,
        pos,
        inp.start_price,
        mark,
    )
    return acc
