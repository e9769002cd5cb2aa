"""How much of a run the cascade itself caused: the ``feedback`` section of a summary (docs/model.md §1.5).

A run moves prices for two reasons: the fundamental path it was given (the shock: where informed prices go)
and the forced orders it sets off, which eat the book and move the last price, the mark and, through them,
the next liquidation prices. This module separates the two after the fact, from the run's own records and
the fundamental path, in the same run (no second simulation):

* **Static counterfactual.** The liquidations the same population would suffer if the mark simply followed
  the fundamental path, with no impact at all: every trader position whose liquidation price at the start
  the path crosses during the run, closed whole at that price (``size × liquidation price``). This is the
  liquidation map a heatmap shows crossed by the shock; stops, top-ups, funding and partial liquidation are
  not in it (they are in the run).
* **Cascade multiplier.** What the run liquidated (liquidation, partial, takeover and ADL fills: every
  contract closed because a position was liquidated) over what the static counterfactual liquidates, counted in
  contracts (base units), so that fills below the liquidation price, which a thin book gives, do not make a
  cascade look smaller. 1 means the cascade added nothing.
* **Endogenous liquidations.** A forced close (a liquidation, partial liquidation or takeover of a trader's
  position) is *exogenous* when, by its time, the fundamental path alone had already reached the position's
  starting liquidation price (its running low for a long, its running high for a short); otherwise a move
  that earlier forced orders caused set it off, and it is *endogenous*. The same split per liquidation wave.
  The remainder of a liquidation matched against winners by ADL is recorded on the winners' accounts, so it
  cannot be traced to the position it closed: it is left out of this split (``attributed_usd`` says how much
  was split).
* **Endogenous share of the drawdown** of the index, the mark and the last price: ``1 − fundamental move /
  realized move``, both measured from the start price in the shock's direction. 0: the price went exactly
  as far as the fundamental; 0.5: the cascade doubled the move; negative: the price fell short of it.

Liquidation prices move during a run (top-ups, funding, partial closes); the split uses the starting one,
so a position kept alive by a top-up and liquidated later by the fundamental still counts as exogenous. Positions
opened during the run (arrivals, docs/model.md §5.4) have no starting one: their forced closes are in neither the
multiplier nor the split, which both describe the starting population.
"""

import numpy as np

from sim import enums as E
from sim.enums import ADL, FORCED_KINDS, TRADER


def path_at(path_t_s, path_p, t_s):
    """The fundamental path at times ``t_s`` (s): linear between its points, a repeated time a gap (the later
    value from that time on), flat before the first point and after the last, as the engine reads it."""
    path_t_s = np.asarray(path_t_s, np.float64)
    path_p = np.asarray(path_p, np.float64)
    t_s = np.asarray(t_s, np.float64)
    k = np.searchsorted(path_t_s, t_s, side="right") - 1
    inside = (k >= 0) & (k < path_t_s.size - 1)
    kk = np.clip(k, 0, max(path_t_s.size - 2, 0))
    span = path_t_s[np.minimum(kk + 1, path_t_s.size - 1)] - path_t_s[kk]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(span > 0, (t_s - path_t_s[kk]) / np.where(span > 0, span, 1.0), 0.0)
    mid = path_p[kk] + (path_p[np.minimum(kk + 1, path_p.size - 1)] - path_p[kk]) * w
    return np.where(inside, mid, np.where(k < 0, path_p[0], path_p[-1]))


def running_extremes(path_t_s, path_p, t_s):
    """The fundamental path's lowest and highest value over ``[0, t]`` for each time ``t_s`` (s).

    The path is piecewise linear, so its extremes up to ``t`` are among its points up to ``t`` and its value at
    ``t`` itself."""
    path_t_s = np.asarray(path_t_s, np.float64)
    path_p = np.asarray(path_p, np.float64)
    t_s = np.asarray(t_s, np.float64)
    low, high = np.minimum.accumulate(path_p), np.maximum.accumulate(path_p)
    k = np.searchsorted(path_t_s, t_s, side="right") - 1
    now = path_at(path_t_s, path_p, t_s)
    before_low = np.where(k >= 0, low[np.clip(k, 0, None)], np.inf)
    before_high = np.where(k >= 0, high[np.clip(k, 0, None)], -np.inf)
    return np.minimum(before_low, now), np.maximum(before_high, now)


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _share(part, whole):
    return None if not whole else _num(part / whole)


def _endogenous_share(fundamental_pct, realized_pct):
    if realized_pct is None or fundamental_pct is None or realized_pct == 0:
        return None
    return _num(1.0 - fundamental_pct / realized_pct)


def _move_pct(low, high, start, direction):
    if direction < 0:
        return 100.0 * (low / start - 1.0)
    if direction > 0:
        return 100.0 * (high / start - 1.0)
    return 0.0


def feedback_section(fills, accounts, path_t_s, path_p, start_price, duration_s, extremes, waves):
    """The ``feedback`` section of a summary (see the module docstring).

    ``fills``/``accounts`` are the run's records (``FILL_DTYPE``/``ACCOUNT_DTYPE``); ``path_t_s``/``path_p``
    the fundamental path (s, USD) and ``duration_s`` the run's length; ``extremes`` the run's lowest and highest
    index, mark and last price (``{"index": (low, high), ...}``, USD); ``waves`` the summary's wave table
    (``start_s``/``end_s`` fields). Money in USD, moves in percent, shares as fractions."""
    path_t_s = np.asarray(path_t_s, np.float64)
    path_p = np.asarray(path_p, np.float64)
    inside = path_t_s <= duration_s
    knots = np.concatenate([path_p[inside], path_at(path_t_s, path_p, [duration_s])])
    f_low, f_high = float(knots.min()), float(knots.max())
    up, down = f_high / start_price - 1.0, f_low / start_price - 1.0
    direction = 0 if up == down == 0 else (1 if abs(up) > abs(down) else -1)
    fundamental_pct = _move_pct(f_low, f_high, start_price, direction)

    # the static counterfactual: every trader position whose starting liquidation price the path crosses
    trader = (accounts["kind"] == TRADER) & np.isfinite(accounts["liquidation_price_start"])
    q0 = accounts["position_start"]
    lp0 = accounts["liquidation_price_start"]
    crossed = trader & (((q0 > 0) & (lp0 >= f_low)) | ((q0 < 0) & (lp0 <= f_high)))
    static_usd = float(np.sum(np.abs(q0[crossed]) * lp0[crossed]))
    static_units = float(np.sum(np.abs(q0[crossed])))
    ids = accounts["id"]
    if accounts.size and ids[0] == 0 and ids[-1] == ids.size - 1 and np.all(ids[1:] > ids[:-1]):
        by_row = np.arange(ids.size)  # the engine's tables: row k holds account k
    else:
        by_row = np.full(int(ids.max()) + 1 if accounts.size else 0, -1, np.int64)
        by_row[ids] = np.arange(accounts.size)
    # a trader row with no position at the start opened during the run (an arrival): the counterfactual of the
    # starting population does not cover it, so its forced closes are left out of the multiplier and the split
    on_row = (fills["account"] >= 0) & (fills["account"] < by_row.size)
    row_of = np.where(on_row, by_row[np.where(on_row, fills["account"], 0)], -1)
    at_row = np.maximum(row_of, 0)
    arrived = (row_of >= 0) & (accounts["kind"][at_row] == TRADER) & (q0[at_row] == 0) if accounts.size else on_row
    counted = np.isin(fills["kind"], (*FORCED_KINDS, ADL)) & ~(arrived & np.isin(fills["kind"], FORCED_KINDS))
    liquidated_units = float(fills["qty"][counted].sum())

    # forced closes of the run, each exogenous or endogenous
    forced = np.isin(fills["kind"], FORCED_KINDS) & on_row
    at = by_row[fills["account"][forced]]
    keep = at >= 0
    keep[keep] = (accounts["kind"][at[keep]] == TRADER) & (q0[at[keep]] != 0)  # the rows the counterfactual covers
    at = at[keep]
    t = fills["t"][forced][keep]
    notional = (fills["qty"] * fills["price"])[forced][keep]
    side = np.sign(q0[at])
    lp = lp0[at]
    low_by_t, high_by_t = running_extremes(path_t_s, path_p, t)
    exogenous = ((side > 0) & (low_by_t <= lp)) | ((side < 0) & (high_by_t >= lp))
    attributed_usd = float(notional.sum())
    endogenous_usd = float(notional[~exogenous].sum())

    wave_rows = []
    for w in waves:
        in_wave = (t >= w["start_s"]) & (t <= w["end_s"])
        total = float(notional[in_wave].sum())
        endo = float(notional[in_wave & ~exogenous].sum())
        wave_rows.append(
            {
                "start_s": _num(w["start_s"]),
                "end_s": _num(w["end_s"]),
                "attributed_usd": _num(total),
                "endogenous_usd": _num(endo),
                "endogenous_share": _share(endo, total),
            }
        )

    drawdown = {"fundamental": _num(fundamental_pct)}
    shares = {}
    for name in ("index", "mark", "last"):
        low, high = extremes.get(name, (np.nan, np.nan))
        realized = _move_pct(low, high, start_price, direction) if np.isfinite(low) and np.isfinite(high) else None
        drawdown[name] = None if realized is None else _num(realized)
        shares[name] = _endogenous_share(fundamental_pct, drawdown[name])
    return {
        "static_liquidated_usd": _num(static_usd),
        "static_liquidated_contracts": _num(static_units),
        "liquidated_contracts": _num(liquidated_units),
        "cascade_multiplier": _share(liquidated_units, static_units),
        "attributed_usd": _num(attributed_usd),
        "endogenous_usd": _num(endogenous_usd),
        "endogenous_share": _share(endogenous_usd, attributed_usd),
        "move_pct": drawdown,
        "endogenous_share_of_move": shares,
        "waves": wave_rows,
    }


def prices_section(spot, series):
    """``summary["prices"]`` of a run with endogenous prices: each spot venue's low and end against its start (the
    per-venue lows of docs/model.md §8), the perp's last, the index and the mark beside them, and what each kind of
    trader did on spot: volume and profit (cash plus holdings at each venue's final price)."""
    start = float(series["index"][0]) if len(series) else float("nan")
    venues = {}
    for v, name in enumerate(spot["names"]):
        venues[name] = {
            "weight": float(spot["weight"][v]),
            "depth_usd_1pct": float(spot["depth_usd"][v]),
            "low_usd": float(spot["low"][v]),
            "low_pct": 100.0 * (float(spot["low"][v]) / start - 1.0),
            "end_usd": float(spot["end"][v]),
            "depth_share_end": float(spot["share_end"][v]),
        }
    traders = {}
    for row, name in enumerate(E.SPOT_PARTICIPANT_NAMES):
        if row == E.SPOT_MAKERS:
            continue
        value = spot["cash"][row] + spot["base"][row] * spot["end"]
        traders[name] = {
            "spot_volume_usd": float(spot["volume"][row].sum()),
            "spot_pnl_usd": float(value.sum()),
            "spot_position": float(spot["base"][row].sum()),
        }
    lows = {
        col: (100.0 * (float(np.nanmin(series[col])) / start - 1.0) if len(series) else None)
        for col in ("index", "mark", "last")
    }
    return {
        "model": "endogenous",
        "index_method": spot["index_method"],
        "low_pct": lows,
        "venues": venues,
        "spot_traders": traders,
    }
