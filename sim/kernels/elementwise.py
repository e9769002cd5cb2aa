"""Elementwise ``exp``, ``log`` and ``x**y`` that give the same bits on every x86-64 CPU.

NumPy chooses the machine code of ``np.exp``, ``np.log`` and ``np.power`` by the CPU it runs on. On a CPU with
AVX-512 it takes vectorised versions whose results differ from the C library's in the last bit for some arguments;
on other CPUs it calls the C library. The set-up draws of a run (price histories and paths, background orders)
went through them, so one scenario and seed gave runs that differed in the last bits, and after a cascade in more
than the last bits, on two machines.

These functions call the C library's ``exp``, ``log`` and ``pow`` one element at a time, in one kernel: Numba
compiles ``math.exp`` and its kin to those calls and, with fastmath off, vectorises none of them. The results are
those of the C library on any CPU, the ones NumPy gives where it does not vectorise. Each takes a 1-D float64
array and an optional ``out`` of its shape (the input itself for in place); the kernel allocates nothing.
"""

import math

import numpy as np

from sim._jit import jit

EXP, LOG, POW = 0, 1, 2


@jit(entry=True)
def elementwise_nb(op, x, y, out):
    """``out[i] = exp(x[i])`` (``op`` = EXP), ``log(x[i])`` (LOG: ``-inf`` at 0, NaN below) or ``x[i] ** y``
    (POW: the C library's ``pow``, except for the exponents NumPy computes otherwise, −1 as ``1/x``, 0.5 as
    ``sqrt(x)`` and 2 as ``x·x``, whose results ``pow`` need not round alike); returns ``out``."""
    for i in range(x.size):
        v = x[i]
        if op == EXP:
            out[i] = math.exp(v)
        elif op == LOG:
            out[i] = math.log(v) if v > 0.0 else (-math.inf if v == 0.0 else math.nan)
        elif y == -1.0:  # NumPy's shortcuts for these exponents, kept so that the bits are the ones it gave
            out[i] = 1.0 / v
        elif y == 0.5:
            out[i] = math.sqrt(v)
        elif y == 2.0:
            out[i] = v * v
        else:
            out[i] = math.inf if v == 0.0 and y < 0.0 else v**y
    return out


def _call(op, x, y, out):
    x = np.ascontiguousarray(x, dtype=np.float64)
    return elementwise_nb(op, x, float(y), np.empty_like(x) if out is None else out)


def exp(x, out=None):
    """``exp`` of each element, the C library's."""
    return _call(EXP, x, 0.0, out)


def log(x, out=None):
    """``log`` of each element, the C library's."""
    return _call(LOG, x, 0.0, out)


def power(x, y, out=None):
    """Each element to the power ``y`` (one float), the C library's ``pow``."""
    return _call(POW, x, y, out)
