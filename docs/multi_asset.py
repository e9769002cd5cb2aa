"""The README's multi-asset crash: liquidations set off across instruments, and by a collateral depeg.

    python docs/multi_asset.py            # prints the Markdown table and lines the README shows

Runs the shipped ``scenarios/multi_asset_crash.toml`` (BTC, ETH, SOL and ALT on Binance's rules, the alts falling
with BTC by their betas, 60% of the cross traders holding several instruments in one account) three ways: as
shipped; with half of the cross accounts holding 80% of their margin in USDe (``[collateral.USDe]``, counted at
Binance's ratio 0.95) that keeps its peg; and the same with the USDe falling 35% from t = 60 s to 120 s. For each
instrument it prints the liquidated notional, the part on rows of multi-instrument accounts, the cross-asset part
(rows first forced when the account's other positions had lost more than the row itself and than the collateral)
and, under the depeg, the collateral-driven part. Then the shipped ``scenarios/usde_depeg.toml`` (the depeg alone,
prices unmoved) with and without its depeg.
"""

import sim

USDE = {"collateral.USDe.share": 0.5, "collateral.USDe.margin_share": 0.8}
DEPEG = {"collateral.USDe.move_pct": -35.0, "collateral.USDe.start_s": 60.0, "collateral.USDe.duration_s": 60.0}


def main():
    scn = sim.load_scenario("multi_asset_crash")
    plain = sim.run(scn)
    peg = sim.run(scn.with_overrides(USDE))
    depeg = sim.run(scn.with_overrides({**USDE, **DEPEG}))
    print(
        "| instrument | liquidated | of it in multi-instrument accounts | cross-asset | "
        "with USDe at par | with USDe −35% | of it collateral-driven |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in plain.names:
        a, b, c = (r.contagion["markets"][name] for r in (plain, peg, depeg))
        print(
            f"| {name} | ${a['liquidated_usd'] / 1e9:.2f}B | ${a['in_cross_accounts_usd'] / 1e6:.0f}M | "
            f"${a['cross_asset_usd'] / 1e6:.1f}M ({100 * a['cross_asset_share']:.1f}%) | "
            f"${b['liquidated_usd'] / 1e9:.2f}B | ${c['liquidated_usd'] / 1e9:.2f}B | "
            f"${c['collateral_driven_usd'] / 1e6:.1f}M |"
        )
    print(
        f"\nAccounts liquidated: {plain.contagion['accounts_liquidated']} as shipped, "
        f"{peg.contagion['accounts_liquidated']} with USDe at par, {depeg.contagion['accounts_liquidated']} with "
        "USDe −35%."
    )
    alone = sim.load_scenario("usde_depeg")
    on, off = sim.run(alone), sim.run(alone.with_overrides({"collateral.USDe.move_pct": 0.0}))
    print(
        f"\nThe depeg alone (`scenarios/usde_depeg.toml`, {on.summary['n_positions']:,} positions, prices unmoved): "
        f"${on.summary['liquidated_usd'] / 1e6:.1f}M liquidated,\n${on.summary['collateral_driven_usd'] / 1e6:.1f}M "
        f"of it collateral-driven, {on.contagion['accounts_liquidated']} accounts; without the depeg "
        f"${off.summary['liquidated_usd'] / 1e6:.1f}M and {off.contagion['accounts_liquidated']} accounts."
    )


if __name__ == "__main__":
    main()
