"""Collateral holdings of a scenario's cross accounts (``[collateral.<ASSET>]``, :mod:`sim.config.collateral`
turns the scenario's tables into :class:`Asset` records).

For each asset, a share of the cross accounts (drawn on the asset's child of stream ``collateral``) move
``margin_share`` of their USD margin (the sum of their rows' wallets at the start) into the asset at its start
price. The account layer holds ``k`` effective units of it (amount × the venue's ratio, bracket-wise for a tiered
table: :mod:`sim.venues.collateral`), worth ``k·p`` at price ``p``, and the rows keep the rest of their wallets. So
the haircut lowers a holder's equity from the start, and a depeg or a crash of the asset lowers it further.

Prices: a stablecoin's path is 1 USD, moved by ``move_pct`` from ``start_s`` over ``duration_s`` (back to 1 from
``back_s`` over ``duration_s`` again when given); BTC's is the BTC market's index, as the venue values it (the
shock path plus its coupling to the perp under imposed prices; formed by the spot venues' flows under endogenous
prices), read at every round of the account layer.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sim.world.streams import seed_sequence


def effective_units(rows: Any, amount: np.ndarray) -> np.ndarray:
    """Units that count, ``Σ slice × ratio`` of each amount under a bracket-wise table (vectorised
    :func:`sim.venues.collateral.value_usd` at a price of 1)."""
    out = np.zeros_like(amount)
    for k, (floor, ratio) in enumerate(rows):
        top = rows[k + 1][0] if k + 1 < len(rows) else np.inf
        out += ratio * np.clip(np.minimum(amount, top) - floor, 0.0, None)
    return out


def dollar_path(h: Any) -> tuple[list[float], list[float]]:
    """A stablecoin's path (seconds, USD)."""
    t = [0.0, h.start_s, h.start_s + h.duration_s]
    p = [1.0, 1.0, 1.0 + h.move_pct / 100.0]
    if h.back_s is not None:
        back = max(h.back_s, t[-1])
        t += [back, back + h.duration_s]
        p += [p[-1], 1.0]
    return t, p


class Asset(NamedTuple):
    """One collateral asset as :func:`holdings` takes it (:func:`sim.config.collateral.assets` makes them)."""

    stream: int  # its child of stream "collateral": its place among the assets a scenario may name
    share: float  # fraction of the cross accounts that hold it
    margin_share: float  # fraction of a holder's USD margin exchanged for it
    ratio: float | None  # a flat ratio, or None for ``rows``
    rows: tuple  # the venue's bracket-wise table ((floor in units, ratio), ...)
    t_s: np.ndarray  # its price path: seconds, USD
    price: np.ndarray
    weight: float  # its volatility scale for an account's slack per USD of value (sim.multi.slack_weights)
    market: int  # the market whose index values it (BTC: the BTC instrument's); −1: its path


def holdings(seed: int, assets: list, inputs: list, row_acct: list) -> tuple[list, dict | None]:
    """The holdings of ``assets`` as :func:`sim.multi.simulate_markets` takes them, and the inputs with the holders'
    wallets reduced by what they moved into collateral; ``None`` without assets. With no account to hold them (a
    tiny population, or every trader kept isolated by stops or top-ups) the assets' paths are still there, with no
    holding: the run reports them, and nothing moves."""
    accts = np.concatenate([np.asarray(a, np.int64) for a in row_acct])
    if not assets:
        return inputs, None
    wallets = np.concatenate([np.asarray(inp.pos_wallet, np.float64) for inp in inputs])
    n_acct = int(accts.max(initial=-1)) + 1
    member = accts >= 0
    margin = np.bincount(accts[member], weights=wallets[member], minlength=n_acct)
    moved = np.zeros(n_acct)
    paths, account, asset, units = [], [], [], []
    children = seed_sequence(seed, "collateral").spawn(max(a.stream for a in assets) + 1)
    for c, a in enumerate(assets):
        rng = np.random.default_rng(children[a.stream])
        hold = np.flatnonzero((rng.random(n_acct) < a.share) & (margin > 0.0))
        amount = a.margin_share * margin[hold] / a.price[0]
        k = a.ratio * amount if a.ratio is not None else effective_units(a.rows, amount)
        keep = k > 0.0  # a ratio of 0 at every amount held counts for nothing: no holding
        moved[hold] += a.margin_share
        paths.append((a.t_s, a.price, a.weight, a.market))
        account.append(hold[keep])
        asset.append(np.full(int(keep.sum()), c, np.int64))
        units.append(k[keep])
    moved = np.append(moved, 0.0)  # an isolated row (account −1) moves nothing
    out, lo = [], 0
    for inp in inputs:
        n = inp.pos_wallet.size
        share = moved[accts[lo : lo + n]]
        out.append(inp._replace(pos_wallet=inp.pos_wallet * (1.0 - share)))
        lo += n
    spec = {
        "assets": paths,
        "account": np.concatenate(account),
        "asset": np.concatenate(asset),
        "units": np.concatenate(units),
    }
    return out, spec
