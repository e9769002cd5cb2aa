"""Integer codes shared by the kernels, the reference engine and the Python face.

Kernels see only these integers; names for people live in the ``*_NAMES`` tuples.
"""

# Position rows
TRADER = 0
COUNTERPARTY = 1

# Account kinds in ``Result.accounts`` (position rows use TRADER / COUNTERPARTY)
MAKER = 2
NOISE = 3
FUND = 4
FEE = 5
ARBITRAGEUR = 6  # basis arbitrageurs' perp leg (their spot legs are in the spot ledger)
FLOW = 7  # the exogenous seller or buyer of a flow shock (its perp leg)
ACCOUNT_KIND_NAMES = ("trader", "counterparty", "maker", "noise", "fund", "fee", "arbitrageur", "flow")

# Margin modes
ISOLATED = 0
CROSS = 1
MODE_NAMES = ("isolated", "cross")

# Position status
OPEN = 0
LIQUIDATED = 1  # fully liquidated (bankruptcy settlement)
ADL_CLOSED = 2  # closed in full by auto-deleveraging
FLAT = 3  # no position (a counterparty with nothing to hold)
STOPPED = 4  # closed in full by its own stop-loss order
STATUS_NAMES = ("open", "liquidated", "adl_closed", "flat", "stopped")

# Fill kinds (docs/model.md §8: the tape)
LIQUIDATION = 0
PARTIAL = 1
TAKEOVER = 2
ADL = 3
NOISE_FILL = 4
FUND_UNWIND = 5
STOP = 6  # a trader's stop-loss market order
FUNDING = 7  # the insurance fund's funding payment on its inventory (no trade: qty is the inventory held)
ARRIVAL = 8  # a new position opened during the run (a market order of an arriving trader, docs/model.md §5.4)
ARB_FILL = 9  # a basis arbitrageur's perp order (docs/model.md §1.6)
FLOW_FILL = 10  # a flow shock's perp order
#: Fills that force a position closed: the liquidation waterfall's own (ADL victims are not liquidated).
FORCED_KINDS = (LIQUIDATION, PARTIAL, TAKEOVER)
FILL_KIND_NAMES = (
    "liquidation",
    "partial",
    "takeover",
    "adl",
    "noise",
    "fund_unwind",
    "stop",
    "funding",
    "arrival",
    "arbitrage",
    "flow",
)

# Who trades on the spot venues (rows of the spot ledger, sim.state.SpotState)
SPOT_MAKERS = 0  # the venue's resting liquidity: the other side of every spot trade
SPOT_INFORMED = 1  # traders who pursue the fundamental value
SPOT_HEDGERS = 2  # the perp's makers hedging their inventory
SPOT_ARBS = 3  # basis arbitrageurs' spot leg
SPOT_FLOW = 4  # a flow shock's spot orders
SPOT_VENUE_ARBS = 5  # arbitrageurs between spot venues
SPOT_PARTICIPANT_NAMES = ("makers", "informed", "hedgers", "arbitrageurs", "flow", "venue_arbitrageurs")

# Index methods over constituent spot prices (docs/model.md §1.6)
INDEX_WEIGHTED_MEAN = 0  # Binance: weights renormalised over constituents near the median
INDEX_WEIGHTED_MEDIAN = 1  # Hyperliquid's oracle
INDEX_METHOD_NAMES = ("weighted_mean", "weighted_median")

# Maintenance-margin basis: MM on the notional at the price, on the entry value (Bybit), or tiers set in
# position size with floors and maintenance amounts in base units (OKX)
MM_MARK = 0
MM_ENTRY = 1
MM_SIZE = 2
MM_BASIS_NAMES = ("mark", "entry", "size")

# Venue rules (sim.venues names them; kernels see these codes)
PARTIAL_NONE = 0
PARTIAL_STEP_IOC = 1  # Binance: one IOC reduction to the largest compliant lower tier
PARTIAL_STEP_FOK = 2  # Bybit: the same target, fill-or-kill
PARTIAL_TO_TIER = 3  # OKX: reduce to a target tier, re-check after a freeze
PARTIAL_SLICES = 4  # Hyperliquid: 20% slices above a notional, then whole-position orders
PARTIAL_RULE_NAMES = ("none", "step_down_ioc", "step_down_fok", "to_tier", "slices")
MARK_BINANCE = 0
MARK_INDEX_BASIS = 1
MARK_HYPERLIQUID = 2
MARK_ORACLE = 3  # dYdX: margin is measured at the oracle price itself (mark = index)
MARK_METHOD_NAMES = ("binance", "index_basis", "hyperliquid", "oracle")
RANK_PNL_LEVERAGE = 0
RANK_LEVERAGE_PNL = 1
RANK_HYPERLIQUID = 2
RANK_RANDOM = 3  # dYdX: no ranking; holders in id order, cyclically from a pseudo-random start
ADL_RANKING_NAMES = ("pnl_leverage", "leverage_pnl", "hyperliquid", "random")
ADL_AT_BANKRUPTCY = 0
ADL_AT_MARK = 1
ADL_AT_PREVIOUS_MARK = 2
ADL_PRICE_NAMES = ("bankruptcy", "mark", "previous_mark")
POLICY_QUEUE = 0
POLICY_PRO_RATA = 1
POLICY_LEVERAGE_DRAIN = 2
ADL_POLICY_NAMES = ("venue_queue", "pro_rata", "leverage_drain")
# What sets ADL off (venue.adl_trigger, docs/model.md §3.7)
ADL_TRIGGER_CAPACITY = 0  # the fund takes a remainder up to its inventory limit; the rest is deleveraged
ADL_TRIGGER_DEFICIT = 1  # the fund takes every remainder it can pay for; only what it cannot pay is deleveraged
ADL_TRIGGER_NAMES = ("capacity", "deficit")
# Why a bankrupt quantity went to ADL (the fills' adl_cause; 0 on every other fill), in the order pools are matched
CAUSE_DEFICIT = 1  # the fund could not pay its loss at the mark, or the venue deleverages accounts under water
CAUSE_DRAWDOWN = 2  # the fund would not pay: its drawdown rule had tripped
CAUSE_CAPACITY = 3  # the fund could pay but its inventory limit was reached
ADL_CAUSE_NAMES = ("", "deficit", "drawdown", "capacity")

# Events, in priority order at equal time
EV_ORACLE = 0
EV_NOISE = 1
EV_UNWIND = 2
EV_SAMPLE = 3
EV_ARRIVAL = 4  # after the sample at equal time: a sample shows the state before an arrival of the same millisecond
EVENT_NAMES = ("oracle", "noise", "unwind", "sample", "arrival")

# Kernel status codes
ST_DONE = 0  # ran to the requested time
ST_FINISHED = 1  # no events left before the end of the run
ST_FILLS_FULL = 2  # the fill buffer needs more room; call again after growing it
ST_HELD = 3  # the tick's liquidation work is through and rows of cross accounts wait in Trigger.held (sim.multi)

# How a liquidatable cross account is taken apart (sim.kernels.cross, docs/model.md §2.11)
ACCT_CROSS = 0  # Binance, Bybit: the row with the largest maintenance margin first, taking the whole equity [INF]
ACCT_OKX = 1  # OKX: every row at once, the equity shared by trigger margin (maintenance + clearance) [INF: the split]
ACCT_HYPERLIQUID = 2  # Hyperliquid: every row at once, the equity shared by maintenance margin (the backstop's test)
ACCT_DYDX = 3  # dYdX v4: one row per account and block from a pseudo-random start, the equity shared by maintenance
ACCT_METHOD_NAMES = ("cross", "okx", "hyperliquid", "dydx")
#: Each venue's own rule (the engine's account layer and the account calculator's default method)
VENUE_ACCT_METHOD = {
    "binance": ACCT_CROSS,
    "bybit": ACCT_CROSS,
    "okx": ACCT_OKX,
    "hyperliquid": ACCT_HYPERLIQUID,
    "dydx": ACCT_DYDX,
}
# Why a row of a cross account was liquidated (CrossAccounts.why; 0: never): which part of its account had lost the
# most since the start when it was first forced (losses at the marks and collateral prices then)
WHY_OWN = 1  # its own position
WHY_OTHERS = 2  # the account's other positions together: a cross-asset liquidation
WHY_COLLATERAL = 3  # the account's collateral (a depeg or a crash of the asset held as margin)
#: A forced close's cause in reports, by code: a position of no cross account (0), then WHY_OWN, WHY_OTHERS,
#: WHY_COLLATERAL.
CAUSE_NAMES = ("isolated", "own", "other instruments", "collateral")
