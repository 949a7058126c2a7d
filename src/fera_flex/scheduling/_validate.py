"""Argument checks for the scheduling layer: shapes, finiteness, ranges, each named."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fera_flex.errors import InputError

__all__ = ["as_array", "per_row", "per_slot_row", "per_slot_vector"]


def as_array(where: str, name: str, value: Any, dtype: type = np.float64) -> NDArray:
    """``value`` as a contiguous array of ``dtype``, rejecting non-numeric input."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if dtype is np.int64 and array.dtype.kind == "f":
        fractional = ~np.isfinite(array) | (array != np.round(array))
        if fractional.any():
            index = tuple(int(i) for i in np.argwhere(fractional)[0]) if array.ndim else ()
            shown = f"{name}{list(index)}" if index else name
            raise InputError(where, shown, array[index], "must be an integer")
        return np.asarray(array, dtype=dtype, order="C")
    kinds = "iu" if dtype is np.int64 else "biuf" if dtype is np.bool_ else "iuf"
    if array.dtype.kind not in kinds:
        wanted = "integers" if dtype is np.int64 else "numeric"
        raise InputError(where, name, value, f"must be {wanted} (got dtype {array.dtype})")
    return np.asarray(array, dtype=dtype, order="C")


def _first_bad(mask: NDArray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _check_values(
    where: str, name: str, array: NDArray, low: float | None, high: float | None, allow_inf: bool
) -> None:
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if bad.any():
        index = _first_bad(bad)
        raise InputError(where, f"{name}{list(index)}", array[index], "must be finite")
    if low is not None and (array < low).any():
        index = _first_bad(array < low)
        raise InputError(where, f"{name}{list(index)}", array[index], f"must be >= {low}")
    if high is not None and (array > high).any():
        index = _first_bad(array > high)
        raise InputError(where, f"{name}{list(index)}", array[index], f"must be <= {high}")


def per_row(
    where: str,
    name: str,
    value: Any,
    n_rows: int,
    *,
    low: float | None = None,
    high: float | None = None,
    dtype: type = np.float64,
    allow_inf: bool = False,
) -> NDArray:
    """A vector of length ``n_rows`` (a scalar is broadcast)."""
    array = as_array(where, name, value, dtype)
    if array.ndim == 0:
        array = np.full(n_rows, array, dtype=dtype)
    if array.shape != (n_rows,):
        raise InputError(where, name, f"shape {array.shape}", f"must have shape ({n_rows},)")
    if dtype is np.float64:
        _check_values(where, name, array, low, high, allow_inf)
    return array


def per_slot_row(
    where: str,
    name: str,
    value: Any,
    n_rows: int,
    n_slots: int,
    *,
    low: float | None = None,
    allow_inf: bool = False,
) -> NDArray[np.float64]:
    """A ``(n_rows, n_slots)`` array from a scalar, an ``(n_rows,)`` vector or the full array."""
    array = as_array(where, name, value)
    if array.ndim == 0:
        array = np.full((n_rows, n_slots), float(array))
    elif array.shape == (n_rows,):
        array = np.repeat(array[:, None], n_slots, axis=1)
    if array.shape != (n_rows, n_slots):
        raise InputError(
            where,
            name,
            f"shape {array.shape}",
            f"must have shape ({n_rows},) or ({n_rows}, {n_slots})",
        )
    _check_values(where, name, array, low, None, allow_inf)
    return np.ascontiguousarray(array)


def per_slot_vector(
    where: str, name: str, value: Any, n_rows: int, n_slots: int, *, low: float | None = None
) -> NDArray[np.float64]:
    """A ``(n_slots,)`` or ``(n_rows, n_slots)`` array (a per-slot signal, global or per row)."""
    array = as_array(where, name, value)
    if array.ndim == 0:
        array = np.full(n_slots, float(array))
    if array.shape not in ((n_slots,), (n_rows, n_slots)):
        raise InputError(
            where,
            name,
            f"shape {array.shape}",
            f"must have shape ({n_slots},) or ({n_rows}, {n_slots})",
        )
    _check_values(where, name, array, low, None, allow_inf=False)
    return np.ascontiguousarray(array)
