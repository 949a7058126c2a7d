"""Hypothesis strategies that build valid OCPP 2.0.1 model instances.

Every optional field is drawn as absent or present, every list at its
allowed sizes (kept small for speed), and the cross-field rules are respected
by construction, so each drawn message must validate against its schema.
"""

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from fera_flex.models import ocpp
from fera_flex.models.ocpp._types import INT32_MAX, INT32_MIN

int32 = st.integers(INT32_MIN, INT32_MAX)
non_negative = st.integers(0, INT32_MAX)
positive = st.integers(1, INT32_MAX)
percentages = st.integers(0, 100)
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
one_decimal = st.integers(-(10**7), 10**7).map(lambda tenths: tenths / 10)
_ZONES = st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]
)
datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=_ZONES
).map(lambda value: value.replace(microsecond=value.microsecond // 1000 * 1000))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | numbers | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)


def text(max_length: int) -> st.SearchStrategy[str]:
    """Strings up to the schema's maxLength; the full length is drawn too."""
    return st.text(max_size=min(max_length, 24)) | st.text(
        min_size=max_length, max_size=max_length, alphabet="xé€"
    )


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def model(cls, **fields: st.SearchStrategy) -> st.SearchStrategy:
    """Instances of ``cls`` from one strategy per field (by Python name).

    Unlike ``st.builds``, nothing is inferred from the signature (pydantic's
    signature uses the camelCase aliases).
    """
    return st.fixed_dictionaries(fields).map(lambda values: cls(**values))


custom_data = st.builds(
    lambda vendor_id, extra: ocpp.CustomData.model_validate({"vendorId": vendor_id, **extra}),
    text(255),
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda key: key not in {"vendorId", "vendor_id"}),
        json_values,
        max_size=2,
    ),
)
maybe_custom_data = optional(custom_data)


@st.composite
def schedule_periods(draw, max_size: int = 4) -> list[ocpp.ChargingSchedulePeriod]:
    later_starts = draw(st.lists(st.integers(1, 10**6), unique=True, max_size=max_size - 1))
    periods = []
    for start in [0, *sorted(later_starts)]:
        number_phases = draw(optional(st.integers(1, 3)))
        phase_to_use = draw(optional(st.integers(1, 3))) if number_phases == 1 else None
        periods.append(
            ocpp.ChargingSchedulePeriod(
                start_period=start,
                limit=draw(one_decimal),
                number_phases=number_phases,
                phase_to_use=phase_to_use,
                custom_data=draw(maybe_custom_data),
            )
        )
    return periods


costs = model(
    ocpp.Cost,
    cost_kind=st.sampled_from(ocpp.CostKind),
    amount=int32,
    amount_multiplier=optional(st.integers(-3, 3)),
    custom_data=maybe_custom_data,
)
sales_tariffs = model(
    ocpp.SalesTariff,
    id=int32,
    sales_tariff_description=optional(text(32)),
    num_e_price_levels=optional(int32),
    sales_tariff_entry=st.lists(
        model(
            ocpp.SalesTariffEntry,
            relative_time_interval=model(
                ocpp.RelativeTimeInterval,
                start=non_negative,
                duration=optional(non_negative),
                custom_data=maybe_custom_data,
            ),
            e_price_level=optional(non_negative),
            consumption_cost=optional(
                st.lists(
                    model(
                        ocpp.ConsumptionCost,
                        start_value=numbers,
                        cost=st.lists(costs, min_size=1, max_size=3),
                        custom_data=maybe_custom_data,
                    ),
                    min_size=1,
                    max_size=3,
                )
            ),
            custom_data=maybe_custom_data,
        ),
        min_size=1,
        max_size=2,
    ),
    custom_data=maybe_custom_data,
)


def charging_schedules(start_schedule: st.SearchStrategy) -> st.SearchStrategy:
    return model(
        ocpp.ChargingSchedule,
        id=int32,
        start_schedule=start_schedule,
        duration=optional(non_negative),
        charging_rate_unit=st.sampled_from(ocpp.ChargingRateUnit),
        charging_schedule_period=schedule_periods(),
        min_charging_rate=optional(one_decimal),
        sales_tariff=optional(sales_tariffs),
        custom_data=maybe_custom_data,
    )


@st.composite
def charging_profiles(
    draw, purposes=tuple(ocpp.ChargingProfilePurpose), with_transaction_id: bool | None = None
) -> ocpp.ChargingProfile:
    purpose = draw(st.sampled_from(purposes))
    kinds = list(ocpp.ChargingProfileKind)
    if purpose is ocpp.ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE:
        kinds.remove(ocpp.ChargingProfileKind.RELATIVE)
    kind = draw(st.sampled_from(kinds))
    recurring = kind is ocpp.ChargingProfileKind.RECURRING
    start = st.none() if kind is ocpp.ChargingProfileKind.RELATIVE else datetimes
    valid_from, valid_to = draw(optional(datetimes)), draw(optional(datetimes))
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        valid_to = valid_from + timedelta(seconds=draw(st.integers(1, 10**8)))
    transaction_id = None
    if purpose is ocpp.ChargingProfilePurpose.TX_PROFILE:
        if with_transaction_id is None:
            transaction_id = draw(optional(text(36)))
        elif with_transaction_id:
            transaction_id = draw(text(36))
    return ocpp.ChargingProfile(
        id=draw(int32),
        stack_level=draw(non_negative),
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=draw(st.sampled_from(ocpp.RecurrencyKind)) if recurring else None,
        valid_from=valid_from,
        valid_to=valid_to,
        charging_schedule=draw(st.lists(charging_schedules(start), min_size=1, max_size=3)),
        transaction_id=transaction_id,
        custom_data=draw(maybe_custom_data),
    )


@st.composite
def set_charging_profile_requests(draw) -> ocpp.SetChargingProfileRequest:
    purpose = ocpp.ChargingProfilePurpose
    profile = draw(
        charging_profiles(
            purposes=(
                purpose.CHARGING_STATION_MAX_PROFILE,
                purpose.TX_DEFAULT_PROFILE,
                purpose.TX_PROFILE,
            ),
            with_transaction_id=True,
        )
    )
    evse_ids = {purpose.CHARGING_STATION_MAX_PROFILE: st.just(0), purpose.TX_PROFILE: positive}
    return ocpp.SetChargingProfileRequest(
        evse_id=draw(evse_ids.get(profile.charging_profile_purpose, non_negative)),
        charging_profile=profile,
        custom_data=draw(maybe_custom_data),
    )


status_infos = optional(
    model(
        ocpp.StatusInfo,
        reason_code=text(20),
        additional_info=optional(text(512)),
        custom_data=maybe_custom_data,
    )
)


def responses(cls, statuses) -> st.SearchStrategy:
    return model(
        cls,
        status=st.sampled_from(statuses),
        status_info=status_infos,
        custom_data=maybe_custom_data,
    )


@st.composite
def clear_charging_profile_requests(draw) -> ocpp.ClearChargingProfileRequest:
    purposes = [
        purpose
        for purpose in ocpp.ChargingProfilePurpose
        if purpose is not ocpp.ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS
    ]
    profile_id = draw(optional(int32))
    criteria = draw(
        optional(
            model(
                ocpp.ClearChargingProfileCriteria,
                evse_id=optional(non_negative),
                charging_profile_purpose=optional(st.sampled_from(purposes)),
                stack_level=optional(non_negative),
                custom_data=maybe_custom_data,
            )
        )
    )
    has_criterion = criteria is not None and any(
        value is not None
        for value in (criteria.evse_id, criteria.charging_profile_purpose, criteria.stack_level)
    )
    if profile_id is None and not has_criterion:
        criteria = ocpp.ClearChargingProfileCriteria(stack_level=draw(non_negative))
    return ocpp.ClearChargingProfileRequest(
        charging_profile_id=profile_id,
        charging_profile_criteria=criteria,
        custom_data=draw(maybe_custom_data),
    )


get_composite_schedule_responses = model(
    ocpp.GetCompositeScheduleResponse,
    status=st.sampled_from(ocpp.GenericStatus),
    status_info=status_infos,
    schedule=optional(
        model(
            ocpp.CompositeSchedule,
            evse_id=non_negative,
            duration=non_negative,
            schedule_start=datetimes,
            charging_rate_unit=st.sampled_from(ocpp.ChargingRateUnit),
            charging_schedule_period=schedule_periods(),
            custom_data=maybe_custom_data,
        )
    ),
    custom_data=maybe_custom_data,
)

notify_ev_charging_needs_requests = model(
    ocpp.NotifyEVChargingNeedsRequest,
    max_schedule_tuples=optional(int32),
    charging_needs=model(
        ocpp.ChargingNeeds,
        ac_charging_parameters=optional(
            model(
                ocpp.ACChargingParameters,
                energy_amount=int32,
                ev_min_current=int32,
                ev_max_current=int32,
                ev_max_voltage=int32,
                custom_data=maybe_custom_data,
            )
        ),
        dc_charging_parameters=optional(
            model(
                ocpp.DCChargingParameters,
                ev_max_current=int32,
                ev_max_voltage=int32,
                energy_amount=optional(int32),
                ev_max_power=optional(int32),
                state_of_charge=optional(percentages),
                ev_energy_capacity=optional(int32),
                full_soc=optional(percentages),
                bulk_soc=optional(percentages),
                custom_data=maybe_custom_data,
            )
        ),
        requested_energy_transfer=st.sampled_from(ocpp.EnergyTransferMode),
        departure_time=optional(datetimes),
        custom_data=maybe_custom_data,
    ),
    evse_id=positive,
    custom_data=maybe_custom_data,
)

notify_ev_charging_schedule_requests = model(
    ocpp.NotifyEVChargingScheduleRequest,
    time_base=datetimes,
    charging_schedule=charging_schedules(optional(datetimes)),
    evse_id=positive,
    custom_data=maybe_custom_data,
)

sampled_values = model(
    ocpp.SampledValue,
    value=numbers,
    context=optional(st.sampled_from(ocpp.ReadingContext)),
    measurand=optional(st.sampled_from(ocpp.Measurand)),
    phase=optional(st.sampled_from(ocpp.Phase)),
    location=optional(st.sampled_from(ocpp.MeasurementLocation)),
    signed_meter_value=optional(
        model(
            ocpp.SignedMeterValue,
            signed_meter_data=text(2500),
            signing_method=text(50),
            encoding_method=text(50),
            public_key=text(2500),
            custom_data=maybe_custom_data,
        )
    ),
    unit_of_measure=optional(
        model(
            ocpp.UnitOfMeasure,
            unit=optional(text(20)),
            multiplier=optional(int32),
            custom_data=maybe_custom_data,
        )
    ),
    custom_data=maybe_custom_data,
)

transaction_event_requests = model(
    ocpp.TransactionEventRequest,
    event_type=st.sampled_from(ocpp.TransactionEventKind),
    meter_value=optional(
        st.lists(
            model(
                ocpp.MeterValue,
                sampled_value=st.lists(sampled_values, min_size=1, max_size=2),
                timestamp=datetimes,
                custom_data=maybe_custom_data,
            ),
            min_size=1,
            max_size=2,
        )
    ),
    timestamp=datetimes,
    trigger_reason=st.sampled_from(ocpp.TriggerReason),
    seq_no=int32,
    offline=optional(st.booleans()),
    number_of_phases_used=optional(int32),
    cable_max_current=optional(int32),
    reservation_id=optional(int32),
    transaction_info=model(
        ocpp.Transaction,
        transaction_id=text(36),
        charging_state=optional(st.sampled_from(ocpp.ChargingState)),
        time_spent_charging=optional(non_negative),
        stopped_reason=optional(st.sampled_from(ocpp.StoppedReason)),
        remote_start_id=optional(int32),
        custom_data=maybe_custom_data,
    ),
    evse=optional(
        model(ocpp.Evse, id=positive, connector_id=optional(int32), custom_data=maybe_custom_data)
    ),
    id_token=optional(
        model(
            ocpp.IdToken,
            additional_info=optional(
                st.lists(
                    model(
                        ocpp.AdditionalInfo,
                        additional_id_token=text(36),
                        type=text(50),
                        custom_data=maybe_custom_data,
                    ),
                    min_size=1,
                    max_size=2,
                )
            ),
            id_token=text(36),
            type=st.sampled_from(ocpp.IdTokenKind),
            custom_data=maybe_custom_data,
        )
    ),
    custom_data=maybe_custom_data,
)

MESSAGES: dict[str, st.SearchStrategy] = {
    "SetChargingProfileRequest": set_charging_profile_requests(),
    "SetChargingProfileResponse": responses(
        ocpp.SetChargingProfileResponse, ocpp.ChargingProfileStatus
    ),
    "ClearChargingProfileRequest": clear_charging_profile_requests(),
    "ClearChargingProfileResponse": responses(
        ocpp.ClearChargingProfileResponse, ocpp.ClearChargingProfileStatus
    ),
    "GetCompositeScheduleRequest": model(
        ocpp.GetCompositeScheduleRequest,
        duration=non_negative,
        charging_rate_unit=optional(st.sampled_from(ocpp.ChargingRateUnit)),
        evse_id=non_negative,
        custom_data=maybe_custom_data,
    ),
    "GetCompositeScheduleResponse": get_composite_schedule_responses,
    "ReportChargingProfilesRequest": model(
        ocpp.ReportChargingProfilesRequest,
        request_id=int32,
        charging_limit_source=st.sampled_from(ocpp.ChargingLimitSource),
        charging_profile=st.lists(charging_profiles(), min_size=1, max_size=2),
        tbc=optional(st.booleans()),
        evse_id=non_negative,
        custom_data=maybe_custom_data,
    ),
    "NotifyEVChargingNeedsRequest": notify_ev_charging_needs_requests,
    "NotifyEVChargingScheduleRequest": notify_ev_charging_schedule_requests,
    "TransactionEventRequest": transaction_event_requests,
}
"""A strategy of valid instances for every supported message, by message name."""
