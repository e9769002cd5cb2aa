"""The band index of cross rows (sim.kernels.bands) on its own: random bands, stale entries and marks, against the
plain rule it stands for (a row is handed over when its mark crosses its key)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim import enums as E
from sim import load_scenario
from sim.allocate import allocate
from sim.engine import prepare
from sim.kernels.bands import band_bucket_nb, band_drain_nb


@pytest.fixture(scope="module")
def world():
    """A small market's state (positions, trigger, work) to hang a band index on."""
    inp = prepare(load_scenario(None, overrides={"population.n_positions": 300}))
    pos, _, _, trig, *_, perp = allocate(inp)
    return pos, trig, perp.work


def live_rows(head, ent, pos, h):
    rows = []
    for b in np.flatnonzero(head[h] >= 0):
        e = head[h, b]
        while e >= 0:
            i, ver = int(ent[e, 0]), int(ent[e, 1])
            if pos.version[i] == ver and pos.status[i] == E.OPEN:
                rows.append(i)
            e = ent[e, 2]
    return rows


CLUSTERS = st.lists(st.tuples(st.integers(0, 9), st.floats(0.0, 4.0)), min_size=1, max_size=120)


@settings(max_examples=80, deadline=None)
@given(
    buckets=st.sampled_from([1, 2, 8, 64]),
    clusters=CLUSTERS,
    stale=st.lists(st.booleans(), min_size=120, max_size=120),
    marks=st.lists(st.floats(1.0, 200.0), min_size=1, max_size=6),
)
@example(buckets=64, clusters=[(6 + k % 4, k / 30.0) for k in range(100)], stale=[False] * 120, marks=[50.0])
def test_a_drain_hands_over_exactly_the_rows_the_mark_crossed(world, buckets, clusters, stale, marks):
    """Rows of both sides with keys bunched in ten clusters, inside and outside the buckets' range (clamped), some
    entries stale (re-priced since, or closed): each drain holds every valid row whose key the mark reaches, and only
    those, and keeps the others findable."""
    pos, trig0, work = world
    keys = [40.0 * c - 150.0 + f for c, f in clusters]  # -150 to 214: many rows to a bucket, some chains long
    n = len(keys)
    rows = np.arange(n)
    side = np.asarray(pos.side)
    head = np.full((2, buckets), -1, np.int32)
    ent = np.zeros((2 * n + 2, 3), np.int32)
    trig = trig0._replace(band_head=head, band_ent=ent)
    pos.status[:n] = E.OPEN
    pos.version[:n] = 1
    pos.key[:n] = keys
    work["band_lo"] = (0.0, -200.0)
    work["band_inv"] = (buckets / 200.0, buckets / 200.0)
    work["band_top"] = -1
    e = 0
    for i in rows:  # one valid entry per row, and a stale one before it for some
        h = 0 if side[i] > 0 else 1
        for ver in (0, 1) if stale[i] else (1,):
            b = band_bucket_nb(work["band_lo"][h], work["band_inv"][h], buckets, pos.key[i])
            ent[e] = (i, ver, head[h, b])
            head[h, b] = e
            work["band_top"][h] = max(work["band_top"][h], b)
            e += 1
    closed = rows[::7]
    pos.status[closed] = E.FLAT
    work["band_n"] = e
    alive = np.ones(n, bool)
    alive[closed] = False
    try:
        for mark in marks:
            work["nheld"] = 0
            band_drain_nb(pos, trig, work, mark)
            held = np.sort(trig.held[: work["nheld"]])
            crossed = rows[alive & (pos.key[:n] >= np.where(side[:n] > 0, mark, -mark))]
            assert np.array_equal(held, crossed)
            alive[crossed] = False
            left = np.sort(live_rows(head, ent, pos, 0) + live_rows(head, ent, pos, 1))
            assert np.array_equal(left, rows[alive])
            for h in range(2):  # nothing above the top
                assert not np.any(head[h, work["band_top"][h] + 1 :] >= 0)
    finally:
        pos.status[:n] = E.OPEN
        pos.version[:n] = 0
        work["nheld"] = 0
        work["band_n"] = 0
