"""The array heaps against Python's sorted lists: order, stale-entry compaction, the event key and the
radix-sorted start-of-run trigger index."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import enums as E
from sim.kernels.heap import (
    event_pop_nb,
    event_push_nb,
    heap_compact_nb,
    heap_pop_nb,
    heap_push_nb,
    order_by_key_nb,
)
from sim.state import Events


@given(st.lists(st.tuples(st.sampled_from([-2.0, 0.0, 1.5, 3.0, 7.25]), st.integers(0, 30)), min_size=1, max_size=60))
def test_trigger_heap_pops_by_key_then_id(entries):
    n_cap = len(entries)
    hk, hi, hv = np.zeros(n_cap), np.zeros(n_cap, np.int64), np.zeros(n_cap, np.int64)
    n = 0
    for key, idx in entries:
        n = heap_push_nb(hk, hi, hv, n, key, idx, 0)
    popped = []
    while n:
        popped.append((hk[0], hi[0]))
        n = heap_pop_nb(hk, hi, hv, n)
    assert popped == sorted(entries, key=lambda e: (-e[0], e[1]))


@given(
    st.lists(st.tuples(st.floats(-100, 100), st.integers(0, 19), st.integers(0, 3)), min_size=1, max_size=80),
    st.lists(st.integers(0, 3), min_size=20, max_size=20),
    st.lists(st.booleans(), min_size=20, max_size=20),
)
def test_compaction_keeps_exactly_the_valid_entries_in_heap_order(entries, version, is_open):
    version = np.array(version, np.int64)
    status = np.where(is_open, E.OPEN, E.LIQUIDATED).astype(np.int8)
    cap = len(entries)
    hk, hi, hv = np.zeros(cap), np.zeros(cap, np.int64), np.zeros(cap, np.int64)
    n = 0
    for key, idx, ver in entries:
        n = heap_push_nb(hk, hi, hv, n, key, idx, ver)
    n = heap_compact_nb(hk, hi, hv, n, version, status, E.OPEN)
    valid = [(k, i) for k, i, v in entries if v == version[i] and status[i] == E.OPEN]
    popped = []
    while n:
        popped.append((hk[0], hi[0]))
        n = heap_pop_nb(hk, hi, hv, n)
    assert popped == sorted(valid, key=lambda e: (-e[0], e[1]))


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 3)), min_size=1, max_size=8))
def test_event_queue_orders_by_time_priority_seq(events):
    ev = Events(*(np.zeros(8, np.int64) for _ in range(4)))
    n = 0
    for seq, (t, prio) in enumerate(events):
        n = event_push_nb(ev, n, t, prio, seq, prio)
    out = []
    while n:
        out.append((ev.t[0], ev.prio[0], ev.seq[0]))
        n = event_pop_nb(ev, n)
    assert out == sorted((t, p, s) for s, (t, p) in enumerate(events))


@given(st.lists(st.sampled_from([-3.5, -0.0, 0.0, 1e-300, 2.0, 2.0, 1e9, -1e9]), min_size=1, max_size=50))
def test_radix_order_is_key_descending_then_id(keys):
    keys = np.array(keys)
    ids = np.arange(keys.size, dtype=np.int64)
    out = order_by_key_nb(ids, keys)
    expected = sorted(ids.tolist(), key=lambda i: (-keys[i], i))  # -0.0 == 0.0: they tie
    assert out.tolist() == expected
