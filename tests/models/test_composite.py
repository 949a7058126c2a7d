"""The OCPP 2.0.1 composite schedule (fera_flex.models.composite).

One test per rule of reference/ocpp-composite-schedule.md (section in the
test name's docstring), the input errors, the wire shape against the official
schema, and hypothesis properties: the composite never exceeds a prevailing
limit, and it equals a per-instant brute-force evaluation written here
independently of the implementation.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fera_flex.errors import InputError
from fera_flex.models import ocpp
from fera_flex.models.composite import CompositeResult, composite_schedule
from tests.models.ocpp.schemas import validator

UTC = timezone.utc
T0 = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday, 00:00
H = 3600
DAY = 24 * H
WEEK = 7 * DAY

MAX = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def make_profile(
    profile_id: int,
    purpose: str,
    periods: list[tuple[int, float]] | list[tuple[int, float, int | None]],
    *,
    kind: str = "Absolute",
    level: int = 0,
    unit: str = "A",
    start: datetime | None = T0,
    duration: int | None = None,
    recurrency: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: str | None = "tx-1",
) -> ocpp.ChargingProfile:
    schedule = {
        "id": profile_id,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1]}
            | ({"numberPhases": p[2]} if len(p) > 2 and p[2] is not None else {})
            for p in periods
        ],
    }
    if kind != "Relative":
        schedule["startSchedule"] = start
    if duration is not None:
        schedule["duration"] = duration
    raw = {
        "id": profile_id,
        "stackLevel": level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    optional = {
        "recurrencyKind": recurrency,
        "validFrom": valid_from,
        "validTo": valid_to,
        "transactionId": transaction_id if purpose == TX else None,
    }
    raw |= {key: value for key, value in optional.items() if value is not None}
    return ocpp.ChargingProfile.model_validate(raw)


def steps(result: CompositeResult) -> list[tuple[int, float]]:
    """(startPeriod, limit) of each period of the composite schedule."""
    return [(p.start_period, p.limit) for p in result.schedule.charging_schedule_period]


def evse(profiles=(), *, station=(), duration_s=3 * H, **kwargs) -> CompositeResult:
    kwargs.setdefault("transaction_start", T0)
    kwargs.setdefault("charging_rate_unit", "A")
    return composite_schedule(
        profiles, evse_id=1, start=T0, duration_s=duration_s, station_profiles=station, **kwargs
    )


# --- section 2: stacking within one purpose ---------------------------------------------------


def test_higher_stack_level_wins_within_a_purpose():
    """Section 2: higher stackLevel has precedence, whatever its limit."""
    low = make_profile(1, TX_DEFAULT, [(0, 10.0)], level=0)
    high = make_profile(2, TX_DEFAULT, [(0, 20.0)], level=1)
    assert steps(evse([low, high])) == [(0, 20.0)]
    assert steps(evse([high, low])) == [(0, 20.0)]


def test_higher_stack_level_falls_through_when_its_duration_is_over():
    """Section 2: a schedule that has ended has no period; the lower level prevails."""
    low = make_profile(1, TX_DEFAULT, [(0, 10.0)], level=0)
    high = make_profile(2, TX_DEFAULT, [(0, 20.0)], level=1, duration=H)
    assert steps(evse([low, high])) == [(0, 20.0), (H, 10.0)]


def test_higher_stack_level_falls_through_before_its_schedule_starts():
    """Section 2: a schedule that has not started has no period either."""
    low = make_profile(1, TX_DEFAULT, [(0, 10.0)], level=0)
    high = make_profile(2, TX_DEFAULT, [(0, 20.0)], level=1, start=at(H))
    assert steps(evse([low, high])) == [(0, 10.0), (H, 20.0)]


def test_without_duration_the_highest_level_never_falls_back():
    """Section 2, OCPP 1.6: stacking without duration never falls back to a lower level."""
    low = make_profile(1, TX_DEFAULT, [(0, 10.0)], level=0)
    high = make_profile(2, TX_DEFAULT, [(0, 20.0), (H, 6.0)], level=1)
    assert steps(evse([low, high], duration_s=DAY)) == [(0, 20.0), (H, 6.0)]


# --- section 3: combining purposes ---------------------------------------------------------


def test_tx_profile_overrules_tx_default_profile_even_when_higher():
    """Section 3.2: the TxProfile overrules the TxDefaultProfile, not the minimum of both."""
    default = make_profile(1, TX_DEFAULT, [(0, 10.0)], level=5)
    tx = make_profile(2, TX, [(0, 20.0)], level=0)
    assert steps(evse([default, tx])) == [(0, 20.0)]


def test_tx_default_profile_holds_where_the_tx_profile_has_no_period():
    """Section 3.2: the rule applies per instant (libocpp)."""
    default = make_profile(1, TX_DEFAULT, [(0, 10.0)])
    tx = make_profile(2, TX, [(0, 20.0)], start=at(H), duration=H)
    assert steps(evse([default, tx])) == [(0, 10.0), (H, 20.0), (2 * H, 10.0)]


def test_tx_profile_applies_only_from_the_transaction_start():
    """Section 1: a TxProfile is for the transaction; before it started it does not apply."""
    default = make_profile(1, TX_DEFAULT, [(0, 10.0)])
    tx = make_profile(2, TX, [(0, 20.0)], start=T0)
    assert steps(evse([default, tx], transaction_start=at(H))) == [(0, 10.0), (H, 20.0)]


def test_station_max_profile_limits_the_tx_profile():
    """Section 3.3: the composite is never above the ChargingStationMaxProfile."""
    tx = make_profile(1, TX, [(0, 32.0), (H, 8.0)])
    station_max = make_profile(2, MAX, [(0, 16.0)])
    assert steps(evse([tx], station=[station_max])) == [(0, 16.0), (H, 8.0)]


def test_external_constraints_limit_the_tx_default_profile():
    """Section 3.3: ChargingStationExternalConstraints take part in the minimum."""
    default = make_profile(1, TX_DEFAULT, [(0, 32.0)])
    external = make_profile(2, EXTERNAL, [(0, 20.0), (H, 40.0)])
    assert steps(evse([default, external])) == [(0, 20.0), (H, 32.0)]


def test_composite_is_the_minimum_of_all_three():
    """Section 3.3: min(Tx-else-TxDefault, station max, external constraints)."""
    tx = make_profile(1, TX, [(0, 30.0), (H, 10.0)])
    station_max = make_profile(2, MAX, [(0, 25.0), (2 * H, 5.0)])
    external = make_profile(3, EXTERNAL, [(0, 20.0)], start=at(H // 2), duration=H)
    assert steps(evse([tx, external], station=[station_max])) == [
        (0, 25.0),
        (H // 2, 20.0),
        (H, 10.0),
        (2 * H, 5.0),
    ]


# --- sections 1 and 3.4: evseId 0 versus evseId > 0 -------------------------------------------


def test_station_wide_tx_default_applies_to_each_evse():
    """Section 1: a TxDefaultProfile on evseId 0 applies to each EVSE individually."""
    default = make_profile(1, TX_DEFAULT, [(0, 16.0)])
    for evse_id in (1, 2, 7):
        result = composite_schedule(
            [],
            evse_id=evse_id,
            start=T0,
            duration_s=H,
            charging_rate_unit="A",
            station_profiles=[default],
        )
        assert result.schedule.evse_id == evse_id
        assert steps(result) == [(0, 16.0)]


def test_evse_specific_tx_default_replaces_the_station_wide_one():
    """Section 1, OCPP 1.6: at the same stackLevel the EVSE's own profile replaces evseId 0's."""
    station_wide = make_profile(1, TX_DEFAULT, [(0, 16.0)], level=2)
    own = make_profile(2, TX_DEFAULT, [(0, 32.0)], level=2)
    assert steps(evse([own], station=[station_wide])) == [(0, 32.0)]
    # where the EVSE's own profile has no period, the station-wide one holds
    short = make_profile(3, TX_DEFAULT, [(0, 32.0)], level=2, duration=H)
    assert steps(evse([short], station=[station_wide])) == [(0, 32.0), (H, 16.0)]


def test_station_wide_and_evse_tx_defaults_stack_by_level():
    """Section 2 with K01.FR.52/53: both installations compete by stackLevel."""
    station_wide = make_profile(1, TX_DEFAULT, [(0, 16.0)], level=3)
    own = make_profile(2, TX_DEFAULT, [(0, 32.0)], level=1)
    assert steps(evse([own], station=[station_wide])) == [(0, 16.0)]


def test_station_wide_and_evse_external_constraints_stack_by_level():
    """Section 3.4 (libocpp get_valid_profiles): both installations compete in one stack."""
    station_wide = make_profile(1, EXTERNAL, [(0, 20.0)], level=0)
    own = make_profile(2, EXTERNAL, [(0, 25.0)], level=1, duration=H)
    assert steps(evse([own], station=[station_wide])) == [(0, 25.0), (H, 20.0)]


def test_messages_carry_the_installation():
    """A SetChargingProfileRequest/ReportChargingProfilesRequest says which EVSE it is on."""
    station_wide = ocpp.SetChargingProfileRequest(
        evse_id=0, charging_profile=make_profile(1, TX_DEFAULT, [(0, 16.0)], level=2)
    )
    own = ocpp.SetChargingProfileRequest(
        evse_id=1, charging_profile=make_profile(2, TX_DEFAULT, [(0, 32.0)], level=2)
    )
    report = ocpp.ReportChargingProfilesRequest(
        request_id=1,
        charging_limit_source="EMS",
        evse_id=0,
        charging_profile=[make_profile(3, EXTERNAL, [(0, 20.0)], start=at(H))],
    )
    assert steps(evse([station_wide, own, report])) == [(0, 32.0), (H, 20.0)]


def test_grid_connection_uses_the_station_wide_limits_only():
    """Sections 1 and 3.4: evseId 0 is the grid connection; TxDefault on 0 is per EVSE."""
    default = make_profile(1, TX_DEFAULT, [(0, 6.0)])
    station_max = make_profile(2, MAX, [(0, 63.0)])
    external = make_profile(3, EXTERNAL, [(0, 40.0)], start=at(H))
    result = composite_schedule(
        [default, external],
        evse_id=0,
        start=T0,
        duration_s=2 * H,
        charging_rate_unit="A",
        station_profiles=[station_max],
    )
    assert result.schedule.evse_id == 0
    assert steps(result) == [(0, 63.0), (H, 40.0)]


# --- section 5: validFrom / validTo ---------------------------------------------------------


def test_valid_from_and_valid_to_decide_whether_a_profile_competes():
    """Section 5: outside [validFrom, validTo) the profile does not take part."""
    low = make_profile(1, TX_DEFAULT, [(0, 10.0)])
    high = make_profile(2, TX_DEFAULT, [(0, 20.0)], level=1, valid_from=at(H), valid_to=at(2 * H))
    assert steps(evse([low, high])) == [(0, 10.0), (H, 20.0), (2 * H, 10.0)]


def test_relative_profile_valid_later_still_counts_from_the_transaction_start():
    """Section 5, EVerest example: 32 A for 3600 s then 6 A, valid 12:00-20:00."""
    profile = make_profile(
        1,
        TX_DEFAULT,
        [(0, 32.0), (H, 6.0)],
        kind="Relative",
        valid_from=at(12 * H),
        valid_to=at(20 * H),
    )
    plugged_at_10 = composite_schedule(
        [profile],
        evse_id=1,
        start=at(10 * H),
        duration_s=4 * H,
        charging_rate_unit="A",
        transaction_start=at(10 * H),
        default_limit=0.0,
    )
    assert steps(plugged_at_10) == [(0, 0.0), (2 * H, 6.0)]
    plugged_at_1950 = composite_schedule(
        [profile],
        evse_id=1,
        start=at(19 * H + 50 * 60),
        duration_s=H,
        charging_rate_unit="A",
        transaction_start=at(19 * H + 50 * 60),
        default_limit=0.0,
    )
    assert steps(plugged_at_1950) == [(0, 32.0), (600, 0.0)]


# --- section 4: kinds ----------------------------------------------------------------------


def test_absolute_periods_count_from_start_schedule():
    """Section 4: Absolute periods are relative to startSchedule."""
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0), (1800, 12.0)], start=at(-1800))
    assert steps(evse([profile])) == [(0, 12.0)]


def test_relative_periods_count_from_the_transaction_start():
    """Section 4: Relative periods start at the start of the transaction."""
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0), (H, 12.0)], kind="Relative")
    assert steps(evse([profile], transaction_start=at(-1800))) == [(0, 10.0), (1800, 12.0)]


def test_relative_periods_without_transaction_count_from_the_window_start():
    """Section 4: without a transaction implementations assume it starts now."""
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0), (H, 12.0)], kind="Relative")
    assert steps(evse([profile], transaction_start=None)) == [(0, 10.0), (H, 12.0)]


def test_relative_profile_has_no_period_before_the_transaction_starts():
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0)], kind="Relative")
    result = evse([profile], transaction_start=at(H), default_limit=48.0)
    assert steps(result) == [(0, 48.0), (H, 10.0)]


def test_recurring_daily_window_crossing_the_daily_start():
    """Section 4: before today's start time the previous occurrence applies."""
    daily = make_profile(
        1,
        TX_DEFAULT,
        [(0, 10.0), (6 * H, 20.0)],
        kind="Recurring",
        recurrency="Daily",
        start=datetime(2024, 3, 1, 12, tzinfo=UTC),
    )
    result = composite_schedule(
        [daily], evse_id=1, start=at(10 * H), duration_s=10 * H, charging_rate_unit="A"
    )
    # 10:00-12:00 yesterday's last period, 12:00 restart, 18:00 second period
    assert steps(result) == [(0, 20.0), (2 * H, 10.0), (8 * H, 20.0)]


def test_recurring_duration_cuts_each_occurrence():
    """Section 4: duration cuts each occurrence short; the lower stack level shows through."""
    base = make_profile(1, TX_DEFAULT, [(0, 6.0)])
    daily = make_profile(
        2,
        TX_DEFAULT,
        [(0, 32.0)],
        level=1,
        kind="Recurring",
        recurrency="Daily",
        start=datetime(2024, 2, 1, 22, tzinfo=UTC),
        duration=8 * H,
    )
    result = evse([base, daily], duration_s=2 * DAY)
    assert steps(result) == [
        (0, 32.0),
        (6 * H, 6.0),
        (22 * H, 32.0),
        (30 * H, 6.0),
        (46 * H, 32.0),
    ]


def test_recurring_period_never_extends_into_the_next_occurrence():
    """Section 4: a duration longer than the recurrence is cut at the next occurrence."""
    daily = make_profile(
        1,
        TX_DEFAULT,
        [(0, 10.0), (20 * H, 20.0)],
        kind="Recurring",
        recurrency="Daily",
        start=at(0),
        duration=2 * DAY,
    )
    result = evse([daily], duration_s=2 * DAY)
    assert steps(result) == [(0, 10.0), (20 * H, 20.0), (DAY, 10.0), (DAY + 20 * H, 20.0)]


def test_recurring_weekly_window_crossing_the_weekly_start():
    """Section 4: weekly occurrences every 7 days; the window spans Sunday to Monday."""
    weekly = make_profile(
        1,
        TX_DEFAULT,
        [(0, 16.0), (5 * DAY, 8.0)],  # weekdays 16 A, weekend 8 A
        kind="Recurring",
        recurrency="Weekly",
        start=datetime(2024, 1, 1, tzinfo=UTC),  # a Monday
    )
    result = composite_schedule(
        [weekly], evse_id=1, start=at(-6 * H), duration_s=12 * H, charging_rate_unit="A"
    )
    assert steps(result) == [(0, 8.0), (6 * H, 16.0)]


def test_recurring_profile_has_no_occurrence_before_its_start_schedule():
    """Interpretation: the recurrence begins at startSchedule (n >= 0)."""
    daily = make_profile(
        1, TX_DEFAULT, [(0, 10.0)], kind="Recurring", recurrency="Daily", start=at(H)
    )
    assert steps(evse([daily], default_limit=48.0)) == [(0, 48.0), (H, 10.0)]


def test_duration_ends_the_schedule():
    """Section 4 / schema: after duration the schedule has no period."""
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0), (H, 12.0)], duration=90 * 60)
    result = evse([profile], default_limit=0.0)
    assert steps(result) == [(0, 10.0), (H, 12.0), (90 * 60, 0.0)]


def test_period_starting_after_the_duration_is_dropped():
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0), (2 * H, 12.0)], duration=H)
    assert steps(evse([profile], default_limit=1.0)) == [(0, 10.0), (H, 1.0)]


# --- section 3.5: units and rounding ------------------------------------------------------


def test_amperes_to_watts_with_voltage_and_phases():
    profile = make_profile(1, TX_DEFAULT, [(0, 16.0)])
    assert steps(evse([profile], charging_rate_unit="W")) == [(0, 11040.0)]
    assert steps(evse([profile], charging_rate_unit="W", phases=1)) == [(0, 3680.0)]
    assert steps(evse([profile], charging_rate_unit="W", voltage_v=240)) == [(0, 11520.0)]


def test_period_number_phases_is_honoured_and_reported():
    """An A limit on one phase allows A x V x 1; the composite says numberPhases 1."""
    profile = make_profile(1, TX_DEFAULT, [(0, 16.0, 1), (H, 16.0, 3)])
    result = evse([profile], charging_rate_unit="W")
    assert steps(result) == [(0, 3680.0), (H, 11040.0)]
    assert [p.number_phases for p in result.schedule.charging_schedule_period] == [1, None]


def test_fewest_phases_of_the_prevailing_periods_are_in_use():
    """Mixed units compare per phase with the smallest phase count (section 3.5)."""
    tx = make_profile(1, TX, [(0, 16.0)], unit="A")
    station_max = make_profile(2, MAX, [(0, 22000.0, 1)], unit="W")
    result = evse([tx], station=[station_max], charging_rate_unit="W")
    assert steps(result) == [(0, 3680.0)]  # 16 A on one phase, below 22 kW
    assert result.schedule.charging_schedule_period[0].number_phases == 1
    in_amperes = evse([tx], station=[station_max], charging_rate_unit="A")
    assert steps(in_amperes) == [(0, 16.0)]


def test_watts_to_amperes_rounds_down():
    profile = make_profile(1, TX_DEFAULT, [(0, 11000.0), (H, 1000.0)], unit="W")
    # 11000 / 690 = 15.94 A, 1000 / 690 = 1.449 A
    assert steps(evse([profile])) == [(0, 15.9), (H, 1.4)]


def test_conversion_is_exact_on_the_decimal_values():
    """7.3 A x 230 V x 3 = 5037 W exactly; binary floats would give 5036.999..."""
    profile = make_profile(1, TX_DEFAULT, [(0, 7.3), (H, 0.7)])
    assert steps(evse([profile], charging_rate_unit="W")) == [(0, 5037.0), (H, 483.0)]
    watts = make_profile(2, TX_DEFAULT, [(0, 5037.0)], unit="W")
    assert steps(evse([watts])) == [(0, 7.3)]
    assert steps(evse([watts], voltage_v=229.5)) == [(0, 7.3)]  # 7.3159 A


def test_default_limit_is_rounded_down_too():
    assert steps(evse([], default_limit=16.09)) == [(0, 16.0)]


def test_same_unit_limits_are_kept_exactly():
    profile = make_profile(1, TX_DEFAULT, [(0, 7.3), (H, 0.1)], unit="W")
    assert steps(evse([profile], charging_rate_unit="W")) == [(0, 7.3), (H, 0.1)]


# --- where no profile applies ---------------------------------------------------------------


def test_default_limit_fills_where_no_profile_applies():
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0)], start=at(H), duration=H)
    result = evse([profile], default_limit=32.0)
    assert steps(result) == [(0, 32.0), (H, 10.0), (2 * H, 32.0)]


def test_without_default_limit_a_gap_is_an_error_naming_it():
    profile = make_profile(1, TX_DEFAULT, [(0, 10.0)], start=at(H), duration=H)
    with pytest.raises(InputError, match=r"default_limit.*2024-03-04T00:00:00") as info:
        evse([profile])
    assert info.value.field == "default_limit"


def test_no_profiles_at_all_gives_the_default_limit():
    result = evse([], default_limit=32.0, phases=1)
    assert steps(result) == [(0, 32.0)]
    assert result.schedule.charging_schedule_period[0].number_phases == 1
    assert result.profile.to_pairs() == [(T0, 32.0)]
    assert result.profile.end == at(3 * H)


# --- the result: profile, schedule and response ------------------------------------------


def test_schedule_shape_merges_equal_neighbours():
    tx = make_profile(1, TX, [(0, 20.0), (H, 20.0), (2 * H, 10.0)])
    station_max = make_profile(2, MAX, [(0, 16.0)], start=at(-H))
    result = evse([tx], station=[station_max], duration_s=4 * H)
    schedule = result.schedule
    assert schedule.evse_id == 1
    assert schedule.duration == 4 * H
    assert schedule.schedule_start == T0
    assert schedule.charging_rate_unit == "A"
    assert steps(result) == [(0, 16.0), (2 * H, 10.0)]


def test_profile_equals_schedule():
    tx = make_profile(1, TX, [(0, 20.0, 1), (H, 20.0), (2 * H, 10.0)])
    result = evse([tx], charging_rate_unit="A")
    assert [p.number_phases for p in result.schedule.charging_schedule_period] == [1, None, None]
    assert steps(result) == [(0, 20.0), (H, 20.0), (2 * H, 10.0)]
    np.testing.assert_array_equal(result.profile.t_s, [T0.timestamp(), T0.timestamp() + 2 * H])
    np.testing.assert_array_equal(result.profile.values, [20.0, 10.0])
    assert result.profile.end_s == T0.timestamp() + 3 * H


def test_response_validates_against_the_official_schema():
    tx = make_profile(1, TX, [(0, 20.0, 1), (H, 7.3)])
    station_max = make_profile(2, MAX, [(0, 11000.0)], unit="W")
    result = evse([tx], station=[station_max], charging_rate_unit="W")
    response = result.to_response()
    assert response.status == "Accepted"
    tree = json.loads(ocpp.to_json(response))
    assert list(validator("GetCompositeScheduleResponse").iter_errors(tree)) == []
    assert tree["schedule"]["chargingSchedulePeriod"][0] == {
        "startPeriod": 0,
        "limit": 4600.0,
        "numberPhases": 1,
    }
    assert ocpp.parse_message("GetCompositeScheduleResponse", tree) == response


# --- input errors --------------------------------------------------------------------------

DEFAULT = make_profile(1, TX_DEFAULT, [(0, 16.0)])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": datetime(2024, 3, 4)}, "start"),
        ({"start": T0.replace(microsecond=5)}, "start"),
        ({"transaction_start": datetime(2024, 3, 4)}, "transaction_start"),
        ({"duration_s": 0}, "duration_s"),
        ({"duration_s": -60}, "duration_s"),
        ({"duration_s": True}, "duration_s"),
        ({"duration_s": 2**31}, "duration_s"),
        ({"evse_id": -1}, "evse_id"),
        ({"evse_id": 1.0}, "evse_id"),
        ({"charging_rate_unit": "kW"}, "charging_rate_unit"),
        ({"voltage_v": 0}, "voltage_v"),
        ({"voltage_v": math.nan}, "voltage_v"),
        ({"phases": 4}, "phases"),
        ({"phases": True}, "phases"),
        ({"default_limit": -1.0}, "default_limit"),
        ({"default_limit": math.inf}, "default_limit"),
        ({"profiles": DEFAULT}, "profiles"),
        ({"profiles": ["not a profile"]}, "profiles[0]"),
        (
            {
                "station_profiles": [
                    ocpp.SetChargingProfileRequest(evse_id=0, charging_profile=DEFAULT)
                ]
            },
            "station_profiles[0]",
        ),
    ],
)
def test_bad_arguments_are_named(kwargs, field):
    arguments = {"profiles": [DEFAULT], "evse_id": 1, "start": T0, "duration_s": H} | kwargs
    with pytest.raises(InputError) as info:
        composite_schedule(arguments.pop("profiles"), **arguments)
    assert info.value.obj == "composite_schedule"
    assert info.value.field == field


def rejected(profiles=(), station=(), **kwargs) -> InputError:
    kwargs = {"evse_id": 1, "start": T0, "duration_s": H, "transaction_start": T0} | kwargs
    with pytest.raises(InputError) as info:
        composite_schedule(profiles, station_profiles=station, **kwargs)
    return info.value


def test_profile_for_another_evse_is_rejected():
    request = ocpp.SetChargingProfileRequest(evse_id=2, charging_profile=DEFAULT)
    error = rejected([request])
    assert error.field == "profiles[0].evseId"
    assert "another EVSE" in error.reason


def test_tx_profile_needs_the_transaction_start():
    error = rejected([make_profile(1, TX, [(0, 16.0)])], transaction_start=None)
    assert error.field == "transaction_start"
    assert "profiles[0]" in error.reason


def test_tx_profile_on_evse_0_is_rejected():
    tx = make_profile(1, TX, [(0, 16.0)])
    assert rejected(station=[tx]).field == "station_profiles[0]"
    assert rejected([tx], evse_id=0).field == "profiles[0]"


def test_station_max_profile_must_be_station_wide():
    error = rejected([make_profile(1, MAX, [(0, 16.0)])])
    assert error.field == "profiles[0]"
    assert "station_profiles" in error.reason


def test_tx_profiles_of_two_transactions_are_rejected():
    one = make_profile(1, TX, [(0, 16.0)], transaction_id="a")
    other = make_profile(2, TX, [(0, 16.0)], level=1, transaction_id="b")
    assert rejected([one, other]).field == "profiles"


def test_profile_needs_exactly_one_schedule():
    profile = DEFAULT.model_copy(update={"charging_schedule": DEFAULT.charging_schedule * 2})
    assert rejected([profile]).field == "profiles[0].chargingSchedule"


def test_duplicate_ids_are_rejected():
    assert (
        rejected([DEFAULT], [make_profile(1, MAX, [(0, 16.0)])]).field == "station_profiles[0].id"
    )


def test_same_purpose_and_stack_level_with_overlapping_validity_is_rejected():
    first = make_profile(1, TX_DEFAULT, [(0, 16.0)], valid_to=at(2 * H))
    second = make_profile(2, TX_DEFAULT, [(0, 8.0)], valid_from=at(H))
    assert rejected([first, second]).field == "profiles[1].stackLevel"
    # back to back is fine
    third = make_profile(3, TX_DEFAULT, [(0, 8.0)], valid_from=at(2 * H))
    result = evse([first, third], duration_s=3 * H)
    assert steps(result) == [(0, 16.0), (2 * H, 8.0)]


def test_number_phases_above_the_supply_is_rejected():
    profile = make_profile(1, TX_DEFAULT, [(0, 16.0, 3)])
    error = rejected([profile], phases=1)
    assert error.field == "profiles[0].chargingSchedule[0].chargingSchedulePeriod[0].numberPhases"


def test_sub_second_profile_times_are_rejected():
    profile = make_profile(1, TX_DEFAULT, [(0, 16.0)], start=T0.replace(microsecond=250_000))
    assert rejected([profile]).field == "profiles[0].chargingSchedule[0].startSchedule"


# --- properties ----------------------------------------------------------------------------

G = 900  # every generated time is a multiple of 15 min, so the composite is constant on them
PURPOSE_SLOTS = {  # (purpose, station-wide) pairs allowed on each EVSE id
    0: [(TX_DEFAULT, True), (MAX, True), (EXTERNAL, True)],
    1: [
        (TX, False),
        (TX_DEFAULT, False),
        (TX_DEFAULT, True),
        (MAX, True),
        (EXTERNAL, False),
        (EXTERNAL, True),
    ],
}
RECURRENCE_S = {"Daily": DAY, "Weekly": WEEK}


@dataclass(frozen=True)
class Spec:
    """A generated profile and where it is installed."""

    purpose: str
    station_wide: bool
    level: int
    kind: str
    recurrency: str | None
    start_s: int  # startSchedule, seconds from T0
    duration_s: int | None
    valid_from_s: int | None
    valid_to_s: int | None
    unit: str
    periods: tuple[tuple[int, float, int | None], ...]

    def model(self, profile_id: int) -> ocpp.ChargingProfile:
        return make_profile(
            profile_id,
            self.purpose,
            list(self.periods),
            kind=self.kind,
            level=self.level,
            unit=self.unit,
            start=at(self.start_s),
            duration=self.duration_s,
            recurrency=self.recurrency,
            valid_from=None if self.valid_from_s is None else at(self.valid_from_s),
            valid_to=None if self.valid_to_s is None else at(self.valid_to_s),
        )


@st.composite
def specs(draw, evse_id: int, phases: int) -> Spec:
    purpose, station_wide = draw(st.sampled_from(PURPOSE_SLOTS[evse_id]))
    kinds = ["Absolute", "Recurring"] + ([] if purpose == MAX else ["Relative"])
    kind = draw(st.sampled_from(kinds))
    recurrency = draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None
    unit = draw(st.sampled_from(["A", "W"]))
    tenths = st.integers(0, 640) if unit == "A" else st.integers(0, 250_000)
    offsets = draw(st.lists(st.integers(1, 48), max_size=3, unique=True).map(sorted))
    periods = tuple(
        (G * offset, draw(tenths) / 10, draw(st.none() | st.integers(1, phases)))
        for offset in [0, *offsets]
    )
    valid_from = draw(st.none() | st.integers(-96, 192))
    valid_to = draw(st.none() | st.integers(-96, 288))
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        valid_to = valid_from + draw(st.integers(1, 96))
    return Spec(
        purpose=purpose,
        station_wide=station_wide,
        level=draw(st.integers(0, 3)),
        kind=kind,
        recurrency=recurrency,
        start_s=G * draw(st.integers(-8 * 96, 2 * 96)),
        duration_s=draw(st.none() | st.integers(0, 200).map(lambda n: G * n)),
        valid_from_s=None if valid_from is None else G * valid_from,
        valid_to_s=None if valid_to is None else G * valid_to,
        unit=unit,
        periods=periods,
    )


@dataclass(frozen=True)
class Scenario:
    evse_id: int
    phases: int
    voltage_v: float
    unit: str
    start_s: int
    duration_s: int
    transaction_start_s: int | None
    default_limit: float | None
    specs: tuple[Spec, ...]

    def run(self) -> CompositeResult:
        models = [spec.model(i + 1) for i, spec in enumerate(self.specs)]
        return composite_schedule(
            [m for m, s in zip(models, self.specs, strict=True) if not s.station_wide],
            station_profiles=[m for m, s in zip(models, self.specs, strict=True) if s.station_wide],
            evse_id=self.evse_id,
            start=at(self.start_s),
            duration_s=self.duration_s,
            charging_rate_unit=self.unit,
            transaction_start=(
                None if self.transaction_start_s is None else at(self.transaction_start_s)
            ),
            voltage_v=self.voltage_v,
            phases=self.phases,
            default_limit=self.default_limit,
        )


@st.composite
def scenarios(draw) -> Scenario:
    evse_id = draw(st.sampled_from([0, 1]))
    phases = draw(st.integers(1, 3))
    profile_specs = draw(
        st.lists(
            specs(evse_id, phases),
            min_size=1,
            max_size=5,
            unique_by=lambda s: (s.purpose, s.station_wide, s.level),
        )
    )
    has_tx = any(spec.purpose == TX for spec in profile_specs)
    transaction = st.integers(-96, 96).map(lambda n: G * n)
    limits = st.integers(0, 100_000).map(lambda n: n / 10)
    return Scenario(
        evse_id=evse_id,
        phases=phases,
        voltage_v=draw(st.sampled_from([230.0, 229.5, 120.0, 400.0])),
        unit=draw(st.sampled_from(["A", "W"])),
        start_s=G * draw(st.integers(0, 96)),
        duration_s=G * draw(st.integers(1, 2 * 96)),
        transaction_start_s=draw(transaction if has_tx else st.none() | transaction),
        default_limit=draw(st.one_of(st.none(), limits, limits)),
        specs=tuple(profile_specs),
    )


def spec_limit_at(spec: Spec, t: int, scenario: Scenario) -> tuple[float, str, int | None] | None:
    """The limit one profile gives at t (seconds from T0), by the rules read literally."""
    if spec.valid_from_s is not None and t < spec.valid_from_s:
        return None
    if spec.valid_to_s is not None and t >= spec.valid_to_s:
        return None
    if spec.purpose == TX and t < scenario.transaction_start_s:
        return None
    if spec.kind == "Absolute":
        elapsed = t - spec.start_s
    elif spec.kind == "Relative":
        anchor = scenario.start_s
        if scenario.transaction_start_s is not None:
            anchor = scenario.transaction_start_s
        elapsed = t - anchor
    else:
        if t < spec.start_s:
            return None
        elapsed = (t - spec.start_s) % RECURRENCE_S[spec.recurrency]
    if elapsed < 0 or (spec.duration_s is not None and elapsed >= spec.duration_s):
        return None
    current = None
    for start_period, limit, number_phases in spec.periods:
        if start_period <= elapsed:
            current = (limit, spec.unit, number_phases)
    return current


def brute_force(scenario: Scenario, t: int):
    """(limit as Fraction or None, phase count) at t, evaluated independently."""
    prevailing = {}
    for purpose in (TX, TX_DEFAULT, MAX, EXTERNAL):
        best = None
        for spec in scenario.specs:
            if spec.purpose != purpose:
                continue
            value = spec_limit_at(spec, t, scenario)
            rank = (spec.level, not spec.station_wide)
            if value is not None and (best is None or rank > best[0]):
                best = (rank, value)
        prevailing[purpose] = None if best is None else best[1]
    if scenario.evse_id == 0:
        components = [prevailing[MAX], prevailing[EXTERNAL]]
    else:
        transaction = prevailing[TX] if prevailing[TX] is not None else prevailing[TX_DEFAULT]
        components = [transaction, prevailing[MAX], prevailing[EXTERNAL]]
    components = [c for c in components if c is not None]
    if not components:
        return None, scenario.phases, []
    n = min([scenario.phases] + [c[2] for c in components if c[2] is not None])
    volts = Fraction(str(scenario.voltage_v))
    values = []
    for limit, unit, _ in components:
        exact = Fraction(str(limit))
        if unit != scenario.unit:
            exact = exact * volts * n if scenario.unit == "W" else exact / (volts * n)
        values.append(exact)
    return min(values), n, components


def sample_times(scenario: Scenario) -> range:
    return range(scenario.start_s, scenario.start_s + scenario.duration_s, G)


def period_at(result: CompositeResult, offset_s: int) -> ocpp.ChargingSchedulePeriod:
    periods = result.schedule.charging_schedule_period
    return [p for p in periods if p.start_period <= offset_s][-1]


@settings(max_examples=150)
@given(scenarios())
def test_composite_equals_brute_force_evaluation(scenario):
    expected = [brute_force(scenario, t) for t in sample_times(scenario)]
    if scenario.default_limit is None and any(value is None for value, _, _ in expected):
        with pytest.raises(InputError) as info:
            scenario.run()
        assert info.value.field == "default_limit"
        return
    result = scenario.run()
    default = None if scenario.default_limit is None else Fraction(str(scenario.default_limit))
    for t, (value, n, _) in zip(sample_times(scenario), expected, strict=True):
        exact = default if value is None else value
        want = math.floor(exact * 10) / 10
        assert result.profile.value_at(at(t)) == want
        period = period_at(result, t - scenario.start_s)
        assert period.limit == want
        assert period.number_phases == (None if n == 3 else n)
    tree = json.loads(ocpp.to_json(result.to_response()))
    assert list(validator("GetCompositeScheduleResponse").iter_errors(tree)) == []
    periods = result.schedule.charging_schedule_period
    assert periods[0].start_period == 0
    assert all(
        (a.limit, a.number_phases) != (b.limit, b.number_phases) for a, b in pairwise(periods)
    )


@settings(max_examples=150)
@given(scenarios().filter(lambda s: s.default_limit is not None))
def test_composite_never_exceeds_a_prevailing_limit(scenario):
    result = scenario.run()
    volts = Fraction(str(scenario.voltage_v))
    for t in sample_times(scenario):
        composite = Fraction(str(result.profile.value_at(at(t))))
        period = period_at(result, t - scenario.start_s)
        n = period.number_phases or 3
        _, _, components = brute_force(scenario, t)
        for limit, unit, number_phases in components:
            assert n <= (number_phases or scenario.phases)
            bound = Fraction(str(limit))
            if unit == "A" and scenario.unit == "W":
                bound *= volts * n  # a per-phase current on the n phases in use
            elif unit == "W" and scenario.unit == "A":
                bound /= volts * n
            assert composite <= bound
            assert bound - composite < Fraction(1, 10) or len(components) > 1
