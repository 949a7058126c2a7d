"""The one place that sets numba's compilation options for every fera_flex kernel.

Kernels compile lazily, on their first call: ``jit`` is given no signatures, so
importing a module full of kernels compiles nothing.

- ``nogil=True``: kernels release the GIL, so callers may run them from threads.
- ``cache=False``: numba's on-disk cache stays off; no test proves it safe when
  several processes compile the same kernel at once.
- ``fastmath=False``: compensated (two-sum) arithmetic in the kernels relies on
  strict IEEE 754 rounding; fast-math would let the compiler cancel it away.
- ``error_model="numpy"``: division by zero gives inf/NaN like numpy instead of a
  Python exception (inputs are validated before any kernel runs).
- ``boundscheck=False``: kernels index only within the arrays they are given.

Examples
--------
>>> from fera_flex._jit import jit
>>> @jit
... def double(x):
...     return 2 * x
>>> double.signatures
[]
>>> double(21)
42
"""

from __future__ import annotations

import functools

import numba

__all__ = ["jit"]

jit = functools.partial(
    numba.njit,
    nogil=True,
    cache=False,
    fastmath=False,
    error_model="numpy",
    boundscheck=False,
)
