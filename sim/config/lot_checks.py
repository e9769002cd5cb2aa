"""Whether the lot size fits the sizes drawn: rounding every position's and background order's size to whole lots
must not move their open interest or mean notional beyond the tolerance (called by :mod:`sim.config.scenario` once
every key has been read)."""

from __future__ import annotations

import math

import numpy as np

from sim.config.schema import Checker, fmt
from sim.config.tables import LOT_TOLERANCE_PCT


def _rounded_mean(lot_usd: float, quantiles: np.ndarray, mean: float) -> float:
    """The mean size after rounding to whole lots of ``lot_usd``, at least one each, of sizes given by ``quantiles``
    (USD, evenly spaced quantiles of their distribution) whose exact mean is ``mean``. Each size moves by a bounded
    amount, so the quantiles' average of that move is exact enough (their average size would miss the tail)."""
    with np.errstate(all="ignore"):
        y = quantiles / lot_usd
        return float(np.mean(np.maximum(np.round(y), 1.0) - y)) * lot_usd + mean


def _lot_fits(rounded: float, mean: float) -> bool:
    return mean > 0 and abs(rounded / mean - 1) * 100 <= LOT_TOLERANCE_PCT


def _largest_lot(quantiles: np.ndarray, mean: float, p0: float) -> float | None:
    """The largest lot (base units, 3 significant digits) such that every lot up to it moves the mean size by at
    most the tolerance: stepping up from a thousandth of the smallest size, then halving the step; None if none."""

    def fits(lot: float) -> bool:
        return _lot_fits(_rounded_mean(p0 * lot, quantiles, mean), mean)

    lo = float(quantiles[0]) / p0 * 1e-3
    if not (lo > 0 and math.isfinite(lo) and fits(lo)):
        return None
    step = 10**0.05
    while fits(lo * step) and lo < 1e12:
        lo *= step
    hi = lo * step
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    exp = math.floor(math.log10(lo)) - 2
    return float(f"{math.floor(lo / 10.0**exp)}e{exp}")  # 3 digits, rounded down


def _fmt3(x: float) -> str:
    """A number to 3 significant digits, as :func:`fmt` writes it (``7.26e11``, ``0.303``)."""
    return fmt(float(f"{x:.3g}"))


def _change(before: float, after: float) -> str:
    """How far ``after`` is from ``before``: ``+30%``, ``90.8 times as much``."""
    with np.errstate(all="ignore"):
        ratio = np.float64(after) / before
    if not np.isfinite(ratio):
        return "from next to nothing"
    return f"{_fmt3(ratio)} times as much" if ratio >= 2 else f"{100 * (ratio - 1):+.2g}%"


_QUANTILES = (np.arange(1 << 16) + 0.5) / (1 << 16)


def check_lot(c: Checker) -> None:
    """Sizes are rounded to whole lots, at least one each (sim.world.population, sim.world.market): a lot too
    coarse for the positions drawn would rewrite the open interest (a lot of 100 BTC turns 8e9 USD into 7e11), and
    one too coarse for the background orders would rewrite their size. Refuse a move beyond the tolerance."""
    v = c.values
    pop = ("n_positions", "open_interest_usd", "long_share", "notional_min_usd", "notional_max_usd", "size_tail_alpha")
    if not c.ok("market.lot_size", "market.start_price_usd"):
        return
    lot, p0 = v["market.lot_size"], v["market.start_price_usd"]

    def fix(quantiles: np.ndarray, mean: float, keys: str) -> str:
        largest = _largest_lot(quantiles, mean, p0)
        return f"at most about {fmt(largest)}" if largest else f"coarser than no lot can be; change {keys}"

    if v["population.file"] is None and c.ok(*(f"population.{k}" for k in pop)):
        n, oi, share, lo, hi, alpha = (v[f"population.{k}"] for k in pop)
        larger = n * max(share, 1 - share)  # positions on the larger side, which holds the open interest
        # generate(): a Pareto notional capped at notional_max, scaled so the larger side holds the open interest.
        # With no finite mean (alpha ≤ 1) the sum of a sample sees the typical largest of the n draws, not the cap.
        if alpha <= 1 and math.log(n) / alpha < math.log(hi / lo):  # in logs: n ** (1 / alpha) can overflow a float
            hi = lo * n ** (1 / alpha)
        drawn = (
            lo + lo * math.log(hi / lo)
            if abs(1 - alpha) < 1e-9
            else lo + lo**alpha * (hi ** (1 - alpha) - lo ** (1 - alpha)) / (1 - alpha)
        )
        scale = oi / (larger * drawn) if oi > 0 else 1.0
        with np.errstate(over="ignore"):  # a tiny alpha sends the far quantiles to inf, which the cap takes
            sizes = scale * np.minimum(lo * (1 - _QUANTILES) ** (-1 / alpha), hi)
        rounded = _rounded_mean(p0 * lot, sizes, scale * drawn)
        if not _lot_fits(rounded, scale * drawn):
            before = oi if oi > 0 else larger * drawn
            c.fail(
                "market.lot_size",
                f"rounding every position's size to whole lots of {_fmt3(p0 * lot)} USD (at market.start_price_usd), "
                f"at least one each, would make the open interest about {_fmt3(larger * rounded)} USD instead of "
                f"{_fmt3(before)} ({_change(before, larger * rounded)}) with population.open_interest_usd = "
                f"{fmt(oi)} over population.n_positions = {fmt(n)}; it may move it by at most "
                f"{LOT_TOLERANCE_PCT:g}%: market.lot_size must be "
                + fix(sizes, scale * drawn, "population.open_interest_usd or population.n_positions"),
                c.given.get("market.lot_size", lot),
            )
    book = ("noise_rate_per_s", "noise_notional_median_usd", "noise_notional_sigma")
    if c.ok(*(f"book.{k}" for k in book)) and v["book.noise_rate_per_s"] > 0:
        median, sigma = v["book.noise_notional_median_usd"], v["book.noise_notional_sigma"]
        from scipy.special import ndtri  # here: importing SciPy costs a quarter second that few runs need

        sizes = median * np.exp(sigma * ndtri(_QUANTILES))
        mean = median * math.exp(sigma**2 / 2)
        rounded = _rounded_mean(p0 * lot, sizes, mean)
        if not _lot_fits(rounded, mean):
            c.fail(
                "market.lot_size",
                f"rounding every background order's size to whole lots of {_fmt3(p0 * lot)} USD (at "
                f"market.start_price_usd), at least one each, would move their mean notional ({_change(mean, rounded)}) "
                f"with book.noise_notional_median_usd = {fmt(median)}; it may move it by at most "
                f"{LOT_TOLERANCE_PCT:g}%: market.lot_size must be "
                + fix(sizes, mean, "book.noise_notional_median_usd"),
                c.given.get("market.lot_size", lot),
            )
