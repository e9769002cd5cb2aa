"""Record dtypes of a run's outputs (aligned structured arrays).

Kernels write plain columns (structure of arrays); :mod:`sim.engine` packs them into these records
for :class:`sim.Result`. Field meanings are in ``docs/engine.md`` §11.
"""

import numpy as np

FILL_DTYPE = np.dtype(
    [
        ("t", "f8"),  # seconds from the start of the run
        ("kind", "i1"),  # sim.enums fill kind
        ("account", "i8"),  # account row (see ACCOUNT_DTYPE.id)
        ("side", "i1"),  # order side: +1 buy, -1 sell
        ("adl_cause", "i1"),  # ADL fills and the fund's take of an unmatched pool: sim.enums CAUSE_*; 0 otherwise
        ("qty", "f8"),  # base units
        ("price", "f8"),  # USD, VWAP of the order
        ("bankruptcy_price", "f8"),  # USD, NaN where none
        ("fund_delta", "f8"),  # USD, change of the insurance-fund balance
        ("fee", "f8"),  # USD, clearance fee (liquidations) or taker fee (noise)
        ("mark", "f8"),  # USD, mark price when the order ran
        ("equity", "f8"),  # USD, the account's equity at the mark just before the fill (NaN for maker, noise, fund)
    ],
    align=True,
)

SERIES_DTYPE = np.dtype(
    [
        ("t", "f8"),  # seconds
        ("index", "f8"),
        ("mark", "f8"),
        ("last", "f8"),
        ("best_bid", "f8"),
        ("best_ask", "f8"),
        ("depth_bid_1pct_usd", "f8"),
        ("depth_ask_1pct_usd", "f8"),
        ("fund_balance", "f8"),  # USD, cash + inventory at cost
        ("oi_long", "f8"),  # base units, all accounts
        ("oi_short", "f8"),
        ("liquidated_notional_usd", "f8"),  # cumulative
    ],
    align=True,
)

ACCOUNT_DTYPE = np.dtype(
    [
        ("id", "i8"),
        ("kind", "i1"),  # sim.enums account kind
        ("mode", "i1"),  # isolated / cross (position rows; -1 otherwise)
        ("status", "i1"),  # sim.enums status (position rows; -1 otherwise)
        ("leverage", "f8"),  # initial leverage (position rows; NaN otherwise)
        ("entry_price", "f8"),  # NaN where no position was held at start
        ("liquidation_price_start", "f8"),
        ("cash_start", "f8"),
        ("cash_end", "f8"),
        ("position_start", "f8"),  # signed base units
        ("position_end", "f8"),
        ("equity_start", "f8"),  # cash + position x start mark
        ("equity_end", "f8"),  # cash + position x final mark
        ("topup_usd", "f8"),  # margin the trader added from its reserve over the run (position rows; 0 otherwise)
    ],
    align=True,
)
