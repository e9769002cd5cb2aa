"""Named leverage mixes: accepted wherever a mix is (file, --set, --grid, Python), kept as names, resolved to the
right leverages, capped on a venue with a lower maximum, and ordered in severity as their names promise."""

import json

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.config import mixes
from sim.config.scenario import load_scenario, parse_scenario
from sim.errors import ScenarioError
from sim.studies.sweep import plan_sweep
from sim.world.population import generate

SMALL = {"population.n_positions": 4000, "scenario.duration_s": 240.0, "shock.start_s": 10.0, "shock.duration_s": 30.0}


def test_every_named_mix_is_a_valid_mix_sorted_by_leverage():
    assert set(mixes.NAMED) == {"conservative", "balanced", "degen"}
    assert mixes.NAMED["balanced"] == mixes.DEFAULT
    for name, mix in mixes.NAMED.items():
        problems: list = []
        assert (
            mixes.check({mixes.lev_key(lev): w for lev, w in mix}, "k", lambda *a, out=problems: out.append(a)) == mix
        )
        assert not problems, name
        assert [lev for lev, _ in mix] == sorted(lev for lev, _ in mix)
    means = [mixes.mean_leverage(name) for name in ("conservative", "balanced", "degen")]
    assert means == sorted(means) and means[0] < 5 < 40 < means[2]


def test_a_named_mix_is_kept_as_its_name_in_file_override_and_dict(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[population]\nleverage_mix = "degen"\n')
    from_file = load_scenario(path)
    assert from_file.population.leverage_mix == "degen"
    assert from_file.to_dict()["population"]["leverage_mix"] == "degen"
    assert load_scenario(None, overrides={"population.leverage_mix": "degen"}).population == from_file.population
    assert parse_scenario({"population": {"leverage_mix": "degen"}}).population == from_file.population
    again = parse_scenario(from_file.to_dict())
    assert again == from_file
    lev, p = from_file.population.leverage_mix_arrays()
    np.testing.assert_array_equal(lev, [10, 20, 25, 50, 75, 100])
    assert p.sum() == pytest.approx(1.0)


def test_balanced_draws_exactly_the_default_population():
    named = load_scenario(None, overrides={"population.leverage_mix": "balanced", "population.n_positions": 5000})
    default = load_scenario(None, overrides={"population.n_positions": 5000})
    a, b = (generate(s.population, s.market, np.random.default_rng(7)) for s in (named, default))
    np.testing.assert_array_equal(a.leverage, b.leverage)
    np.testing.assert_array_equal(a.wallet, b.wallet)


def test_a_named_mix_draws_its_own_leverages_in_proportion():
    scn = load_scenario(
        None,
        overrides={
            "population.leverage_mix": "conservative",
            "population.n_positions": 40000,
            "population.open_interest_usd": 0,
            "population.cross_share": 0,
        },
    )
    pop = generate(scn.population, scn.market, np.random.default_rng(3))
    lev, p = mixes.arrays("conservative")
    traders = pop.leverage[:-1]  # the last row is the residual counterparty
    seen = np.array([np.mean(np.isclose(traders, x, rtol=1e-3)) for x in lev])
    np.testing.assert_allclose(seen, p, atol=0.01)


def test_a_named_mix_is_capped_on_a_venue_with_a_lower_maximum_while_a_table_is_refused():
    scn = load_scenario(
        None,
        overrides={
            "population.leverage_mix": "degen",
            "market.venue": "hyperliquid",
            "population.n_positions": 5000,
            "population.cross_share": 0,
        },
    )
    pop = generate(scn.population, scn.market, np.random.default_rng(1))
    traders = pop.leverage[:-1]  # the last row is the residual counterparty
    assert traders.max() < 40.0 * 1.001 and np.mean(np.isclose(traders, 40.0, rtol=1e-3)) > 0.4  # 50, 75, 100 → 40
    with pytest.raises(ScenarioError, match=r"population\.leverage_mix\.100: leverage must be in \[1, 40\]"):
        load_scenario(
            None, overrides={"population.leverage_mix": mixes.text(mixes.NAMED["degen"]), "market.venue": "hyperliquid"}
        )


def test_an_unknown_name_is_one_clear_error(capsys):
    with pytest.raises(ScenarioError) as err:
        load_scenario(None, overrides={"population.leverage_mix": "yolo"})
    assert err.value.problems == [
        "override: population.leverage_mix = 'yolo': unknown leverage mix; the named mixes "
        "are conservative, balanced, degen (or write a table of leverage = weight, e.g. "
        "{2 = 0.5, 10 = 0.5})"
    ]
    assert main(["run", "--set", "population.leverage_mix=Degen"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "population.leverage_mix = 'Degen': unknown leverage mix" in out.err
    assert "Traceback" not in out.err


def test_named_mixes_are_grid_values_and_the_table_shows_their_names():
    plan = plan_sweep(None, ["population.leverage_mix=[conservative, degen, {2 = 1}]"], 1)
    assert plan.grid == {"population.leverage_mix": ["conservative", "degen", {"2": 1.0}]}
    assert [r.params["population.leverage_mix"] for r in plan.runs] == ["conservative", "degen", {"2": 1.0}]
    with pytest.raises(ScenarioError, match="unknown leverage mix"):
        plan_sweep(None, ["population.leverage_mix=[degen, yolo]"], 1)
    assert json.dumps(plan.runs[0].params) == '{"population.leverage_mix": "conservative"}'


def test_more_leverage_liquidates_more_of_the_same_crash(compiled):
    """The same population sizes and the same 8% crash: the degen mix loses more notional than the balanced one,
    which loses more than the conservative one (nothing at 10× or less is liquidated by an 8% fall from entry
    prices near the start)."""
    liq = {}
    for name in ("conservative", "balanced", "degen"):
        res = sim.run(load_scenario(None, overrides={**SMALL, "population.leverage_mix": name, "shock.size_pct": -8.0}))
        liq[name] = res.summary["liquidated_notional_usd"]["total"]
    assert liq["conservative"] < liq["balanced"] < liq["degen"]
    assert liq["degen"] > 1.5 * liq["balanced"] and liq["balanced"] > 3 * liq["conservative"]


def test_weights_must_sum_to_a_finite_number():
    with pytest.raises(ScenarioError, match=r"population.leverage_mix = .*: the weights must sum to a finite number"):
        load_scenario(None, overrides={"population.leverage_mix": "{2 = 1e308, 10 = 1e308}"})


def test_a_sweeps_settings_hash_holds_a_named_mixs_weights(monkeypatch):
    before = plan_sweep(None, ["population.leverage_mix=[degen]"], 1).runs[0]
    monkeypatch.setitem(mixes.NAMED, "degen", ((10.0, 0.5), (100.0, 0.5)))
    after = plan_sweep(None, ["population.leverage_mix=[degen]"], 1).runs[0]
    assert before.run_id == after.run_id and before.settings != after.settings  # a resumed sweep redoes the run
