"""The population build draws the same populations bit for bit as the array expressions it replaced.

The survival screen and the draws around it run in kernels (sim.kernels.draws, sim.kernels.margin) for speed; a
seed must still draw the same population, bit for bit, as it always has (a saved run reruns the same crowd). Two
kinds of check: each kernel against the NumPy expression it stands for (``Generator.choice``, the entry and age
formulas, the masked sums), and fingerprints of whole populations recorded before the kernels replaced those
expressions. No golden run draws a screened population, a history file, heavy-tailed spare balances or a short-side
mix, so the fingerprints are what pins them. Like the golden runs they were recorded with NumPy 2.4.6 and Numba
0.68.1; a release that changes a draw changes them, and they are then re-recorded in a commit that says why.
"""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import trigger_tiers
from sim.kernels.draws import entry_ages_nb, history_points_nb, mix_lookup_nb, split_by_side_nb
from sim.world.population import generate, history_of

P0 = 121000.0


def fingerprint(pop):
    digest = hashlib.sha256()
    for name, a in pop._asdict().items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()[:24]


def volume_history(path):
    """A 100-hour history with uneven steps and volumes (some zero), written deterministically."""
    rng = np.random.default_rng(5)
    t = np.unique(np.sort(rng.uniform(0, 100 * 3600, 400)).round(1))
    p = P0 * np.exp(np.cumsum(rng.normal(0, 0.004, t.size)))
    p *= P0 / p[-1]
    v = rng.exponential(100, t.size).round(3)
    v[::17] = 0
    lines = ["timestamp,price,volume"] + [f"{a},{b:.2f},{c}" for a, b, c in zip(t, p, v)]
    path.write_text("# test\n" + "\n".join(lines) + "\n")
    return str(path)


def cases(tmp_path):
    hist = volume_history(tmp_path / "hist.csv")
    screen = {"population.survival_screen": True}
    by_volume = {"population.history_file": hist, "population.entry_weighting": "volume"}
    return {
        "replay": ("replay_2025_10_10", {"population.n_positions": 20000}, 0),
        "synthetic_screen_short_mix": (
            None,
            {**screen, "population.n_positions": 20000, "population.leverage_mix_short": "degen"},
            1,
        ),
        "volume_screen_okx": (
            None,
            {
                **screen,
                **by_volume,
                "population.n_positions": 10000,
                "population.entry_lookback_h": 90.0,
                "market.venue": "okx",
            },
            2,
        ),
        "time_uneven_screen_bybit": (
            None,
            {
                **screen,
                "population.history_file": hist,
                "population.n_positions": 10000,
                "population.entry_lookback_h": 95.5,
                "market.venue": "bybit",
                "population.cross_spare": "lomax",
            },
            3,
        ),
        "plain_short_mix_lomax": (
            None,
            {
                "population.n_positions": 20000,
                "population.leverage_mix_short": "degen",
                "population.cross_spare": "lomax",
            },
            4,
        ),
        "plain_volume": (None, {**by_volume, "population.n_positions": 10000, "population.entry_lookback_h": 90.0}, 5),
    }


# Recorded with the array expressions (before the kernels), same NumPy and Numba versions as the golden runs.
FINGERPRINTS = {
    "replay": "0e019a480efa27d8cf1ac33a",
    "synthetic_screen_short_mix": "a69b0fafb38b7a4d656d2be3",
    "volume_screen_okx": "a309cf1a570f10966fb7f6a4",
    "time_uneven_screen_bybit": "082b632698a853d102a6dff1",
    "plain_short_mix_lomax": "229bd93fcaa11615c4eab03a",
    "plain_volume": "abcd5d803b25a6496b82261d",
}


@pytest.mark.parametrize(
    "case",
    [
        "replay",
        "synthetic_screen_short_mix",
        "volume_screen_okx",
        "time_uneven_screen_bybit",
        "plain_short_mix_lomax",
        "plain_volume",
    ],
)
def test_a_seed_draws_the_population_it_always_drew(tmp_path, case):
    base, overrides, seed = cases(tmp_path)[case]
    scn = sim.load_scenario(base, overrides=overrides)
    pop = generate(scn.population, scn.market, np.random.default_rng(seed), trigger_tiers(scn.market, scn.rules()))
    assert fingerprint(pop) == FINGERPRINTS[case]


# ------------------------------------------------------------------------------------------------ each kernel vs NumPy

weights = st.lists(st.sampled_from([0.0, 0.01, 0.03, 0.1, 0.15, 0.2, 0.25, 1.0 / 3.0]), min_size=1, max_size=8)


@settings(max_examples=50 * settings.default.max_examples // 100)
@given(w=weights.filter(lambda w: sum(w) > 0), seed=st.integers(0, 2**32 - 1))
def test_the_mix_lookup_is_generator_choice(w, seed):
    prob = np.array(w) / np.sum(w)  # as leverage_mix_arrays normalises
    levs = np.arange(1.0, prob.size + 1.0) * 2.5
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    expected = a.choice(levs, size=5000, p=prob)
    cdf = prob.cumsum()
    cdf /= cdf[-1]
    u = b.random(5000)
    np.testing.assert_array_equal(mix_lookup_nb(cdf, levs, u, u), expected)
    assert a.random() == b.random()  # and the generator is left where choice leaves it


def history(uneven, flat):
    rng = np.random.default_rng(7)
    price = P0 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    if flat:
        price[10:14] = price[10]  # segments with no price change
    ages = np.cumsum(rng.uniform(30, 600, 60)) - 30 if uneven else np.arange(60) * 300.0
    weights = rng.exponential(1.0, 59) if uneven else None
    if uneven and flat:
        weights[20:23] = 0.0  # segments with no weight
    return history_of(price, ages, weights)


@pytest.mark.parametrize("uneven", [False, True], ids=["even", "uneven"])
@pytest.mark.parametrize("flat", [False, True], ids=["moving", "flat_parts"])
def test_entries_and_ages_are_the_array_formulas(uneven, flat):
    h = history(uneven, flat)
    x = np.random.default_rng(1).uniform(0.0, h.cum_w[-1], 20000)
    x[:3] = 0.0, h.cum_w[-1], h.cum_w[5]  # the ends and a segment boundary
    # the expressions sample_entries and _ages used before the kernels
    if h.even:
        k = np.minimum(x.astype(np.int64), h.price.size - 2)
        frac = x - k
    else:
        k = np.clip(np.searchsorted(h.cum_w, x, side="right") - 1, 0, h.price.size - 2)
        width = h.cum_w[k + 1] - h.cum_w[k]
        frac = np.where(width > 0, (x - h.cum_w[k]) / np.where(width > 0, width, 1.0), 0.0)
    entry = h.price[k] + (h.price[k + 1] - h.price[k]) * frac
    dp = h.price[k + 1] - h.price[k]
    f = np.where(dp != 0, (entry - h.price[k]) / np.where(dp != 0, dp, 1.0), 0.0)
    age = h.age_s[k] + (h.age_s[k + 1] - h.age_s[k]) * np.clip(f, 0.0, 1.0)

    got_entry, got_seg = np.empty(x.size), np.empty(x.size, np.int64)
    history_points_nb(x, h.price, h.cum_w, h.even, got_entry, got_seg)
    np.testing.assert_array_equal(got_seg, k)
    assert got_entry.tobytes() == entry.tobytes()
    assert entry_ages_nb(h.price, h.age_s, entry, k, np.empty(x.size)).tobytes() == age.tobytes()


@given(n=st.integers(0, 3000), seed=st.integers(0, 2**32 - 1))
def test_side_sums_are_numpys_masked_sums(n, seed):
    rng = np.random.default_rng(seed)
    side = np.where(rng.random(n) < 0.6, 1, -1).astype(np.int8)
    values = rng.pareto(1.1, n) * 1e4
    longs, shorts = np.empty(n), np.empty(n)
    nl, ns = split_by_side_nb(side, values, longs, shorts)
    assert longs[:nl].sum() == values[side > 0].sum() and shorts[:ns].sum() == values[side < 0].sum()
