"""Bad input gives an InputError naming the function, the argument and the value."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from fera_flex.errors import InputError
from fera_flex.timeseries import Profile, ProfileBatch, TimeGrid, maximum, minimum, sum_profiles

UTC = timezone.utc
T0 = datetime(2024, 3, 1, tzinfo=UTC)
P = Profile([0, 10], [1.0, 2.0], end_s=20)
GRID = TimeGrid(datetime(1970, 1, 1, tzinfo=UTC), 5, 4)

CASES = {
    "unsorted": (lambda: Profile([0, 20, 10], [1, 2, 3]), "Profile", "t_s[2]", 10),
    "duplicate": (lambda: Profile([0, 10, 10], [1, 2, 3]), "Profile", "t_s[2]", 10),
    "nan": (lambda: Profile([0, 10], [1.0, np.nan]), "Profile", "values[1]", None),
    "inf": (lambda: Profile([0, 10], [np.inf, 1.0]), "Profile", "values[0]", np.inf),
    "lengths": (lambda: Profile([0, 10], [1.0]), "Profile", "values", [1.0]),
    "empty": (lambda: Profile([], []), "Profile", "t_s", []),
    "float times": (lambda: Profile([0.5, 1.0], [1, 2]), "Profile", "t_s", [0.5, 1.0]),
    "2-d times": (lambda: Profile([[0, 1]], [1, 2]), "Profile", "t_s", [[0, 1]]),
    "text values": (lambda: Profile([0], ["x"]), "Profile", "values", ["x"]),
    "end before": (lambda: Profile([0, 10], [1, 2], end_s=5), "Profile", "end_s", 5),
    "end at last": (lambda: Profile([0, 10], [1, 2], end_s=10), "Profile", "end_s", 10),
    "float end": (lambda: Profile([0], [1], end_s=5.0), "Profile", "end_s", 5.0),
    "naive pair": (
        lambda: Profile.from_pairs([(datetime(2024, 1, 1), 1.0)]),
        "Profile.from_pairs",
        "pairs[0][0]",
        datetime(2024, 1, 1),
    ),
    "not a pair": (lambda: Profile.from_pairs([(T0,)]), "Profile.from_pairs", "pairs[0]", (T0,)),
    "naive end": (
        lambda: Profile.from_pairs([(T0, 1.0)], end=datetime(2024, 3, 2)),
        "Profile.from_pairs",
        "end",
        datetime(2024, 3, 2),
    ),
    "constant before start": (
        lambda: Profile.constant(1.0, T0, T0 - timedelta(hours=1)),
        "Profile.constant",
        "end",
        T0 - timedelta(hours=1),
    ),
    "constant nan": (
        lambda: Profile.constant(np.nan, 0, 10),
        "Profile.constant",
        "values[0]",
        None,
    ),
    "grid length": (lambda: Profile.from_grid(GRID, [1.0]), "Profile.from_grid", "values", [1.0]),
    "grid type": (lambda: Profile.from_grid("grid", [1.0]), "Profile.from_grid", "grid", "grid"),
    "nan scalar": (lambda: P + np.nan, "Profile.add", "other", None),
    "add text": (lambda: P.add("1"), "Profile.add", "other", "1"),
    "nan fill": (lambda: P.add(P, fill=np.nan), "Profile.add", "fill", None),
    "disjoint": (lambda: P - P.shift(100), "Profile.sub", "profiles", None),
    "value_at float": (lambda: P.value_at(1.5), "Profile.value_at", "times", 1.5),
    "value_at naive": (
        lambda: P.value_at(datetime(2024, 1, 1)),
        "Profile.value_at",
        "times",
        datetime(2024, 1, 1),
    ),
    "value_at floats": (lambda: P.value_at([1.5]), "Profile.value_at", "times", [1.5]),
    "shift float": (lambda: P.shift(1.5), "Profile.shift", "seconds", 1.5),
    "slice reversed": (lambda: P.slice(15, 5), "Profile.slice", "start/end", (15, 5)),
    "energy open": (
        lambda: Profile.constant(1.0, 0).energy_kwh(),
        "Profile.energy_kwh",
        "end",
        None,
    ),
    "energy reversed": (lambda: P.energy_kwh(15, 5), "Profile.energy_kwh", "end", 5),
    "resample far": (
        lambda: P.resample(TimeGrid(T0, 900, 4)),
        "Profile.resample",
        "grid",
        TimeGrid(T0, 900, 4),
    ),
    "resample how": (lambda: P.resample(GRID, "median"), "Profile.resample", "how", "median"),
    "resample grid": (lambda: P.resample(5), "Profile.resample", "grid", 5),
    "clip crossed": (lambda: P.clip(3.0, 2.0), "Profile.clip", "lo", 3.0),
    "clip nan": (lambda: P.clip(hi=np.nan), "Profile.clip", "hi", None),
    "compress tol": (lambda: P.compress(-1.0), "Profile.compress", "tol", -1.0),
    "equals type": (lambda: P.equals(1.0), "Profile.equals", "other", 1.0),
    "equals tol": (lambda: P.equals(P, tol=-1.0), "Profile.equals", "tol", -1.0),
    "current": (
        lambda: Profile.from_current_a(1.0, 230.0),
        "Profile.from_current_a",
        "current",
        1.0,
    ),
    "voltage": (lambda: P.to_current_a(-230.0), "units.current_a_from_kw", "voltage_v", -230.0),
    "sum none": (lambda: sum_profiles([]), "sum_profiles", "profiles", []),
    "sum one": (lambda: sum_profiles(P), "sum_profiles", "profiles", P),
    "sum text": (lambda: sum_profiles(5), "sum_profiles", "profiles", 5),
    "sum items": (lambda: sum_profiles([P, 1.0]), "ProfileBatch.from_profiles", "profiles[1]", 1.0),
    "minimum none": (lambda: minimum(), "minimum", "profiles", []),
    "maximum disjoint": (lambda: maximum(P, P.shift(50)), "ProfileBatch.max", "profiles", None),
    "batch offsets": (
        lambda: ProfileBatch([0, 1], [1.0, 2.0], [0, 1]),
        "ProfileBatch",
        "offsets",
        None,
    ),
    "batch empty profile": (
        lambda: ProfileBatch([0, 1], [1.0, 2.0], [0, 0, 2]),
        "ProfileBatch",
        "offsets",
        None,
    ),
    "batch offsets 2-d": (
        lambda: ProfileBatch([0], [1.0], [[0, 1]]),
        "ProfileBatch",
        "offsets",
        None,
    ),
    "batch unsorted": (
        lambda: ProfileBatch([0, 5, 9, 3, 2], np.ones(5), [0, 2, 5]),
        "ProfileBatch",
        "t_s[3]",
        3,
    ),
    "batch nan": (
        lambda: ProfileBatch([0, 5], [1.0, np.nan], [0, 2]),
        "ProfileBatch",
        "values[1]",
        None,
    ),
    "batch end count": (
        lambda: ProfileBatch([0, 5], [1.0, 2.0], [0, 1, 2], end_s=[10]),
        "ProfileBatch",
        "end_s",
        [10],
    ),
    "batch end early": (
        lambda: ProfileBatch([0, 5], [1.0, 2.0], [0, 1, 2], end_s=[10, 5]),
        "ProfileBatch",
        "end_s[1]",
        5,
    ),
    "batch end text": (
        lambda: ProfileBatch([0, 5], [1.0, 2.0], [0, 1, 2], end_s=[None, "x"]),
        "ProfileBatch",
        "end_s",
        None,
    ),
    "batch float times": (
        lambda: ProfileBatch([0.0, 5.0], [1.0, 2.0], [0, 2]),
        "ProfileBatch",
        "t_s",
        None,
    ),
    "batch resample how": (
        lambda: ProfileBatch([0], [1.0], [0, 1]).resample(GRID, how="sum"),
        "ProfileBatch.resample",
        "how",
        "sum",
    ),
    "batch sum fill": (
        lambda: ProfileBatch([0], [1.0], [0, 1]).sum(fill=np.inf),
        "ProfileBatch.sum",
        "fill",
        np.inf,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_raises_input_error(name):
    call, obj, field, value = CASES[name]
    with pytest.raises(InputError) as info:
        call()
    error = info.value
    assert (error.obj, error.field) == (obj, field)
    assert str(error).startswith(f"{obj}: {field} = ")
    if value is not None:
        np.testing.assert_equal(error.value, value)


def test_batch_error_names_the_profile():
    with pytest.raises(InputError, match="breakpoints of profile 1 must be strictly increasing"):
        ProfileBatch([0, 5, 9, 3], np.ones(4), [0, 2, 4])


@pytest.mark.parametrize(
    "call",
    [
        lambda: Profile([2**62], [1.0]),
        lambda: Profile([0], [1.0], end_s=2**63 - 1),
        lambda: Profile([0], [1.0], end_s=2**70),
        lambda: P.value_at(2**63 - 1),
        lambda: P.value_at([0, 2**62]),
        lambda: P.shift(2**40),
        lambda: TimeGrid(datetime(9999, 12, 31, tzinfo=UTC), 3600, 25),
        lambda: ProfileBatch([0], [1.0], [0, 1], end_s=[2**63 - 1]),
        lambda: ProfileBatch([0], [1.0], [0, 1], end_s=[None]).sum(fill=0.0).shift(-(2**40)),
        lambda: ProfileBatch([-(2**62)], [1.0], [0, 1]),
    ],
)
def test_times_must_lie_between_the_years_1_and_9999(call):
    with pytest.raises(InputError, match="between the years 1 and 9999"):
        call()
