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
ACCOUNT_KIND_NAMES = ("trader", "counterparty", "maker", "noise", "fund", "fee")

# Margin modes
ISOLATED = 0
CROSS = 1
MODE_NAMES = ("isolated", "cross")

# Position status
OPEN = 0
LIQUIDATED = 1  # fully liquidated (bankruptcy settlement)
ADL_CLOSED = 2  # closed in full by auto-deleveraging
FLAT = 3  # no position (a counterparty with nothing to hold)
STATUS_NAMES = ("open", "liquidated", "adl_closed", "flat")

# Fill kinds (model §8: the tape)
LIQUIDATION = 0
PARTIAL = 1
TAKEOVER = 2
ADL = 3
NOISE_FILL = 4
FUND_UNWIND = 5
FILL_KIND_NAMES = ("liquidation", "partial", "takeover", "adl", "noise", "fund_unwind")

# Events, in priority order at equal time
EV_ORACLE = 0
EV_NOISE = 1
EV_UNWIND = 2
EV_SAMPLE = 3
EVENT_NAMES = ("oracle", "noise", "unwind", "sample")

# Kernel status codes
ST_DONE = 0  # ran to the requested time
ST_FINISHED = 1  # no events left before the end of the run
ST_FILLS_FULL = 2  # the fill buffer needs more room; call again after growing it
