"""Account snapshots as venues publish them: ``population.file`` in the snapshot format (docs/model.md §5.2).

A snapshot is a CSV (``#`` lines are comments) with one row per (user, coin) position, the fields of Hyperliquid's public info endpoint
(``clearinghouseState`` of a user: ``assetPositions[].position`` and the account's margin summary) flattened:

=================  ===========================================================================================
``user``           account id (any text; rows of one user share its cross account)
``coin``           the position's coin; rows of ``market.asset`` (and of each instrument's asset, in a run of
                   several) become the run's positions, the others only weigh on their user's cross account (below)
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

In a run of several instruments (``[instruments]``, docs/model.md §5.5) each market takes the rows of its asset, and
a user's cross rows in the run's assets are one cross account: the account value less the maintenance margin of
its cross rows in other coins (held still, as above) is its equity, given to its rows: each its unrealised profit
(so no row's wallet is below 0 while the account's cash covers its losses), the rest in proportion to their entry
notional ``|szi|·entryPx``; the engine shares the slack out again at the start, so the split changes only the first
bands. Isolated rows stay alone; rows of coins with no market take no part but the reserved margin. A row's mark
without ``positionValue`` is its market's start price.
"""

from __future__ import annotations

from contextvars import ContextVar
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


#: The run's markets (asset → start price) while :func:`sim.config.instruments.market_scenarios` builds each
#: instrument's market as a scenario of its own: its snapshot rows of the other instruments' coins are then markets
#: of the run, not coins held still (None: the scenario's own markets).
SNAPSHOT_RUN: ContextVar[dict[str, float] | None] = ContextVar("SNAPSHOT_RUN", default=None)


def read_snapshot_csv(
    path: str | Path, asset: str, start_price: float, run: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Read a snapshot (module docstring) as the positions of ``asset``.

    ``run``: every market of the run, asset → start price (default: ``asset`` alone); the rows of other coins are
    held still, and a user's cross account value is shared among its rows of the run's assets (module docstring).
    An asset's rows are those whose coin is the asset (for ``ALT``, also :data:`sim.venues.ALT_COIN`'s).

    Returns the arrays of :func:`sim.config.files.read_positions_csv` (``side``, ``size``, ``entry_price``,
    ``wallet``, ``mode``, ``margin``, ``line``) for the rows of ``asset``, plus ``mark`` (the snapshot's mark of
    each row), ``equity`` (the equity the row is given at that mark), ``liquidation_px`` (NaN where not given) and
    ``user`` (the row's user, numbered from 0 in the order of the file's sorted user ids: the same number in every
    market's rows); and ``held_still_coins`` and ``held_still_rows``: the coins of the file with no market in the
    run and their numbers of rows.

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
    run = {asset: start_price} if run is None else run
    return _positions(t, a, np.array(users, dtype=object), np.array(coins, dtype=object), asset, start_price, run)


def coin_names(asset: str) -> tuple[str, ...]:
    """The coins whose rows are an asset's: the asset, and for ``ALT`` the coin its tables are (AVAX)."""
    from sim.venues import ALT_COIN

    asset = asset.upper()
    return (asset, ALT_COIN) if asset == "ALT" else (asset,)


def _positions(t, a, users, coins, asset, p0, run):
    """The rows of ``asset`` as run positions (``run``: each run asset's start price); the problems of users and
    rows raise here."""
    mine = np.isin(coins, coin_names(asset))
    start = np.full(users.size, p0)  # a row's mark when the file gives none: its market's start price
    simulated = np.zeros(users.size, bool)
    for name, price in run.items():
        theirs = np.isin(coins, coin_names(name))
        start[theirs], simulated[theirs] = price, True
    size, side = np.abs(a["szi"]), np.sign(a["szi"]).astype(np.int8)
    mark = np.where(np.isfinite(a["value"]), a["value"] / np.where(size > 0, size, 1.0), start)
    upnl = side * size * (mark - a["entry"])
    equity = a["used"].copy()  # isolated rows; cross rows below
    reported = np.zeros(users.size, bool)
    order = np.argsort(users, kind="stable")
    starts = np.flatnonzero(np.r_[True, users[order][1:] != users[order][:-1]])
    for lo, hi in zip(starts, np.r_[starts[1:], order.size]):
        rows = order[lo:hi]
        where = f"{t.name}: line {a['line'][rows[0]]}: user {users[rows[0]]}"
        if np.unique(a["account"][rows]).size > 1:
            t.file_level(f"{where}: accountValue differs between the user's rows; it is the account's, one value")
        if np.unique(coins[rows]).size < rows.size:
            t.file_level(f"{where}: more than one row for the same coin; a user holds one position per coin")
        others = rows[~simulated[rows] & (a["mode"][rows] == CROSS)]
        need = others[~(np.isfinite(a["value"][others]) & np.isfinite(a["maxlev"][others]))]
        reported[rows] = need.size > 0  # the user's equity cannot be shared out: no second message about it
        for i in need[:3]:
            t.file_level(
                f"{t.name}: line {a['line'][i]}: a cross position in {coins[i]} (no market of the run) needs "
                "positionValue and maxLeverage: its maintenance margin is reserved from the user's account value"
            )
        left = a["account"][rows[0]] - float(np.sum(a["value"][others] / (2.0 * a["maxlev"][others])))
        shared = rows[simulated[rows] & (a["mode"][rows] == CROSS)]
        if shared.size:  # each row its profit, and the rest of the equity by entry notional
            gain = np.maximum(upnl[shared], 0.0)
            notional = size[shared] * a["entry"][shared]
            equity[shared] = gain + (left - gain.sum()) * notional / notional.sum()
    if not mine.any():
        t.file_level(f"{t.name}: no position in {asset} (market.asset); coins found: {', '.join(sorted(set(coins)))}")
    wallet = equity - upnl
    broke = np.flatnonzero(mine & ~(wallet > 0) & ~reported)
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
    out["user"] = np.unique(users, return_inverse=True)[1].astype(np.int64)
    held, count = np.unique(coins[~simulated].astype(str), return_counts=True)
    return {
        **{k: np.ascontiguousarray(v[mine]) for k, v in out.items()},
        "held_still_coins": held,
        "held_still_rows": count.astype(np.int64),
    }
