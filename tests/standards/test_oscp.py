"""OSCP 2.0 capacity forecasts: the wire messages, the limits read into a problem, and the output.

The plans here are checked against the forecast's own numbers and times with
loads recomputed from the plan's power arrays (the tree walked from
``node_parent``), not with the problem's limits or ``verify``.
"""

import itertools
import json
import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fera_flex import ChargingProblem
from fera_flex import schedule as fera_schedule
from fera_flex.errors import InputError
from fera_flex.scheduling.verify import verify_plan
from fera_flex.standards.oscp import (
    AdjustGroupCapacityForecast,
    CapacityForecastType,
    ForecastedBlock,
    ForecastedBlockUnit,
    GroupCapacityComplianceError,
    PhaseIndicator,
    UpdateGroupCapacityForecast,
    adjust_forecast,
    compliance_error,
    with_forecast,
)
from fera_flex.timeseries import TimeGrid

START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
STEP_S = 3600
N_SLOTS = 8
VOLTS = 230.0
TOLERANCE = 1e-6  # [kW] or [A]: solver rounding

# The specification's field tables (OSCP 2.0, FINAL 2020-10-12): key -> required.
SPEC_KEYS = {
    "ForecastedBlock": {
        "capacity": True,
        "phase": True,
        "unit": True,
        "start_time": True,
        "end_time": True,
    },
    "UpdateGroupCapacityForecast": {"group_id": True, "type": True, "forecasted_blocks": True},
    "AdjustGroupCapacityForecast": {"group_id": True, "type": True, "forecasted_blocks": True},
    "GroupCapacityComplianceError": {"message": True, "forecasted_blocks": False},
}
SPEC_ENUMS = {
    CapacityForecastType: {
        "CONSUMPTION",
        "GENERATION",
        "FALLBACK_CONSUMPTION",
        "FALLBACK_GENERATION",
        "OPTIMUM",
    },
    PhaseIndicator: {"UNKNOWN", "ONE", "TWO", "THREE", "ALL"},
    ForecastedBlockUnit: {"A", "W", "KW", "WH", "KWH"},
}

FORECAST_JSON = {
    "group_id": "site",
    "type": "CONSUMPTION",
    "forecasted_blocks": [
        {
            "capacity": 17250,
            "phase": "ALL",
            "unit": "W",
            "start_time": "2026-03-02T08:00:00Z",
            "end_time": "2026-03-02T10:30:00Z",
        },
        {
            "capacity": 25.0,
            "phase": "ALL",
            "unit": "A",
            "start_time": "2026-03-02T11:30:00+01:00",
            "end_time": "2026-03-02T12:45:00+01:00",
        },
    ],
}


def iso(offset_s: int) -> str:
    return (START + timedelta(seconds=offset_s)).isoformat().replace("+00:00", "Z")


def block(capacity, unit="KW", phase="ALL", start_s=0, end_s=N_SLOTS * STEP_S) -> dict:
    return {
        "capacity": capacity,
        "phase": phase,
        "unit": unit,
        "start_time": iso(start_s),
        "end_time": iso(end_s),
    }


def forecast(*blocks, group="site", kind="CONSUMPTION") -> UpdateGroupCapacityForecast:
    return UpdateGroupCapacityForecast.model_validate(
        {"group_id": group, "type": kind, "forecasted_blocks": list(blocks)}
    )


def site(
    power_max_kw=(11.0, 7.4, 22.0),
    phases=((True, True, True), (True, False, False), (False, True, True)),
    energy_kwh=(80.0, 50.0, 90.0),
    base_kw=0.0,
    discharge_kw=0.0,
) -> ChargingProblem:
    """A root "site" with two feeders "a" (sessions 0, 1) and "b" (session 2), 8 hourly slots."""
    n = len(power_max_kw)
    return ChargingProblem.from_arrays(
        grid=TimeGrid(START, STEP_S, N_SLOTS),
        arrival_slot=np.zeros(n, dtype=int),
        departure_slot=np.full(n, N_SLOTS),
        energy_kwh=list(energy_kwh),
        power_max_kw=list(power_max_kw),
        discharge_max_kw=discharge_kw,
        node_of_session=[1, 1, 2][:n],
        node_parent=[-1, 0, 0],
        node_capacity_kw=np.inf,
        base_load_kw=base_kw,
        price_eur_per_kwh=np.linspace(0.4, 0.1, N_SLOTS),
        session_phases=np.array(phases[:n], dtype=bool),
        node_voltage_v=VOLTS,
        node_ids=["site", "a", "b"],
    )


def schedule(problem: ChargingProblem):
    """HiGHS for every plan here (no flow-kernel compile in this file's tests)."""
    return fera_schedule(problem, "highs")


# ------------------------------------------------------------ independent recomputation


def subtree(problem: ChargingProblem, node: int) -> set[int]:
    """The node and its descendants, from node_parent alone."""
    inside = {node}
    for _ in range(problem.n_nodes):
        inside |= {k for k, parent in enumerate(problem.node_parent) if parent in inside}
    return inside


def load_kw(problem, plan, node) -> np.ndarray:
    """Total net load through a node per slot [kW], from the plan's power arrays."""
    nodes = subtree(problem, node)
    sessions = [i for i, k in enumerate(problem.node_of_session) if k in nodes]
    ev = (plan.charge_kw[sessions] - plan.discharge_kw[sessions]).sum(axis=0)
    return ev + np.asarray(problem.base_load_kw)[sorted(nodes)].sum(axis=0)


def phase_a(problem, plan, node) -> np.ndarray:
    """Current per phase through a node [A], shape (3, T): each session's power shared evenly
    over its phases, the non-EV load over all three."""
    nodes = subtree(problem, node)
    net = plan.charge_kw - plan.discharge_kw
    amps = np.zeros((3, problem.n_slots))
    for i, k in enumerate(problem.node_of_session):
        if k in nodes:
            on = problem.session_phases[i]
            amps[on] += net[i] * 1000.0 / (on.sum() * VOLTS)
    base = np.asarray(problem.base_load_kw)[sorted(nodes)].sum(axis=0)
    return amps + base * 1000.0 / (3 * VOLTS)


def slots_touched(problem, raw: dict) -> list[int]:
    start = datetime.fromisoformat(raw["start_time"])
    end = datetime.fromisoformat(raw["end_time"])
    edges = [START + timedelta(seconds=STEP_S * t) for t in range(problem.n_slots + 1)]
    return [t for t in range(problem.n_slots) if start < edges[t + 1] and end > edges[t]]


def assert_within(problem, plan, node, raw: dict, export=False) -> None:
    """The plan keeps every slot a block touches within the block's meaning."""
    slots = slots_touched(problem, raw)
    sign = -1.0 if export else 1.0
    capacity, unit, phase = raw["capacity"], raw["unit"], raw["phase"]
    total = sign * load_kw(problem, plan, node)[slots]
    amps = sign * phase_a(problem, plan, node)[:, slots]
    if unit == "A":
        on = {"ONE": [0], "TWO": [1], "THREE": [2]}.get(phase, [0, 1, 2])
        assert (amps[on] <= capacity + TOLERANCE).all()
        return
    watts = capacity * (1000.0 if unit == "KW" else 1.0)
    if phase in ("ALL", "UNKNOWN"):
        assert (total * 1000.0 <= watts + TOLERANCE).all()
    if phase != "ALL":
        on = {"ONE": [0], "TWO": [1], "THREE": [2]}.get(phase, [0, 1, 2])
        assert (amps[on] * VOLTS <= watts + TOLERANCE).all()


# ------------------------------------------------------------------------ the messages


def test_the_enums_are_the_specifications():
    for enum, values in SPEC_ENUMS.items():
        assert {member.value for member in enum} == values


@pytest.mark.parametrize(
    "model",
    [
        ForecastedBlock,
        UpdateGroupCapacityForecast,
        AdjustGroupCapacityForecast,
        GroupCapacityComplianceError,
    ],
)
def test_the_keys_and_required_keys_are_the_specifications(model):
    keys = SPEC_KEYS[model.__name__]
    assert set(model.model_fields) == set(keys)
    assert {name for name, field in model.model_fields.items() if field.is_required()} == {
        key for key, required in keys.items() if required
    }


def test_a_forecast_round_trips_through_json():
    message = UpdateGroupCapacityForecast.model_validate_json(json.dumps(FORECAST_JSON))
    assert message.forecasted_blocks[1].start_time.utcoffset() == timedelta(hours=1)
    assert json.loads(message.model_dump_json()) == FORECAST_JSON
    again = UpdateGroupCapacityForecast.model_validate_json(message.model_dump_json())
    assert again == message


def test_a_compliance_error_without_blocks_writes_no_blocks_key():
    error = GroupCapacityComplianceError(message="transformer fault")
    assert json.loads(error.model_dump_json()) == {"message": "transformer fault"}


blocks_strategy = st.lists(
    st.builds(
        lambda capacity, phase, unit, start_min, length_min: block(
            capacity, unit, phase, start_min * 60, (start_min + length_min) * 60
        ),
        st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
        st.sampled_from([p.value for p in PhaseIndicator]),
        st.sampled_from([u.value for u in ForecastedBlockUnit]),
        st.integers(-10_000, 10_000),
        st.integers(1, 5_000),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40)
@given(
    blocks=blocks_strategy,
    kind=st.sampled_from([t.value for t in CapacityForecastType]),
    group=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20),
)
def test_any_valid_message_round_trips(blocks, kind, group):
    raw = {"group_id": group, "type": kind, "forecasted_blocks": blocks}
    for model in (UpdateGroupCapacityForecast, AdjustGroupCapacityForecast):
        message = model.model_validate_json(json.dumps(raw))
        assert json.loads(message.model_dump_json()) == raw
    error = {"message": group, "forecasted_blocks": blocks}
    text = GroupCapacityComplianceError.model_validate(error).model_dump_json()
    assert json.loads(text) == error


def _broken(path: tuple, value) -> dict:
    raw = json.loads(json.dumps(FORECAST_JSON))
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "loc", "shown"),
    [
        (("groupId",), "site", ("groupId",), "site"),
        (("forecasted_blocks", 0, "capacty"), 5, ("forecasted_blocks", 0, "capacty"), "5"),
        (("forecasted_blocks", 0, "capacity"), KeyError, ("forecasted_blocks", 0, "capacity"), ""),
        (("forecasted_blocks", 0, "capacity"), -1.0, ("forecasted_blocks", 0, "capacity"), "-1"),
        (("forecasted_blocks", 0, "capacity"), "17250", ("forecasted_blocks", 0, "capacity"), ""),
        (("forecasted_blocks", 1, "unit"), "kW", ("forecasted_blocks", 1, "unit"), "kW"),
        (("forecasted_blocks", 1, "phase"), "L1", ("forecasted_blocks", 1, "phase"), "L1"),
        (("type",), "CAPACITY", ("type",), "CAPACITY"),
        (
            ("forecasted_blocks", 0, "start_time"),
            "2026-03-02T08:00:00",
            ("forecasted_blocks", 0, "start_time"),
            "2026-03-02T08:00:00",
        ),
        (
            ("forecasted_blocks", 0, "start_time"),
            1772438400,
            ("forecasted_blocks", 0, "start_time"),
            "1772438400",
        ),
        (
            ("forecasted_blocks", 0, "start_time"),
            "1772438400",
            ("forecasted_blocks", 0, "start_time"),
            "1772438400",
        ),
        (
            ("forecasted_blocks", 0, "start_time"),
            "2026-03-02",
            ("forecasted_blocks", 0, "start_time"),
            "2026-03-02",
        ),
        (
            ("forecasted_blocks", 0, "end_time"),
            "2026-03-02T07:00:00Z",
            ("forecasted_blocks", 0),
            "end_time",
        ),
        (("forecasted_blocks",), [], ("forecasted_blocks",), ""),
        (("group_id",), "", ("group_id",), ""),
        (("group_id",), 7, ("group_id",), "7"),
    ],
    ids=[
        "unknown-key",
        "misspelt-block-key",
        "missing-capacity",
        "negative-capacity",
        "capacity-as-string",
        "lower-case-unit",
        "unknown-phase",
        "unknown-type",
        "naive-time",
        "epoch-time",
        "epoch-string",
        "bare-date",
        "ends-before-start",
        "no-blocks",
        "empty-group",
        "numeric-group",
    ],
)
def test_malformed_messages_are_rejected_naming_message_field_and_value(path, value, loc, shown):
    with pytest.raises(ValidationError) as info:
        UpdateGroupCapacityForecast.model_validate_json(json.dumps(_broken(path, value)))
    assert info.value.title == "UpdateGroupCapacityForecast"
    assert [tuple(error["loc"]) for error in info.value.errors()] == [loc]
    assert shown in str(info.value)


def test_a_compliance_error_needs_a_message():
    with pytest.raises(ValidationError, match="message"):
        GroupCapacityComplianceError.model_validate({"forecasted_blocks": [block(1.0)]})
    with pytest.raises(ValidationError, match="forecasted_blocks"):
        GroupCapacityComplianceError.model_validate({"message": "x", "forecasted_blocks": []})


# ------------------------------------------------------------------ reading a forecast


def test_watts_and_kilowatts_on_all_phases_limit_the_total():
    problem = site()
    for message in (forecast(block(17250, "W")), forecast(block(17.25, "KW"))):
        limited = with_forecast(problem, message)
        np.testing.assert_array_equal(limited.node_capacity_kw[0], 17.25)
        np.testing.assert_array_equal(limited.node_capacity_kw[1:], np.inf)
        np.testing.assert_array_equal(limited.phase_current_max_a, np.inf)
        np.testing.assert_array_equal(limited.export_capacity_kw, problem.export_capacity_kw)


def test_amperes_on_all_phases_limit_each_phase_so_a_three_phase_car_gets_11_kw():
    problem = site(power_max_kw=(22.0,), phases=((True, True, True),), energy_kwh=(150.0,))
    limited = with_forecast(problem, forecast(block(16.0, "A"), group="a"))
    np.testing.assert_array_equal(limited.phase_current_max_a[1], 16.0)
    np.testing.assert_array_equal(limited.node_capacity_kw, problem.node_capacity_kw)
    plan = schedule(limited)
    # 16 A x 230 V x 3 phases = 11.04 kW, reached in every slot (the need is 150 kWh)
    np.testing.assert_allclose(load_kw(limited, plan, 1), 11.04, atol=TOLERANCE)
    assert (phase_a(limited, plan, 1) <= 16.0 + TOLERANCE).all()


def test_amperes_on_one_phase_limit_a_single_phase_car_to_3_68_kw():
    problem = site(power_max_kw=(7.4,), phases=((True, False, False),), energy_kwh=(60.0,))
    limited = with_forecast(problem, forecast(block(16.0, "A", "ONE"), group="a"))
    plan = schedule(limited)
    np.testing.assert_allclose(load_kw(limited, plan, 1), 3.68, atol=TOLERANCE)


@pytest.mark.parametrize("phase", ["ONE", "TWO", "THREE"])
def test_power_on_one_phase_becomes_that_current_on_every_phase(phase):
    limited = with_forecast(site(), forecast(block(3680, "W", phase)))
    np.testing.assert_allclose(limited.phase_current_max_a[0], 16.0)  # 3680 W / 230 V
    np.testing.assert_array_equal(limited.node_capacity_kw[0], np.inf)


def test_power_on_an_unknown_phase_limits_the_total_and_each_phase():
    limited = with_forecast(site(), forecast(block(4.6, "KW", "UNKNOWN")))
    np.testing.assert_allclose(limited.node_capacity_kw[0], 4.6)
    np.testing.assert_allclose(limited.phase_current_max_a[0], 20.0)


def test_generation_forecasts_limit_export():
    problem = site(discharge_kw=11.0, energy_kwh=(0.0, 0.0, 0.0))
    limited = with_forecast(problem, forecast(block(5.0, "KW"), kind="GENERATION"))
    np.testing.assert_array_equal(limited.export_capacity_kw[0], 5.0)
    np.testing.assert_array_equal(limited.node_capacity_kw, problem.node_capacity_kw)
    fallback = with_forecast(problem, forecast(block(5.0, "KW"), kind="FALLBACK_GENERATION"))
    assert fallback == limited


def test_blocks_limit_every_slot_they_touch_and_gaps_keep_the_existing_limit():
    existing = np.full((3, N_SLOTS), np.inf)
    existing[0] = [30.0] * 4 + [8.0] * 4
    problem = site().replace(node_capacity_kw=existing)
    message = forecast(
        block(20.0, start_s=1800, end_s=2 * STEP_S + 60),  # touches slots 0, 1 and 2
        block(12.0, start_s=2 * STEP_S + 120, end_s=2 * STEP_S + 180),  # inside slot 2: lower
        block(10.0, start_s=5 * STEP_S, end_s=6 * STEP_S),  # above the existing 8 kW
        block(1.0, start_s=-5 * STEP_S, end_s=-STEP_S),  # before the horizon: ignored
        block(1.0, start_s=N_SLOTS * STEP_S, end_s=(N_SLOTS + 2) * STEP_S),  # after it
    )
    limited = with_forecast(problem, message)
    np.testing.assert_array_equal(
        limited.node_capacity_kw[0], [20.0, 20.0, 12.0, 30.0, 8.0, 8.0, 8.0, 8.0]
    )


def test_a_group_is_found_by_node_id_or_through_the_mapping():
    problem = site()
    message = forecast(block(9.0), group="EAN-871234")
    with pytest.raises(InputError) as info:
        with_forecast(problem, message)
    assert (info.value.obj, info.value.field, info.value.value) == (
        "UpdateGroupCapacityForecast",
        "group_id",
        "EAN-871234",
    )
    for node in ("b", 2):
        limited = with_forecast(problem, message, nodes={"EAN-871234": node})
        np.testing.assert_array_equal(limited.node_capacity_kw[2], 9.0)
    with pytest.raises(InputError, match="not in the nodes mapping"):
        with_forecast(problem, message, nodes={"other": "b"})


@pytest.mark.parametrize("unit", ["WH", "KWH"])
def test_energy_units_are_no_capacity(unit):
    message = forecast(block(5.0), block(5.0, unit))
    for call in (
        lambda: with_forecast(site(), message),
        lambda: compliance_error(site(), message),
    ):
        with pytest.raises(InputError) as info:
            call()
        error = info.value
        assert (error.obj, error.field, error.value) == (
            "UpdateGroupCapacityForecast",
            "forecasted_blocks[1].unit",
            unit,
        )
        assert "energy unit" in str(error)


def test_an_optimum_is_not_read_as_a_limit():
    with pytest.raises(InputError, match="OPTIMUM") as info:
        with_forecast(site(), forecast(block(5.0), kind="OPTIMUM"))
    assert info.value.field == "type"
    with pytest.raises(InputError, match="ChargingProblem"):
        with_forecast("problem", forecast(block(5.0)))
    with pytest.raises(InputError, match="forecast"):
        with_forecast(site(), FORECAST_JSON)


block_draws = st.tuples(
    st.integers(-90, N_SLOTS * 60 + 30),  # start [min from the grid's start]
    st.integers(1, 200),  # length [min]
    st.floats(0.0, 25.0),  # capacity above the non-EV load [kW, or A]
    st.sampled_from(
        [("KW", "ALL"), ("W", "ALL"), ("A", "ALL"), ("A", "TWO"), ("W", "ONE"), ("KW", "UNKNOWN")]
    ),
)


@settings(max_examples=25)
@given(
    draws=st.lists(block_draws, min_size=1, max_size=4),
    node=st.sampled_from([0, 1]),
    base_kw=st.floats(0.0, 3.0),
)
def test_a_plan_under_an_imported_forecast_never_exceeds_it(draws, node, base_kw):
    problem = site(base_kw=[[0.0] * N_SLOTS, [base_kw] * N_SLOTS, [0.0] * N_SLOTS])
    base_a = base_kw * 1000 / (3 * VOLTS)
    raws = []
    for start_min, length_min, room, (unit, phase) in draws:
        # at least the non-EV load, so a plan can comply (see the compliance tests)
        floor = base_a if unit == "A" else base_kw * (1.0 if unit == "KW" else 1000.0)
        capacity = math.ceil((floor + room) * 1000) / 1000
        raws.append(block(capacity, unit, phase, start_min * 60, (start_min + length_min) * 60))
    message = forecast(*raws, group=problem.node_ids[node])
    limited = with_forecast(problem, message)
    plan = schedule(limited)
    assert verify_plan(limited, plan) == []
    for raw in raws:
        assert_within(problem, plan, node, raw)


# ------------------------------------------------------------------ writing a plan's needs


@pytest.mark.parametrize(("unit", "resolution"), [("KW", 1e-4), ("W", 0.1), ("A", 0.1)])
def test_an_adjust_request_asks_for_what_the_plan_needs_and_no_more(unit, resolution):
    problem = site(base_kw=[[0.0] * N_SLOTS, [1.5] * N_SLOTS, [0.0] * N_SLOTS])
    plan = schedule(problem.replace(node_capacity_kw=[25.0, np.inf, np.inf]))
    request = adjust_forecast(plan, "site", unit=unit)
    assert isinstance(request, AdjustGroupCapacityForecast)
    assert request.group_id == "site" and request.type is CapacityForecastType.CONSUMPTION
    blocks = request.forecasted_blocks
    assert blocks[0].start_time == problem.grid.start
    assert blocks[-1].end_time == problem.grid.end
    for earlier, later in itertools.pairwise(blocks):
        assert earlier.end_time == later.start_time
        assert earlier.capacity != later.capacity  # equal neighbours are merged
    if unit == "A":
        need = phase_a(problem, plan, 0).max(axis=0)
    else:
        need = load_kw(problem, plan, 0) * (1.0 if unit == "KW" else 1000.0)
    raws = json.loads(request.model_dump_json())["forecasted_blocks"]
    for raw in raws:
        assert raw["unit"] == unit and raw["phase"] == "ALL"
        slots = slots_touched(problem, raw)
        assert (need[slots] <= raw["capacity"]).all()
        assert (raw["capacity"] - need[slots] < resolution + 1e-9).all()
    # granting the request admits the plan
    granted = with_forecast(
        problem, UpdateGroupCapacityForecast.model_validate(request.model_dump())
    )
    assert verify_plan(granted, plan) == []
    for raw in raws:
        assert_within(problem, plan, 0, raw)


def test_an_adjust_request_for_generation_asks_for_the_export():
    problem = site(discharge_kw=11.0, energy_kwh=(0.0, 0.0, 0.0))
    price = np.r_[np.full(4, 0.1), np.full(4, 0.5)]
    problem = problem.replace(
        energy_min_kwh=[0.0, 0.0, 0.0],
        energy_max_kwh=[20.0, 20.0, 20.0],
        price_eur_per_kwh=price,
        export_price_eur_per_kwh=price,
    )
    plan = schedule(problem)
    exported = -load_kw(problem, plan, 2)
    assert exported.max() > 1.0  # the plan does discharge
    request = adjust_forecast(plan, "feeder-b", node="b", forecast_type="GENERATION", unit="W")
    assert request.type is CapacityForecastType.GENERATION
    for raw in json.loads(request.model_dump_json())["forecasted_blocks"]:
        slots = slots_touched(problem, raw)
        np.testing.assert_allclose(raw["capacity"], np.maximum(exported[slots], 0) * 1000, atol=0.1)
        assert_within(problem, plan, 2, raw, export=True)


def test_bad_adjust_arguments_are_named():
    plan = schedule(site())
    for kwargs, field in [
        ({"unit": "KWH"}, "unit"),
        ({"unit": "MW"}, "unit"),
        ({"forecast_type": "OPTIMUM"}, "type"),
        ({"forecast_type": "MAXIMUM"}, "type"),
    ]:
        with pytest.raises(InputError) as info:
            adjust_forecast(plan, "site", **kwargs)
        assert info.value.field == field
    with pytest.raises(InputError, match="node"):
        adjust_forecast(plan, "EAN-871234")
    with pytest.raises(InputError, match="ChargingPlan"):
        adjust_forecast(site(), "site")


# ---------------------------------------------------------------------- compliance errors


def test_blocks_below_the_non_ev_load_cannot_be_complied_with():
    base = np.zeros((3, N_SLOTS))
    base[1, 2:4] = 6.0  # 6 kW of building load on feeder a in slots 2 and 3
    problem = site(base_kw=base)
    ok, low, low_amps = (
        block(10.0, start_s=0, end_s=2 * STEP_S),
        block(5.0, start_s=2 * STEP_S, end_s=3 * STEP_S + 60),
        block(8.0, "A", start_s=3 * STEP_S + 60, end_s=N_SLOTS * STEP_S),  # 6 kW is 8.7 A
    )
    message = forecast(ok, low, low_amps, group="a")
    error = compliance_error(problem, message)
    assert isinstance(error, GroupCapacityComplianceError)
    assert error.forecasted_blocks == message.forecasted_blocks[1:]
    assert "'a'" in error.message and "non-EV load" in error.message
    tree = json.loads(error.model_dump_json())
    assert set(tree) == {"message", "forecasted_blocks"}
    assert tree["forecasted_blocks"] == [low, low_amps]
    assert compliance_error(problem, forecast(ok, block(6.0, start_s=STEP_S), group="a")) is None
    assert compliance_error(problem, forecast(low, group="site")) is not None
    assert compliance_error(problem, forecast(low, group="b")) is None


def test_a_committed_plan_above_a_new_forecast_cannot_comply():
    problem = site()
    plan = schedule(problem)  # unconstrained: charges the cheap last hours at full power
    peak = load_kw(problem, plan, 0)
    last = int(np.argmax(peak))
    message = forecast(
        block(peak.max() + 1.0, end_s=last * STEP_S),
        block(peak[last] / 2, start_s=last * STEP_S, end_s=(last + 1) * STEP_S),
    )
    assert compliance_error(problem, message) is None  # a new plan could comply
    error = compliance_error(problem, message, plan=plan)
    assert error.forecasted_blocks == message.forecasted_blocks[1:]
    assert "the plan's load" in error.message
    replanned = schedule(with_forecast(problem, message))
    assert compliance_error(problem, message, plan=replanned) is None
    with pytest.raises(InputError, match="plan"):
        compliance_error(site(power_max_kw=(11.0,), energy_kwh=(9.0,)), message, plan=plan)
