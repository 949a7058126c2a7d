"""Pickling: every object a user may send to another process comes back equal.

Each object goes through ``pickle`` in this process, through ``copy.copy`` and
``copy.deepcopy``, and to a spawned worker of a real process pool and back.
Copies must be equal (``==``, same hash, same JSON for pydantic models, unknown
fields kept) and keep their arrays read-only.
"""

import copy
import functools
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel

from fera_flex.errors import InputError, OcpiRuleError
from fera_flex.models import ocpi, ocpp
from fera_flex.models.scenario import Scenario
from fera_flex.timeseries import Profile, ProfileBatch, TimeGrid
from tests.models.ocpi.conftest import load_example
from tests.models.ocpp import payloads

SCENARIO = Path(__file__).resolve().parents[1] / "examples" / "scenarios" / "office_depot.json"
T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
T0_S = 1709251200
VENDOR = {"vendor_extension": {"fleet": "A-7", "priority": None}}


@functools.cache
def _scenario() -> Scenario:
    return Scenario.load(SCENARIO)


def _closed_profile() -> Profile:
    return Profile(T0_S + np.array([0, 900, 2700]), [11.0, 7.4, -3.7], end_s=T0_S + 3600)


def _open_profile() -> Profile:
    return Profile.constant(22.0, T0)


def _batch() -> ProfileBatch:
    return ProfileBatch.from_profiles([_closed_profile(), _open_profile()])


def _session_with_unknown_field() -> ocpi.Session:
    return ocpi.Session.model_validate(
        {**load_example("session_example_2_short_finished.json"), **VENDOR}
    )


def _preferences_with_unknown_field() -> ocpi.ChargingPreferences:
    return ocpi.ChargingPreferences.model_validate(
        {"profile_type": "GREEN", "departure_time": "2024-03-01T17:00:00Z", **VENDOR}
    )


def _ocpi_charging_profile() -> ocpi.ChargingProfile:
    return ocpi.ChargingProfile.model_validate(
        {
            "start_date_time": "2024-03-01T08:00:00Z",
            "duration": 3600,
            "charging_rate_unit": "W",
            "charging_profile_period": [
                {"start_period": 0, "limit": 11000.0},
                {"start_period": 1800, "limit": 7400.0},
            ],
        }
    )


def _set_charging_profile_with_custom_data() -> ocpp.SetChargingProfileRequest:
    payload = payloads.changed(
        payloads.set_tx_profile(), ("customData",), {"vendorId": "com.example", "zone": 3}
    )
    return ocpp.parse_message("SetChargingProfile", payload)


WITH_ARRAYS = [
    pytest.param(_closed_profile, id="Profile"),
    pytest.param(_open_profile, id="Profile-open-end"),
    pytest.param(_batch, id="ProfileBatch"),
]
TIMESERIES = [pytest.param(lambda: TimeGrid(T0, 900, 96), id="TimeGrid"), *WITH_ARRAYS]
# (model, where its unknown fields are, what they must be)
UNKNOWN_FIELDS = [
    pytest.param(
        _session_with_unknown_field,
        lambda model: model.model_extra,
        VENDOR,
        id="ocpi.Session-unknown-field",
    ),
    pytest.param(
        _preferences_with_unknown_field,
        lambda model: model.model_extra,
        VENDOR,
        id="ocpi.ChargingPreferences-unknown-field",
    ),
    pytest.param(
        _set_charging_profile_with_custom_data,
        lambda model: model.custom_data.model_extra,
        {"zone": 3},
        id="ocpp.SetChargingProfileRequest-customData",
    ),
]
MODELS = [
    *(pytest.param(param.values[0], id=param.id) for param in UNKNOWN_FIELDS),
    pytest.param(
        lambda: ocpi.Location.model_validate(load_example("location_example.json")),
        id="ocpi.Location",
    ),
    pytest.param(
        lambda: next(iter(_scenario().charging_preferences.values())),
        id="ocpi.ChargingPreferences",
    ),
    pytest.param(_ocpi_charging_profile, id="ocpi.ChargingProfile"),
    pytest.param(
        lambda: ocpp.SetChargingProfileRequest.model_validate(payloads.set_tx_profile()),
        id="ocpp.SetChargingProfileRequest",
    ),
    pytest.param(
        lambda: ocpp.parse_message("NotifyEVChargingNeeds", payloads.ev_charging_needs()),
        id="ocpp.NotifyEVChargingNeedsRequest",
    ),
    pytest.param(lambda: _scenario().topology, id="fera.GridTopology"),
    pytest.param(lambda: _scenario().price_signals[0], id="fera.PriceSignal"),
    pytest.param(lambda: _scenario().arrival_estimates[0], id="fera.ArrivalEstimate"),
    pytest.param(lambda: _scenario().building_loads[0], id="fera.BuildingLoad"),
    pytest.param(_scenario, id="Scenario-office_depot"),
]
COPIES = [
    pytest.param(lambda obj: pickle.loads(pickle.dumps(obj)), id="pickle"),
    pytest.param(
        lambda obj: pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)),
        id="pickle-highest",
    ),
    pytest.param(copy.copy, id="copy"),
    pytest.param(copy.deepcopy, id="deepcopy"),
]


def _arrays(obj: Any) -> list[np.ndarray]:
    """The arrays an object stores."""
    if isinstance(obj, Profile):
        return [obj.t_s, obj.values]
    if isinstance(obj, ProfileBatch):
        return [obj.t_s, obj.values, obj.offsets, obj._end]
    return []


def _describe(obj: Any) -> Any:
    """Plain data that determines ``obj``, computed without numba kernels."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, TimeGrid):
        return obj.start_s, obj.step_s, obj.n
    if isinstance(obj, Profile):
        return obj.t_s.tolist(), obj.values.tolist(), obj.end_s
    return [_describe(profile) for profile in obj]


def echo(obj: Any) -> tuple[Any, Any, bool]:
    """Worker: the object back, what it describes and whether its arrays are read-only there."""
    return obj, _describe(obj), not any(a.flags.writeable for a in _arrays(obj))


def _assert_same(copied: Any, original: Any) -> None:
    assert type(copied) is type(original)
    assert _describe(copied) == _describe(original)
    for copied_array, array in zip(_arrays(copied), _arrays(original), strict=True):
        assert copied_array.dtype == array.dtype
        np.testing.assert_array_equal(copied_array, array)
        assert not copied_array.flags.writeable
    if isinstance(original, BaseModel):
        assert copied == original
        assert copied.model_extra == original.model_extra
    elif not isinstance(original, ProfileBatch):  # a batch has identity equality
        assert copied == original
        assert hash(copied) == hash(original)


class Workers:
    """Two spawned worker processes, replaced when a failed unpickle breaks the pool.

    Without the replacement one object that does not unpickle would fail every
    later test of the module.
    """

    def __init__(self) -> None:
        self._executor = self._start()

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))

    def echo(self, obj: Any) -> tuple[Any, Any, bool]:
        """Send ``obj`` to :func:`echo` in a worker and return its answer."""
        try:
            return self._executor.submit(echo, obj).result(timeout=120)
        except BrokenProcessPool:
            self._executor.shutdown()
            self._executor = self._start()
            raise

    def shutdown(self) -> None:
        self._executor.shutdown()


@pytest.fixture(scope="module")
def workers():
    pool = Workers()
    yield pool
    pool.shutdown()


@pytest.mark.parametrize("make_copy", COPIES)
@pytest.mark.parametrize("make", TIMESERIES + MODELS)
def test_copy_in_process_is_equal(make, make_copy):
    original = make()
    _assert_same(make_copy(original), original)


@pytest.mark.parametrize("make", TIMESERIES + MODELS)
def test_round_trip_through_a_process_pool(workers, make):
    original = make()
    returned, described_there, read_only_there = workers.echo(original)
    assert described_there == _describe(original)
    assert read_only_there
    _assert_same(returned, original)


@pytest.mark.parametrize(("make", "unknown_fields", "expected"), UNKNOWN_FIELDS)
def test_unknown_fields_survive(workers, make, unknown_fields, expected):
    original = make()
    assert unknown_fields(original) == expected
    pickled = pickle.loads(pickle.dumps(original))
    returned, _, _ = workers.echo(original)
    for copied in (pickled, returned):
        assert unknown_fields(copied) == expected
        assert copied.model_dump_json() == original.model_dump_json()


@pytest.mark.parametrize("make", WITH_ARRAYS)
def test_arrays_stay_read_only_after_unpickling(make):
    arrays = _arrays(pickle.loads(pickle.dumps(make())))
    assert arrays
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


@pytest.mark.parametrize(
    "error",
    [
        InputError("Session", "kwh", -1.0, "must be >= 0"),
        OcpiRuleError("ChargingPreferences", "session_id", "s1", "no such Session"),
    ],
    ids=["InputError", "OcpiRuleError"],
)
def test_input_errors_pickle_with_their_fields(error):
    """Process pools and Dask workers send errors back pickled: type and fields survive."""
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    assert (back.obj, back.field, back.value, back.reason) == (
        error.obj,
        error.field,
        error.value,
        error.reason,
    )
