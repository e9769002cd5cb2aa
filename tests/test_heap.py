"""The array heaps against Python's sorted lists: order, stale-entry compaction, the event key and the
radix-sorted start-of-run trigger index."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import enums as E
from sim.kernels.heap import (
    argsort_nb,
    event_pop_nb,
    event_push_nb,
    heap_compact_nb,
    heap_pop_nb,
    heap_push_nb,
    order_by_key_into_nb,
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


@given(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0, np.nan, 1e9]), min_size=0, max_size=140), st.integers(0, 20))
def test_argsort_in_buffers_is_numpys_stable_argsort(keys, extra):
    """The event loop's sort writes its order into the first buffer whatever the number of merge passes (runs of
    16: 0 to 4 passes here), with buffers longer than the keys."""
    keys = np.array(keys, dtype=np.float64)
    idx = np.full(keys.size + extra, -7, np.int64)
    dst = np.full(keys.size + extra, -7, np.int64)
    argsort_nb(keys, idx, dst)
    assert idx[: keys.size].tolist() == np.argsort(keys, kind="stable").tolist()
    assert (idx[keys.size :] == -7).all()


@given(st.lists(st.sampled_from([-3.5, 0.0, 2.0, 2.5, 1e9, -1e9, 7e-5]), min_size=1, max_size=80), st.integers(0, 9))
def test_radix_order_in_buffers_equals_the_allocating_one(keys, extra):
    """What the funding rebuild calls inside the event loop (buffers from the trigger index's scratch, longer than
    the ids) gives the start-of-run order, for any number of radix passes."""
    keys = np.array(keys)
    ids = np.arange(0, 2 * keys.size, 2, dtype=np.int64)  # every other row
    keys2 = np.repeat(keys, 2)
    m = ids.size + extra
    out = np.full(ids.size, -1, np.int64)
    order_by_key_into_nb(ids, keys2, out, np.empty(m, np.int64), np.empty(m), np.empty(m), np.zeros(257, np.int64))
    assert out.tolist() == order_by_key_nb(ids, keys2).tolist()
