"""Per-element arithmetic of a population draw (:mod:`sim.world.population`), one pass each.

The random numbers are drawn by NumPy's ``Generator`` in the population module, in the same order as ever; these
kernels only turn them into attributes, with exactly the operations NumPy would have applied (so a seed draws the
same population bit for bit), and without the temporaries and searches of the array expressions they replace.
"""

import numpy as np

from sim import enums as E
from sim._jit import jit
from sim.kernels.margin import position_lp_nb, tier_nb


@jit(entry=True)
def mix_lookup_nb(cdf, values, u, out):
    """``values[cdf.searchsorted(u, side="right")]`` for every ``u`` (what ``Generator.choice(values, p=...)`` does
    with its uniforms, ``cdf`` being ``p.cumsum() / p.cumsum()[-1]``): the number of ``cdf`` entries ≤ ``u``, by a
    linear scan of the short, non-decreasing ``cdf``. ``out`` may be ``u`` itself."""
    m = cdf.size
    for i in range(u.size):
        x = u[i]
        j = 0
        for k in range(m):  # counted without a branch: the draws are random, a branch would mispredict
            j += cdf[k] <= x
        out[i] = values[j]
    return out


@jit(entry=True)
def history_points_nb(x, price, cum_w, even, entry, seg):
    """Entry prices at the positions ``x`` along a history's cumulative weights (``sample_entries``): segment ``k``
    (the last ``cum_w`` ≤ ``x``, within ``[0, len − 2]``; the integer part of ``x`` when every segment weighs 1) and
    the price linear in the segment. Writes ``entry`` (f8) and ``seg`` (int64)."""
    last = price.size - 2
    for i in range(x.size):
        xi = x[i]
        if even:
            k = min(np.int64(xi), last)
            frac = xi - k
        else:
            lo, hi = 0, cum_w.size  # searchsorted(cum_w, xi, side="right"): first index with cum_w > xi
            while lo < hi:
                mid = (lo + hi) // 2
                if cum_w[mid] <= xi:
                    lo = mid + 1
                else:
                    hi = mid
            k = min(max(lo - 1, 0), last)
            width = cum_w[k + 1] - cum_w[k]
            frac = (xi - cum_w[k]) / width if width > 0 else 0.0
        entry[i] = price[k] + (price[k + 1] - price[k]) * frac
        seg[i] = k


@jit(entry=True)
def entry_ages_nb(price, age_s, entry, seg, out):
    """How long before the start each entry was made: linear in its segment, as the price was drawn (``_ages``)."""
    for i in range(entry.size):
        k = seg[i]
        dp = price[k + 1] - price[k]
        frac = (entry[i] - price[k]) / dp if dp != 0 else 0.0
        frac = frac if frac > 0.0 else 0.0  # np.clip(frac, 0, 1), which also turns −0.0 into 0.0
        frac = frac if frac < 1.0 else 1.0
        out[i] = age_s[k] + (age_s[k + 1] - age_s[k]) * frac
    return out


@jit(entry=True)
def signs_nb(u, share, out):
    """``np.where(u < share, 1, −1)`` as int8 (a side, long with probability ``share``)."""
    for i in range(u.size):
        out[i] = 1 if u[i] < share else -1
    return out


@jit(entry=True)
def split_by_side_nb(side, values, longs, shorts):
    """Copy ``values`` into ``longs`` (``side`` > 0) or ``shorts``, in order; returns how many went to each, so that
    NumPy sums each side exactly as it summed ``values[side > 0]`` and ``values[side < 0]``."""
    nl = 0
    ns = 0
    for i in range(values.size):  # both written, one kept: no branch to mispredict on a random side
        x = values[i]
        longs[nl] = x
        shorts[ns] = x
        up = side[i] > 0
        nl += up
        ns += 1 - up
    return nl, ns


@jit(entry=True)
def open_rows_nb(draws, scale, lot, floor, max_lev, tiers, out):
    """Positions opened from their draws (``generate``), one pass: the notional times ``scale`` (open interest), the
    leverage capped at the max leverage of that notional's tier (``floor``, ``max_lev``), the size in whole ``lot`` s
    (at least one), the wallet (initial margin, times ``1 + spare`` for a cross account) and the liquidation price at
    the trigger tiers ``tiers`` = ``(floor, mmr, cum, basis)``.

    ``draws`` = ``(side, leverage, notional, cross, spare, entry)`` (int8, f8, f8, bool, f8, f8; shape (n,)); the
    capped ``leverage`` and scaled ``notional`` are written back (a redraw of an entry reuses them). ``out`` =
    ``(side, size, entry, wallet, mode, lp)``, shape (n + 1,) or more: rows 0..n−1 are written (mode CROSS or
    ISOLATED), the counterparty's row after them is left to the caller. The same operations as the array
    expressions they replace, so the same bits.
    """
    side, leverage, notional, cross, spare, entry = draws
    o_side, o_size, o_entry, o_wallet, o_mode, o_lp = out
    t_floor, t_mmr, t_cum, basis = tiers
    for i in range(side.size):
        x = notional[i] * scale
        notional[i] = x
        lev = min(leverage[i], max_lev[tier_nb(x, floor)])
        leverage[i] = lev
        ep = entry[i]
        q = max(np.rint(x / ep / lot), 1.0) * lot
        w = q * ep / lev
        if cross[i]:
            w = w * (1.0 + spare[i])
        s = side[i]
        o_side[i] = s
        o_size[i] = q
        o_entry[i] = ep
        o_wallet[i] = w
        o_mode[i] = E.CROSS if cross[i] else E.ISOLATED
        o_lp[i] = position_lp_nb(s, q, ep, w, t_floor, t_mmr, t_cum, basis)
