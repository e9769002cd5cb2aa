"""Binary heaps over plain arrays.

* The trigger heap holds positions whose liquidation price changed during a run (partial
  liquidation, ADL). It is a max-heap on ``(key, -id)``: the position closest to (or furthest past)
  its trigger comes first, ties broken by the lower id. Entries carry the position's version; an
  entry whose version no longer matches is stale and skipped by the caller.
* The event queue is a min-heap on the total key ``(time, priority, seq)``.
"""

import numpy as np

from sim._jit import jit


@jit
def _before(k_a, i_a, k_b, i_b):
    return k_a > k_b or (k_a == k_b and i_a < i_b)


@jit
def _sift_up(hk, hi, hv, j):
    while j > 0:
        parent = (j - 1) // 2
        if _before(hk[j], hi[j], hk[parent], hi[parent]):
            hk[j], hk[parent] = hk[parent], hk[j]
            hi[j], hi[parent] = hi[parent], hi[j]
            hv[j], hv[parent] = hv[parent], hv[j]
            j = parent
        else:
            break


@jit
def _sift_down(hk, hi, hv, j, n):
    while True:
        left = 2 * j + 1
        if left >= n:
            break
        best = left
        right = left + 1
        if right < n and _before(hk[right], hi[right], hk[left], hi[left]):
            best = right
        if _before(hk[best], hi[best], hk[j], hi[j]):
            hk[j], hk[best] = hk[best], hk[j]
            hi[j], hi[best] = hi[best], hi[j]
            hv[j], hv[best] = hv[best], hv[j]
            j = best
        else:
            break


@jit
def heap_push_nb(hk, hi, hv, n, key, idx, ver):
    """Push one entry; returns the new count. The caller guarantees room."""
    hk[n] = key
    hi[n] = idx
    hv[n] = ver
    _sift_up(hk, hi, hv, n)
    return n + 1


@jit
def heap_pop_nb(hk, hi, hv, n):
    """Remove the top entry; returns the new count."""
    n -= 1
    if n > 0:
        hk[0] = hk[n]
        hi[0] = hi[n]
        hv[0] = hv[n]
        _sift_down(hk, hi, hv, 0, n)
    return n


@jit
def heap_compact_nb(hk, hi, hv, n, version, status, open_code):
    """Drop stale entries (version changed or position no longer open) and re-heapify."""
    m = 0
    for j in range(n):
        idx = hi[j]
        if hv[j] == version[idx] and status[idx] == open_code:
            hk[m] = hk[j]
            hi[m] = hi[j]
            hv[m] = hv[j]
            m += 1
    for j in range(m // 2 - 1, -1, -1):
        _sift_down(hk, hi, hv, j, m)
    return m


@jit
def _ev_before(ev, a, b):
    if ev.t[a] != ev.t[b]:
        return ev.t[a] < ev.t[b]
    if ev.prio[a] != ev.prio[b]:
        return ev.prio[a] < ev.prio[b]
    return ev.seq[a] < ev.seq[b]


@jit
def _ev_swap(ev, a, b):
    ev.t[a], ev.t[b] = ev.t[b], ev.t[a]
    ev.prio[a], ev.prio[b] = ev.prio[b], ev.prio[a]
    ev.seq[a], ev.seq[b] = ev.seq[b], ev.seq[a]
    ev.kind[a], ev.kind[b] = ev.kind[b], ev.kind[a]


@jit
def event_push_nb(ev, n, t, prio, seq, kind):
    """Push an event; returns the new count."""
    ev.t[n] = t
    ev.prio[n] = prio
    ev.seq[n] = seq
    ev.kind[n] = kind
    j = n
    while j > 0:
        parent = (j - 1) // 2
        if _ev_before(ev, j, parent):
            _ev_swap(ev, j, parent)
            j = parent
        else:
            break
    return n + 1


@jit
def event_pop_nb(ev, n):
    """Remove the earliest event (callers read ``ev.t[0]``, ``ev.kind[0]`` first)."""
    n -= 1
    if n > 0:
        _ev_swap(ev, 0, n)
        j = 0
        while True:
            left = 2 * j + 1
            if left >= n:
                break
            best = left
            if left + 1 < n and _ev_before(ev, left + 1, left):
                best = left + 1
            if _ev_before(ev, best, j):
                _ev_swap(ev, best, j)
                j = best
            else:
                break
    return n


@jit(inline="always")
def _holds_all_nb(counts, n):
    """``counts.max() == n`` written out (NumPy's ``max`` compiles several helper functions)."""
    for d in range(counts.size):
        if counts[d] == n:
            return True
    return False


@jit(entry=True, nrt=True)
def order_by_key_nb(ids, keys):
    """``ids`` ordered by ``keys`` descending, ties by id ascending: the start-of-run trigger index (a new array;
    :func:`order_by_key_into_nb` does the work in buffers it is given)."""
    n = ids.size
    out = np.empty(n, np.int64)
    order_by_key_into_nb(ids, keys, out, np.empty(n, np.int64), np.empty(n), np.empty(n), np.zeros(257, np.int64))
    return out


@jit
def order_by_key_into_nb(ids, keys, out, tmp_ids, u_buf, tmp_buf, counts):
    """``ids`` ordered by ``keys`` descending, ties by id ascending, written to ``out``.

    ``ids`` must be ascending. A least-significant-digit radix sort (eight 8-bit passes; a pass whose digit is
    the same for every key, as the exponent bytes of prices often are, is skipped) on the keys mapped to
    unsigned integers in the same order; radix sort is stable, so equal keys keep their id order. O(n), several
    times faster than a comparison sort on a million positions. Buffers, at least ``ids.size`` long: ``out`` and
    ``tmp_ids`` int64, ``u_buf`` and ``tmp_buf`` float64 (used as unsigned integers), ``counts`` int64 (257,);
    nothing is allocated, so the event loop can rebuild its index without Numba's reference counting.
    """
    n = ids.size
    # -key mapped to uint64 so that unsigned order equals float order (ascending -key = descending key)
    neg = u_buf[:n]
    for k in range(n):
        neg[k] = -keys[ids[k]] + 0.0  # + 0.0 turns -0.0 into 0.0: equal keys must tie
    u = neg.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    for k in range(n):
        u[k] = ~u[k] if u[k] & sign else u[k] | sign
    res = out[:n]
    for k in range(n):
        res[k] = ids[k]
    spare = tmp_ids[:n]
    tmp_u = tmp_buf[:n].view(np.uint64)
    swapped = False
    for shift in range(0, 64, 8):
        counts[:] = 0
        sh = np.uint64(shift)
        for k in range(n):
            counts[np.int64((u[k] >> sh) & np.uint64(0xFF)) + 1] += 1
        if _holds_all_nb(counts, n):
            continue  # one digit for all: this pass would not move anything
        for d in range(256):
            counts[d + 1] += counts[d]
        for k in range(n):
            d = np.int64((u[k] >> sh) & np.uint64(0xFF))
            j = counts[d]
            counts[d] = j + 1
            tmp_u[j] = u[k]
            spare[j] = res[k]
        u, tmp_u = tmp_u, u
        res, spare = spare, res
        swapped = not swapped
    if swapped:  # an odd number of passes: the result is in the spare buffer
        for k in range(n):
            out[k] = res[k]


@jit(entry=True, nrt=True)
def split_sides_nb(side, status, kind, size, open_code, trader_code):
    """One pass over the rows: the open rows of each side (ascending ids: the trigger index's input and the ADL
    candidates) and the sizes of each side's traders in id order (their open interest is the sum)."""
    n = side.size
    n_long = n_long_open = n_short_open = 0
    for i in range(n):
        if side[i] > 0:
            n_long += 1
            n_long_open += status[i] == open_code
        else:
            n_short_open += status[i] == open_code
    ids = (np.empty(n_long_open, np.int64), np.empty(n_short_open, np.int64))  # longs, shorts
    sizes = (np.empty(n_long, np.float64), np.empty(n - n_long, np.float64))
    filled = np.zeros(4, np.int64)  # ids of longs, of shorts; sizes of longs, of shorts
    for i in range(n):
        h = 0 if side[i] > 0 else 1
        if status[i] == open_code:
            ids[h][filled[h]] = i
            filled[h] += 1
        if kind[i] == trader_code:
            sizes[h][filled[2 + h]] = size[i]
            filled[2 + h] += 1
    return ids[0], ids[1], sizes[0][: filled[2]], sizes[1][: filled[3]]


@jit(inline="always")
def _lt_nan_last(a, b):
    """``a < b`` with NaN after every number, NumPy's sort order."""
    return a < b or (b != b and a == a)


@jit
def argsort_nb(keys, idx, dst):
    """``np.argsort(keys, kind="stable")`` for a float64 array: the indices that order ``keys`` ascending, NaN
    last, equal keys in index order. A stable order is unique, so this is exactly NumPy's answer; written out
    because Numba's sorts compile a dozen helper functions each. Insertion sort of runs of 16, then bottom-up
    merges. ``idx`` and ``dst`` are int64 buffers at least ``keys.size`` long; the order ends in ``idx[:n]``
    (``dst`` is scratch): nothing is allocated, so the event loop can sort without Numba's reference counting."""
    n = keys.size
    out = idx
    idx = idx[:n]
    dst = dst[:n]
    for k in range(n):
        idx[k] = k
    run = 16
    for lo in range(0, n, run):
        hi = min(lo + run, n)
        for k in range(lo + 1, hi):
            v = idx[k]
            x = keys[v]
            j = k
            while j > lo and _lt_nan_last(x, keys[idx[j - 1]]):
                idx[j] = idx[j - 1]
                j -= 1
            idx[j] = v
    src = idx
    in_dst = False
    width = run
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a = lo
            b = mid
            k = lo
            while a < mid and b < hi:
                if _lt_nan_last(keys[src[b]], keys[src[a]]):
                    dst[k] = src[b]
                    b += 1
                else:
                    dst[k] = src[a]
                    a += 1
                k += 1
            while a < mid:
                dst[k] = src[a]
                a += 1
                k += 1
            while b < hi:
                dst[k] = src[b]
                b += 1
                k += 1
        src, dst = dst, src
        in_dst = not in_dst
        width *= 2
    if in_dst:  # an odd number of merge passes: the order is in the scratch buffer
        for k in range(n):
            out[k] = src[k]
