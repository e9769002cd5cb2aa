"""Portfolios: which traders of several markets share one cross account (docs/model.md §5.5).

A synthetic population is drawn one market at a time, one position per trader. :func:`group_accounts` then puts a
share of each market's traders into accounts that hold positions in several markets, for the several-market engine
(:func:`sim.multi.simulate_markets`):

1. **Who may join.** A market's trader rows in cross margin with no stop-loss and no top-up reserve that were there
   at the start (not arrivals). An isolated position is not part of a cross account, and the engine refuses stops
   and top-ups in one (docs/engine.md §13.4).
2. **How many accounts, of which sizes.** Each market offers ``round(share × its eligible rows)`` rows. The number
   of accounts is the rows offered over the mean number of instruments an account holds (``portfolio.instruments``,
   counts capped at the number of markets), and each account draws its count from that distribution.
3. **Which markets each account holds.** Market by market (in a random order), a market's rows go to the accounts
   with the most places left, ties broken at random: the greedy that fills a bipartite degree sequence whenever one
   can be filled (Gale–Ryser), so every account holds at most one row of a market. Where the markets cannot fill
   every place (one market offers more rows than there are accounts, or the counts drawn exceed the rows), accounts
   hold fewer instruments than drawn, rows left over stay alone, and an account left with one row is no account.
4. **Which rows.** The rows of a market that join are drawn at random among its eligible ones. Each account draws a
   common factor and each of its places a score, equicorrelated within the account with the Gaussian correlation
   ``r = 2 sin(π ρ / 6)`` whose rank (Spearman) correlation is ``ρ`` (``portfolio.leverage_correlation``; for
   ``ρ < 0`` an account of ``k`` places is held at ``r ≥ −1 / (k − 1)``, the least an equicorrelation can be). In
   each market the place with the lowest score takes the row with the lowest leverage, and so on up (ties in
   leverage broken at random): a Gaussian copula over leverage ranks.
5. **Which sides** (``portfolio.side_correlation`` ≠ 0). Each place also draws a side score, equicorrelated within
   the account like the leverage scores. In each market the places with the highest side scores take the market's
   long rows among those drawn in step 4, the others its short rows, and step 4's matching of leverages runs within
   each side. The rows are the same as at 0 (so each market's long and short counts in accounts are too); only who
   holds which changes. At 0 nothing is drawn and step 4 alone places the rows.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim import enums as E


def eligible_rows(inp: Any) -> np.ndarray:
    """The rows of a market's inputs (:class:`sim.engine.Inputs`) that may join a cross account of several markets:
    traders in cross margin, with no stop and no top-up reserve, present at the start."""
    ok = (inp.pos_kind == E.TRADER) & (inp.pos_mode == E.CROSS) & np.isnan(inp.pos_stop) & (inp.pos_reserve <= 0.0)
    if inp.arr_on:
        ok[int(inp.arr_row0) :] = False
    return np.flatnonzero(ok)


def _places(offered: np.ndarray, sizes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The greedy of step 3: ``(account, market)`` of every place filled, accounts with the most places left first."""
    left = sizes.copy()
    accts, mkts = [], []
    for m in rng.permutation(offered.size):
        open_ = int(np.count_nonzero(left))
        take = min(int(offered[m]), open_)
        if take == 0:
            continue
        key = left + rng.random(left.size)  # places left, ties at random; a full account (< 1) is never taken
        chosen = np.argpartition(-key, take - 1)[:take] if take < left.size else np.arange(left.size)
        left[chosen] -= 1
        accts.append(chosen)
        mkts.append(np.full(take, m, np.int64))
    if not accts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(accts).astype(np.int64), np.concatenate(mkts)


def _scores(acct: np.ndarray, n_acct: int, rho: float, rng: np.random.Generator) -> np.ndarray:
    """Step 4's scores of the places: equicorrelated within an account, rank correlation ``rho``."""
    r = 2.0 * np.sin(np.pi * rho / 6.0)
    k = np.bincount(acct, minlength=n_acct).astype(np.float64)[acct]  # places of the place's account (≥ 2)
    e = rng.standard_normal(acct.size)
    mean = (np.bincount(acct, e, n_acct) / np.maximum(np.bincount(acct, minlength=n_acct), 1))[acct]
    own = (e - mean) * np.sqrt(k / (k - 1.0))  # unit variance, correlation −1/(k−1) within the account
    floor = -1.0 / (k - 1.0)
    common = np.clip((r - floor) / (1.0 - floor), 0.0, 1.0)  # share of the variance from the account's factor
    z = rng.standard_normal(n_acct)[acct]
    return np.sqrt(common) * z + np.sqrt(1.0 - common) * own


def group_accounts(inputs: Sequence[Any], pf: Any, rng: np.random.Generator) -> list[np.ndarray]:
    """Cross accounts across markets, for :func:`sim.multi.simulate_markets`.

    Parameters
    ----------
    inputs : list of sim.engine.Inputs
        One per market, as :func:`sim.engine.prepare` makes them.
    pf : sim.config.instruments.PortfolioTable
        ``share``, ``instruments`` (the distribution of instruments per account) and ``leverage_correlation``.
    rng : numpy.random.Generator
        The draws' stream (:func:`sim.config.instruments.portfolio_rng`).

    Returns
    -------
    list of int64 arrays
        For each market, the account of each of its position rows, numbered from 0 across markets, −1 for a row in
        no account of several markets. Every account holds rows of at least two markets, at most one of each.
    """
    n_mkt = len(inputs)
    out = [np.full(inp.pos_kind.size, -1, np.int64) for inp in inputs]
    if n_mkt < 2 or pf.share <= 0.0:
        return out
    elig = [eligible_rows(inp) for inp in inputs]
    offered = np.array([int(round(pf.share * e.size)) for e in elig], np.int64)
    ks, p = pf.count_arrays(n_mkt)
    n_acct = int(round(offered.sum() / float(ks @ p)))
    if n_acct == 0:
        return out
    sizes = rng.choice(ks, size=n_acct, p=p).astype(np.int64)
    acct, mkt = _places(offered, sizes, rng)
    held = np.bincount(acct, minlength=n_acct)
    keep = held[acct] >= 2  # an account left with one row is no account
    acct, mkt = acct[keep], mkt[keep]
    ids = np.cumsum(held >= 2) - 1  # accounts that hold several markets, numbered from 0
    acct = ids[acct]
    n_acct = int(ids[-1] + 1) if ids.size else 0
    score = _scores(acct, n_acct, float(pf.leverage_correlation), rng)
    chosen = []
    for m, (inp, e) in enumerate(zip(inputs, elig)):
        mine = np.flatnonzero(mkt == m)
        rows = e[rng.permutation(e.size)[: mine.size]] if mine.size else e[:0]  # a random order: ties at random
        chosen.append((mine, rows[np.argsort(np.asarray(inp.pos_leverage)[rows], kind="stable")]))  # lowest first
    rho_side = float(getattr(pf, "side_correlation", 0.0))
    side_score = _scores(acct, n_acct, rho_side, rng) if rho_side != 0.0 else None  # after the rows: the same rows
    for m, (inp, (mine, rows)) in enumerate(zip(inputs, chosen)):
        if mine.size == 0:
            continue
        if side_score is None:
            out[m][rows] = acct[mine[np.argsort(score[mine], kind="stable")]]
            continue
        long_ = np.asarray(inp.pos_side)[rows] > 0
        by_side = mine[np.argsort(-side_score[mine], kind="stable")]  # the highest side scores take the longs
        for group, places in ((rows[long_], by_side[: int(long_.sum())]), (rows[~long_], by_side[int(long_.sum()) :])):
            out[m][group] = acct[places[np.argsort(score[places], kind="stable")]]
    return out


def file_accounts(inputs: Sequence[Any], positions: Sequence[dict]) -> list[np.ndarray]:
    """Cross accounts across markets read from an account snapshot (docs/model.md §5.5), for
    :func:`sim.multi.simulate_markets`: a user's cross rows in several markets are one account; an isolated row, a
    user's only cross row, the counterparty and arrivals are in none.

    Parameters
    ----------
    inputs : list of sim.engine.Inputs
        One per market; its first rows are its ``positions``' rows, in their order.
    positions : list of dict
        Each market's rows as :func:`sim.config.snapshot.read_snapshot_csv` reads them (``user``, ``mode``).

    Returns
    -------
    list of int64 arrays
        As :func:`group_accounts`: each market's account of each position row, −1 for none.
    """
    users = [np.where(p["mode"] == E.CROSS, p["user"], -1).astype(np.int64) for p in positions]
    every = np.concatenate(users) if users else np.zeros(0, np.int64)
    every = every[every >= 0]
    n = int(every.max()) + 1 if every.size else 0
    ids = np.cumsum(np.bincount(every, minlength=n) >= 2) - 1  # users with cross rows in several markets, from 0
    several = np.bincount(every, minlength=n) >= 2
    out = []
    for inp, u in zip(inputs, users):
        acct = np.full(inp.pos_kind.size, -1, np.int64)
        member = u >= 0
        member[member] = several[u[member]]
        acct[: u.size][member] = ids[u[member]]
        out.append(acct)
    return out
