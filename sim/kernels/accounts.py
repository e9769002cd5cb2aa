"""The final accounts table, packed in one pass (a million rows of a dozen fields each)."""

from sim._jit import jit


@jit(entry=True)
def pack_positions_nb(
    out, side0, size0, entry0, wallet0, reserve0, kind, mode, leverage, lp_start, pos, start_price, mark
):
    """Fill the position rows of ``out`` (a sim.dtypes.ACCOUNT_DTYPE array) from start and end state.

    Cash is ``wallet + top-up reserve − signed size × entry`` (a top-up moves the trader's own cash from its
    reserve to its wallet); equity is cash plus the position valued at the start
    price (start) or the final mark (end). Only ``out`` is mutated.
    """
    side, size, entry, wallet, reserve, status = pos.side, pos.size, pos.entry, pos.wallet, pos.reserve, pos.status
    for i in range(side0.size):
        r = out[i]
        q0 = side0[i] * size0[i]
        q1 = side[i] * size[i]
        r["id"] = i
        r["kind"] = kind[i]
        r["mode"] = mode[i]
        r["status"] = status[i]
        r["leverage"] = leverage[i]
        r["entry_price"] = entry0[i]
        r["liquidation_price_start"] = lp_start[i]
        r["position_start"] = q0
        r["position_end"] = q1
        r["cash_start"] = wallet0[i] + reserve0[i] - q0 * entry0[i]
        r["cash_end"] = wallet[i] + reserve[i] - q1 * entry[i]
        r["equity_start"] = r["cash_start"] + q0 * start_price
        r["equity_end"] = r["cash_end"] + q1 * mark
        r["topup_usd"] = reserve0[i] - reserve[i]
    return out
