"""The rules that tie the ``[population]`` keys to each other, to the market and to the population's data files
(called by :mod:`sim.config.scenario` once every key has been read)."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.config import files, mixes
from sim.config.schema import Checker, fmt
from sim.config.tables import Tier
from sim.errors import MAX_PROBLEMS


def mixes_fit(c: Checker, tiers: tuple[Tier, ...] | None) -> None:
    """A mix written for this venue must fit it; the default and named mixes are capped instead (every position is
    opened at most at its tier's maximum), so any venue runs with them. The default's own table counts as the
    default: a saved scenario writes it out, and must read back on a venue (or an instrument) whose maximum is lower
    than its 100×."""
    v = c.values
    for name in ("population.leverage_mix", "population.leverage_mix_short"):
        if tiers is None or not c.ok(name) or name not in c.given or isinstance(v[name], str) or v[name] is None:
            continue
        if v[name] == mixes.DEFAULT:
            continue
        top = tiers[0].max_leverage
        for lev in (lev for lev, _ in v[name] if lev > top):
            c.fail(
                f"{name}.{mixes.lev_key(lev)}", f"leverage must be in [1, {fmt(top)}] (market.tiers[0].max_leverage)"
            )


def history(c: Checker) -> dict[str, Any]:
    """``population.history_file`` read, and the keys that depend on it; returns the population's extra fields."""
    v, given = c.values, c.given
    if v["population.history_file"] is None:
        if v["population.entry_weighting"] == "volume":
            c.fail(
                "population.entry_weighting",
                "volume needs population.history_file with a volume column (the synthetic history has no volume)",
                given["population.entry_weighting"],
            )
        return {}
    if "population.entry_volatility_pct_per_day" in given:
        c.fail(
            "population.entry_volatility_pct_per_day",
            "only for the synthetic history; it cannot be set together with population.history_file",
            given["population.entry_volatility_pct_per_day"],
        )
    history = c.read("population.history_file", files.read_path_csv, volume=True)
    if history is None:
        return {}
    if v["population.entry_weighting"] == "volume" and not bool(history["has_volume"]):
        c.fail(
            "population.entry_weighting",
            f"volume needs a volume column in population.history_file ({v['population.history_file']} has "
            "timestamp and price only)",
            given.get("population.entry_weighting", "volume"),
        )
    return {"history": history}


def position_problems(pos: dict[str, np.ndarray], path: str, p0: float, tiers: tuple[Tier, ...]) -> list[str]:
    """Rows of a positions file that are bankrupt at the start price or above their tier's maximum leverage."""
    notional = pos["size"] * pos["entry_price"]
    equity = pos["wallet"] + pos["side"] * pos["size"] * (p0 - pos["entry_price"])
    leverage = notional / pos["margin"]
    tier = np.searchsorted([t.notional_floor_usd for t in tiers], notional, side="right") - 1
    top = np.array([t.max_leverage for t in tiers])[tier]
    bankrupt, too_high = equity <= 0, leverage > top * (1 + 1e-9)
    out = []
    for i in np.flatnonzero(bankrupt | too_high)[:MAX_PROBLEMS]:  # the messages shown; the rest are counted
        where = f"{path}: line {pos['line'][i]}"
        if equity[i] <= 0:
            out.append(
                f"{where}: equity at market.start_price_usd = {fmt(p0)} is {equity[i]:.10g} USD (wallet + "
                f"side·size·(start price − entry_price)); it must be > 0, or the position is bankrupt "
                "before the run starts (population.file)"
            )
        if leverage[i] > top[i] * (1 + 1e-9):
            out.append(
                f"{where}: leverage = {leverage[i]:.10g} (size·entry_price / margin = {notional[i]:.10g} / "
                f"{pos['margin'][i]:.10g}): must be at most {fmt(top[i])}, the max_leverage of "
                f"market.tiers[{tier[i]}] for a notional of {notional[i]:.10g} USD (population.file)"
            )
    more = int(bankrupt.sum() + too_high.sum()) - MAX_PROBLEMS
    return out[:MAX_PROBLEMS] + ([f"... and {more} more"] if more > 0 else [])
