import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fera_flex.errors import InputError
from fera_flex.models import conversions as conv
from fera_flex.models import ocpi, ocpp
from fera_flex.models.fera import TimeSeries
from fera_flex.timeseries import Profile
from tests.models.ocpi.conftest import load_example
from tests.models.ocpi.strategies import charging_profile

T0 = datetime(2026, 3, 2, 8, tzinfo=timezone.utc)


@given(charging_profile())
def test_ocpi_ocpp_ocpi_round_trip_is_exact(raw):
    profile = ocpi.ChargingProfile.model_validate(raw)
    periods = profile.charging_profile_period or []
    if profile.start_date_time is not None and profile.start_date_time.microsecond % 1000:
        with pytest.raises(InputError, match="sub-millisecond"):
            conv.ocpi_to_ocpp_schedule(profile, fill_limit=0.0)
        return
    if not periods or periods[0].start_period != 0:
        with pytest.raises(InputError, match="fill_limit"):
            conv.ocpi_to_ocpp_schedule(profile)
        return
    schedule = conv.ocpi_to_ocpp_schedule(profile)
    assert json.loads(conv.ocpp_to_ocpi_profile(schedule).model_dump_json()) == raw


@given(charging_profile(), st.sampled_from([1, 2, 3]), st.sampled_from([230.0, 220.0, 240.0]))
def test_unit_conversion_never_exceeds_the_original_limit(raw, phases, voltage_v):
    profile = ocpi.ChargingProfile.model_validate(raw)
    if profile.start_date_time is not None:
        profile = profile.model_copy(update={"start_date_time": None})
    target = "A" if profile.charging_rate_unit.value == "W" else "W"
    schedule = conv.ocpi_to_ocpp_schedule(
        profile, unit=target, voltage_v=voltage_v, phases=phases, fill_limit=0.0
    )
    original = {0: 0.0} | {p.start_period: p.limit for p in profile.charging_profile_period}
    for period in schedule.charging_schedule_period:
        if target == "A":
            back_kw = period.limit * voltage_v * phases / 1000.0
            assert back_kw <= original[period.start_period] / 1000.0 + 1e-9
            assert period.number_phases == (None if phases == 3 else phases)
        else:
            back_a = period.limit / (voltage_v * phases)
            assert back_a <= original[period.start_period] + 1e-9
        assert round(period.limit, 1) == period.limit


def test_absolute_and_relative_kinds():
    absolute = ocpi.ChargingProfile(
        start_date_time=T0,
        charging_rate_unit="A",
        charging_profile_period=[{"start_period": 0, "limit": 16}],
    )
    profile = conv.ocpi_to_ocpp_profile(
        absolute, profile_id=7, stack_level=2, transaction_id="tx-1"
    )
    assert profile.charging_profile_kind is ocpp.ChargingProfileKind.ABSOLUTE
    assert profile.charging_schedule[0].start_schedule == T0
    relative = absolute.model_copy(update={"start_date_time": None})
    profile = conv.ocpi_to_ocpp_profile(relative, profile_id=8, transaction_id="tx-1")
    assert profile.charging_profile_kind is ocpp.ChargingProfileKind.RELATIVE
    assert profile.charging_schedule[0].start_schedule is None


def test_zero_period_and_late_first_period_need_fill_limit():
    empty = ocpi.ChargingProfile(charging_rate_unit="W", charging_profile_period=[])
    with pytest.raises(InputError, match="has no periods") as info:
        conv.ocpi_to_ocpp_schedule(empty)
    assert info.value.field == "fill_limit"
    schedule = conv.ocpi_to_ocpp_schedule(empty, fill_limit=22000)
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [(0, 22000)]
    late = ocpi.ChargingProfile(
        charging_rate_unit="W", charging_profile_period=[{"start_period": 600, "limit": 3000}]
    )
    with pytest.raises(InputError, match="starts its first period at 600 s"):
        conv.ocpi_to_ocpp_schedule(late)
    schedule = conv.ocpi_to_ocpp_schedule(late, fill_limit=11000)
    assert [(p.start_period, p.limit) for p in schedule.charging_schedule_period] == [
        (0, 11000),
        (600, 3000),
    ]


def test_min_charging_rate_converted_and_schema_valid():
    profile = ocpi.ChargingProfile(
        charging_rate_unit="W",
        min_charging_rate=4140,
        charging_profile_period=[{"start_period": 0, "limit": 11040}],
    )
    schedule = conv.ocpi_to_ocpp_schedule(profile, unit="A")
    assert schedule.min_charging_rate == 6.0
    assert schedule.charging_schedule_period[0].limit == 16.0


def test_ocpp_to_ocpi_uses_each_period_phase_count():
    schedule = ocpp.ChargingSchedule(
        id=1,
        charging_rate_unit="A",
        charging_schedule_period=[
            {"start_period": 0, "limit": 16, "number_phases": 1},
            {"start_period": 60, "limit": 16},
        ],
    )
    profile = conv.ocpp_to_ocpi_profile(schedule, unit="W")
    assert [p.limit for p in profile.charging_profile_period] == [3680.0, 11040.0]


def test_recurring_profile_has_no_ocpi_form():
    profile = ocpp.ChargingProfile.model_validate(
        {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Recurring",
            "recurrencyKind": "Daily",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2026-03-02T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                }
            ],
        }
    )
    with pytest.raises(InputError, match="Recurring"):
        conv.ocpp_to_ocpi_profile(profile)
    with pytest.raises(InputError, match="unit"):
        conv.ocpp_to_ocpi_profile(profile.charging_schedule[0], unit="kW")


@given(st.integers(0, 10**9))
def test_energy_wh_kwh_round_trip(wh):
    assert conv.energy_amount_wh(conv.energy_need_kwh(wh)) == wh


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "20"])
def test_bad_energy_rejected(bad):
    with pytest.raises(InputError):
        conv.energy_amount_wh(bad)


@given(
    st.floats(0, 200, allow_nan=False),
    st.integers(6, 32),
    st.integers(0, 5),
    st.sampled_from([1, 2, 3]),
)
def test_ac_demand_round_trip(energy_kwh, max_a, min_a, phases):
    energy_kwh = round(energy_kwh, 3)
    demand = conv.SessionDemand(
        energy_need_kwh=energy_kwh,
        max_power_kw=max_a * 230 * phases / 1000,
        min_power_kw=min_a * 230 * phases / 1000,
        phases=phases,
        departure_time=T0,
    )
    request = conv.charging_needs_from_demand(demand, evse_id=1)
    assert conv.demand_from_charging_needs(request) == pytest.approx(demand) or (
        conv.demand_from_charging_needs(request).energy_need_kwh == pytest.approx(energy_kwh)
        and conv.demand_from_charging_needs(request).max_power_kw
        == pytest.approx(demand.max_power_kw)
    )


def test_dc_demand_from_needs():
    request = ocpp.NotifyEVChargingNeedsRequest.model_validate(
        {
            "evseId": 2,
            "chargingNeeds": {
                "requestedEnergyTransfer": "DC",
                "departureTime": "2026-03-02T17:00:00Z",
                "dcChargingParameters": {
                    "evMaxCurrent": 125,
                    "evMaxVoltage": 400,
                    "evMaxPower": 50000,
                    "energyAmount": 35000,
                    "stateOfCharge": 40,
                    "evEnergyCapacity": 77000,
                },
            },
        }
    )
    demand = conv.demand_from_charging_needs(request)
    assert demand == conv.SessionDemand(
        energy_need_kwh=35.0,
        max_power_kw=50.0,
        phases=1,
        departure_time=datetime(2026, 3, 2, 17, tzinfo=timezone.utc),
        dc=True,
        state_of_charge_percent=40.0,
        battery_capacity_kwh=77.0,
    )
    assert conv.demand_from_charging_needs(conv.charging_needs_from_demand(demand, 2)) == demand


def test_missing_parameters_for_transfer_mode():
    request = ocpp.NotifyEVChargingNeedsRequest.model_validate(
        {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"}}
    )
    with pytest.raises(InputError, match="acChargingParameters"):
        conv.demand_from_charging_needs(request)


def test_power_history_of_spec_session_example():
    session = ocpi.Session.model_validate(load_example("session_example_2_short_finished.json"))
    history = conv.power_history_kw(session.charging_periods, session.end_date_time)
    starts, ends, power_kw = history.to_arrays()
    assert len(power_kw) == 3
    # period 0: ENERGY 120 over 105 s (the spec example's Wh-like numbers read as kWh, per spec)
    assert power_kw[0] == pytest.approx(120 / (105 / 3600))
    assert power_kw[2] == 0.0  # PARKING_TIME only
    assert ends[-1] - starts[0] == int(
        (session.end_date_time - session.start_date_time).total_seconds()
    )


@given(
    st.lists(
        st.tuples(st.integers(60, 7200), st.floats(-50, 350, allow_nan=False)),
        min_size=1,
        max_size=8,
    )
)
def test_power_history_round_trip(segments):
    t = T0
    periods = []
    for length_s, power in segments:
        periods.append({"start": t, "end": t + timedelta(seconds=length_s), "value": power})
        t += timedelta(seconds=length_s)
    history = TimeSeries(periods=periods)
    back = conv.power_history_kw(conv.charging_periods_from_power(history), t)
    for a, b in zip(back.periods, history.periods, strict=True):
        assert (a.start, a.end) == (b.start, b.end)
        assert a.value == pytest.approx(b.value, rel=1e-12, abs=1e-9)


def test_power_history_errors():
    period = ocpi.ChargingPeriod(
        start_date_time=T0, dimensions=[{"type": "MAX_CURRENT", "volume": 16}]
    )
    with pytest.raises(InputError, match="no POWER"):
        conv.power_history_kw([period], T0 + timedelta(hours=1))
    with pytest.raises(InputError, match="not after it starts"):
        conv.power_history_kw([period], T0)
    with pytest.raises(InputError, match="timezone-naive"):
        conv.power_history_kw([period], datetime(2026, 3, 2))


@st.composite
def wire_profiles(draw):
    """Profiles whose values are whole tenths of a watt (what the wire can carry), finite end."""
    n = draw(st.integers(1, 12))
    steps = draw(st.lists(st.integers(1, 7200), min_size=n, max_size=n))
    t0 = int(T0.timestamp()) + draw(st.integers(0, 86_400))
    t_s = t0 + np.concatenate([[0], np.cumsum(steps[:-1])]).astype(np.int64)
    tenths_w = draw(st.lists(st.integers(0, 3_500_000), min_size=n, max_size=n))
    values_kw = [round(tenths / 10_000, 4) for tenths in tenths_w]  # print as the decimal
    return Profile(t_s, values_kw, end_s=int(t0 + sum(steps)))


@given(wire_profiles())
def test_profile_survives_ocpi_and_ocpp_round_trip(profile):
    ocpi_profile = conv.profile_to_ocpi(profile)
    assert conv.profile_from_ocpi(ocpi_profile) == profile
    schedule = conv.ocpi_to_ocpp_schedule(ocpi_profile)
    assert conv.profile_from_ocpp(schedule) == profile


@given(wire_profiles())
def test_profile_survives_time_series_round_trip(profile):
    assert conv.profile_from_series(conv.series_from_profile(profile)) == profile


def test_profile_conversion_errors():
    with pytest.raises(InputError, match="gap"):
        conv.profile_from_series(
            TimeSeries(
                periods=[
                    {"start": T0, "end": T0 + timedelta(hours=1), "value": 1.0},
                    {
                        "start": T0 + timedelta(hours=2),
                        "end": T0 + timedelta(hours=3),
                        "value": 1.0,
                    },
                ]
            )
        )
    relative = ocpi.ChargingProfile(
        charging_rate_unit="W", charging_profile_period=[{"start_period": 0, "limit": 1000}]
    )
    with pytest.raises(InputError, match="start of charging"):
        conv.profile_from_ocpi(relative)
    assert conv.profile_from_ocpi(relative, start=T0).value_at(T0) == 1.0
    with pytest.raises(InputError, match="open-ended"):
        conv.series_from_profile(Profile([0], [1.0]))
