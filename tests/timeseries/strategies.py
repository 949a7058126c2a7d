"""Hypothesis strategies for profiles, batches and the flat arrays the kernels take."""

import numpy as np
from hypothesis import strategies as st

from fera_flex.timeseries import Profile, ProfileBatch
from fera_flex.timeseries._kernels import OPEN_END

# Values from a small set make equal neighbours, zeros and exact cancellations
# common; arbitrary floats cover rounding.
VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, 7.4, 11.0, -3.7]),
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
)
NARROW_S = 200  # times within [0, NARROW_S): many shared breakpoints
WIDE_S = (
    2**36
)  # times far apart (~2,000 years): the kernels' sort path instead of direct addressing


def readonly(array, dtype):
    """A read-only C-contiguous copy, like every array a Profile hands to a kernel."""
    array = np.array(array, dtype=dtype, copy=True, order="C")
    array.flags.writeable = False
    return array


@st.composite
def breakpoints(draw, min_size=1, max_size=6, span_s=NARROW_S):
    """Sorted distinct int64 breakpoints [s] within ``[0, span_s)``."""
    t = draw(
        st.lists(st.integers(0, span_s - 1), min_size=min_size, max_size=max_size, unique=True).map(
            sorted
        )
    )
    return np.array(t, dtype=np.int64)


@st.composite
def raw_profiles(draw, min_size=1, max_size=6, span_s=NARROW_S, open_ends=True):
    """``(t, v, end)`` kernel arrays of one profile; ``end`` may be OPEN_END."""
    t = draw(breakpoints(min_size=min_size, max_size=max_size, span_s=span_s))
    v = np.array(draw(st.lists(VALUES, min_size=t.size, max_size=t.size)), dtype=np.float64)
    last = int(t[-1]) if t.size else 0
    if open_ends and draw(st.booleans()):
        end = OPEN_END
    else:
        end = last + draw(st.integers(1, max(span_s // 4, 2)))
    return readonly(t, np.int64), readonly(v, np.float64), end


def profiles(span_s=NARROW_S, max_size=6, open_ends=True):
    """Valid :class:`Profile` objects."""
    return raw_profiles(min_size=1, max_size=max_size, span_s=span_s, open_ends=open_ends).map(
        lambda p: Profile(p[0], p[1], None if p[2] == OPEN_END else p[2])
    )


@st.composite
def raw_batches(draw, min_profiles=0, max_profiles=5, allow_empty=True):
    """``(t, v, offsets, ends)`` kernel arrays of a batch, narrow or wide in time."""
    span_s = draw(st.sampled_from([NARROW_S, WIDE_S]))
    min_size = 0 if allow_empty else 1
    parts = draw(
        st.lists(
            raw_profiles(min_size=min_size, span_s=span_s),
            min_size=min_profiles,
            max_size=max_profiles,
        )
    )
    t = np.concatenate([np.zeros(0, np.int64)] + [p[0] for p in parts])
    v = np.concatenate([np.zeros(0)] + [p[1] for p in parts])
    offsets = np.cumsum([0] + [p[0].size for p in parts])
    ends = np.array([p[2] for p in parts], dtype=np.int64)
    return (
        readonly(t, np.int64),
        readonly(v, np.float64),
        readonly(offsets, np.int64),
        readonly(ends, np.int64),
    )


def batches(min_profiles=1, max_profiles=5):
    """Valid :class:`ProfileBatch` objects (every profile non-empty)."""
    return raw_batches(min_profiles, max_profiles, allow_empty=False).map(
        lambda b: ProfileBatch(b[0], b[1], b[2], [None if e == OPEN_END else int(e) for e in b[3]])
    )


@st.composite
def bounds(draw, span_s=NARROW_S):
    """Kernel bounds ``lo < hi`` [s]; ``hi`` may be OPEN_END."""
    lo = draw(st.integers(-10, span_s))
    hi = draw(st.one_of(st.just(OPEN_END), st.integers(lo + 1, lo + span_s)))
    return lo, hi
