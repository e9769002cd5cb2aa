"""Numba kernels (``*_nb`` functions only). They import nothing but NumPy, enums, state slots and
the jit helper; the Python face in :mod:`sim.engine` validates, allocates and wraps."""
