"""The text of ``scenarios/README.md``: its opening, the reference tables made from the key specs
(:func:`schema_markdown`, printed by ``python -m sim.config.scenario --markdown``) and the ``[sweep]`` table."""

from sim.config.collateral import CollateralTable, HoldingTable
from sim.config.instruments import InstrumentsTable, InstrumentTable
from sim.config.memory import PER
from sim.config.schema import fmt, markdown_table
from sim.config.tables import TABLES, MarketTable, Tier

INTRO = """\
# Scenarios

A scenario is a TOML file with one table per part of the model: `[scenario]`, `[market]`, `[venue]`,
`[population]`, `[book]`, `[shock]`, `[insurance_fund]`, `[adl]` and `[output]`; `[instruments.<ASSET>]` adds
instruments of the venue, `[portfolio]` accounts that hold several of them and `[collateral.<ASSET>]` what those
accounts post as margin besides USD. `market.venue` picks a venue's
rule pack; every key of `[venue]` is unset by default, which means "the pack's value", and setting one replaces
that rule alone. Every key is optional: a key you leave out takes
the default listed below, so a scenario only needs the keys it changes, e.g.

```toml
[scenario]
name = "deep_gap"

[shock]
kind = "gap"
size_pct = -20
```

`btc_flash_crash.toml` restates the defaults with comments; `calm.toml` runs with no shock. Check a file with
`liqsim validate FILE` and run it with `liqsim run FILE`. The scenarios of this folder are installed with liqsim, and
their names stand for their files wherever a file is taken: `liqsim run calm`, `load_scenario("calm")` (a file of
that name in the current directory wins). A data-file key may name a file of this folder as `shipped:PATH`, e.g.
`shipped:data/btc_2025_10_10.csv`, wherever liqsim is installed: a run's saved `scenario.toml` refers to shipped data
that way and to other data files relative to its own folder, so it holds no absolute path and reruns as it is. This
page is generated from the key specs in `sim/config/scenario.py`: `python -m sim.config.scenario --markdown >
scenarios/README.md`.

Validation reports every problem at once: unknown keys (with the allowed ones), wrong types, values out of range,
values that contradict each other, combinations that would make a run allocate absurd memory (more than
20,000,000 book ladder levels, 5,000,000 time-series samples or 20,000,000 expected background orders) and bad rows
of the CSV files a scenario points at, including positions that are bankrupt at the start price or above their
tier's maximum leverage. Integers are accepted wherever a number is expected; booleans and strings never are. File
paths are relative to the scenario file; a data file must be a regular file (not a folder or a FIFO).

A run whose arrays would not fit in the memory available is refused before anything is allocated: the check
estimates about @position bytes per position row (@file_row for a row of `population.file`), @level per book level,
@order per background order and @sample per time-series sample, and names the key of the largest share and the value that would
fit. The memory available is the system's figure, or the environment variable `LIQSIM_MEMORY_LIMIT_GB` (in GB).
Tables and arrays may not be nested more than 16 levels deep.

## Overriding keys

Any key can be replaced without editing the file: on the command line with `--set table.key=value` (repeatable),
or from Python with `load_scenario(path, {"table.key": value})` or `scenario.with_overrides({...})`. A
command-line value is read as a TOML value (`--set population.n_positions=1e6`, `--set adl.enabled=false`,
`--set "population.leverage_mix={2=0.5, 10=0.5}"`, or a named mix: `--set population.leverage_mix=degen`); anything else, and any value of a string key, is taken as
plain text. Overridden values are validated like the file's; relative paths given there are relative to the
current directory.

## Reference
"""
for _name, _bytes in (
    ("@position", PER["position"]),
    ("@file_row", PER["position"] + PER["file row"]),
    ("@level", PER["book level"]),
    ("@order", PER["background order"]),
    ("@sample", PER["sample"]),
):
    INTRO = INTRO.replace(_name, str(_bytes))

SWEEP = """### `[sweep]`

A sweep of this scenario, read by `liqsim sweep FILE` and ignored by `liqsim run`: every combination of the
grid's values runs once per seed (`scenario.seed`, `scenario.seed + 1`, ...). `--grid KEY=[...]` replaces the
file's values of that key and `--seeds N` its seeds; each value is validated like a `--set` value, all before
the first run. The README's "Sweeps" section describes the output folder, resuming and the executors.

| key | type | default | allowed | description |
|---|---|---|---|---|
| `seeds` | integer | `1` | ≥ 1 | Number of seeds each combination runs with. |
| `grid` | table |  | `"table.key" = [value, ...]`, any scenario key but `scenario.seed` | The values to try, key by key (the last key varies fastest); data-file paths relative to this file. |

For example (`scenarios/leverage_mix_severity.toml`):

```toml
[sweep]
seeds = 10

[sweep.grid]
"shock.size_pct" = [-2.0, -4.0, -6.0, -8.0, -10.0, -12.0, -15.0]
"population.leverage_mix" = ["conservative", "balanced", "degen"]
```
"""


INSTRUMENTS = [
    "### `[instruments.<ASSET>]`",
    "",
    "More instruments of the venue beside `[market]`'s, which stays the first: one table per asset the venue's pack "
    "has a tier table for (`ETH`, `SOL`, `ALT`, or `BTC` when `market.asset` is another), other than `market.asset`. "
    "Each instrument is run as its own market, a copy of the scenario with the keys below, the pack's tier table for "
    "the asset, a gap's or ramp's `shock.size_pct` times `beta`, and a seed of its own drawn from `scenario.seed` "
    "and the asset (so its population, background orders and behaviour are drawn apart); every other setting is the "
    "scenario's. The markets come in the order `[market]`, then BTC, ETH, SOL, ALT. A `gbm` or `replay` shock is "
    "drawn (or read) once, for the first market, and every other instrument follows its relative moves times its "
    "`beta` (a replay then needs `shock.rescale`); a `flow` shock needs every `beta` to be 1. With a replay, an "
    "instrument may replay a recorded path of its own instead: `path_file` and `path_column` (docs/model.md §6), on "
    "the clock of `shock.file` (both in Unix seconds), a blank cell keeping the last price; the path's price at the "
    "run's start is the instrument's start price unless `start_price_usd` is given (which, with `shock.rescale`, "
    "scales the path to it, and without must equal it), and `shock.move_scale` applies to it too. `book.file` is "
    "refused (its rows are the first market's); `population.file` may be an account snapshot only, whose rows go "
    "to their coin's market and whose users are the accounts (docs/model.md §5.5). Each instrument's market is "
    "validated like a "
    "scenario of its own, its problems named by the instrument's keys. `--set instruments.ETH.beta=1.5` overrides "
    "one key of an instrument. A run of several instruments goes through the several-market engine "
    "(docs/engine.md §13): `liqsim run` writes one folder for the whole run (docs/outputs.md) and `sim.run` returns a "
    "`MultiResult`; `liqsim compare` and `sweep` run one market for now and refuse it (exit status 2).",
    "",
    "```toml",
    "[instruments.ETH]",
    "start_price_usd = 4000.0",
    "tick_size_usd = 0.01",
    "lot_size = 0.01",
    "open_interest_usd = 3e9",
    "beta = 1.6",
    "",
    "[instruments.ALT]                 # AVAX's tables, on its own recorded path",
    'path_file = "data/alts_2025_10_10.csv"',
    'path_column = "avax_close"',
    'path_time = "bar_end"             # the close at the end of its bar',
    "tick_size_usd = 0.001",
    "lot_size = 1.0",
    "open_interest_usd = 3e8",
    "```",
    "",
    *markdown_table(InstrumentTable),
    "",
]

COLLATERAL = [
    "### `[collateral.<ASSET>]`",
    "",
    "Collateral of the accounts that hold several instruments (`[portfolio]`, or an account snapshot), one table "
    "per asset (`USDT`, `USDC`, `USDe`, `BTC`; the venue's collateral table says which it takes, docs/model.md "
    "§2.10). A share of those accounts "
    "exchange `margin_share` of their USD margin for the asset at its start price; the venue's ratio (or `ratio`) "
    "counts it at less from the start, and its price moves the accounts' equity. A stablecoin stays at 1 USD unless "
    "`move_pct` is set: a depeg from `start_s` over `duration_s`, back to its peg from `back_s` if given. `BTC` "
    "is valued at the BTC instrument's index, as the venue does (under prices formed by flows, the index the cascade "
    "moves), and must be one of the scenario's instruments. The holders are drawn from "
    "`scenario.seed`; the run's contagion section reports the liquidations the collateral set off.",
    "",
    "```toml",
    "[collateral.USDe]",
    "share = 0.5            # half the cross accounts hold USDe",
    "margin_share = 0.6     # 60% of their margin",
    "move_pct = -35.0       # it falls to 0.65 USD",
    "start_s = 60.0",
    "duration_s = 60.0",
    "```",
    "",
    *markdown_table(HoldingTable),
    "",
]


def schema_markdown() -> str:
    """The reference of every scenario key: the whole text of ``scenarios/README.md``."""
    out = [INTRO]
    for name, cls in TABLES.items():
        summary = (cls.__doc__ or "").split(": ", 1)[-1].strip()
        if cls is InstrumentsTable:
            out += INSTRUMENTS
            continue
        if cls is CollateralTable:
            out += COLLATERAL
            continue
        out += [f"### `[{name}]`", "", summary[:1].upper() + summary[1:], "", *markdown_table(cls), ""]
        if cls is MarketTable:
            out += [
                "### `[[market.tiers]]`",
                "",
                "The tiered maintenance margin: at least one tier; the first floor "
                "is 0, floors strictly increase, `mmr_pct` never decreases, `max_leverage` never increases and "
                "`mmr_pct` < 100 / `max_leverage`. Maintenance amounts follow cum[0] = 0, cum[n] = cum[n-1] + "
                "floor[n]·(MMR[n] − MMR[n-1]) (MMR as a fraction); a given amount must match within "
                "max(0.01, 1e-9·cum) USD, an omitted one is computed.",
                "",
                *markdown_table(Tier),
                "",
                "Default (the binance pack's BTC table; `liqsim venues --verbose` lists every pack's):",
                "",
                "| notional_floor_usd | max_leverage | mmr_pct | maintenance_amount_usd |",
                "|---:|---:|---:|---:|",
            ]
            out += [
                f"| {fmt(t.notional_floor_usd)} | {fmt(t.max_leverage)} | {fmt(t.mmr_pct)} | "
                f"{fmt(t.maintenance_amount_usd)} |"
                for t in MarketTable().tier_table()
            ] + [""]
    return "\n".join(out) + "\n" + SWEEP
