"""The named random streams of a run: one registry, so no two draws share a stream by accident.

Every random draw of a run comes from the scenario's seed through one of these streams. A stream is a child of
``SeedSequence(seed)`` at a fixed position, so a draw stays the same whatever other streams a run uses, and
adding a stream (at the end of :data:`STREAMS`) changes no existing draw.
"""

import numpy as np

#: Stream names in their fixed child positions; append new streams, never reorder.
STREAMS = (
    "population",  # the synthetic positions: sides, leverage, sizes, entries, margin modes
    "noise",  # background orders of the noise traders
    "shock_path",  # a GBM shock's path (drawn by the scenario check and by the run alike)
    "behaviour",  # stops and top-ups
    "arrivals",  # positions opened during the run: candidate times, acceptance draws, sides, leverage, sizes
    "adl",  # the seed of the kernels' counter-based draws of ADL start offsets (random ADL ranking, dYdX)
    "portfolio",  # which traders share a cross account across instruments (portfolio.seed, else the scenario's)
    "collateral",  # which cross accounts hold each collateral asset (one child per asset of sim.config.collateral)
)


def seed_sequence(seed: int, name: str) -> np.random.SeedSequence:
    """The seed sequence of stream ``name`` of the run seeded with ``seed``."""
    return np.random.SeedSequence(seed).spawn(len(STREAMS))[STREAMS.index(name)]


def generator(seed: int, name: str) -> np.random.Generator:
    """A NumPy generator on stream ``name`` of the run seeded with ``seed``."""
    return np.random.default_rng(seed_sequence(seed, name))
