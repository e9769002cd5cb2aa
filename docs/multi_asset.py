"""The README's multi-asset crash: liquidations set off across instruments, and by a collateral depeg.

    python docs/multi_asset.py            # prints the Markdown table the README shows

Runs the shipped ``scenarios/multi_asset_crash.toml`` (BTC, ETH, SOL and ALT on Binance's rules, the alts falling
with BTC by their betas, 60% of the cross traders holding several instruments in one account) three ways: as
shipped; with every multi-instrument account also holding USDe worth the sum of its positions' margins (collateral
ratio 0.95) that keeps its peg; and the same with the USDe falling 35% from t = 60 s to 120 s. For each instrument
it prints the liquidated notional, the part on rows of multi-instrument accounts, the cross-asset part (rows first
forced when the account's other positions had lost more than the row itself and than the collateral) and, under
the depeg, the collateral-driven part.
"""

import numpy as np

import sim
from sim.multi import run_scenario


def _usde(out, depth):
    """Every multi-instrument account holds USDe worth its positions' summed margins, falling by ``depth``."""
    n_acct = int(max(a.max() for a in out.row_acct)) + 1
    margin = np.zeros(n_acct)
    for inp, a in zip(out.inputs, out.row_acct):
        np.add.at(margin, a[a >= 0], inp.pos_wallet[a >= 0])
    return {
        "assets": [([0.0, 60.0, 120.0], [1.0, 1.0, 1.0 - depth], 1.0)],
        "account": np.arange(n_acct),
        "asset": np.zeros(n_acct, np.int64),
        "units": 0.95 * margin,
    }


def main():
    scn = sim.load_scenario("multi_asset_crash")
    plain = run_scenario(scn)
    peg = run_scenario(scn, collateral=_usde(plain, 0.0))
    depeg = run_scenario(scn, collateral=_usde(plain, 0.35))
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
        f"\naccounts liquidated: {plain.contagion['accounts_liquidated']} as shipped, "
        f"{peg.contagion['accounts_liquidated']} with USDe at par, {depeg.contagion['accounts_liquidated']} with "
        "USDe −35%"
    )


if __name__ == "__main__":
    main()
