"""The band index of cross rows (docs/engine.md §13.2): bucketed keys, so that putting a re-priced row back costs
O(1) and finding the crossed ones costs what they are.

The rows of cross accounts are re-priced far more often than they are liquidated: every time an account's slack is
shared out again, each of its rows gets a new band (its isolated liquidation price from its share of the cash) and
must go back in its market's index. In the re-index heap each such row cost two walks of up to 20 levels of a heap
of a million entries, one to put it in and one to take it out when its band was crossed. Here the keys are
bucketed instead (a bucket queue): each side's keys are cut into ``B`` buckets of equal width, each bucket a linked
list of entries ``(row, version, next)``, so a row goes in by linking one entry, and the rows a mark crosses are the
whole buckets above the mark's bucket plus the crossed rows of that one.

Bucketing is monotone (a higher key never falls in a lower bucket, keys outside the range are clamped to the first
or last bucket), so every bucket below the mark's holds only rows the mark has not crossed: a pass reads only the
buckets from the highest that may hold an entry down to the mark's. An entry whose row has been re-priced since
(another version) or closed is dropped when its bucket is read; the entries are rewritten compactly when they run
out (:func:`band_compact_nb`). Which rows a pass takes is exactly which rows the mark crossed, in whatever order:
the account layer sorts what it is handed by account.

The account layer (``sim.kernels.cross``) writes the entries, on views of its buffers; the event loop reads them
at the end of an oracle tick's liquidation work (:func:`band_drain_nb`), where it would have popped the same rows
from its heaps, and hands the crossed ones over (``Trigger.held``). A single-market run has no entry and never
reads a bucket.
"""

from sim import enums as E
from sim._jit import jit
from sim.kernels.liquidation import hold_nb


@jit(inline="always")
def band_bucket_nb(lo, inv, nb, key):
    """The bucket of ``key`` for a side whose buckets start at ``lo``, ``inv`` buckets per USD, ``nb`` of them:
    monotone in the key, clamped to ``0 .. nb − 1``."""
    b = (key - lo) * inv
    if not b > 0.0:  # below the range (or NaN: a row that is not open is never pushed)
        return 0
    if b >= nb - 1:
        return nb - 1
    return int(b)


@jit(inline="always")
def band_link_nb(head, ent, e, h, b):
    """Link entry ``e`` at the front of side ``h``'s bucket ``b``."""
    ent[e, 2] = head[h, b]
    head[h, b] = e


@jit(inline="always")
def band_top_nb(head, h, b):
    """The highest bucket of side ``h`` at or below ``b`` that holds an entry (-1: none)."""
    while b >= 0 and head[h, b] < 0:
        b -= 1
    return b


@jit(inline="always")
def _band_open_nb(head, h, b, bt, e):
    """Chain cursor ``e`` and the next bucket ``b`` to open: a cursor that is done (-1) takes bucket ``b``'s chain
    (the bucket emptied) while buckets down to ``bt`` remain."""
    if e < 0 and b >= bt:
        e = head[h, b]
        head[h, b] = -1
        b -= 1
    return e, b


@jit(inline="always")
def _band_step_nb(pos, trig, work, head, ent, e, h, x, lo, inv, nb):
    """Entry ``e`` of a chain being read at threshold ``x`` (-1: none, returned as is): its row held if the mark
    crossed its key, put back in its key's bucket if not, dropped if stale (another version, or closed). Returns the
    chain's next entry."""
    if e < 0:
        return e
    nxt = ent[e, 2]
    i = ent[e, 0]
    if pos.version[i] == ent[e, 1] and pos.status[i] == E.OPEN:
        key = pos.key[i]
        if key >= x:
            hold_nb(trig, work, i)
        else:  # not crossed: back in its bucket (the mark's or one below)
            band_link_nb(head, ent, e, h, band_bucket_nb(lo, inv, nb, key))
    return nxt


@jit
def band_drain_nb(pos, trig, work, mark):
    """Hand every open cross row whose band ``mark`` crossed over to the account layer (``Trigger.held``), from the
    band index; drops the stale entries it reads and leaves the rows not crossed in their buckets.

    A chain's entries sit anywhere in the buffer, so reading one waits on memory at every link: four chains (four
    buckets) are read side by side, one link each in turn, so that four such waits overlap."""
    if work.band_n == 0:
        return
    head = trig.band_head
    ent = trig.band_ent
    nb = head.shape[1]
    for h in range(2):
        top = work.band_top[h]
        if top < 0:
            continue
        x = mark if h == 0 else -mark  # a long is crossed when its key (LP) ≥ mark, a short when −LP ≥ −mark
        lo = work.band_lo[h]
        inv = work.band_inv[h]
        bt = band_bucket_nb(lo, inv, nb, x)
        if top < bt:
            continue  # every key is in a bucket below the mark's: below the mark
        b = top  # the next bucket to open, from the top down to the mark's
        e0 = e1 = e2 = e3 = -1  # the four chains' cursors (-1: done)
        while True:
            e0, b = _band_open_nb(head, h, b, bt, e0)
            e1, b = _band_open_nb(head, h, b, bt, e1)
            e2, b = _band_open_nb(head, h, b, bt, e2)
            e3, b = _band_open_nb(head, h, b, bt, e3)
            if e0 < 0 and e1 < 0 and e2 < 0 and e3 < 0:
                if b < bt:
                    break
                continue  # four empty buckets opened
            e0 = _band_step_nb(pos, trig, work, head, ent, e0, h, x, lo, inv, nb)
            e1 = _band_step_nb(pos, trig, work, head, ent, e1, h, x, lo, inv, nb)
            e2 = _band_step_nb(pos, trig, work, head, ent, e2, h, x, lo, inv, nb)
            e3 = _band_step_nb(pos, trig, work, head, ent, e3, h, x, lo, inv, nb)
        work.band_top[h] = band_top_nb(head, h, bt)


@jit(inline="always")
def band_compact_nb(head, ent, n, top, lo, inv, side, key, version, status, cross):
    """Rewrite one market's band index with its live entries only (of the ``n`` written: its row's version, open,
    still a cross row), at the front in the order they were written, each linked in its bucket again. Returns how
    many are left; sets ``top``, each side's highest bucket that holds one."""
    nb = head.shape[1]
    for h in range(2):
        for b in range(nb):
            head[h, b] = -1
        top[h] = -1
    m = 0
    for e in range(n):
        i = ent[e, 0]
        if ent[e, 1] == version[i] and status[i] == E.OPEN and cross[i] != 0:
            ent[m, 0] = i
            ent[m, 1] = ent[e, 1]
            h = 0 if side[i] > 0 else 1
            b = band_bucket_nb(lo[h], inv[h], nb, key[i])
            band_link_nb(head, ent, m, h, b)
            if b > top[h]:
                top[h] = b
            m += 1
    return m
