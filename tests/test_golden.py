"""Golden runs: a dozen small scenarios (tests/golden/scenarios/) whose summaries and tapes are pinned
(tests/golden/expected/), so that any change of the engine's numbers, intended or not, fails here.

Between them they cover every venue, every ADL policy, ADL off with bad debt, every shock kind (gap, ramp, gbm,
replay of a path in tests/golden/data/, none) and a liquidity shock, stops, top-ups, funding (by formula and at a
fixed rate), book withdrawal with and without widening, explicit positions and book files, a dated venue pack and
single [venue] overrides; :func:`test_the_golden_set_exercises_what_it_claims` keeps it so.

The summary (without ``runtime_s``) is compared exactly, floats included: the engine is bit-reproducible. The
``fills``, ``series`` and ``accounts`` arrays are compared by SHA-256 digests, field by field. A failure lists the
summary keys that changed (old -> new) and the tables and fields whose digests changed.

When a change of the numbers is intended, regenerate the expected files from the repository root with::

    python -m tests.golden.regenerate            # all; or name scenarios: ... regenerate stops_topups

and explain, in the message of the commit that changes them, why each changed file changed (tests/golden/README.md).
"""

import tomllib

import pytest
from golden import SCENARIOS, differences, expected_path, load_expected, names, run

import sim

NAMES = names()
VENUES = {"binance", "bybit", "okx", "hyperliquid", "dydx"}
POLICIES = {"venue_queue", "pro_rata", "leverage_drain"}
SHOCKS = {"none", "gap", "ramp", "gbm", "replay"}
REGENERATE = "python -m tests.golden.regenerate"


@pytest.mark.parametrize("name", NAMES)
def test_golden_run(name, compiled):
    expected = load_expected(name)
    assert expected is not None, f"{expected_path(name).name} is missing: run `{REGENERATE} {name}`"
    problems = differences(expected, run(name))
    if problems:
        pytest.fail(
            f"golden run {name!r} differs from {expected_path(name).name}:\n  "
            + "\n  ".join(problems)
            + f"\nIf the change is intended: `{REGENERATE} {name}`, and explain it in the commit message."
        )


def test_every_scenario_has_its_expected_file_and_no_other():
    stored = sorted(p.stem for p in expected_path("x").parent.glob("*.json"))
    assert stored == NAMES, f"run `{REGENERATE}` (it writes missing and removes stale files)"


def test_the_golden_set_exercises_what_it_claims():
    runs = []
    for name in NAMES:
        scn = sim.load_scenario(SCENARIOS / f"{name}.toml")
        assert scn.scenario.name == name, f"{name}.toml: scenario.name should be the file's name"
        raw = tomllib.loads((SCENARIOS / f"{name}.toml").read_text())
        runs.append((scn, load_expected(name)["summary"], raw))

    def some(check):
        return any(check(scn, summary) for scn, summary, _ in runs)

    def written(table, key=None):  # a scenario file sets this table (or key) itself
        return any(table in raw and (key is None or key in raw[table]) for _, _, raw in runs)

    for venue in VENUES:
        assert some(lambda scn, s, v=venue: scn.market.venue == v and s["liquidations"]["full"] > 0), venue
    for policy in POLICIES:  # each policy actually deleverages someone
        assert some(lambda scn, s, p=policy: scn.adl.enabled and scn.adl.policy == p and s["adl"]["count"] > 0), policy
    for kind in SHOCKS:
        assert some(lambda scn, s, k=kind: scn.shock.kind == k), kind
    assert some(lambda scn, s: scn.shock.liquidity_factor < 1)
    assert some(lambda scn, s: not scn.adl.enabled and s["adl"]["count"] == 0 and s["bad_debt_usd"] > 0)
    for trigger in ("deficit", "capacity"):  # ADL set off by a deficit, and by the fund's capacity alone
        assert some(lambda scn, s, k=trigger: s["adl"]["by_trigger"][k]["count"] > 0), trigger
    assert some(lambda scn, s: s["behaviour"]["stop_fills"] > 0)
    assert some(lambda scn, s: s["behaviour"]["topups"] > 0)
    assert some(lambda scn, s: scn.funding.rate_pct is None and s["behaviour"]["funding_settlements"] > 0)
    assert some(lambda scn, s: scn.funding.rate_pct is not None and s["behaviour"]["funding_settlements"] > 0)
    assert some(lambda scn, s: scn.book.withdrawal and scn.book.withdrawal_spread_bps == 0)
    assert some(lambda scn, s: scn.book.withdrawal and scn.book.withdrawal_spread_bps > 0)
    assert some(lambda scn, s: scn.population.file is not None and scn.book.file is not None)
    assert written("market", "venue_version") and written("market", "tiers") and written("venue")
