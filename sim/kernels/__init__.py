"""Numba kernels (``*_nb`` functions only). They import nothing but NumPy, enums, sim.state and
the jit helper; the Python face in :mod:`sim.engine` validates, allocates and wraps."""
