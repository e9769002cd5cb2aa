"""Random index paths drawn from a seed (docs/model.md §6), shared by the scenario check and the run.

Pure NumPy: the scenario validation draws the same path the engine will, to check that it stays inside
the book ladder before anything runs.
"""

import math

import numpy as np

from sim.world.streams import generator


def gbm_path(shock_cfg, p0, duration_s, seed):
    """GBM with Poisson jumps from ``start_s`` to the end of the run, one point every ``step_s`` (the last
    step shorter if the run does not end on one).

    Per step of ``dt`` days: ``log P += (μ − σ²/2)·dt + σ·√dt·Z + Σ J`` with ``Z`` standard normal, the
    number of jumps Poisson(``jump_rate_per_h``·step in hours) and each log-jump
    ``J ~ Normal(log(1 + jump_mean_pct/100), jump_sd_pct/100)``; ``σ`` = ``volatility_pct_per_day``/100
    and ``μ`` = ``drift_pct_per_day``/100 per day. Flat at ``p0`` before ``start_s``.
    """
    from sim.kernels import elementwise  # here: `import sim` must not import Numba

    rng = generator(seed, "shock_path")  # the scenario check and the run draw the same path
    step = shock_cfg.step_s
    span = max(0.0, duration_s - shock_cfg.start_s)
    # points every step_s, and a last, shorter step up to the end of the run if it does not fall on one
    t = shock_cfg.start_s + step * np.arange(int(math.floor(span / step + 1e-9)) + 1)
    if t[-1] < shock_cfg.start_s + span - 1e-9:
        t = np.append(t, shock_cfg.start_s + span)
    n = t.size - 1
    dt = np.diff(t) / 86400.0  # days
    sigma = shock_cfg.volatility_pct_per_day / 100.0
    mu = shock_cfg.drift_pct_per_day / 100.0
    z = rng.standard_normal(n)
    jumps = rng.poisson(shock_cfg.jump_rate_per_h * dt * 24.0)
    sizes = np.zeros(n)
    hit = np.flatnonzero(jumps)
    if hit.size:  # the sum of k normal log-jumps is normal with k times the mean and variance
        k = jumps[hit]
        loc = math.log1p(shock_cfg.jump_mean_pct / 100.0)
        sizes[hit] = k * loc + np.sqrt(k) * (shock_cfg.jump_sd_pct / 100.0) * rng.standard_normal(hit.size)
    steps = (mu - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z + sizes
    log_moves = np.concatenate(([0.0], np.cumsum(steps)))
    prices = p0 * elementwise.exp(log_moves, log_moves)
    return np.concatenate(([0.0], t)), np.concatenate(([p0], prices))


def recorded_path(unix_s, price, zero_unix_s):
    """A recorded price column on a run's clock (docs/model.md §6): ``(t_s, price)`` with ``t_s`` in seconds from
    the run's start, the Unix time ``zero_unix_s``.

    A blank price (NaN: a bar without trades) keeps the last price, and rows before the first price are dropped.
    Rows before the run's start are replaced by one point at ``t = 0`` with the path's price then, linear between
    the points around it as the run reads a path (a repeated time is a jump: the later price holds). A path that
    starts later holds its first price until then; ``t_s`` is empty when the column has no price.
    """
    unix_s = np.asarray(unix_s, np.float64)
    price = np.asarray(price, np.float64)
    known = np.isfinite(price)
    if not known.any():
        return np.zeros(0), np.zeros(0)
    first = int(np.argmax(known))
    t, p, known = unix_s[first:] - zero_unix_s, price[first:], known[first:]
    last = np.where(known, np.arange(p.size), 0)
    p = p[np.maximum.accumulate(last)]  # a blank cell keeps the last price
    if t[0] >= 0.0:
        return t, p
    k = int(np.searchsorted(t, 0.0, side="right"))  # rows at or before the start: t[:k]
    if k == t.size:
        p0 = p[-1]
    else:
        p0 = p[k - 1] + (p[k] - p[k - 1]) * (0.0 - t[k - 1]) / (t[k] - t[k - 1])
    return np.concatenate(([0.0], t[k:])), np.concatenate(([p0], p[k:]))
