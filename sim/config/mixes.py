"""Leverage mixes: the weights over leverages a synthetic population draws each position's leverage from.

A mix is written either as a table ``{leverage = weight, ...}`` (weights are normalised) or as the name of one of
:data:`NAMED`, anywhere a mix is taken: ``population.leverage_mix`` in a scenario file, ``--set``, ``--grid``
(``--grid population.leverage_mix=[conservative,balanced,degen]``) and ``Scenario.with_overrides``. A scenario
keeps a name as the name (so ``to_dict``, a sweep's table and its plots show ``degen``, not a table of numbers);
:func:`pairs` resolves it. A table must fit the venue's first tier (a 100 on a 40× venue is refused); a named mix,
like the default, is capped instead: a position opens at most at its tier's maximum leverage, so one mix name
means the same intent on every venue.

The named mixes are assumptions, not measurements: ``balanced`` is the default mix (docs/model.md §5.1), a retail
book with a tail at 50-100×; ``conservative`` is mostly 1-3× with nothing above 10×; ``degen`` has nothing below
10× and half its positions at 50× or more, the crowd that the 10 Oct 2025 liquidations wiped out (liquidated
traders' average leverage is reported near 60× on BitMEX).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.config.schema import BAD, as_number

Mix = tuple[tuple[float, float], ...]

DEFAULT: Mix = ((2.0, 0.2), (5.0, 0.3), (10.0, 0.25), (20.0, 0.15), (50.0, 0.07), (100.0, 0.03))

NAMED: dict[str, Mix] = {
    "conservative": ((1.0, 0.15), (2.0, 0.35), (3.0, 0.25), (5.0, 0.15), (10.0, 0.1)),
    "balanced": DEFAULT,
    "degen": ((10.0, 0.1), (20.0, 0.2), (25.0, 0.2), (50.0, 0.25), (75.0, 0.1), (100.0, 0.15)),
}


def lev_key(lev: float) -> str:
    """A leverage as a TOML key: ``"10"`` for whole numbers, else the shortest exact float text."""
    return str(int(lev)) if float(lev).is_integer() else repr(float(lev))


def text(mix: Mix) -> str:
    """A mix as inline TOML: ``{2 = 0.2, 5 = 0.3}``."""
    return "{" + ", ".join(f"{lev_key(lev)} = {w:g}" for lev, w in mix) + "}"


def pairs(mix: str | Mix) -> Mix:
    """The ``(leverage, weight)`` pairs of a mix, sorted by leverage; a name is looked up in :data:`NAMED`."""
    return NAMED[mix] if isinstance(mix, str) else mix


def arrays(mix: str | Mix) -> tuple[np.ndarray, np.ndarray]:
    """Leverages and their probabilities (weights normalised to sum to 1), as float64 arrays."""
    lev, w = (np.array(c, dtype=np.float64) for c in zip(*pairs(mix)))
    return lev, w / w.sum()


def mean_leverage(mix: str | Mix) -> float:
    """The mix's weighted mean leverage, before any venue cap."""
    lev, p = arrays(mix)
    return float(lev @ p)


def check(value: Any, key: str, fail: Callable[..., Any]) -> Any:
    """A mix as given, checked: a known name (kept as the name) or a table, stored as pairs sorted by leverage.

    Every problem is reported through ``fail(key, message[, value])``; returns ``BAD`` if there was any.
    """
    names = ", ".join(NAMED)
    if isinstance(value, str):
        return (
            value
            if value in NAMED
            else fail(
                key,
                f"unknown leverage mix; the named mixes are {names} (or "
                "write a table of leverage = weight, e.g. {2 = 0.5, 10 = 0.5})",
                value,
            )
        )
    if not isinstance(value, dict):
        return fail(key, f"must be a table of leverage = weight, e.g. {{2 = 0.5, 10 = 0.5}}, or a name: {names}", value)
    problems: list[tuple[Any, ...]]
    problems, found = [], {}
    for k, w in value.items():
        try:
            lev = float(k)
        except (TypeError, ValueError):
            lev = math.nan
        if isinstance(w, dict):  # TOML reads an unquoted 2.5 = ... as the nested key 2 -> 5
            problems.append(
                (f"{key}.{k}", 'is a table, not a weight; quote a fractional leverage, e.g. "2.5" = 0.1', w)
            )
        elif not lev >= 1 or not math.isfinite(lev):
            problems.append((f"{key}.{k}", "the key must be a leverage: a number ≥ 1"))
        elif as_number(w) is None or w < 0:
            problems.append((f"{key}.{k}", "the weight must be a number ≥ 0", w))
        elif lev in found:
            problems.append((f"{key}.{k}", f"the same leverage as {key}.{lev_key(lev)}"))
        else:
            found[lev] = float(w)
    if not problems and sum(found.values()) <= 0:
        problems.append((key, "needs at least one positive weight", value))
    elif not problems and not math.isfinite(sum(found.values())):
        problems.append((key, "the weights must sum to a finite number (they are normalised)", value))
    for problem in problems:
        fail(*problem)
    return BAD if problems else tuple(sorted(found.items()))
