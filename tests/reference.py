"""Slow, pure-Python reference engine: the test oracle for ``docs/engine.md``.

This module re-implements the engine contract as plainly as possible, for the differential tests:

* plain Python floats, ints, lists and dicts (inputs are converted once at the start);
* ``heapq`` for the event queue, keyed by ``(time_ms, priority, seq)``;
* triggered positions are found by scanning *all* positions every time, and every key / liquidation
  price is recomputed from the position's current ``(W, Q, EP)`` when it is needed (no sorted index);
* formulas are written in the same order as the page so the floats agree closely with the kernels.

Section numbers (§) refer to ``docs/engine.md``.

Choices the page leaves open are resolved as follows (the simplest reading):

* Initial state: ``last = mark = previous mark = index = start_price``; every book level is "full"
  (size 0 touched at time −∞, so the first read gives the target size).
* ORACLE, UNWIND and SAMPLE run at t = 0 and then every interval (an interval ≤ 0 means "only at
  t = 0"); NOISE order k runs at ``noise_t[k]``; only events with ``t ≤ duration`` are pushed, and the
  initial pushes are ORACLE, NOISE (first), UNWIND, SAMPLE.
* Book walks and best-price scans go from offset 1 outwards and stop at offset D or at the edge of the
  grid; levels below the "quoted" threshold ``lot·1e-6`` are skipped (not taken from) but the walk
  goes on. A side with nothing quoted has best price NaN, and then mid = the fair price.
* The filled quantity of an order is the sum of the quantities taken level by level and its price is
  the VWAP ``Σ qty·price / Σ qty``. Orders with quantity ≤ 0 are skipped, and an order that fills
  nothing writes no fill record.
* The TAKEOVER record belongs to the liquidated position (account = its row, side = ``−s``, the side
  of its liquidation order); the fund's own trade is booked on the fund account.
* An ADL'd position whose size falls to ``≤ lot·1e-9`` becomes ADL_CLOSED (its tiny remainder, if
  any, is kept, so money stays conserved). A fully liquidated position ends LIQUIDATED with Q = 0
  (W keeps whatever the settlement formulas gave, i.e. ≈ 0).
* Path interpolation: ``p_k + (p_{k+1} − p_k)·(t − t_k)/(t_{k+1} − t_k)``.
* Endogenous prices (§12): the lagged views of the perp makers' inventory and of the basis keep the whole history
  (one entry per oracle tick) where the kernels keep a ring of the last ``lag + 1``; the spot ledger is a list of
  six rows (enums.SPOT_*) of one entry per venue.
"""

import heapq
import math

from sim import enums

LN2 = math.log(2)
NAN = float("nan")
INF = float("inf")


# ---------------------------------------------------------------------------------------------------
# §3 Margin
# ---------------------------------------------------------------------------------------------------


def reference_tier(notional, tier_floor):
    """Index of the last tier ``j`` with ``tier_floor[j] <= notional`` (−1 if there is none)."""
    j = -1
    for k in range(len(tier_floor)):
        if float(tier_floor[k]) <= notional:
            j = k
    return j


def reference_liquidation_price(side, size, entry, wallet, tier_floor, tier_mmr, tier_cum, basis=0):
    """Liquidation price of one position (§3).

    ``f(P) = W + s·Q·(P − EP) − MM(P)`` is monotone; the root's tier ``j`` is the last tier with
    ``s·f(floor[j]/Q) ≤ 0``; then the one-tier closed form, clipped to that tier's price bracket.
    A long with no such tier can never be liquidated (0). With MM on the entry value (basis 1), MM is a
    constant and ``LP = EP − s·(W − MM)/Q`` (at least 0). With tiers set in size (basis 2, floors and
    amounts in coins), ``MM(P) = P·(Q·MMR − cum)`` with the tier of ``Q``: ``LP = (W − s·Q·EP)/(Q·MMR − cum −
    s·Q)`` (at least 0).
    """
    s = int(side)
    Q = float(size)
    EP = float(entry)
    W = float(wallet)
    floors = _floats(tier_floor)
    if basis == 2:
        j = reference_tier(Q, floors)
        return max((W - s * Q * EP) / (Q * float(tier_mmr[j]) - float(tier_cum[j]) - s * Q), 0.0)
    if basis == 1:
        j = reference_tier(Q * EP, floors)
        mm = Q * EP * float(tier_mmr[j]) - float(tier_cum[j])
        return max(EP - s * (W - mm) / Q, 0.0)

    def f(price):
        notional = Q * price
        j = reference_tier(notional, floors)
        return W + s * Q * (price - EP) - (notional * float(tier_mmr[j]) - float(tier_cum[j]))

    j = -1
    for k in range(len(floors)):
        if s * f(floors[k] / Q) <= 0.0:
            j = k
    if j < 0:
        return 0.0
    lp = (W + float(tier_cum[j]) - s * Q * EP) / (Q * float(tier_mmr[j]) - s * Q)
    lp = max(lp, floors[j] / Q)
    if j + 1 < len(floors):
        lp = min(lp, floors[j + 1] / Q)
    return lp


def reference_bankruptcy_price(side, size, entry, wallet):
    """``BP = EP − s·W/Q`` (§3)."""
    return float(entry) - int(side) * float(wallet) / float(size)


def reference_key(side, size, entry, wallet, tier_floor, tier_mmr, tier_cum, basis=0):
    """Trigger key: ``LP`` for a long, ``−LP`` for a short (§3)."""
    lp = reference_liquidation_price(side, size, entry, wallet, tier_floor, tier_mmr, tier_cum, basis)
    return lp if int(side) > 0 else -lp


# ---------------------------------------------------------------------------------------------------
# The engine
# ---------------------------------------------------------------------------------------------------


def reference_adl_score(s, Q, EP, W, m, E, mm, ranking):
    """§7.10: the ADL ranking of a candidate (side ``s``, size ``Q``, entry ``EP``, wallet ``W``) at the mark ``m``,
    with ``E`` its equity and ``mm`` its maintenance margin there; higher is deleveraged first.

    The one place where this engine must match the kernels operation for operation rather than up to rounding: a
    queue is ordered by these floats, so scores that are equal in exact arithmetic but round apart (two positions
    with the same entry and the same wallet per unit, say) must round the same way in both engines, or the two
    order them differently. Each expression is therefore the page's, evaluated left to right with the same
    operations as :func:`sim.kernels.adl.adl_score_nb` (IEEE double, no reassociation); tests/test_adl_ties.py
    checks the two bit for bit.
    """
    if ranking == enums.RANK_LEVERAGE_PNL:
        return max(0.0, s * Q * (m - EP)) / max(1.0, W) * mm / E
    lev = Q * m / E
    if ranking == enums.RANK_HYPERLIQUID:
        return (m / EP if s > 0 else EP / m) * lev
    pnl = s * (m - EP) / EP
    return pnl * lev if pnl > 0.0 else pnl / lev


SPOT_FAR_END = 0.95  # a spot trade stops where its venue's price would have moved 95% (§12.2)


def _consumed(e, d, a):
    """§12.2: depth consumed (USD at the centre) for a mid a fraction ``e`` below the centre, book depth ``d``."""
    return math.copysign(d * (abs(e) / 0.01) ** a, e)


def _displacement(c, d, a):
    """§12.2: the mid's fraction below the centre once ``c`` USD of depth was consumed (inverse of _consumed)."""
    return math.copysign(0.01 * (abs(c) / d) ** (1.0 / a), c)


def _area(u, d, a):
    """§12.2: ∫₀ᵘ (1 − displacement(c)) dc, the value (per unit of centre price) of consuming depth 0 … u."""
    b = 1.0 + 1.0 / a
    return u - 0.01 * d ** (-1.0 / a) * abs(u) ** b / b


def _floats(a):
    return [float(v) for v in a]


def _ints(a):
    return [int(v) for v in a]


class _Reference:
    """State of one reference run. Everything is a plain Python value."""

    def __init__(self, inp):
        # positions (§2)
        self.side = _ints(inp.pos_side)
        self.Q = _floats(inp.pos_size)
        self.EP = _floats(inp.pos_entry)
        self.W = _floats(inp.pos_wallet)
        self.kind = _ints(inp.pos_kind)
        self.n = len(self.side)
        # a row with nothing to hold (a counterparty facing a balanced book) is flat from the start
        self.status = [enums.OPEN if q > inp.lot * 1e-9 else enums.FLAT for q in self.Q]
        # the rows each side lists for ADL (open at the start, and every arrival row), in id order: a row's place
        # in its side's list and the list's length (the random ranking walks it from a random start)
        arr_row0 = int(inp.arr_row0) if bool(inp.arr_on) else self.n
        self.listed_at = [0] * self.n
        self.listed_n = {1: 0, -1: 0}
        self.listed_rows = {1: [], -1: []}
        for i in range(self.n):
            if self.status[i] == enums.OPEN or i >= arr_row0:
                self.listed_at[i] = self.listed_n[self.side[i]]
                self.listed_n[self.side[i]] += 1
                self.listed_rows[self.side[i]].append(i)
        self.eligible_tick = [0] * self.n  # first oracle tick at which the row may be liquidated
        self.cooldown = [-INF] * self.n  # slices: until when liquidation orders take the whole position
        # behaviour (§9): stop prices (NaN = none) and whether each stop has been used, top-up reserves,
        # reaction delays and the time a pending top-up is due (None = none pending)
        self.stop = _floats(inp.pos_stop)
        self.stop_used = [False] * self.n
        self.reserve = _floats(inp.pos_reserve)
        self.reserve0 = list(self.reserve)
        self.delay = _ints(inp.pos_delay)
        self.tu_due = [None] * self.n
        self.pending = []  # (due, row)

        # tiers
        self.tier_floor = _floats(inp.tier_floor)
        self.tier_mmr = _floats(inp.tier_mmr)
        self.tier_cum = _floats(inp.tier_cum)
        self.mm_basis = int(inp.tier_basis)  # 0 mark notional, 1 entry value, 2 position size (coins)

        # book (§5)
        self.tick = float(inp.tick)
        self.lot = float(inp.lot)
        self.quoted_min = self.lot * 1e-6
        self.open_min = self.lot * 1e-9
        self.grid_lo = int(inp.grid_lo)
        self.n_levels = int(inp.n_levels)
        self.prof_bid = _floats(inp.prof_bid)
        self.prof_ask = _floats(inp.prof_ask)
        self.D = len(self.prof_bid) - 1
        self.bid_q = [0.0] * self.n_levels
        self.bid_t = [-INF] * self.n_levels
        self.ask_q = [0.0] * self.n_levels
        self.ask_t = [-INF] * self.n_levels

        # exogenous inputs
        self.path_t = _ints(inp.path_t)
        self.path_p = _floats(inp.path_p)
        self.noise_t = _ints(inp.noise_t)
        self.noise_side = _ints(inp.noise_side)
        self.noise_qty = _floats(inp.noise_qty)
        # arrivals (§9): candidate k opens row arr_row0 + k, flat until then, its margin held in its reserve
        self.arr_t = _ints(inp.arr_t)
        self.arr_u = _floats(inp.arr_u)
        self.arr_lev = _floats(inp.arr_lev)
        self.arr_on = bool(inp.arr_on)
        self.arr_row0 = int(inp.arr_row0) if self.arr_on else self.n
        self.arr_dip_mult = float(inp.arr_dip_mult)
        self.arr_dip_dd = float(inp.arr_dip_dd)
        self.arr_dip_window = int(inp.arr_dip_window)
        self.mark_history = []  # (t, mark) at every oracle tick, for the arrivals' rolling peak
        self.dip_peak = float(inp.start_price)

        # parameters (§10)
        self.duration = int(inp.duration)
        self.oracle_interval = int(inp.oracle_interval)
        self.sample_interval = int(inp.sample_interval)
        self.unwind_interval = int(inp.unwind_interval)
        self.kappa = float(inp.index_coupling)
        self.funding_rate = float(inp.funding_rate)
        self.funding_interval = int(inp.funding_interval)
        self.time_to_funding = int(inp.time_to_funding)
        self.basis_window = int(inp.basis_window)
        self.h = float(inp.refill_half_life)
        self.clearance = float(inp.clearance)
        self.band = float(inp.band)
        self.taker_fee = float(inp.taker_fee)
        self.noise_band = float(inp.noise_band)
        self.fund_initial = float(inp.fund_initial)
        self.max_inventory = float(inp.max_inventory)
        self.unwind_fraction = float(inp.unwind_fraction)
        self.unwind_band = float(inp.unwind_band)
        self.adl_enabled = bool(int(inp.adl_enabled))
        self.start_price = float(inp.start_price)
        # venue rules (§7, §10)
        self.partial_rule = int(inp.partial_rule)
        self.partial_min_tier = int(inp.partial_min_tier)
        self.partial_tiers_down = int(inp.partial_tiers_down)
        self.partial_cooldown = int(inp.partial_cooldown)
        self.slice_threshold = float(inp.slice_threshold)
        self.slice_fraction = float(inp.slice_fraction)
        self.settle_fill = bool(inp.settle_fill)
        self.backstop = float(inp.backstop_fraction)
        self.mark_method = int(inp.mark_method)
        self.ema_slow = float(inp.ema_slow)
        self.ema_fast = float(inp.ema_fast)
        self.adl_drawdown = float(inp.adl_drawdown)
        self.adl_window = int(inp.adl_window)
        self.adl_ranking = int(inp.adl_ranking)
        self.adl_price = int(inp.adl_price)
        self.adl_policy = int(inp.adl_policy)
        self.adl_trigger = int(inp.adl_trigger)
        self.adl_rng = int(inp.adl_seed)  # random ranking (dYdX): the minimal standard generator's state
        self.settle_fillable = bool(inp.settle_fillable)
        self.fill_ba = float(inp.fill_ba)
        self.fill_smmr = float(inp.fill_smmr)
        self.fee_cap = bool(inp.fee_cap)
        self.block_ticks = int(inp.block_ticks)
        self.block_pos_frac = float(inp.block_pos_frac)
        self.block_pos_min = float(inp.block_pos_min)
        self.block_acct = float(inp.block_acct)
        self.block_fund_loss = float(inp.block_fund_loss)
        self.block_liquidations = int(inp.block_liquidations)
        self.block_deleveragings = int(inp.block_deleveragings)
        self.deleverage_holders = int(inp.deleverage_holders)
        # dYdX's blocks: the block the counters are for, its orders and deleveragings so far, its random draw, each
        # side's deleveraging start for a block, and the deleveraged row whose pool is being matched
        self.blk = 0
        self.nliq = 0
        self.ndel = 0
        self.blk_x = 0
        self.blk_x_block = 0
        self.del_start = {1: 0, -1: 0}
        self.del_start_block = {1: 0, -1: 0}
        self.adl_row = None
        self.depth_shock_factor = float(inp.depth_shock_factor)
        self.depth_shock_start = int(inp.depth_shock_start)
        self.depth_shock_end = int(inp.depth_shock_end)
        self.wd_on = bool(inp.wd_on)
        self.wd_vol_half = float(inp.wd_vol_half)
        self.wd_flow_half = float(inp.wd_flow_half)
        self.wd_window = float(inp.wd_window)
        self.wd_floor = float(inp.wd_floor)
        self.wd_recovery = float(inp.wd_recovery)
        self.wd_spread = float(inp.wd_spread)
        self.wd_gap = 0.0
        self.stops_on = bool(inp.stops_on)
        self.stop_on_mark = bool(inp.stop_on_mark)
        self.tu_on = bool(inp.tu_on)
        self.tu_mmr = [m / float(inp.tu_threshold) for m in self.tier_mmr]
        self.tu_cum = [c / float(inp.tu_threshold) for c in self.tier_cum]
        self.tu_target = float(inp.tu_target)
        self.funding_on = bool(inp.funding_on)
        self.funding_fixed = float(inp.funding_fixed)
        self.funding_interest = float(inp.funding_interest)
        self.funding_clamp = float(inp.funding_clamp)
        self.funding_cap = float(inp.funding_cap)
        self.funding_scale = float(inp.funding_scale)
        self.funding_at_index = bool(inp.funding_at_index)
        self.funding_linear = bool(inp.funding_linear)
        self.next_funding = self.time_to_funding
        self.premium = [0.0, 0.0, 0]  # weighted sum, sum of weights, samples since the last settlement

        # prices (§4)
        self.index = self.start_price
        self.quote = self.start_price  # §12.6: the centre of the perp makers' quotes
        self.mark = self.start_price
        self.prev_mark = self.start_price
        self.last = self.start_price
        self.basis = None  # ring buffer, created at the first ORACLE
        self.basis_count = 0
        self.ema = {"slow": [0.0, 0.0], "fast": [0.0, 0.0]}  # numerator, denominator
        self.wd_phi = 1.0  # makers' share of their normal depth (withdrawal)
        self.wd_vol = 0.0
        self.wd_flow = 0.0
        self.flow_acc = 0.0  # signed taker notional since the last oracle tick
        self.wd_prev = self.start_price
        self.fund_history = []  # (t, fund equity at the mark) at every oracle tick, for the rolling peak
        self.fund_peak = float(inp.fund_initial)

        # other accounts
        self.maker_cash = 0.0
        self.maker_pos = 0.0
        self.noise_cash = 0.0
        self.noise_pos = 0.0
        self.fee_cash = 0.0
        self.fund_cash = self.fund_initial
        self.fund_q = 0.0
        self.fund_avg = 0.0
        self.fund_bal = self.fund_initial

        # bookkeeping
        self.oracle_number = 0
        self.pool_side = 0  # the ADL pools of this (tick, side): bankrupt side, and per cause (1 deficit,
        self.pools = {c: [0.0, 0.0] for c in (1, 2, 3)}  # 2 drawdown, 3 capacity) quantity and Σ quantity × B
        self.liquidated_notional = 0.0
        self.fills = []
        self.series = []
        self.spot_init(inp.spot)
        self.heap = []
        self.seq = 0
        self.t = 0

    # -- accounts -----------------------------------------------------------------------------------

    @property
    def MAKER(self):
        return self.n

    @property
    def NOISE(self):
        return self.n + 1

    @property
    def FUND(self):
        return self.n + 2

    @property
    def FEE(self):
        return self.n + 3

    def is_open(self, i):
        return self.status[i] == enums.OPEN and self.Q[i] > self.open_min

    def liquidation_price(self, i):
        return reference_liquidation_price(
            self.side[i],
            self.Q[i],
            self.EP[i],
            self.W[i],
            self.tier_floor,
            self.tier_mmr,
            self.tier_cum,
            self.mm_basis,
        )

    def armed(self, i):
        """§9: a top-up is possible (reserve left, none pending); the key is then the top-up price."""
        return self.reserve[i] > 0.0 and self.tu_due[i] is None

    def key(self, i):
        if self.armed(i):
            lp = reference_liquidation_price(
                self.side[i], self.Q[i], self.EP[i], self.W[i], self.tier_floor, self.tu_mmr, self.tu_cum, self.mm_basis
            )
        else:
            lp = self.liquidation_price(i)
        return lp if self.side[i] > 0 else -lp

    def bankruptcy_price(self, i):
        return self.EP[i] - self.side[i] * self.W[i] / self.Q[i]

    def tier(self, notional):
        return reference_tier(notional, self.tier_floor)

    def equity(self, i, price):
        return self.W[i] + self.side[i] * self.Q[i] * (price - self.EP[i])

    def record(self, kind, account, side, qty, price, bankruptcy_price, fund_delta, fee, equity=NAN, cause=0):
        self.fills.append(
            (self.t, kind, account, side, qty, price, bankruptcy_price, fund_delta, fee, self.mark, equity, cause)
        )
        if kind in (enums.LIQUIDATION, enums.PARTIAL, enums.TAKEOVER, enums.ADL):
            self.liquidated_notional += qty * price

    def fund_trade(self, side, qty, price):
        """The fund trades ``qty`` (> 0) of side ``side`` at ``price``; returns the realized PnL."""
        dq = side * qty
        fq = self.fund_q
        realized = 0.0
        if fq == 0.0 or (fq > 0.0) == (dq > 0.0):
            # opens or adds: size-weighted average cost
            self.fund_avg = (abs(fq) * self.fund_avg + qty * price) / (abs(fq) + qty)
            self.fund_q = fq + dq
        else:
            # reduces (and maybe flips): realize on the reduced part
            sign = 1.0 if fq > 0.0 else -1.0
            reduced = min(qty, abs(fq))
            realized = sign * reduced * (price - self.fund_avg)
            self.fund_q = fq + dq
            if qty > abs(fq):
                self.fund_avg = price  # the excess opens at the trade price
        self.fund_cash -= dq * price
        self.fund_bal += realized
        return realized

    # -- prices (§4) --------------------------------------------------------------------------------

    def path(self, t):
        m = len(self.path_t)
        if m == 0:
            return self.start_price
        if t < self.path_t[0]:
            return self.path_p[0]
        k = 0
        for j in range(m):
            if self.path_t[j] <= t:
                k = j
        if k == m - 1:
            return self.path_p[m - 1]
        t0, t1 = self.path_t[k], self.path_t[k + 1]
        p0, p1 = self.path_p[k], self.path_p[k + 1]
        return p0 + (p1 - p0) * (t - t0) / (t1 - t0)

    # -- book (§5) ----------------------------------------------------------------------------------

    def levels(self, bid):
        """Book levels of one side from offset 1 outwards: list of ``(d, absolute tick, grid index)``.

        Stops at offset D and at the edge of the grid.
        """
        phi = self.quote / self.tick  # the makers quote around their skewed centre
        out = []
        for d in range(1, self.D + 1):
            if bid:
                a = math.ceil(phi) - d
            else:
                a = math.floor(phi) + d
            i = a - self.grid_lo
            if i < 0 or i >= self.n_levels:
                break
            out.append((d, a, i))
        return out

    def level_size(self, bid, d, i, t):
        """Current size of a level at offset ``d`` (grid index ``i``) at time ``t``."""
        prof = self.prof_bid if bid else self.prof_ask
        if self.wd_on and d <= self.wd_gap:  # the makers' withdrawal widens the book
            return 0.0
        shocked = self.depth_shock_start <= t < self.depth_shock_end  # the liquidity shock
        scale = self.depth_shock_factor if shocked else 1.0
        if self.wd_on:
            scale *= self.wd_phi
        T = (prof[d] if 1 <= d <= self.D else 0.0) * scale
        if T == 0.0:
            return 0.0
        if bid:
            q0, t0 = self.bid_q[i], self.bid_t[i]
        else:
            q0, t0 = self.ask_q[i], self.ask_t[i]
        dt = t - t0
        if dt >= 60 * self.h:
            return T
        size = T - (T - q0) * math.exp(-LN2 * dt / self.h)
        return min(size, T) if (shocked or self.wd_on) else size

    def best(self, bid, t):
        for d, a, i in self.levels(bid):
            if self.level_size(bid, d, i, t) >= self.quoted_min:
                return a * self.tick
        return NAN

    def mid(self, t):
        bb = self.best(True, t)
        ba = self.best(False, t)
        if math.isnan(bb) or math.isnan(ba):
            return self.quote
        return (bb + ba) / 2

    def depth(self, bid, t):
        fair = self.quote
        total = 0.0
        for d, a, i in self.levels(bid):
            size = self.level_size(bid, d, i, t)
            if size < self.quoted_min:
                continue
            price = a * self.tick
            if bid and price >= fair * 0.99:
                total += size * price
            elif not bid and price <= fair * 1.01:
                total += size * price
        return total

    def market(self, side, qty, limit):
        """IOC market order of ``side`` against the book; the maker is the counterparty.

        Returns ``(filled, vwap)``; ``(0.0, nan)`` when nothing trades.
        """
        if not qty > 0.0:
            return 0.0, NAN
        t = self.t
        bid = side < 0  # a sell walks the bids, a buy the asks
        remaining = qty
        filled = 0.0
        notional = 0.0
        for d, a, i in self.levels(bid):
            if not remaining > 0.0:
                break
            price = a * self.tick
            if side < 0 and not price >= limit:
                break
            if side > 0 and not price <= limit:
                break
            size = self.level_size(bid, d, i, t)
            if size < self.quoted_min:
                continue
            take = min(size, remaining)
            if bid:
                self.bid_q[i] = size - take
                self.bid_t[i] = t
            else:
                self.ask_q[i] = size - take
                self.ask_t[i] = t
            filled += take
            notional += take * price
            remaining -= take
            self.last = price
        if not filled > 0.0:
            return 0.0, NAN
        self.flow_acc += side * notional  # the taker flow makers see (withdrawal)
        filled = qty - remaining  # exact when the order fills completely
        vwap = notional / filled
        self.maker_pos -= side * filled
        self.maker_cash += side * filled * vwap
        return filled, vwap

    # -- events -------------------------------------------------------------------------------------

    def push(self, t, priority, payload=None):
        if t > self.duration:
            return
        heapq.heappush(self.heap, (t, priority, self.seq, payload))
        self.seq += 1

    def run(self):
        self.push(0, enums.EV_ORACLE)
        if len(self.noise_t) > 0:
            self.push(self.noise_t[0], enums.EV_NOISE, 0)
        self.push(0, enums.EV_UNWIND)
        self.push(0, enums.EV_SAMPLE)
        if len(self.arr_t) > 0:
            self.push(self.arr_t[0], enums.EV_ARRIVAL, 0)
        while self.heap:
            t, priority, _seq, payload = heapq.heappop(self.heap)
            self.t = t
            if priority == enums.EV_ORACLE:
                self.on_oracle()
                if self.oracle_interval > 0:
                    self.push(t + self.oracle_interval, enums.EV_ORACLE)
            elif priority == enums.EV_NOISE:
                self.on_noise(payload)
                if payload + 1 < len(self.noise_t):
                    self.push(self.noise_t[payload + 1], enums.EV_NOISE, payload + 1)
            elif priority == enums.EV_UNWIND:
                self.on_unwind()
                if self.unwind_interval > 0:
                    self.push(t + self.unwind_interval, enums.EV_UNWIND)
            elif priority == enums.EV_ARRIVAL:
                self.on_arrival(payload)
                if payload + 1 < len(self.arr_t):
                    self.push(self.arr_t[payload + 1], enums.EV_ARRIVAL, payload + 1)
            elif priority == enums.EV_SAMPLE:
                self.on_sample()
                if self.sample_interval > 0:
                    self.push(t + self.sample_interval, enums.EV_SAMPLE)
            else:  # pragma: no cover
                raise AssertionError(priority)
            while self.stop_one():
                pass
        return self.result()

    def on_oracle(self):
        t = self.t
        x = self.path(t)  # the fundamental value under endogenous prices (§12)
        if self.spot_on or self.flow_on:
            self.spot_tick(x)
        if self.spot_on:
            self.index = self.spot_index(t, self.index)
        else:
            self.index = x + self.kappa * (self.last - x)
        self.quote = self.maker_quote() if self.skew != 0.0 else self.index
        if self.wd_on:
            self.withdraw()

        mid = self.mid(t)
        sample = mid - self.index
        if self.basis is None:
            self.basis = [sample] * self.basis_window
        else:
            self.basis[self.basis_count % self.basis_window] = sample
        self.basis_count += 1
        total = 0.0
        for b in self.basis:
            total += b
        mean_basis = total / self.basis_window

        if self.mark_method == enums.MARK_ORACLE:
            mark = self.index  # margin at the oracle price (dYdX)
        elif self.mark_method == enums.MARK_INDEX_BASIS:
            mark = self.index + mean_basis
        elif self.mark_method == enums.MARK_HYPERLIQUID:
            bid, ask = self.best(True, t), self.best(False, t)
            book_px = sorted(
                [self.index if math.isnan(bid) else bid, self.index if math.isnan(ask) else ask, self.last]
            )[1]
            slow = self.ema_update("slow", sample, self.ema_slow)
            fast = self.ema_update("fast", book_px, self.ema_fast)
            mark = sorted([self.index + slow, book_px, fast])[1]
        else:
            I = self.funding_interval
            tau = I - ((I - self.time_to_funding + t) % I)
            term = self.index * (1 + self.funding_rate * tau / I)  # the last settled rate (§9)
            mark = sorted([term, self.index + mean_basis, self.last])[1]
        self.prev_mark = self.mark
        self.mark = mark
        if self.funding_on:
            self.premium[2] += 1
            w = float(self.premium[2]) if self.funding_linear else 1.0
            self.premium[0] += w * (mid / self.index - 1.0)
            self.premium[1] += w
            if t >= self.next_funding:  # at most one settlement per tick
                self.settle_funding()
                while self.next_funding <= t:
                    self.next_funding += self.funding_interval
        if self.adl_drawdown > 0.0:
            self.fund_history.append((t, self.fund_equity()))
            self.fund_peak = max(v for tk, v in self.fund_history if tk >= t - self.adl_window)
        if self.arr_on:
            self.mark_history.append((t, self.mark))
            self.dip_peak = max(v for tk, v in self.mark_history if tk >= t - self.arr_dip_window)

        self.oracle_number += 1
        if self.tu_on:
            self.apply_topups()
        self.liquidation_work()

    def withdraw(self):
        """§5: the makers' share of depth after this tick, from the index's volatility and the taker flow."""
        dt = float(self.oracle_interval)
        dt_s = dt / 1000.0
        a = math.exp(-dt / self.wd_window)
        ret = abs(math.log(self.index / self.wd_prev)) / math.sqrt(dt_s)
        self.wd_vol = self.wd_vol * a + ret * (1.0 - a)
        self.wd_flow = self.wd_flow * a + self.flow_acc / dt_s * (1.0 - a)
        self.flow_acc = 0.0
        self.wd_prev = self.index
        target = max(
            self.wd_floor, 1.0 / (1.0 + self.wd_vol / self.wd_vol_half + abs(self.wd_flow) / self.wd_flow_half)
        )
        if target < self.wd_phi:
            self.wd_phi = target
        else:
            self.wd_phi = target - (target - self.wd_phi) * math.exp(-math.log(2.0) * dt / self.wd_recovery)
        self.wd_gap = (
            self.wd_spread * self.index / self.tick * (1.0 - self.wd_phi) / (1.0 - self.wd_floor)
            if self.wd_floor < 1.0
            else 0.0
        )

    # -- spot venues and the endogenous index (§12) --------------------------------------------------

    def spot_init(self, setup):
        """§12.1: the spot venues of ``inp.spot`` (none under the imposed model), every venue at the start price."""
        pp = setup.params
        self.spot_on = bool(pp.on)
        self.flow_on = bool(pp.flow_on)
        self.sp_names = tuple(setup.names)
        k = len(self.sp_names)
        self.sp_depth = _floats(setup.depth)
        self.sp_weight = _floats(setup.weight)
        self.sp_out_start = _ints(setup.out_start)
        self.sp_out_end = _ints(setup.out_end)
        self.sp_mid = [self.start_price] * k
        self.sp_center = [self.start_price] * k
        self.sp_share = [1.0] * k  # the makers' share of the venue's depth (withdrawal)
        self.sp_vol = [0.0] * k
        self.sp_flow = [0.0] * k
        self.sp_flow_acc = [0.0] * k
        self.sp_prev = [self.start_price] * k
        self.sp_low = [self.start_price] * k
        self.sp_high = [self.start_price] * k
        # the spot ledger: one row per participant (enums.SPOT_*), one column per venue
        self.sp_base = [[0.0] * k for _ in range(6)]
        self.sp_cash = [[0.0] * k for _ in range(6)]
        self.sp_volume = [[0.0] * k for _ in range(6)]
        self.sp_series = []
        # the lagged views, one entry per oracle tick (the whole history: no ring)
        self.seen_inventory = []
        self.seen_basis = []
        self.perp_q = [0.0, 0.0]  # the arbitrageurs' (0) and the flow's (1) perp legs
        self.perp_cash = [0.0, 0.0]
        self.method = int(pp.method)
        self.outlier = float(pp.outlier)
        self.stale = int(pp.stale)
        self.shape = float(pp.shape)
        self.resilience = float(pp.resilience)
        self.permanent = float(pp.permanent)
        self.informed = float(pp.informed)
        self.venue_arb = float(pp.venue_arb)
        self.hedge_share = float(pp.hedge_share)
        self.hedge_free = float(pp.hedge_free)
        self.hedge_lag = int(pp.hedge_lag)
        self.hedge_cap = float(pp.hedge_cap)
        self.skew = float(pp.skew)
        self.home_share = float(pp.home_share)
        self.arb_enter = float(pp.arb_enter)
        self.arb_exit = float(pp.arb_exit)
        self.arb_capital = float(pp.arb_capital)
        self.arb_rate = float(pp.arb_rate)
        self.arb_lag = int(pp.arb_lag)
        self.wd_flow_share = float(pp.wd_flow_share)
        self.spot_wd_on = bool(pp.wd_on)
        self.flow_rate = float(pp.flow_rate)
        self.flow_start = int(pp.flow_start)
        self.flow_end = int(pp.flow_end)
        self.flow_perp = float(pp.flow_perp)

    def live(self, v, t):
        """Venue ``v`` trades at ``t`` (it is not in its outage)."""
        return not (self.sp_out_start[v] <= t < self.sp_out_end[v])

    def spot_tick(self, fundamental):
        """§12.3: one oracle tick of the spot venues, before the index is read."""
        t = self.t
        dt_s = float(self.oracle_interval) / 1000.0
        if self.spot_on:
            self.spot_refresh(t)
        if self.flow_on and self.flow_start <= t < self.flow_end:
            self.flow_slice(t)
        if not self.spot_on:
            return
        k = len(self.seen_inventory)  # this tick's number, from 0
        self.seen_inventory.append(self.maker_pos)
        self.seen_basis.append(0.0)  # observed once this tick's liquidation work is over
        if self.hedge_share > 0.0:  # §12.6
            seen = self.seen_inventory[k - self.hedge_lag] if k >= self.hedge_lag else 0.0
            held = 0.0
            for v in range(len(self.sp_mid)):
                held += self.sp_base[enums.SPOT_HEDGERS][v]
            excess = abs(seen) - self.hedge_free / self.index
            want = (-self.hedge_share * math.copysign(excess, seen) if excess > 0.0 else 0.0) - held
            most = self.hedge_cap * dt_s / self.index
            if abs(want) > most:
                want = most if want > 0.0 else -most
            if want != 0.0:
                self.spread(t, enums.SPOT_HEDGERS, want)
        if self.arb_capital > 0.0:
            seen = self.seen_basis[k - self.arb_lag] if k >= self.arb_lag else 0.0
            self.basis_arbitrage(t, seen)
        if self.venue_arb > 0.0:
            self.venue_arbitrage(t)
        if self.informed > 0.0:
            for v in range(len(self.sp_mid)):
                if self.live(v, t):
                    self.informed_trade(v, fundamental)

    def maker_quote(self):
        """§12.6: the index lowered by ``skew`` per USD of the makers' unhedged long inventory beyond what they carry
        calmly (their perp position at the index plus their hedgers' spot holdings at each venue's mid), raised for
        a short one; at most half the index either way."""
        unhedged = self.maker_pos * self.index
        for v in range(len(self.sp_mid)):
            unhedged += self.sp_base[enums.SPOT_HEDGERS][v] * self.sp_mid[v]
        excess = abs(unhedged) - self.hedge_free
        if excess <= 0.0:
            return self.index
        shift = min(0.5, self.skew * excess)
        return self.index * (1.0 - math.copysign(shift, unhedged))

    def spot_refresh(self, t):
        """§12.4: consumed depth refills (the displacement decays) and the makers set their share of depth."""
        dt = float(self.oracle_interval)
        dt_s = dt / 1000.0
        keep = math.exp(-LN2 * dt / (self.shape * self.resilience))
        a = math.exp(-dt / self.wd_window)
        for v in range(len(self.sp_mid)):
            if not self.live(v, t):
                self.sp_flow_acc[v] = 0.0
                continue
            r = self.sp_center[v]
            self.sp_mid[v] = r * (1.0 - (1.0 - self.sp_mid[v] / r) * keep)
            if self.spot_wd_on:
                ret = abs(math.log(self.sp_mid[v] / self.sp_prev[v])) / math.sqrt(dt_s)
                self.sp_vol[v] = self.sp_vol[v] * a + ret * (1.0 - a)
                self.sp_flow[v] = self.sp_flow[v] * a + self.sp_flow_acc[v] / dt_s * (1.0 - a)
                half = self.wd_flow_share * self.sp_depth[v]
                target = max(
                    self.wd_floor, 1.0 / (1.0 + self.sp_vol[v] / self.wd_vol_half + abs(self.sp_flow[v]) / half)
                )
                if target < self.sp_share[v]:
                    self.sp_share[v] = target
                else:
                    self.sp_share[v] = target - (target - self.sp_share[v]) * math.exp(-LN2 * dt / self.wd_recovery)
            self.sp_flow_acc[v] = 0.0
            self.sp_prev[v] = self.sp_mid[v]

    def spot_trade(self, v, who, qty, keep):
        """§12.2: ``who`` buys ``qty`` (negative: sells) on venue ``v`` from its makers; the centre keeps the share
        ``keep`` of the move. Returns the quantity filled."""
        r = self.sp_center[v]
        d = self.sp_depth[v] * self.sp_share[v]
        a = self.shape
        m0 = self.sp_mid[v]
        c0 = _consumed(1.0 - m0 / r, d, a)
        c1 = c0 - qty * r
        e1 = _displacement(c1, d, a)
        if abs(e1) > SPOT_FAR_END:  # the book's far end: the price moves 95% at most
            e1 = SPOT_FAR_END if e1 > 0.0 else -SPOT_FAR_END
            c1 = _consumed(e1, d, a)
        filled = (c0 - c1) / r
        if filled == 0.0:
            return 0.0
        price = r * (_area(c1, d, a) - _area(c0, d, a)) / (c1 - c0)
        m1 = r * (1.0 - e1)
        self.sp_mid[v] = m1
        self.sp_center[v] = r * math.exp(keep * math.log(m1 / m0))
        value = filled * price
        self.sp_base[who][v] += filled
        self.sp_cash[who][v] -= value
        self.sp_base[enums.SPOT_MAKERS][v] -= filled
        self.sp_cash[enums.SPOT_MAKERS][v] += value
        self.sp_volume[who][v] += abs(value)
        self.sp_flow_acc[v] += value
        self.sp_low[v] = min(self.sp_low[v], m1)
        self.sp_high[v] = max(self.sp_high[v], m1)
        return filled

    def spread(self, t, who, qty):
        """§12.2: ``who`` buys ``qty`` (negative: sells) across the live venues: ``home_share`` to the home venue (the
        first, while it trades; never for a flow shock), the rest in proportion to the venues' depth now."""
        live = [v for v in range(len(self.sp_mid)) if self.live(v, t)]
        total = 0.0
        for v in live:
            total += self.sp_depth[v] * self.sp_share[v]
        if total <= 0.0:
            return 0.0
        home = self.home_share if (who != enums.SPOT_FLOW and self.live(0, t)) else 0.0
        filled = 0.0
        for v in live:
            w = (1.0 - home) * self.sp_depth[v] * self.sp_share[v] / total + (home if v == 0 else 0.0)
            filled += self.spot_trade(v, who, qty * w, self.permanent)
        return filled

    def perp_leg(self, who, side, qty, price):
        """§12.5, §12.7: the arbitrageurs (``who`` 0) or the flow (1) bought ``qty`` (``side`` −1: sold) on the perp at
        ``price`` from its makers; the taker fee goes to the fee account."""
        self.perp_q[who] += side * qty
        self.perp_cash[who] -= side * qty * price
        fee = self.taker_fee * qty * price
        self.perp_cash[who] -= fee
        self.fee_cash += fee
        kind = enums.ARB_FILL if who == 0 else enums.FLOW_FILL
        self.record(kind, self.n + 4 + who, side, qty, price, NAN, 0.0, fee)

    def flow_slice(self, t):
        """§12.5: this tick's slice of a flow shock: a market order on the perp, orders on the spot venues."""
        dt = float(self.oracle_interval)
        usd = self.flow_rate * min(dt, float(self.flow_end - t))
        side = 1 if usd > 0.0 else -1
        if self.flow_perp > 0.0:
            qty = abs(usd) * self.flow_perp / self.index
            x, F = self.market(side, qty, self.index * (1.0 + side * 0.9))  # the maker takes the other side
            if x > 0.0:
                self.perp_leg(1, side, x, F)
        if self.spot_on and self.flow_perp < 1.0:
            self.spread(t, enums.SPOT_FLOW, usd * (1.0 - self.flow_perp) / self.index)

    def basis_arbitrage(self, t, basis):
        """§12.7: open (or add) beyond ``arb_enter``, close within ``arb_exit``; the perp leg is a block trade with the
        perp's makers at the price they saw."""
        dt_s = float(self.oracle_interval) / 1000.0
        price = self.index * (1.0 + basis)
        q = self.perp_q[0]
        step = self.arb_rate * dt_s / self.index
        if basis < -self.arb_enter or basis > self.arb_enter:
            side = 1 if basis < 0.0 else -1
            qty = min(step, self.arb_capital / self.index - side * q)
            if qty <= 0.0:
                return
            self.maker_block(side, qty, price)
            self.spread(t, enums.SPOT_ARBS, -side * qty)
        elif abs(basis) < self.arb_exit and q != 0.0:
            side = -1 if q > 0.0 else 1
            qty = min(step, abs(q))
            live = [v for v in range(len(self.sp_mid)) if self.live(v, t)]
            held = 0.0
            for v in live:
                held += self.sp_base[enums.SPOT_ARBS][v]
            if held == 0.0:
                return
            self.maker_block(side, qty, price)
            for v in live:
                b = self.sp_base[enums.SPOT_ARBS][v]
                if b != 0.0:
                    self.spot_trade(v, enums.SPOT_ARBS, -side * qty * b / held, self.permanent)

    def maker_block(self, side, qty, price):
        """The arbitrageurs' perp leg: the perp's makers take the other side off the book (no last price, no flow)."""
        dq = -side * qty
        self.maker_pos += dq
        self.maker_cash -= dq * price
        self.perp_leg(0, side, qty, price)

    def venue_arbitrage(self, t):
        """§12.8: each live venue's mid moves ``venue_arb`` of the way (log price) to the live venues' depth-weighted
        mean, by an uninformed trade."""
        live = [v for v in range(len(self.sp_mid)) if self.live(v, t)]
        if not live:
            return
        ref = math.log(self.sp_mid[live[0]])  # deviations from one venue's price: equal prices give no trade at all
        num = 0.0
        den = 0.0
        for v in live:
            d = self.sp_depth[v] * self.sp_share[v]
            num += d * (math.log(self.sp_mid[v]) - ref)
            den += d
        if den <= 0.0:
            return
        mean = num / den
        for v in live:
            m0 = self.sp_mid[v]
            gap = mean - (math.log(m0) - ref)
            if gap != 0.0:
                self.trade_to(v, enums.SPOT_VENUE_ARBS, m0 * math.exp(self.venue_arb * gap), self.permanent)

    def informed_trade(self, v, fundamental):
        """§12.9: the venue's centre moves ``informed`` of the way (log price) to the fundamental value; permanent."""
        r = self.sp_center[v]
        m0 = self.sp_mid[v]
        self.trade_to(v, enums.SPOT_INFORMED, m0 * math.exp(self.informed * math.log(fundamental / r)), 1.0)

    def trade_to(self, v, who, target, keep):
        """The trade that moves venue ``v``'s mid to ``target`` on its book now."""
        r = self.sp_center[v]
        d = self.sp_depth[v] * self.sp_share[v]
        dc = _consumed(1.0 - target / r, d, self.shape) - _consumed(1.0 - self.sp_mid[v] / r, d, self.shape)
        if dc != 0.0:
            self.spot_trade(v, who, -dc / r, keep)

    def observe_basis(self):
        """§12.7: the perp's mid against the index once the tick's forced orders are through (kept 0 when a side of
        the book is empty)."""
        bid = self.best(True, self.t)
        ask = self.best(False, self.t)
        if not (math.isnan(bid) or math.isnan(ask)):
            self.seen_basis[-1] = 0.5 * (bid + ask) / self.index - 1.0

    def spot_index(self, t, prev):
        """§12.10: the index from the usable constituents by the method; ``prev`` when none is usable."""
        px = []
        wt = []
        for v in range(len(self.sp_mid)):
            stale = self.sp_out_start[v] <= t < self.sp_out_end[v] and t - self.sp_out_start[v] > self.stale
            if not stale:
                px.append(self.sp_mid[v])
                wt.append(self.sp_weight[v])
        n = len(px)
        if n == 0:
            return prev
        order = sorted(range(n), key=lambda j: px[j])  # stable: ties keep the venues' order
        total = 0.0
        for w in wt:
            total += w
        if self.method == enums.INDEX_WEIGHTED_MEDIAN:
            acc = 0.0
            for j in order:
                acc += wt[j]
                if acc >= 0.5 * total:
                    return px[j]
            return px[order[-1]]
        if n % 2 == 1:
            med = px[order[n // 2]]
        else:
            med = 0.5 * (px[order[n // 2 - 1]] + px[order[n // 2]])
        num = 0.0
        den = 0.0
        outliers = 0
        for j in range(n):
            if abs(px[j] / med - 1.0) > self.outlier:
                outliers += 1
            else:
                num += wt[j] * (px[j] - med)  # about the median: equal prices give exactly that price
                den += wt[j]
        if outliers > 1 or den <= 0.0:
            return med
        return med + num / den

    def ema_update(self, name, sample, tau):
        """Hyperliquid's time-weighted EMA, one oracle interval after the previous sample."""
        dt = float(self.oracle_interval)
        num_den = self.ema[name]
        decay = math.exp(-dt / tau)
        num_den[0] = num_den[0] * decay + sample * dt
        num_den[1] = num_den[1] * decay + dt
        return num_den[0] / num_den[1]

    def on_arrival(self, k):
        """§9: candidate ``k`` opens its row if accepted (longs: thinned by the mark's drawdown from its rolling
        peak) and its market order fills; its wallet is the margin it held, less the taker fee."""
        i = self.arr_row0 + k
        s = self.side[i]
        if s > 0 and self.arr_dip_mult > 1.0:
            dd = max(0.0, 1.0 - self.mark / self.dip_peak) if self.dip_peak > 0.0 else 0.0
            accept = (1.0 + (self.arr_dip_mult - 1.0) * min(1.0, dd / self.arr_dip_dd)) / self.arr_dip_mult
            if not self.arr_u[k] < accept:
                return
        margin = self.reserve[i]
        qty = max(float(round(margin * self.arr_lev[k] / self.quote / self.lot)), 1.0) * self.lot
        x, F = self.market(s, qty, self.quote * (1 + s * self.noise_band))
        if x > 0.0:
            fee = self.taker_fee * x * F
            self.EP[i] = F
            self.Q[i] = x
            self.W[i] = margin - fee
            self.reserve[i] = 0.0
            self.status[i] = enums.OPEN
            self.fee_cash += fee
            self.record(enums.ARRIVAL, i, s, x, F, NAN, 0.0, fee, margin)

    def on_noise(self, k):
        side = self.noise_side[k]
        qty = self.noise_qty[k]
        if not qty > 0.0:
            return
        limit = self.quote * (1 + side * self.noise_band)  # within their band of the makers' quotes
        x, F = self.market(side, qty, limit)
        if x > 0.0:
            self.noise_pos += side * x
            self.noise_cash -= side * x * F
            fee = self.taker_fee * x * F
            self.noise_cash -= fee
            self.fee_cash += fee
            self.record(enums.NOISE_FILL, self.NOISE, side, x, F, NAN, 0.0, fee)

    def on_unwind(self):
        fq = self.fund_q
        if fq == 0.0:
            return
        sign = 1 if fq > 0.0 else -1
        qty = min(abs(fq), max(self.lot, self.unwind_fraction * abs(fq)))
        limit = self.index * (1 - sign * self.unwind_band)
        x, F = self.market(-sign, qty, limit)
        if x > 0.0:
            realized = self.fund_trade(-sign, x, F)
            self.record(enums.FUND_UNWIND, self.FUND, -sign, x, F, NAN, realized, 0.0)

    def on_sample(self):
        t = self.t
        if self.spot_on:  # §12.11: the spot venues' mids
            self.sp_series.append(list(self.sp_mid))
        oi_long = 0.0
        oi_short = 0.0
        for i in range(self.n):  # open interest of trader rows (not the counterparty)
            if self.kind[i] == enums.TRADER:
                q = self.side[i] * self.Q[i]
                if q > 0.0:
                    oi_long += q
                elif q < 0.0:
                    oi_short += -q
        self.series.append(
            (
                t,
                self.index,
                self.mark,
                self.last,
                self.best(True, t),
                self.best(False, t),
                self.depth(True, t),
                self.depth(False, t),
                self.fund_bal,
                oi_long,
                oi_short,
                self.liquidated_notional,
            )
        )

    # -- liquidation work (§7) ----------------------------------------------------------------------

    # -- behaviour and funding (§9) ------------------------------------------------------------------

    def settle_funding(self):
        if math.isnan(self.funding_fixed):
            P = self.premium[0] / self.premium[1] if self.premium[1] > 0.0 else 0.0
            f8 = P + min(max(self.funding_interest - P, -self.funding_clamp), self.funding_clamp)
            rate = min(max(f8 * self.funding_scale, -self.funding_cap), self.funding_cap)
        else:
            rate = self.funding_fixed
        price = self.index if self.funding_at_index else self.mark
        x = price * rate
        for i in range(self.n):
            if self.status[i] == enums.OPEN:
                self.W[i] -= self.side[i] * self.Q[i] * x
        self.maker_cash -= self.maker_pos * x
        self.noise_cash -= self.noise_pos * x
        if self.spot_on or self.flow_on:
            for j in range(2):
                self.perp_cash[j] -= self.perp_q[j] * x
        if self.fund_q != 0.0:
            pay = self.fund_q * x
            self.fund_cash -= pay
            self.fund_bal -= pay
            self.record(
                enums.FUNDING, self.FUND, 1 if self.fund_q > 0.0 else -1, abs(self.fund_q), price, NAN, -pay, 0.0
            )
        self.funding_rate = rate
        self.premium = [0.0, 0.0, 0]

    def apply_topups(self):
        due = sorted(e for e in self.pending if e[0] <= self.t)
        self.pending = [e for e in self.pending if e[0] > self.t]
        for _t, i in due:
            if self.status[i] != enums.OPEN:
                continue
            self.tu_due[i] = None
            m = self.mark
            need = self.maintenance_margin(i, self.Q[i], m) / self.tu_target - self.equity(i, m)
            add = min(self.reserve[i], need)
            if add > 0.0:
                self.W[i] += add
                self.reserve[i] -= add

    def stop_one(self):
        """Fire the next stop the trigger price has reached (long stops first); False if none."""
        if not self.stops_on:
            return False
        price = self.mark if self.stop_on_mark else self.last
        for s in (1, -1):
            best = -1
            for i in range(self.n):
                if self.side[i] != s or math.isnan(self.stop[i]) or self.stop_used[i] or self.status[i] != enums.OPEN:
                    continue
                if best < 0 or s * self.stop[i] > s * self.stop[best]:
                    best = i
            if best >= 0 and s * self.stop[best] >= s * price:
                self.stop_used[best] = True
                self.fire_stop(best)
                return True
        return False

    def fire_stop(self, i):
        s = self.side[i]
        EP = self.EP[i]
        m = self.mark
        BP = self.bankruptcy_price(i)
        E0 = self.equity(i, m)
        x, F = self.market(-s, self.Q[i], BP)
        if not x > 0.0:
            return
        self.W[i] += s * x * (F - EP)
        self.Q[i] -= x
        fee = min(self.taker_fee * x * F, max(0.0, self.W[i] + s * self.Q[i] * (m - EP)))
        self.W[i] -= fee
        self.fee_cash += fee
        self.record(enums.STOP, i, -s, x, F, BP, 0.0, fee, E0)
        if self.Q[i] <= self.open_min:
            self.status[i] = enums.STOPPED

    def block_of(self):
        """§7.11: the block of this oracle tick (1, 2, ...); a new block zeroes its counters."""
        b = 1 + (self.oracle_number - 1) // self.block_ticks
        if self.blk != b:
            self.blk = b
            self.nliq = 0
            self.ndel = 0
        return b

    def block_draw(self, b):
        """§7.11: block ``b``'s draw of the minimal standard generator, made at its first use in the block."""
        if self.blk_x_block != b:
            self.adl_rng = (48271 * self.adl_rng) % 2147483647
            self.blk_x = self.adl_rng
            self.blk_x_block = b
        return self.blk_x

    def fillable_window(self):
        """§7.11 (dYdX): every triggered row of both sides, in id order; a window of the block's orders left from the
        block's draw modulo their number; sent by |fillable − oracle| / oracle, then notional, descending."""
        b = self.block_of()
        m = self.mark
        rows = []
        for s in (1, -1):
            while True:
                best_i = -1
                best_key = 0.0
                for i in range(self.n):
                    if self.side[i] != s or not self.is_open(i) or self.eligible_tick[i] > self.oracle_number:
                        continue
                    k = self.key(i)
                    if best_i < 0 or k > best_key:
                        best_i = i
                        best_key = k
                if best_i < 0 or not best_key >= s * m:
                    break
                if self.tu_on and self.armed(best_i):
                    self.tu_due[best_i] = self.t + self.delay[best_i]
                    self.pending.append((self.tu_due[best_i], best_i))
                    continue
                self.eligible_tick[best_i] = self.oracle_number + 1  # taken (the rest wait for the next tick)
                rows.append(best_i)
        k = len(rows)
        if k == 0:
            return []
        rows.sort()
        w = k if self.block_liquidations <= 0 else min(k, max(0, self.block_liquidations - self.nliq))
        off = self.block_draw(b) % k
        self.nliq += w
        window = sorted(rows[(off + j) % k] for j in range(w))

        def order_key(i):
            s, Q = self.side[i], self.Q[i]
            tnc = self.equity(i, m)
            tmmr = self.maintenance_margin(i, Q, m)
            abr = min(1.0, max(0.0, self.fill_ba * (1.0 - tnc / tmmr)))
            limit = m * (1.0 - s * abr * self.fill_smmr * (tmmr / (Q * m)))
            N = Q * m
            cap = min(max(min(self.block_pos_min, N), self.block_pos_frac * N), self.block_acct)
            x = Q if N <= cap else min(Q, max(math.floor(cap / m / self.lot) * self.lot, self.lot))
            return (-(abs(limit - m) / m), -(x * m))

        return sorted(window, key=order_key)

    def fillable_work(self):
        """§7.11: the tick's window of liquidation orders, each followed at once by its deleveraging."""
        while self.stop_one():
            pass
        for i in self.fillable_window():
            while self.stop_one():
                pass
            if self.status[i] != enums.OPEN:
                continue
            if not self.key(i) >= self.side[i] * self.mark:  # no longer liquidatable: back at the next tick
                self.eligible_tick[i] = self.oracle_number + 1
                continue
            self.fillable_order(i)
            if self.pool_side != 0:
                self.adl()
        while self.stop_one():
            pass
        if self.spot_on:
            self.observe_basis()

    def liquidation_work(self):
        if self.settle_fillable:
            self.fillable_work()
            return
        if self.mark < self.prev_mark:
            sides = (1, -1)
        else:
            sides = (-1, 1)
        for s in sides:
            while True:
                if self.stop_one():
                    continue
                best_i = -1
                best_key = 0.0
                for i in range(self.n):  # scan ALL positions, ascending id (ties: smallest id)
                    if self.side[i] != s or not self.is_open(i) or self.eligible_tick[i] > self.oracle_number:
                        continue
                    k = self.key(i)
                    if best_i < 0 or k > best_key:
                        best_i = i
                        best_key = k
                if best_i < 0 or not best_key >= s * self.mark:
                    if self.pool_side != 0:  # §7.8: the side's pass is over, match its ADL pool
                        self.adl()
                        continue
                    break
                if self.tu_on and self.armed(best_i):  # §9: its top-up price was crossed: the delay starts
                    self.tu_due[best_i] = self.t + self.delay[best_i]
                    self.pending.append((self.tu_due[best_i], best_i))
                    continue
                self.liquidate(best_i)
        if self.spot_on:  # the tick's forced orders are through: the basis the arbitrageurs see (§12.7)
            self.observe_basis()

    def maintenance_margin(self, i, Q, price):
        """MM of ``Q`` units of row ``i`` at ``price`` (on the entry value when the venue says so)."""
        if self.mm_basis == 2:
            j = self.tier(Q)
            return price * (Q * self.tier_mmr[j] - self.tier_cum[j])
        at = self.EP[i] if self.mm_basis == 1 else price
        j = self.tier(Q * at)
        return Q * at * self.tier_mmr[j] - self.tier_cum[j]

    def fund_equity(self):
        """The fund's equity with its inventory at the current mark."""
        return self.fund_cash + self.fund_q * self.mark

    def tripped(self):
        """The venue's drawdown rule: the fund fell ``adl_drawdown`` below its rolling peak."""
        return (
            self.adl_drawdown > 0.0
            and self.fund_peak > 0.0
            and self.fund_equity() <= (1.0 - self.adl_drawdown) * self.fund_peak
        )

    def liquidate(self, i):
        """§7.4: backstop, the venue's partial rule, else in full; §7.11 under settlement at the fillable price."""
        if self.settle_fillable:
            self.fillable_order(i)
            return
        Q = self.Q[i]
        m = self.mark
        if self.backstop > 0.0 and self.equity(i, m) < self.backstop * self.maintenance_margin(i, Q, m):
            self.settle_rest(i, self.bankruptcy_price(i))
            return
        if self.partial_rule == enums.PARTIAL_SLICES:
            whole = self.cooldown[i] > self.t or Q * m <= self.slice_threshold
            x = Q if whole else min(Q, max(self.lot, math.floor(self.slice_fraction * Q / self.lot) * self.lot))
            if x < Q:
                self.close_at_fill(i, x, enums.PARTIAL)
            else:
                self.full(i)  # a whole order is settled as the venue settles (§7.7)
            return
        px = self.tier_price(i)
        j = self.tier(Q * px)
        while self.partial_rule != enums.PARTIAL_NONE and j > 0 and j >= self.partial_min_tier:
            r = self.partial_size(i, j)
            if not r > 0.0:
                break
            before = self.Q[i]
            if self.partial(i, r):
                return
            if self.partial_rule != enums.PARTIAL_TO_TIER or not self.Q[i] < before:
                break
            j = self.tier(self.Q[i] * px)  # OKX repeats its drop from the tier it is in now
        self.full(i)

    def fillable_order(self, i):
        """§7.11 (dYdX): one block's IOC order at the fillable price, level by level, each fill settled with the fund
        against the bankruptcy price; deleveraging of an account under water whose order filled nothing."""
        s = self.side[i]
        m = self.mark
        Q = self.Q[i]
        tnc = self.equity(i, m)
        tmmr = self.maintenance_margin(i, Q, m)
        abr = min(1.0, max(0.0, self.fill_ba * (1.0 - tnc / tmmr)))
        limit = m * (1.0 - s * abr * self.fill_smmr * (tmmr / (Q * m)))
        N = Q * m
        cap = min(max(min(self.block_pos_min, N), self.block_pos_frac * N), self.block_acct)
        x = Q if N <= cap else min(Q, max(math.floor(cap / m / self.lot) * self.lot, self.lot))
        B0 = self.bankruptcy_price(i)
        B = B0
        rem = x
        filled = notional = fund_delta = fee = lost = 0.0
        while rem > self.open_min:
            best = self.best(s > 0, self.t)
            if math.isnan(best) or s * (best - limit) < 0.0:
                break
            take = rem
            if s * (best - B) < 0.0:
                room = min(self.fund_equity(), self.block_fund_loss - lost)
                if room <= 0.0:
                    break
                take = min(rem, room / (s * (B - best)))
            got, F = self.market(-s, take, best)
            if not got > 0.0:
                break
            ifd = s * got * (F - B)
            if ifd < 0.0:
                d = ifd
                lost -= ifd
                self.settle(i, got, B)
            else:
                d = min(ifd, self.clearance * got * F) if self.fee_cap else ifd
                self.settle(i, got, F)
                self.W[i] -= d
                fee += d
            self.fund_cash += d
            self.fund_bal += d
            fund_delta += d
            filled += got
            notional += got * F
            if self.Q[i] > self.open_min:
                B = self.bankruptcy_price(i)
            rem -= got
            if take < rem + got and got >= take:
                break
        if filled > 0.0:
            kind = enums.LIQUIDATION if x >= Q else enums.PARTIAL
            self.record(kind, i, -s, filled, notional / filled, B0, fund_delta, fee, tnc)
        if self.Q[i] <= self.open_min:
            self.status[i] = enums.LIQUIDATED
            return
        if not filled > 0.0 and self.equity(i, m) < 0.0:
            if self.adl_enabled and 0 < self.block_deleveragings <= self.ndel:
                pass  # the block's deleveragings are used up: it waits for the next block
            elif self.adl_enabled:
                self.ndel += 1
                self.adl_row = i
                B = self.bankruptcy_price(i)
                rest = self.Q[i]
                self.settle(i, rest, B)
                self.pool_side = s
                self.pools[enums.CAUSE_DEFICIT][0] += rest
                self.pools[enums.CAUSE_DEFICIT][1] += rest * B
                self.status[i] = enums.LIQUIDATED
                return
            else:
                self.settle_rest(i, self.bankruptcy_price(i))
                return
        self.eligible_tick[i] = self.oracle_number + self.block_ticks

    def tier_price(self, i):
        """What a row's size is multiplied by to read its tier: the mark, its entry, or 1 (tiers by size)."""
        return 1.0 if self.mm_basis == 2 else (self.EP[i] if self.mm_basis == 1 else self.mark)

    def partial_size(self, i, j):
        Q = self.Q[i]
        m = self.mark
        px = self.tier_price(i)  # tiers by notional at the mark, at entry, or by size
        if self.partial_rule == enums.PARTIAL_TO_TIER:
            jp = 0 if self.partial_tiers_down <= 0 else max(0, j - self.partial_tiers_down)
            keep = math.floor(min(Q, self.tier_floor[jp + 1] / px) / self.lot) * self.lot
            return Q - keep if keep > 0.0 else 0.0
        E = self.equity(i, m)
        for jp in range(j - 1, -1, -1):
            keep = math.floor(min(Q, self.tier_floor[jp + 1] / px) / self.lot) * self.lot
            r = Q - keep
            if self.mm_basis != 0:
                MM2 = self.maintenance_margin(i, keep, m)
            else:
                MM2 = keep * m * self.tier_mmr[jp] - self.tier_cum[jp]
            if keep > 0.0 and E - self.clearance * r * m > MM2:
                return r
        return 0.0

    def fillable(self, side, qty, limit):
        """What an order would fill now within ``limit`` (at most ``qty``), without trading."""
        bid = side < 0
        total = 0.0
        for d, a, i in self.levels(bid):
            if not total < qty:
                break
            price = a * self.tick
            if (bid and price < limit) or (not bid and price > limit):
                break
            size = self.level_size(bid, d, i, self.t)
            if size >= self.quoted_min:
                total += size
        return min(total, qty)

    def partial(self, i, r):
        """§7.5. True when the position is compliant afterwards; False when nothing filled or it is
        still under water after the fill and the fee (then a full liquidation follows at once)."""
        s = self.side[i]
        EP = self.EP[i]
        m = self.mark
        BP = self.bankruptcy_price(i)
        if self.partial_rule == enums.PARTIAL_STEP_FOK and self.fillable(-s, r, BP) < r:
            return False
        E0 = self.equity(i, m)
        x, F = self.market(-s, r, BP)
        if not x > 0.0:
            return False
        self.W[i] += s * x * (F - EP)
        self.Q[i] -= x
        equity = self.W[i] + s * self.Q[i] * (m - EP)
        fee = min(self.clearance * x * F, max(0.0, equity))
        self.W[i] -= fee
        self.fund_cash += fee
        self.fund_bal += fee
        self.record(enums.PARTIAL, i, -s, x, F, BP, fee, fee, E0)
        if equity - fee <= self.maintenance_margin(i, self.Q[i], m):
            return False
        cooldown = max(1, (self.partial_cooldown + self.oracle_interval - 1) // self.oracle_interval)
        self.eligible_tick[i] = self.oracle_number + cooldown
        return True

    def close_at_fill(self, i, x, kind):
        """§7.5b settlement at the fill: never worse than bankruptcy, the trader keeps the rest."""
        s = self.side[i]
        EP = self.EP[i]
        m = self.mark
        BP = self.bankruptcy_price(i)
        E0 = self.equity(i, m)
        filled, F = self.market(-s, x, BP)
        if filled > 0.0:
            self.W[i] += s * filled * (F - EP)
            self.Q[i] -= filled
            fee = min(self.clearance * filled * F, max(0.0, self.W[i] + s * self.Q[i] * (m - EP)))
            self.W[i] -= fee
            self.fund_cash += fee
            self.fund_bal += fee
            self.record(kind, i, -s, filled, F, BP, fee, fee, E0)
            if kind == enums.PARTIAL:
                self.cooldown[i] = self.t + self.partial_cooldown
        if self.Q[i] <= self.open_min:
            self.status[i] = enums.LIQUIDATED
            return
        self.eligible_tick[i] = self.oracle_number + 1

    def settle(self, i, y, B):
        """The bankrupt position closes ``y`` at its bankruptcy price ``B``."""
        s = self.side[i]
        self.W[i] += s * y * (B - self.EP[i])
        self.Q[i] -= y

    def takeover(self, i, y, B):
        s = self.side[i]
        E0 = self.equity(i, self.mark)
        self.settle(i, y, B)
        realized = self.fund_trade(s, y, B)
        self.record(enums.TAKEOVER, i, -s, y, B, B, realized, 0.0, E0)

    def full(self, i):
        """§7.6."""
        if self.settle_fill:
            self.close_at_fill(i, self.Q[i], enums.LIQUIDATION)
            return
        s = self.side[i]
        B = self.bankruptcy_price(i)
        # the band beyond bankruptcy only while the fund can pay the gap
        can_pay = self.fund_equity() > 0.0 and not self.tripped()
        limit = B * (1 - s * self.band) if can_pay else B
        E0 = self.equity(i, self.mark)
        x, F = self.market(-s, self.Q[i], limit)
        if x > 0.0:
            self.settle(i, x, B)
            fund_delta = s * x * (F - B)
            fee = min(self.clearance * x * F, max(0.0, fund_delta))
            self.fund_cash += fund_delta
            self.fund_bal += fund_delta
            self.record(enums.LIQUIDATION, i, -s, x, F, B, fund_delta, fee, E0)
        self.settle_rest(i, B)

    def settle_rest(self, i, B):
        """§7.7: the fund takes what the venue's ADL trigger lets it take at ``B`` (everything when ADL is off),
        the rest is settled at ``B`` into the ADL pool of its cause."""
        s = self.side[i]
        m = self.mark
        r = self.Q[i]
        if r > self.open_min:  # a remainder left only by rounding is not an order
            y = r
            cause = 0
            paid = r  # what the fund's equity can pay the loss of at the mark, whatever its inventory
            keep_open = False
            if self.adl_enabled:
                if self.tripped():
                    y = 0.0
                    cause = enums.CAUSE_DRAWDOWN
                elif self.backstop > 0.0 and self.equity(i, m) < 0.0:
                    y = 0.0  # a backstop vault takes only accounts with equity left
                    cause = enums.CAUSE_DEFICIT
                else:
                    equity = self.fund_equity()
                    loss = s * (B - m)
                    if equity <= 0.0:
                        paid = 0.0
                    elif loss > 0.0:
                        paid = min(r, equity / loss)
                    y = paid
                    if self.adl_trigger == enums.ADL_TRIGGER_CAPACITY:
                        # the largest y whose inventory at the mark stays within max_inventory x the fund's
                        # equity at the mark after paying y·max(0, s·(B − m)) for it
                        if equity > 0.0:
                            room = self.max_inventory * equity - s * self.fund_q * m
                            capacity = max(0.0, room / (m + self.max_inventory * max(0.0, loss)))
                        else:
                            capacity = 0.0
                        y = r if capacity >= r else capacity
                    else:
                        keep_open = self.backstop > 0.0  # a vault never deleverages an account with equity left
            if y > self.open_min:  # a capacity of rounding size is none (§7.7)
                self.takeover(i, y, B)
            rest = self.Q[i]
            if rest > self.open_min and keep_open:  # stays open, looked at again from the next tick
                self.eligible_tick[i] = self.oracle_number + 1
                return
            if rest > self.open_min:
                self.settle(i, rest, B)
                self.pool_side = s
                if cause == 0:  # beyond what the fund could pay for: deficit; the rest of what it left: capacity
                    short = min(rest, max(0.0, r - paid))
                    if short <= self.open_min:
                        short = 0.0
                    if rest - short <= self.open_min:
                        short = rest
                    parts = [(enums.CAUSE_DEFICIT, short), (enums.CAUSE_CAPACITY, rest - short)]
                else:
                    parts = [(cause, rest)]
                for c, q in parts:
                    if q > 0.0:
                        self.pools[c][0] += q
                        self.pools[c][1] += q * B
        # §7.9 (a rounding-sized remainder stays on the row, so money stays exact)
        self.status[i] = enums.LIQUIDATED

    def adl_score(self, c, m):
        sc, Qc, EPc = self.side[c], self.Q[c], self.EP[c]
        # Binance's score needs the maintenance margin only for a winner (a loser's score is 0 whatever it is)
        winner = self.adl_ranking == enums.RANK_LEVERAGE_PNL and sc * (m - EPc) > 0.0
        mm = self.maintenance_margin(c, Qc, m) if winner else 0.0
        return reference_adl_score(sc, Qc, EPc, self.W[c], m, self.equity(c, m), mm, self.adl_ranking)

    def adl(self):
        """§7.8: match the first non-empty pool (deficit, drawdown, capacity) against the opposite side under the
        ADL policy; the next call matches the next one."""
        s = self.pool_side
        cause = next((c for c in (1, 2, 3) if self.pools[c][0] > 0.0), 0)
        if cause == 0:
            self.pool_side = 0
            return
        rem, cost = self.pools[cause]
        self.pools[cause] = [0.0, 0.0]
        bbar = cost / rem
        m = self.mark
        if self.adl_price == enums.ADL_AT_MARK:
            can_pay = self.fund_equity() >= rem * max(0.0, s * (bbar - m)) and not self.tripped()
            price = m if can_pay else bbar
        elif self.adl_price == enums.ADL_AT_PREVIOUS_MARK:  # kept between the mark and B̄
            price = min(max(self.prev_mark, min(m, bbar)), max(m, bbar))
        else:
            price = bbar
        entries = []
        n_win = 0
        start = 0
        if self.adl_ranking == enums.RANK_RANDOM and self.listed_n[-s] > 0:
            b = self.block_of()
            if self.del_start_block[-s] != b:  # §7.11: once per block and side, at the draw-th open holder
                x = self.block_draw(b)
                rows = self.listed_rows[-s]
                open_at = [r for r, c in enumerate(rows) if self.status[c] == enums.OPEN and self.Q[c] > 0.0]
                self.del_start[-s] = open_at[x % len(open_at)] if open_at else 0
                self.del_start_block[-s] = b
            start = self.del_start[-s]
        random_queue = self.adl_ranking == enums.RANK_RANDOM and self.adl_policy == enums.POLICY_QUEUE
        if random_queue:  # §7.11: from the start, through at most deleverage_holders open holders
            rows = self.listed_rows[-s]
            seen = 0
            for k in range(len(rows)):
                c = rows[(start + k) % len(rows)]
                if self.status[c] != enums.OPEN or not self.Q[c] > 0.0:
                    continue
                seen += 1
                if self.equity(c, m) > 0.0 and self.equity(c, price) > 0.0:
                    entries.append((float(k), c))
                if seen == self.deleverage_holders:
                    break
        for c in range(self.n if not random_queue else 0):
            if self.side[c] != -s or self.status[c] != enums.OPEN or not self.Q[c] > 0.0:
                continue
            if self.equity(c, m) <= 0.0 or self.equity(c, price) <= 0.0:
                continue
            if self.adl_policy == enums.POLICY_LEVERAGE_DRAIN:
                score = -self.Q[c] * m / self.equity(c, m)
            elif self.adl_policy == enums.POLICY_PRO_RATA and -s * (m - self.EP[c]) > 0.0:
                score = -INF
                n_win += 1
            elif self.adl_ranking == enums.RANK_RANDOM:  # cyclically from the start, in id order
                score = float((self.listed_at[c] - start) % self.listed_n[-s])
            else:
                score = -self.adl_score(c, m)
            entries.append((score, c))
        entries.sort()
        order = [c for _score, c in entries]
        gap = s * (price - m)
        plan = 0.0
        n_group = len(order)
        if self.adl_policy == enums.POLICY_PRO_RATA:
            total = sum(self.Q[c] for c in order[:n_win])
            plan = min(1.0, rem / total) if total > 0.0 else 0.0
        elif self.adl_policy == enums.POLICY_LEVERAGE_DRAIN:
            sq = se = 0.0
            for k, c in enumerate(order):
                sq += self.Q[c]
                se += self.equity(c, m)
                den = se - rem * gap
                if sq < rem or den <= 0.0:
                    continue
                level = m * (sq - rem) / den
                nxt = order[k + 1] if k + 1 < len(order) else None
                if nxt is None or level >= self.Q[nxt] * m / self.equity(nxt, m):
                    n_group, plan = k + 1, level
                    break
        for cur, c in enumerate(order[:n_group]):
            if not rem > self.open_min:
                break
            q = self.Q[c]
            y = q
            if self.adl_policy == enums.POLICY_PRO_RATA and cur < n_win:
                if plan < 1.0 and cur < n_win - 1:
                    y = q * plan
            elif self.adl_policy == enums.POLICY_LEVERAGE_DRAIN and plan > 0.0 and cur < n_group - 1:
                y = (q * m - plan * self.equity(c, m)) / (m - plan * gap)
                y = min(q, max(0.0, y))
            y = min(y, rem)
            E0 = self.equity(c, m)
            fund_delta = s * y * (price - bbar)
            self.W[c] += self.side[c] * y * (price - self.EP[c])
            self.Q[c] -= y
            self.fund_cash += fund_delta
            self.fund_bal += fund_delta
            self.record(enums.ADL, c, s, y, price, bbar, fund_delta, 0.0, E0, cause)
            if self.Q[c] <= self.open_min:
                self.status[c] = enums.ADL_CLOSED
            rem -= y
        if rem > self.open_min and self.settle_fillable and self.adl_row is not None:
            i = self.adl_row  # §7.11: what the holders walked did not take stays on the account
            self.Q[i] = rem
            self.EP[i] = bbar
            self.status[i] = enums.OPEN
            self.eligible_tick[i] = self.oracle_number + self.block_ticks
        elif rem > self.open_min:  # nobody left to deleverage: the fund takes the rest
            realized = self.fund_trade(s, rem, bbar)
            self.record(enums.TAKEOVER, self.FUND, -s, rem, bbar, bbar, realized, 0.0, NAN, cause)
        self.adl_row = None
        if not any(q > 0.0 for q, _ in self.pools.values()):
            self.pool_side = 0

    # -- output -------------------------------------------------------------------------------------

    def positions(self):
        """Signed position of every account (n + 4)."""
        out = [self.side[i] * self.Q[i] for i in range(self.n)]
        out += [self.maker_pos, self.noise_pos, self.fund_q, 0.0]
        if self.spot_on or self.flow_on:  # the arbitrageurs' and the flow's perp legs (§12.11)
            out += self.perp_q
        return out

    def cashes(self):
        """Cash of every account (n + 4)."""
        out = [self.W[i] + self.reserve[i] - self.side[i] * self.Q[i] * self.EP[i] for i in range(self.n)]
        out += [self.maker_cash, self.noise_cash, self.fund_cash, self.fee_cash]
        if self.spot_on or self.flow_on:
            out += self.perp_cash
        return out

    def result(self):
        return {
            "fills": list(self.fills),
            "series": list(self.series),
            "pos_size": list(self.Q),
            "pos_wallet": list(self.W),
            "pos_status": list(self.status),
            "cash": self.cashes(),
            # an arrival's margin moved from its cash into its wallet: not a top-up
            "topup": [
                r0 - r if i < self.arr_row0 else 0.0 for i, (r0, r) in enumerate(zip(self.reserve0, self.reserve))
            ],
            "position": self.positions(),
            "fund_balance": self.fund_bal,
            "fund_q": self.fund_q,
            "mark": self.mark,
            "last": self.last,
            "index": self.index,
            "spot": self.spot_ledger() if self.spot_on else None,
        }

    def spot_ledger(self):
        """§12.11: the spot venues' mids at the samples, extremes, end state and ledger (rows enums.SPOT_*)."""
        return {
            "names": self.sp_names,
            "mid": [list(row) for row in self.sp_series],
            "low": list(self.sp_low),
            "high": list(self.sp_high),
            "end": list(self.sp_mid),
            "share_end": list(self.sp_share),
            "base": [list(row) for row in self.sp_base],
            "cash": [list(row) for row in self.sp_cash],
            "volume": [list(row) for row in self.sp_volume],
        }


def reference_run(inp):
    """Run the reference engine on ``inp`` (attributes as in ``docs/engine.md`` §2 and §10).

    Returns a dict with ``fills``, ``series``, ``pos_size``, ``pos_wallet``, ``pos_status``, ``cash``,
    ``position``, ``fund_balance``, ``fund_q``, ``mark``, ``last``, ``index`` and ``spot`` (the spot ledger under
    endogenous prices, else None; see the module docstring, §11 and §12.11 for their meaning).
    """
    return _Reference(inp).run()
