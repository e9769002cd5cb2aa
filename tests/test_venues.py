"""Venue rule packs: the tier arithmetic against docs/model.md §10's worked examples, the sanity of every table,
version lookup and its errors, the [venue] override table, and the text/JSON views. No kernels involved."""

import dataclasses
import json
import math

import pytest

from sim import venues as V
from sim.config import schema as _schema

ALL = [(p.venue, p.version) for p in V.all_packs()]


def _mm(row, notional):
    return notional * row.mmr_pct / 100.0 - row.maintenance_amount_usd


# ---------------------------------------------------------------------------------------- maintenance amounts

# docs/model.md §2.6, freqtrade snapshot of 2024-10-24 (floors, MMR %, stated cum)
BINANCE_2024_10 = {
    "BTC": (
        (0, 50e3, 600e3, 3e6, 12e6, 70e6, 100e6, 230e6, 480e6, 600e6, 800e6, 1.2e9),
        (0.4, 0.5, 0.65, 1, 2, 2.5, 5, 10, 12.5, 15, 25, 50),
        (0, 50, 950, 11450, 131450, 481450, 2981450, 14481450, 26481450, 41481450, 121481450, 421481450),
    ),
    "ETH": (
        (0, 50e3, 600e3, 3e6, 12e6, 50e6, 65e6, 150e6, 320e6, 400e6, 530e6, 800e6),
        (0.4, 0.5, 0.65, 1, 2, 2.5, 5, 10, 12.5, 15, 25, 50),
        (0, 50, 950, 11450, 131450, 381450, 2006450, 9506450, 17506450, 27506450, 80506450, 280506450),
    ),
}


@pytest.mark.parametrize("asset", ["BTC", "ETH"])
def test_recurrence_reproduces_the_stated_binance_2024_10_amounts(asset):
    floors, mmrs, cums = BINANCE_2024_10[asset]
    assert V.maintenance_amounts(floors, mmrs) == tuple(float(c) for c in cums)
    rows = V.pack("binance", "2024-10").tiers[asset]
    assert [(r.notional_floor_usd, r.mmr_pct, r.maintenance_amount_usd) for r in rows] == [
        (float(f), float(m), float(c)) for f, m, c in zip(floors, mmrs, cums)
    ]


def test_recurrence_reproduces_the_other_stated_amounts():
    # 2021-03 gist and the 2025 variant (docs/model.md §2.6), Bybit's Margin Parameters deductions
    assert [r.maintenance_amount_usd for r in V.pack("binance", "2021-03").tiers["BTC"]] == [
        0,
        50,
        1300,
        16300,
        266300,
        1266300,
        2516300,
        5016300,
        25016300,
        100016300,
    ]
    assert [r.maintenance_amount_usd for r in V.pack("binance", "2025").tiers["BTC"]][:7] == [
        0,
        300,
        1500,
        12000,
        132000,
        482000,
        2982000,
    ]
    assert [r.maintenance_amount_usd for r in V.pack("bybit", "2025-12").tiers["BTC"]][:8] == [
        0,
        1200,
        3020,
        4300,
        5820,
        8460,
        15460,
        20500,
    ]
    assert [r.maintenance_amount_usd for r in V.pack("bybit", "2026-09").tiers["BTC"]][:3] == [0, 510, 1710]


def test_recurrence_one_step_is_tv10():
    # TV10, Binance COIN-M: level-5 amount = 50 BTC × (5% − 2.5%) + 0.56 BTC = 1.81 BTC
    step = V.maintenance_amounts([0, 50], [2.5, 5.0])[1]
    assert math.isclose(step + 0.56, 1.81)


def test_maintenance_amounts_wants_one_rate_per_floor():
    with pytest.raises(ValueError, match="2 floors but 1 rates"):
        V.maintenance_amounts([0, 1], [0.5])


def test_tv5_binance_mm_at_one_million():
    tiers = V.pack("binance", "2024-10").tiers["BTC"]
    row = [t for t in tiers if t.notional_floor_usd <= 1e6][-1]
    assert row is tiers[2]
    assert _mm(row, 1e6) == pytest.approx(5550.0, abs=1e-9)
    assert V.maintenance_margin_usd(tiers, 1e6) == pytest.approx(5550.0, abs=1e-9)


def test_tv5b_mm_is_continuous_at_600k():
    tiers = V.pack("binance", "2024-10").tiers["BTC"]
    assert _mm(tiers[1], 600e3) == pytest.approx(2950.0, abs=1e-9)
    assert _mm(tiers[2], 600e3) == pytest.approx(2950.0, abs=1e-9)
    assert V.tier_index(tiers, 599_999.99) == 1 and V.tier_index(tiers, 600e3) == 2


@pytest.mark.parametrize("venue,version", ALL)
def test_mm_is_continuous_at_every_tier_floor(venue, version):
    for rows in V.pack(venue, version).tiers.values():
        for lower, upper in zip(rows, rows[1:]):
            f = upper.notional_floor_usd
            assert _mm(lower, f) == pytest.approx(_mm(upper, f), rel=1e-12, abs=1e-6)


# ------------------------------------------------------------------------------------------- table sanity


@pytest.mark.parametrize("venue,version", ALL)
def test_every_table_is_sane(venue, version):
    p = V.pack(venue, version)
    assert set(V.CORE_ASSETS) <= set(p.tiers) <= set(V.ASSETS)
    if version == V.newest(venue):  # SOL and the generic alt in every venue's newest pack
        assert set(p.tiers) == set(V.ASSETS)
    for asset, rows in p.tiers.items():
        assert V.tier_problems(rows) == [], (venue, version, asset)
        assert rows[0].notional_floor_usd == 0
        for a, b in zip(rows, rows[1:]):
            assert b.notional_floor_usd > a.notional_floor_usd
            assert b.max_leverage <= a.max_leverage
            assert b.mmr_pct >= a.mmr_pct
        for r in rows:  # a position opened at the tier's max leverage is not born below maintenance
            assert 1.0 / r.max_leverage > r.mmr_pct / 100.0
        assert V.maintenance_amounts([r.notional_floor_usd for r in rows], [r.mmr_pct for r in rows]) == tuple(
            r.maintenance_amount_usd for r in rows
        )


@pytest.mark.parametrize(
    "rows,message",
    [
        ([], "no tiers"),
        ([V.TierRow(10, 100, 0.5, 0)], "tier 1 starts at 10 USD, not 0"),
        ([V.TierRow(0, 100, 0.5, 0), V.TierRow(0, 50, 1.0, 0)], "tier 2: floor 0 not above tier 1's"),
        ([V.TierRow(0, 50, 0.5, 0), V.TierRow(10, 100, 0.5, 0)], "tier 2: max leverage 100 above tier 1's"),
        ([V.TierRow(0, 100, 0.5, 0), V.TierRow(10, 50, 0.4, -0.01)], "tier 2: MMR 0.4% below tier 1's"),
        ([V.TierRow(0, 100, 1.0, 0)], "tier 1: at its max leverage 100 a position opens at or below maintenance"),
        ([V.TierRow(0, 0.5, 1.0, 0)], "tier 1: max leverage 0.5 below 1"),
        (
            [V.TierRow(0, 100, 0.5, 0), V.TierRow(1000, 50, 1.0, 6)],
            "tier 2: maintenance amount 6 but the recurrence gives 5",
        ),
    ],
)
def test_tier_problems_names_each_broken_rule(rows, message):
    assert any(p.startswith(message) for p in V.tier_problems(rows)), V.tier_problems(rows)


def test_hyperliquid_mmr_is_half_the_initial_margin_at_max_leverage():
    for rows in V.pack("hyperliquid").tiers.values():
        for r in rows:
            assert r.mmr_pct == pytest.approx(100.0 / r.max_leverage / 2.0, rel=1e-12)
    btc, eth = V.pack("hyperliquid").tiers["BTC"], V.pack("hyperliquid").tiers["ETH"]
    assert [(r.notional_floor_usd, r.max_leverage, r.mmr_pct) for r in btc] == [(0, 40, 1.25), (150e6, 20, 2.5)]
    assert [(r.notional_floor_usd, r.max_leverage) for r in eth] == [(0, 25), (100e6, 15)]


@pytest.mark.parametrize("venue,version", ALL)
def test_pack_rules_are_within_what_the_venue_table_accepts(venue, version):
    assert V.rules_problems(V.pack(venue, version).rules) == []


def test_rules_problems_reports_bad_values():
    rules = dataclasses.replace(
        V.pack("binance").rules, settle="socialise", clearance_fee_pct=-1.0, mark_basis_window_s=0.0
    )
    problems = V.rules_problems(rules)
    assert any(p.startswith("settle = 'socialise': must be one of bankruptcy, fill") for p in problems)
    assert any(p.startswith("clearance_fee_pct = -1.0: must be a number in [0, 10]") for p in problems)
    assert "mark_method = 'binance' needs mark_basis_window_s > 0" in problems


@pytest.mark.parametrize("venue,version", ALL)
def test_packs_are_immutable_hashable_and_sourced(venue, version):
    p = V.pack(venue, version)
    hash(p)
    with pytest.raises(TypeError):
        p.tiers["BTC"] = ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.rules.settle = "fill"
    assert p.source and p.notes
    assert all(n.startswith(("[DOC]", "[CODE]", "[SEC]", "[INF]")) for n in p.notes), p.notes


def test_venue_specific_rules():
    okx, okx_legacy = V.pack("okx"), V.pack("okx", "2020")
    assert okx.rules.trigger_includes_fee and okx.rules.partial_rule == "to_tier"
    assert (okx.rules.partial_tiers_down, okx_legacy.rules.partial_tiers_down) == (2, 0)
    assert V.pack("bybit").rules.mm_basis == "entry"
    hl = V.pack("hyperliquid").rules
    assert (hl.settle, hl.clearance_fee_pct, hl.slice_threshold_usd, hl.slice_fraction) == ("fill", 0.0, 1e5, 0.2)
    assert hl.backstop_mm_fraction == pytest.approx(2 / 3)
    assert [V.pack("binance", v).rules.mark_basis_window_s for v in ("2024-10", "2025")] == [60.0, 30.0]


def test_tv11_bybit_entry_basis_liquidation_price():
    # TV11: 1 BTC long at 20,000, 50x, MMR 0.5% → IM 400, MM 100 on entry value, LP = EP − (IM − MM)/Q = 19,700
    # (the 2025-12 table, whose tier 1 is 0.5%; 2026-09 adds a 0.33% tier below it)
    row = V.pack("bybit", "2025-12").tiers["BTC"][0]
    assert row.mmr_pct == 0.5
    im, mm = 20_000 / 50, _mm(row, 20_000.0)
    assert (im, mm, 20_000 - (im - mm)) == (400.0, 100.0, 19_700.0)


def test_every_cex_pack_says_the_liquidation_band_is_an_assumption():
    for p in V.all_packs():
        band = [n for n in p.notes if "liquidation_band_pct" in n]
        if p.rules.settle == "bankruptcy":
            assert p.rules.liquidation_band_pct == 1.0
            assert len(band) == 1 and band[0].startswith("[INF]") and "assumption" in band[0], (p.venue, p.version)
            assert "bankruptcy price" in band[0] and "BitMEX" in band[0]
        else:  # Hyperliquid settles at the fill: the band is unused, and its note says so
            assert p.rules.liquidation_band_pct == 0.0 and band and "unused" in band[0]


def test_binance_clearance_fee_note_gives_both_figures():
    for version in V.versions("binance"):
        p = V.pack("binance", version)
        fee = [n for n in p.notes if "clearance fee" in n]
        assert p.rules.clearance_fee_pct == 0.5 and len(fee) == 1
        assert "'up to 0.5%'" in fee[0] and "0.3% for BTCUSDT" in fee[0] and "docs/model.md §3.4" in fee[0]


def test_binance_2021_03_has_the_older_fund_exit_rule():
    # docs/model.md §3.5: the older API-doc copy has the 20% inventory cap and the 7.5%-in-8-h fund exit
    old = V.pack("binance", "2021-03")
    assert (old.rules.max_inventory_pct, old.rules.adl_drawdown_pct, old.rules.adl_drawdown_window_h) == (
        20.0,
        7.5,
        8.0,
    )
    assert any(n.startswith("[DOC]") and "7.5%" in n and "8 h" in n for n in old.notes)
    for version in ("2024-10", "2025"):
        rules = V.pack("binance", version).rules
        assert (rules.max_inventory_pct, rules.adl_drawdown_pct) == (100.0, 0.0)
    assert "-7.5%/8h" in V.venues_text()


def test_weakly_sourced_defaults_keep_their_provenance_notes():
    binance, bybit = V.pack("binance"), V.pack("bybit")
    assert any(n.startswith("[SEC]") and "not identified" in n for n in binance.notes)
    assert any(n.startswith("[INF] ETH") and "2024-10 ETH table is reused" in n for n in binance.notes)
    assert binance.tiers["ETH"] == V.pack("binance", "2024-10").tiers["ETH"]
    assert any(n.startswith("[CODE]") and "not identified" in n for n in bybit.notes)
    assert any(n.startswith("[INF] ETH") for n in bybit.notes)


# -------------------------------------------------------------------------------------------- tier_rows


@pytest.mark.parametrize("venue,version", [a for a in ALL if a[0] != "okx"])
@pytest.mark.parametrize("price", [1.0, 50_000.0, 1e9])
def test_tier_rows_of_usd_notional_packs_are_the_tiers_themselves(venue, version, price):
    p = V.pack(venue, version)
    for asset in p.tiers:
        assert not p.sized_in_coins(asset)
        assert p.tier_rows(asset, price) is p.tiers[asset]
    assert dict(p.size_floors) == {} and dict(p.reference_price_usd) == {}


@pytest.mark.parametrize("version", V.versions("okx"))
def test_okx_tiers_are_set_in_contracts_and_valued_at_a_price(version):
    p = V.pack("okx", version)
    assert {a: p.reference_price_usd[a] for a in V.CORE_ASSETS} == {"BTC": 100_000.0, "ETH": 3_000.0}
    # 1,000 and 5,000 contracts of 0.01 BTC; 5,000 and 10,000 of 0.1 ETH (the pack's notes)
    assert p.size_floors["BTC"][:3] == (0.0, 10.0, 50.0) and p.size_floors["ETH"][:3] == (0.0, 500.0, 1000.0)
    assert any("0.01 BTC, 0.1 ETH per contract" in n for n in p.notes)
    for asset in p.tiers:
        assert p.sized_in_coins(asset)
        assert p.tier_rows(asset, p.reference_price_usd[asset]) == p.tiers[asset]  # the listed table
        for price in (0.5, 3_000.0, 50_000.0, 123_456.78, 1e9):
            rows = p.tier_rows(asset, price)
            assert V.tier_problems(rows) == []
            assert [r.notional_floor_usd for r in rows] == [f * price for f in p.size_floors[asset]]
            assert [(r.max_leverage, r.mmr_pct) for r in rows] == [(r.max_leverage, r.mmr_pct) for r in p.tiers[asset]]
            assert tuple(r.maintenance_amount_usd for r in rows) == V.maintenance_amounts(
                [r.notional_floor_usd for r in rows], [r.mmr_pct for r in rows]
            )


def test_okx_tier_follows_the_position_size_not_the_reference_price():
    p = V.pack("okx")
    at_50k = p.tier_rows("BTC", 50_000.0)
    # 15 BTC at 50,000 is 1,500 contracts: tier 2 (1,000–5,000 contracts), though its 750k USD notional is
    # below the 1M USD floor the table shows at the 100,000 reference price
    assert V.tier_index(at_50k, 15 * 50_000.0) == 1
    assert V.tier_index(p.tiers["BTC"], 15 * 50_000.0) == 0
    assert at_50k[1].notional_floor_usd == 500_000.0 and at_50k[1].maintenance_amount_usd == 500.0
    for size in (9.99, 10.0, 49.99, 50.0, 200.0):  # the tier depends on the size alone
        tiers = {V.tier_index(p.tier_rows("BTC", price), size * price) for price in (1_000.0, 50_000.0, 250_000.0)}
        assert tiers == {V.tier_index(p.tiers["BTC"], size * 100_000.0)}


def test_tier_rows_rejects_a_bad_price_and_an_unknown_asset():
    p = V.pack("okx")
    for price in (0.0, -1.0, float("nan"), float("inf"), "50000", True):
        with pytest.raises(ValueError, match="must be a finite number > 0"):
            p.tier_rows("BTC", price)
    with pytest.raises(KeyError):
        p.tier_rows("DOGE", 1.0)
    with pytest.raises(KeyError):
        V.pack("binance").tier_rows("DOGE", 1.0)


def test_sized_rows_wants_one_floor_per_tier():
    with pytest.raises(ValueError, match="2 size floors but 1 tiers"):
        V.sized_rows([0, 1], V.pack("okx").tiers["BTC"][:1], 1.0)


# ---------------------------------------------------------------------------------------- versions, lookup


def test_defaults_are_the_newest_documented_versions():
    assert V.VENUES == ("binance", "bybit", "okx", "hyperliquid", "dydx")
    assert V.ASSETS == ("BTC", "ETH", "SOL", "ALT") and V.CORE_ASSETS == ("BTC", "ETH")
    assert set(V.DEFAULTS) == set(V.VENUES)
    assert V.DEFAULTS == {
        "binance": "2025",
        "bybit": "2026-09",
        "okx": "2025-05",
        "hyperliquid": "2026-01",
        "dydx": "2026-03",
    }
    for venue in V.VENUES:
        assert V.DEFAULTS[venue] == V.newest(venue)  # the issue: "the default is the newest one documented"
        vs = V.versions(venue)
        assert vs == tuple(sorted(vs)) and len(set(vs)) == len(vs)  # oldest first
        assert V.DEFAULTS[venue] in vs
        assert V.pack(venue) is V.pack(venue, V.DEFAULTS[venue])
        assert V.newest(venue) == vs[-1]
        assert all(V.pack(venue, v).venue == venue and V.pack(venue, v).version == v for v in vs)
    assert V.newest("binance") == "2025" and V.newest("okx") == "2025-05"


def test_unknown_venue_names_it_and_lists_the_allowed():
    for call in (lambda: V.pack("kraken"), lambda: V.versions("kraken"), lambda: V.newest("kraken")):
        with pytest.raises(ValueError) as info:
            call()
        assert "'kraken'" in str(info.value) and "binance, bybit, okx, hyperliquid" in str(info.value)


def test_unknown_version_names_it_and_lists_the_allowed():
    with pytest.raises(ValueError) as info:
        V.pack("binance", "2019-01")
    msg = str(info.value)
    assert "'2019-01'" in msg and "2021-03, 2024-10, 2025" in msg and "default 2025)" in msg


def test_btc_tier1_trigger_rates_differ_across_venues():
    # the cross-venue tests rely on it: bybit 0.33 < binance 0.40 < okx 0.40 + 0.05 fee < dydx 1.2 < hyperliquid 1.25
    rates = {v: V.effective_trigger_mmr_pct(V.pack(v)) for v in V.VENUES}
    assert rates == pytest.approx({"binance": 0.40, "okx": 0.45, "bybit": 0.33, "hyperliquid": 1.25, "dydx": 1.2})
    assert len(set(rates.values())) == 5
    assert sorted(rates, key=rates.get) == ["bybit", "binance", "okx", "dydx", "hyperliquid"]


# ------------------------------------------------------------------------------------ [venue] table, resolve


def test_venue_table_mirrors_rules_and_every_key_is_optional():
    assert [f.name for f in dataclasses.fields(V.VenueTable)] == [f.name for f in dataclasses.fields(V.Rules)]
    table_specs = _schema.specs(V.VenueTable)
    assert list(table_specs) == [f.name for f in dataclasses.fields(V.Rules)]
    for name, spec in table_specs.items():
        assert spec.optional and spec.shown_default == "venue pack" and spec.doc, name
        assert _schema.defaults(V.VenueTable)[name] is None
        if spec.kind == "str":
            assert spec.choices, name
        if spec.kind in ("float", "int"):
            assert spec.unit and (spec.lo is not None or spec.hi is not None), name
    assert len(_schema.markdown_table(V.VenueTable)) == 2 + len(table_specs)


def test_resolve_overrides_only_the_given_field():
    p = V.pack("okx")
    assert V.resolve(p, V.VenueTable()) == p.rules
    out = V.resolve(p, V.VenueTable(clearance_fee_pct=1))
    assert out.clearance_fee_pct == 1.0 and isinstance(out.clearance_fee_pct, float)
    assert dataclasses.replace(out, clearance_fee_pct=p.rules.clearance_fee_pct) == p.rules
    both = V.resolve(p, V.VenueTable(partial_tiers_down=0, adl_price="bankruptcy"))
    assert (both.partial_tiers_down, both.adl_price) == (0, "bankruptcy")
    assert p.rules.partial_tiers_down == 2  # the pack itself is untouched


def test_venue_table_reads_through_the_scenario_checker():
    c = _schema.Checker("s.toml", None, frozenset())
    values = c.table(V.VenueTable, {"clearance_fee_pct": 1, "settle": "fill", "partial_min_tier": 2}, "venue")
    assert c.problems == []
    rules = V.resolve(V.pack("binance"), V.VenueTable(**values))
    assert (rules.clearance_fee_pct, rules.settle, rules.partial_min_tier) == (1.0, "fill", 2)
    c = _schema.Checker("s.toml", None, frozenset())
    c.table(V.VenueTable, {"settle": "socialise", "partial_min_tier": 1.5, "fee": 1, "slice_fraction": 0}, "venue")
    assert "s.toml: venue.settle = 'socialise': must be one of bankruptcy, fill, fillable" in c.problems
    assert "s.toml: venue.partial_min_tier = 1.5: must be an integer in [1, 1000]" in c.problems
    assert "s.toml: venue.slice_fraction = 0: must be a number in (0, 1]" in c.problems
    assert any(p.startswith("s.toml: venue.fee: unknown key; allowed: adl_drawdown_pct") for p in c.problems)


# ------------------------------------------------------------------------------------------------- views


def test_venues_text_lists_every_pack_and_marks_defaults():
    text = V.venues_text()
    for venue in V.VENUES:
        assert venue in text
    lines = text.splitlines()
    for p in V.all_packs():
        row = next(line for line in lines if line.split()[:2] in ([p.venue, p.version], [p.venue, p.version + "*"]))
        assert (p.version + "*" in row.split()) == (V.DEFAULTS[p.venue] == p.version), row
    assert "BTC tiers" not in text and "[DOC]" not in text
    assert "okx: tiers set in position size (contracts): a position's tier follows its size" in text


def test_venues_text_verbose_adds_notes_and_tier_tables():
    text = V.venues_text(verbose=True)
    assert text.count("BTC tiers:") == text.count("ETH tiers:") == len(ALL)
    assert "okx 2025-05 (default)" in text and "binance 2025 (default)" in text and "bybit 2026-09 (default)" in text
    assert "421,481,450" in text and "1,333,333.33" in text
    assert all(note in text for p in V.all_packs() for note in p.notes)
    # OKX's tables say they are set in size and at which price their USD columns are shown
    n_okx = len(V.versions("okx"))
    assert text.count("BTC tiers: set in position size; USD columns at 100,000 USD/BTC") == n_okx
    assert text.count("ETH tiers: set in position size; USD columns at 3,000 USD/ETH") == n_okx
    assert text.count("floor BTC") == text.count("floor ETH") == n_okx


def test_venues_records_are_plain_json():
    records = V.venues_records()
    assert [(r["venue"], r["version"]) for r in records] == ALL
    assert json.loads(json.dumps(records)) == records
    for r in records:
        assert r["default"] == (V.DEFAULTS[r["venue"]] == r["version"])
        assert r["newest"] == (V.newest(r["venue"]) == r["version"])
        p = V.pack(r["venue"], r["version"])
        assert r["btc_tier1_mmr_pct"] == p.tiers["BTC"][0].mmr_pct
        assert r["btc_tier1_max_leverage"] == p.tiers["BTC"][0].max_leverage
        assert r["rules"] == dataclasses.asdict(p.rules)
        assert r["clearance_fee_pct"] == p.rules.clearance_fee_pct and r["source"] == p.source
        assert r["tier_size_floors"] == {a: list(f) for a, f in p.size_floors.items()}
        assert r["tier_reference_price_usd"] == dict(p.reference_price_usd)
        assert bool(r["tier_size_floors"]) == (p.venue == "okx")


# ------------------------------------------------------------------------------------ SOL, ALT and collateral


def test_new_coin_tables_match_their_sources():
    """Spot checks against the cited snapshots: freqtrade's SOLUSDT/AVAXUSDT (2024-10-24), OKX's SOL-USDT and
    AVAX-USDT position tiers (2026-05-28, contracts of 1 coin), Hyperliquid's margin tiers and dYdX's tier 1."""
    b = V.pack("binance")
    assert [(t.notional_floor_usd, t.max_leverage, t.mmr_pct) for t in b.tiers["SOL"][:3]] == [
        (0, 100, 0.5),
        (20e3, 75, 0.65),
        (100e3, 50, 1.0),
    ]
    assert b.tiers["SOL"][-1].maintenance_amount_usd == 66_728_380  # freqtrade's stated cum
    assert b.tiers["ALT"][1].maintenance_amount_usd == 7.5 and b.tiers["ALT"][0].max_leverage == 75
    assert V.pack("binance", "2024-10").tiers["SOL"] is b.tiers["SOL"]
    okx = V.pack("okx")
    assert okx.size_floors["SOL"][:4] == (0.0, 2_500.0, 10_000.0, 20_000.0)
    assert okx.size_floors["ALT"][:4] == (0.0, 4_800.0, 10_000.0, 18_000.0)
    assert [(t.max_leverage, t.mmr_pct) for t in okx.tiers["SOL"][:3]] == [(50, 0.65), (40, 1.0), (20, 1.5)]
    assert [(t.max_leverage, t.mmr_pct) for t in okx.tiers["ALT"][:3]] == [(50, 1.0), (40, 1.5), (20, 3.0)]
    assert okx.tier_rows("SOL", 200.0)[1].notional_floor_usd == 2_500 * 200.0  # one contract = 1 SOL
    hl = V.pack("hyperliquid")
    assert [(t.notional_floor_usd, t.max_leverage, t.mmr_pct) for t in hl.tiers["SOL"]] == [
        (0, 20, 2.5),
        (70e6, 10, 5.0),
    ]
    assert [(t.notional_floor_usd, t.max_leverage, t.mmr_pct) for t in hl.tiers["ALT"]] == [
        (0, 10, 5.0),
        (20e6, 5, 10.0),
    ]
    assert [(t.max_leverage, t.mmr_pct) for t in V.pack("dydx").tiers["SOL"]] == [(10, 5.0)]
    assert V.pack("bybit").tiers["SOL"] == b.tiers["SOL"]  # [INF] Binance's table for the same coin
    for p in V.all_packs():
        if "SOL" in p.tiers:
            assert any("AVAX" in n for n in p.notes), (p.venue, p.version)


def test_older_packs_without_a_dated_source_have_no_new_coins():
    for venue, version in (("binance", "2021-03"), ("bybit", "2025-12"), ("okx", "2020"), ("hyperliquid", "2024")):
        assert set(V.pack(venue, version).tiers) == {"BTC", "ETH"}


def test_collateral_tables_of_the_newest_packs():
    assert set(V.pack("binance").collateral) == {"USDT", "USDC", "USDe", "BTC"}
    assert set(V.pack("bybit").collateral) == {"USDT", "USDC", "USDe", "BTC"}
    assert set(V.pack("okx").collateral) == {"USDT", "USDC", "BTC"}
    assert set(V.pack("hyperliquid").collateral) == {"USDC"} == set(V.pack("dydx").collateral)
    assert V.pack("binance").collateral["BTC"] == ((0.0, 0.95),)
    for venue in V.VENUES:
        p = V.pack(venue)
        assert any("collateral" in n and n[:1] == "[" for n in p.notes)
        for rows in p.collateral.values():
            assert V.collateral.problems(rows) == []
        for version in V.versions(venue)[:-1]:
            assert dict(V.pack(venue, version).collateral) == {}


def test_collateral_value_is_bracket_wise():
    rows = V.pack("bybit").collateral["BTC"]  # 0.98 to 10 BTC, 0.95 to 20, 0.9 to 30, 0.85 to 40, 0.8 to 50, 0 above
    assert V.collateral.value_usd(rows, 5, 100_000.0) == 5 * 0.98 * 100_000.0
    assert V.collateral.value_usd(rows, 15, 100_000.0) == pytest.approx((10 * 0.98 + 5 * 0.95) * 100_000.0)
    full = (10 * 0.98 + 10 * 0.95 + 10 * 0.9 + 10 * 0.85 + 10 * 0.8) * 100_000.0
    assert V.collateral.value_usd(rows, 60, 100_000.0) == pytest.approx(full)  # nothing above 50 BTC counts
    assert V.collateral.problems(((0.0, 0.9), (5.0, 0.95))) == ["ratio 0.95 above the previous tier's 0.9"]


def test_venues_text_lists_the_new_coins_and_collateral():
    text = V.venues_text(verbose=True)
    assert "BTC ETH SOL ALT" in text and "USDT USDC USDe BTC" in text
    assert "ALT tiers:" in text and "collateral (ratio by amount held" in text
    rec = {(r["venue"], r["version"]): r for r in V.venues_records()}
    assert rec[("binance", "2021-03")]["sol_tier1_mmr_pct"] is None
    assert rec[("binance", "2025")]["sol_tier1_mmr_pct"] == 0.5
    assert rec[("okx", "2025-05")]["collateral"]["BTC"][0] == [0.0, 0.98]
