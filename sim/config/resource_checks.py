"""Whether a scenario's run fits the machine: the products of keys that size its arrays are capped, and a run
whose arrays (:mod:`sim.config.memory`) would need more memory than is available is refused, naming the key of the
largest share and how far it must go (called by :mod:`sim.config.scenario` once every key has been read)."""

from __future__ import annotations

from sim.config import files, memory
from sim.config.schema import BAD, Checker, file_problem, fmt


def check_resources(c: Checker) -> None:
    """Values each inside their own range may still multiply into an absurd allocation; cap the products, then
    refuse a run that needs more memory than the machine has (:func:`_check_memory`)."""
    before = len(c.problems)
    c.limit(
        "market.tick_size_usd",
        ("book.range_pct", "market.start_price_usd"),
        lambda tick, r, p0: 2 * r / 100 * p0 / tick,
        20_000_000,
        "book ladder levels (2·book.range_pct/100·market.start_price_usd / market.tick_size_usd)",
        grows=False,
        alternative="lower book.range_pct",
    )
    c.limit(
        "output.sample_interval_s",
        ("scenario.duration_s",),
        lambda dt, duration: duration / dt,
        5_000_000,
        "samples (scenario.duration_s / output.sample_interval_s)",
        grows=False,
    )
    c.limit(
        "book.noise_rate_per_s",
        ("scenario.duration_s",),
        lambda rate, duration: rate * duration,
        20_000_000,
        "expected background orders (book.noise_rate_per_s · scenario.duration_s)",
        grows=True,
    )
    if c.values["shock.kind"] == "gbm":
        c.limit(
            "shock.step_s",
            ("scenario.duration_s",),
            lambda step, duration: duration / step,
            5_000_000,
            "GBM path points (scenario.duration_s / shock.step_s)",
            grows=False,
        )
    if len(c.problems) == before:
        _check_memory(c)


def _memory_terms(c: Checker) -> list[tuple[str, float, int, str, str]]:
    """What a run allocates, by the key that sizes it: ``(key, count, bytes each, what, how)``, where ``how`` says
    how the count follows the key: ``grows`` with it, shrinks as it grows (``inverse``) or is a file's ``rows``."""
    v, per = c.values, memory.PER
    terms: list[tuple[str, float, int, str, str]] = []

    def rows_of(key: str) -> int | None:  # a data file's lines, counted without parsing, if it can be read
        path = v[key]
        return None if path in (None, BAD) or file_problem(path, "") is not None else files.count_lines(path)

    if v["population.file"] is not None:
        if (lines := rows_of("population.file")) is not None:
            terms.append(("population.file", lines, per["position"] + per["file row"], "position rows", "rows"))
    elif c.ok("population.n_positions"):
        terms.append(
            ("population.n_positions", v["population.n_positions"] + 1, per["position"], "position rows", "grows")
        )
    rows_known = bool(terms) and terms[0][0].startswith("population.")
    if rows_known and c.ok("arrivals.rate_pct_per_h", "scenario.duration_s", "arrivals.dip_multiplier"):
        # candidates: the starting traders × rate × hours, longs at up to the dip multiplier (an upper bound)
        per_trader = v["scenario.duration_s"] / 3600.0 * max(1.0, v["arrivals.dip_multiplier"]) / 100.0
        count = terms[0][1] * v["arrivals.rate_pct_per_h"] * per_trader
        terms.append(("arrivals.rate_pct_per_h", count, per["arrival"], "arrival candidates", "grows"))
    if c.ok("market.tick_size_usd", "book.range_pct", "market.start_price_usd"):
        levels = 2 * v["book.range_pct"] / 100 * v["market.start_price_usd"] / v["market.tick_size_usd"] + 1
        terms.append(("market.tick_size_usd", levels, per["book level"], "book levels", "inverse"))
    if c.ok("scenario.duration_s"):
        duration = v["scenario.duration_s"]
        for key, count, item, what, how in (
            ("book.noise_rate_per_s", lambda x: x * duration, "background order", "background orders", "grows"),
            ("output.sample_interval_s", lambda x: duration / x + 1, "sample", "samples", "inverse"),
            (
                "insurance_fund.unwind_interval_s",
                lambda x: duration / max(x, 0.001) + 1,
                "unwind",
                "fund unwinds",
                "inverse",
            ),
            ("market.oracle_interval_s", lambda x: duration / x + 1, "oracle tick", "oracle ticks", "inverse"),
            ("shock.step_s", lambda x: duration / x + 2, "GBM point", "GBM path points", "inverse"),
        ):
            if c.ok(key) and (key != "shock.step_s" or v["shock.kind"] == "gbm"):
                terms.append((key, count(v[key]), per[item], what, how))
    if v["shock.kind"] == "replay" and (lines := rows_of("shock.file")) is not None:
        terms.append(("shock.file", lines, per["path row"], "path rows", "rows"))
    return terms


def _check_memory(c: Checker) -> None:
    """Refuse a run whose arrays (:mod:`sim.config.memory`) would not fit in the memory available, naming the key
    of the largest share and how far it must go for the run to fit."""
    terms = _memory_terms(c)
    total = memory.FIXED + sum(count * each for _, count, each, _, _ in terms)
    room = memory.available()
    if isinstance(room, str):  # LIQSIM_MEMORY_LIMIT_GB is not a number
        c.problems.append(room)
        return
    if room is None or total <= room.bytes:
        return
    terms.sort(key=lambda t: -t[1] * t[2])
    key, count, each, what, how = terms[0]
    parts = "; ".join(f"{n:,.0f} {w} × {e} B = {memory.size(n * e)}" for _, n, e, w, _ in terms[:3])
    rest = total - sum(n * e for _, n, e, _, _ in terms[:3])
    left = room.bytes - (total - count * each)  # what the largest share may take
    x = c.values[key]
    if left <= 0:
        fix = f"the rest alone needs {memory.size(total - count * each)}"
    elif how == "rows":
        fix = f"a file of at most about {int(float(f'{left / each:.3g}')):,} rows fits"
    else:
        bound = float(f"{x * left / (count * each) if how == 'grows' else x * count * each / left:.3g}")
        shown = f"{int(bound):,}" if isinstance(x, int) else fmt(bound)
        fix = f"{key} must be {'at most' if how == 'grows' else 'at least'} about {shown}"
    c.read_files = False  # reading a file the run cannot hold could itself exhaust the memory
    hint = "" if memory.ENV in room.source else f" ({memory.ENV} sets the memory a run may use)"
    c.fail(
        key,
        f"a run would need about {memory.size(total)} of memory ({parts}; {memory.size(rest)} for the rest), more "
        f"than the {memory.size(room.bytes)} available ({room.source}): {fix}{hint}",
        c.given.get(key, x),
    )
