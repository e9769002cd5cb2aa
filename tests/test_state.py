"""The perp's named groups of state (sim.state): built as documented, and usable alone by the kernels that act on
them (no run, no other state)."""

import numpy as np
import pytest

from sim import state as S
from sim._jit import compiled
from sim.kernels.adl import next_pool_nb
from sim.kernels.liquidation import fund_equity_nb, fund_trade_nb, pool_add_nb


def _perp():
    return S.allocate_perp(100.0, 1000.0, 1e-4, 5000, 3.0, 2.5)


def test_every_group_is_a_record_of_its_own_array_with_the_documented_fields():
    perp = _perp()
    dtypes = (S.PRICES, S.ACCOUNTS, S.ADL, S.WORK, S.CLOCK, S.TOTALS, S.BEHAVIOUR, S.ARRIVALS)
    bases = set()
    for group, dtype in zip(perp, dtypes, strict=True):
        assert isinstance(group, np.record) and group.dtype == dtype and dtype.isalignedstruct
        assert group.base is not None and group.base.shape == (1,)
        bases.add(id(group.base))
        for name in dtype.names:
            assert dtype[name].base in (np.float64, np.int64), name
    assert len(bases) == len(perp)  # no two groups share memory
    assert perp.px["prem_n"].dtype == np.int64 and perp.adl["pool_q"].shape == (3,)
    assert all(perp.clk.dtype[name] == np.int64 for name in S.CLOCK.names)  # counters and cursors are integers
    assert perp.px["mark"] == perp.px["min_last"] == perp.arv["dip_peak"] == 100.0
    assert perp.acc["fund_cash"] == perp.acc["fund_min"] == perp.acc["dd_peak"] == 1000.0
    assert (perp.px["oi_long"], perp.px["oi_short"], perp.px["funding_rate"]) == (3.0, 2.5, 1e-4)
    assert perp.bh["next_funding"] == 5000 and perp.acc["fund_q"] == 0.0 and perp.clk["nfills"] == 0


def test_perp_cells_are_the_groups_memory_as_one_element_arrays():
    perp = _perp()
    cells = S.perp_cells(perp)
    assert len(cells) == len(perp)
    for group, cell in zip(perp, cells, strict=True):
        assert type(cell) is np.ndarray and cell.shape == (1,) and cell.dtype == group.dtype
    cells[0][0]["mark"] = 93.5  # written through the cell, read through the record, and back
    assert perp.px.mark == 93.5
    perp.work.nheld = 7
    assert cells[3]["nheld"][0] == 7
    shared = np.zeros(2, S.WORK).view(np.recarray)[0]  # a record of a two-element array: not a group
    with pytest.raises(ValueError, match="one-element array"):
        S.perp_cells(perp._replace(work=shared))


def test_compiled_is_the_kernels_machine_code_for_those_types_and_a_stand_in_passes_through():
    from sim.kernels.margin import bankruptcy_price_nb

    f = compiled(bankruptcy_price_nb, 1, 2.0, 100.0, 50.0)
    assert f is not bankruptcy_price_nb or not hasattr(bankruptcy_price_nb, "overloads")  # plain Python: itself
    assert f(1, 2.0, 100.0, 50.0) == bankruptcy_price_nb(1, 2.0, 100.0, 50.0) == 75.0
    assert f(-1, 4.0, 100.0, 20.0) == 105.0

    def stand_in(*args):
        return "called"

    assert compiled(stand_in, 1, 2) is stand_in


def test_the_fund_accounting_acts_on_the_accounts_group_alone():
    acc = S.new_group(S.ACCOUNTS, fund_cash=1000.0, fund_bal=1000.0, fund_min=1000.0)
    assert fund_trade_nb(acc, 2.0, 100.0) == 0.0  # takes 2 at 100: no PnL yet
    assert fund_trade_nb(acc, 1.0, 130.0) == 0.0  # 1 more at 130: average 110
    assert acc["fund_q"] == 3.0 and acc["fund_avg"] == pytest.approx(110.0)
    assert acc["fund_cash"] == 1000.0 - 200.0 - 130.0
    realized = fund_trade_nb(acc, -1.0, 90.0)  # sells 1 at 90: loses 20
    assert realized == pytest.approx(-20.0)
    assert acc["fund_bal"] == acc["fund_min"] == pytest.approx(980.0)
    assert fund_equity_nb(acc, 90.0) == pytest.approx(acc["fund_cash"] + 2.0 * 90.0)
    fund_trade_nb(acc, -2.0, 120.0)  # flat again: +20, its balance recovers, the lowest balance stays
    assert acc["fund_q"] == 0.0 and acc["fund_avg"] == 0.0
    assert acc["fund_bal"] == pytest.approx(1000.0) and acc["fund_min"] == pytest.approx(980.0)
    assert acc["fund_cash"] == pytest.approx(acc["fund_bal"])  # cash and balance agree once flat


def test_the_adl_pools_are_matched_one_cause_at_a_time_in_the_adl_group_alone():
    adl = S.new_group(S.ADL)
    pool_add_nb(adl, -1, 3, 2.0, 110.0)  # capacity
    pool_add_nb(adl, -1, 1, 1.0, 120.0)  # deficit
    pool_add_nb(adl, -1, 1, 1.0, 100.0)
    assert adl["side"] == -1 and list(adl["pool_q"]) == [2.0, 0.0, 2.0]
    assert next_pool_nb(adl)  # the deficit first
    assert (adl["cause"], adl["rem"], adl["cost"]) == (1, 2.0, 220.0)
    assert next_pool_nb(adl)  # then the capacity pool
    assert (adl["cause"], adl["rem"], adl["cost"]) == (3, 2.0, 220.0)
    assert not next_pool_nb(adl) and not adl["pool_q"].any() and not adl["pool_cost"].any()
