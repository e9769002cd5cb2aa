"""Account snapshots as venues publish them: ``population.file`` in the snapshot format (docs/model.md §5.2).

A snapshot is a CSV (``#`` lines are comments) with one row per (user, coin) position, the fields of Hyperliquid's public info endpoint
(``clearinghouseState`` of a user: ``assetPositions[].position`` and the account's margin summary) flattened:

=================  ===========================================================================================
``user``           account id (any text; rows of one user share its cross account)
``coin``           the position's coin; rows of ``market.asset`` become the run's positions, the others only
                   weigh on their user's cross account (below)
``szi``            signed size in coins (> 0 long, < 0 short; not 0)
``entryPx``        entry price, USD
``leverage_type``  ``cross`` or ``isolated``
``leverage_value`` the leverage the user set (≥ 1); the initial margin is ``|szi|·entryPx / leverage_value``
``marginUsed``     isolated: the position's equity (its isolated margin plus unrealised PnL, as the venue
                   reports it); cross: the margin it ties up (read, not used)
``accountValue``   the user's cross account value (equity, unrealised PnL included), the same on every row of
                   the user; Hyperliquid's ``crossMarginSummary.accountValue``
optional:
``positionValue``  ``|szi|·mark`` at the snapshot: gives the snapshot's mark (else ``market.start_price_usd``)
``maxLeverage``    the coin's maximum leverage: a cross row of another coin needs it, as it needs
                   ``positionValue``, for its maintenance margin ``positionValue / (2·maxLeverage)``
``liquidationPx``  the venue's liquidation price (read and returned for checks; blank when it has none)
``unrealizedPnl``  read and ignored
=================  ===========================================================================================

liqsim simulates one coin, one position per account, so a cross account becomes one row whose wallet ``W`` makes
its equity at the snapshot's mark what the account has for this coin: ``W + s·Q·(mark − EP) = accountValue −
Σ MM(other coins)``. The other coins' positions are held still at the snapshot, so their maintenance margin stays
reserved; this is the assumption behind the venue's own cross liquidation price (Hyperliquid: ``margin_available =
account_value − maintenance_margin_required``), so the run's liquidation price of the row is the venue's. An
isolated row's wallet gives it equity ``marginUsed`` at the mark.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.config.files import _AT_LEAST_1, _FINITE, _POSITIVE, _CsvTable, _floats, _words
from sim.config.schema import file_problem
from sim.enums import CROSS, ISOLATED

REQUIRED = ("user", "coin", "szi", "entryPx", "leverage_type", "leverage_value", "marginUsed", "accountValue")
OPTIONAL = ("positionValue", "maxLeverage", "liquidationPx", "unrealizedPnl")


def is_snapshot(path: str | Path) -> bool:
    """Whether a positions file is in the snapshot format: its header names the ``szi`` column (False for anything
    that is not a readable regular file: the positions reader then says what it is)."""
    if file_problem(path, "a CSV file") is not None:
        return False
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for line in f:
                if line.strip() and not line.lstrip().startswith("#"):
                    return "szi" in [c.strip().lower() for c in line.split(",")]
    except (OSError, UnicodeDecodeError):
        return False
    return False


def read_snapshot_csv(path: str | Path, asset: str, start_price: float) -> dict[str, np.ndarray]:
    """Read a snapshot (module docstring) as the positions of ``asset``.

    Returns the arrays of :func:`sim.config.files.read_positions_csv` (``side``, ``size``, ``entry_price``,
    ``wallet``, ``mode``, ``margin``, ``line``) for the rows of ``asset``, plus ``mark`` (the snapshot's mark of
    each row), ``equity`` (the equity the row is given at that mark) and ``liquidation_px`` (NaN where not given).

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    lower = [c.lower() for c in (*REQUIRED, *OPTIONAL)]
    t = _CsvTable(
        path, [c.lower() for c in REQUIRED], [c.lower() for c in OPTIONAL], comments=True, order=lower, row_bytes=120
    )
    users: list[str] = []
    coins: list[str] = []
    num: dict[str, list[np.ndarray]] = {
        k: [] for k in ("szi", "entry", "lev", "used", "account", "value", "maxlev", "liq", "line", "mode")
    }
    for lines, cols in t.chunks():
        n = len(lines)
        szi, ok, _ = _floats(t, lines, cols["szi"], "szi", _FINITE)
        zero = ok & (szi == 0)
        t.problems_at(np.flatnonzero(zero), lines, "szi", cols["szi"], "must not be 0 (the signed size of a position)")
        ok &= ~zero
        entry, ok_e, _ = _floats(t, lines, cols["entrypx"], "entryPx", _POSITIVE)
        mode, ok_m = _words(t, lines, cols["leverage_type"], "leverage_type", {"isolated": ISOLATED, "cross": CROSS})
        lev, ok_l, _ = _floats(t, lines, cols["leverage_value"], "leverage_value", _AT_LEAST_1)
        used, ok_u, _ = _floats(t, lines, cols["marginused"], "marginUsed", _FINITE)
        account, ok_a, _ = _floats(t, lines, cols["accountvalue"], "accountValue", _FINITE)
        ok &= ok_e & ok_m & ok_l & ok_u & ok_a
        nan = np.full(n, np.nan)
        value, maxlev, liq = nan, nan, nan
        if "positionvalue" in cols:
            value, ok_v, blank = _floats(t, lines, cols["positionvalue"], "positionValue", _POSITIVE, blank_ok=True)
            ok &= ok_v | blank
        if "maxleverage" in cols:
            maxlev, ok_x, blank = _floats(t, lines, cols["maxleverage"], "maxLeverage", _AT_LEAST_1, blank_ok=True)
            ok &= ok_x | blank
        if "liquidationpx" in cols:
            liq, ok_q, blank = _floats(t, lines, cols["liquidationpx"], "liquidationPx", _POSITIVE, blank_ok=True)
            ok &= ok_q | blank
        keep = np.flatnonzero(ok)
        users += [cols["user"][i].strip() for i in keep]
        coins += [cols["coin"][i].strip().upper() for i in keep]
        for key, arr in (
            ("szi", szi),
            ("entry", entry),
            ("lev", lev),
            ("used", used),
            ("account", account),
            ("value", value),
            ("maxlev", maxlev),
            ("liq", liq),
            ("line", lines),
            ("mode", mode),
        ):
            num[key].append(arr[keep])
    t.finish()
    a = {k: np.concatenate(v) for k, v in num.items()}
    return _positions(t, a, np.array(users, dtype=object), np.array(coins, dtype=object), asset.upper(), start_price)


def _positions(t, a, users, coins, asset, p0):
    """The rows of ``asset`` as run positions; the problems of users and rows raise here."""
    mine = coins == asset
    size, side = np.abs(a["szi"]), np.sign(a["szi"]).astype(np.int8)
    mark = np.where(np.isfinite(a["value"]), a["value"] / np.where(size > 0, size, 1.0), p0)
    mm_other = np.zeros(users.size)
    order = np.argsort(users, kind="stable")
    starts = np.flatnonzero(np.r_[True, users[order][1:] != users[order][:-1]])
    for lo, hi in zip(starts, np.r_[starts[1:], order.size]):
        rows = order[lo:hi]
        where = f"{t.name}: line {a['line'][rows[0]]}: user {users[rows[0]]}"
        if np.unique(a["account"][rows]).size > 1:
            t.file_level(f"{where}: accountValue differs between the user's rows; it is the account's, one value")
        if np.unique(coins[rows]).size < rows.size:
            t.file_level(f"{where}: more than one row for the same coin; a user holds one position per coin")
        others = rows[(coins[rows] != asset) & (a["mode"][rows] == CROSS)]
        need = others[~(np.isfinite(a["value"][others]) & np.isfinite(a["maxlev"][others]))]
        for i in need[:3]:
            t.file_level(
                f"{t.name}: line {a['line'][i]}: a cross position in {coins[i]} (not market.asset) needs "
                "positionValue and maxLeverage: its maintenance margin is reserved from the user's account value"
            )
        mm = float(np.sum(a["value"][others] / (2.0 * a["maxlev"][others])))
        mm_other[rows] = mm
    if not mine.any():
        t.file_level(f"{t.name}: no position in {asset} (market.asset); coins found: {', '.join(sorted(set(coins)))}")
    equity = np.where(a["mode"] == CROSS, a["account"] - mm_other, a["used"])
    wallet = equity - side * size * (mark - a["entry"])
    broke = np.flatnonzero(mine & ~(wallet > 0))
    for i in broke[:3]:
        t.file_level(
            f"{t.name}: line {a['line'][i]}: the wallet behind this position would be {wallet[i]:.10g} USD (equity "
            f"{equity[i]:.10g} at mark {mark[i]:.10g}, less its unrealised PnL); it must be > 0"
        )
    if t.has_problems:
        t.finish()
    out = {
        "side": side,
        "size": size,
        "entry_price": a["entry"],
        "wallet": wallet,
        "mode": a["mode"].astype(np.int8),
        "margin": size * a["entry"] / a["lev"],
        "line": a["line"].astype(np.int64),
        "mark": mark,
        "equity": equity,
        "liquidation_px": a["liq"],
    }
    return {k: np.ascontiguousarray(v[mine]) for k, v in out.items()}
