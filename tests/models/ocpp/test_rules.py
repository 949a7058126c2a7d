"""One test per constraint: the schemas' own, and the specification's smart-charging rules.

Each case changes one value of a valid wire payload and expects a
``ValidationError`` whose location or message names the field (wire name).
"""

import math
from typing import Any

import pytest
from pydantic import ValidationError

from fera_flex.models import ocpp
from tests.models.ocpp.payloads import (
    DC,
    DELETE,
    ENTRY,
    PERIODS,
    PROFILE,
    SCHEDULE,
    TARIFF,
    changed,
    clear_by_id,
    composite_response,
    ev_charging_needs,
    ev_charging_schedule,
    report,
    set_station_max,
    set_tx_default_relative,
    set_tx_profile,
    transaction_event,
)

BASES = {
    ocpp.SetChargingProfileRequest: [set_tx_profile, set_station_max, set_tx_default_relative],
    ocpp.ClearChargingProfileRequest: [clear_by_id],
    ocpp.NotifyEVChargingNeedsRequest: [ev_charging_needs],
    ocpp.NotifyEVChargingScheduleRequest: [ev_charging_schedule],
    ocpp.GetCompositeScheduleResponse: [composite_response],
    ocpp.ReportChargingProfilesRequest: [report],
    ocpp.TransactionEventRequest: [transaction_event],
}


def assert_rejected(cls, payload: dict[str, Any], field: str, fragment: str) -> None:
    """``cls`` rejects ``payload``, with an error naming ``field`` that contains ``fragment``."""
    with pytest.raises(ValidationError) as info:
        cls.model_validate(payload)
    naming = [
        error
        for error in info.value.errors()
        if field in [str(part) for part in error["loc"]] or field in error["msg"]
    ]
    assert naming, info.value.errors()
    assert any(fragment in error["msg"] for error in naming), info.value.errors()


@pytest.mark.parametrize(
    ("cls", "base"),
    [(cls, base) for cls, bases in BASES.items() for base in bases],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_base_payloads_are_valid_and_round_trip(cls, base):
    payload = base()
    assert cls.model_validate(payload).model_dump(mode="json") == payload


def _case(case_id, cls, base, path, value, field, fragment):
    return pytest.param(cls, base, path, value, field, fragment, id=case_id)


SET = ocpp.SetChargingProfileRequest
NEEDS = ocpp.NotifyEVChargingNeedsRequest

SCHEMA_CONSTRAINTS = [
    # required properties
    _case("required-evseId", SET, set_tx_profile, ("evseId",), DELETE, "evseId", "required"),
    _case(
        "required-chargingSchedule",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingSchedule"),
        DELETE,
        "chargingSchedule",
        "required",
    ),
    _case(
        "required-limit", SET, set_tx_profile, (*PERIODS, 0, "limit"), DELETE, "limit", "required"
    ),
    _case(
        "required-vendorId",
        SET,
        set_tx_profile,
        ("customData",),
        {"note": "no vendor"},
        "vendorId",
        "required",
    ),
    _case(
        "required-evMinCurrent",
        NEEDS,
        ev_charging_needs,
        ("chargingNeeds", "acChargingParameters", "evMinCurrent"),
        DELETE,
        "evMinCurrent",
        "required",
    ),
    # maxLength
    _case(
        "maxLength-transactionId-36",
        SET,
        set_tx_profile,
        (*PROFILE, "transactionId"),
        "t" * 37,
        "transactionId",
        "at most 36",
    ),
    _case(
        "maxLength-vendorId-255",
        SET,
        set_tx_profile,
        ("customData",),
        {"vendorId": "v" * 256},
        "vendorId",
        "at most 255",
    ),
    _case(
        "maxLength-salesTariffDescription-32",
        SET,
        set_tx_profile,
        (*TARIFF, "salesTariffDescription"),
        "d" * 33,
        "salesTariffDescription",
        "at most 32",
    ),
    _case(
        "maxLength-reasonCode-20",
        ocpp.GetCompositeScheduleResponse,
        composite_response,
        ("statusInfo", "reasonCode"),
        "r" * 21,
        "reasonCode",
        "at most 20",
    ),
    _case(
        "maxLength-additionalInfo-512",
        ocpp.GetCompositeScheduleResponse,
        composite_response,
        ("statusInfo", "additionalInfo"),
        "i" * 513,
        "additionalInfo",
        "at most 512",
    ),
    _case(
        "maxLength-idToken-36",
        ocpp.TransactionEventRequest,
        transaction_event,
        ("idToken", "idToken"),
        "i" * 37,
        "idToken",
        "at most 36",
    ),
    # minItems / maxItems
    _case(
        "minItems-chargingSchedule-1",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingSchedule"),
        [],
        "chargingSchedule",
        "at least 1",
    ),
    _case(
        "maxItems-chargingSchedule-3",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingSchedule"),
        set_tx_profile()["chargingProfile"]["chargingSchedule"] * 4,
        "chargingSchedule",
        "at most 3",
    ),
    _case(
        "minItems-chargingSchedulePeriod-1",
        SET,
        set_tx_profile,
        PERIODS,
        [],
        "chargingSchedulePeriod",
        "at least 1",
    ),
    _case(
        "maxItems-chargingSchedulePeriod-1024",
        SET,
        set_tx_profile,
        PERIODS,
        [{"startPeriod": 60 * i, "limit": 6.0} for i in range(1025)],
        "chargingSchedulePeriod",
        "at most 1024",
    ),
    _case(
        "minItems-salesTariffEntry-1",
        SET,
        set_tx_profile,
        (*TARIFF, "salesTariffEntry"),
        [],
        "salesTariffEntry",
        "at least 1",
    ),
    _case(
        "minItems-consumptionCost-1",
        SET,
        set_tx_profile,
        (*ENTRY, "consumptionCost"),
        [],
        "consumptionCost",
        "at least 1",
    ),
    _case(
        "maxItems-cost-3",
        SET,
        set_tx_profile,
        (*ENTRY, "consumptionCost", 0, "cost"),
        [{"costKind": "CarbonDioxideEmission", "amount": 1}] * 4,
        "cost",
        "at most 3",
    ),
    _case(
        "minItems-report-chargingProfile-1",
        ocpp.ReportChargingProfilesRequest,
        report,
        ("chargingProfile",),
        [],
        "chargingProfile",
        "at least 1",
    ),
    _case(
        "minItems-composite-chargingSchedulePeriod-1",
        ocpp.GetCompositeScheduleResponse,
        composite_response,
        ("schedule", "chargingSchedulePeriod"),
        [],
        "chargingSchedulePeriod",
        "at least 1",
    ),
    _case(
        "minItems-meterValue-1",
        ocpp.TransactionEventRequest,
        transaction_event,
        ("meterValue",),
        [],
        "meterValue",
        "at least 1",
    ),
    _case(
        "minItems-sampledValue-1",
        ocpp.TransactionEventRequest,
        transaction_event,
        ("meterValue", 0, "sampledValue"),
        [],
        "sampledValue",
        "at least 1",
    ),
    # enums (case-sensitive)
    _case(
        "enum-chargingProfilePurpose",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingProfilePurpose"),
        "ChargePointMaxProfile",
        "chargingProfilePurpose",
        "Input should be",
    ),
    _case(
        "enum-chargingProfileKind-case",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingProfileKind"),
        "absolute",
        "chargingProfileKind",
        "Input should be",
    ),
    _case(
        "enum-chargingRateUnit",
        SET,
        set_tx_profile,
        (*SCHEDULE, "chargingRateUnit"),
        "kW",
        "chargingRateUnit",
        "Input should be",
    ),
    _case(
        "enum-requestedEnergyTransfer",
        NEEDS,
        ev_charging_needs,
        ("chargingNeeds", "requestedEnergyTransfer"),
        "AC",
        "requestedEnergyTransfer",
        "Input should be",
    ),
    _case(
        "enum-status",
        ocpp.GetCompositeScheduleResponse,
        composite_response,
        ("status",),
        "Unknown",
        "status",
        "Input should be",
    ),
    # JSON types
    _case("type-integer-string", SET, set_tx_profile, ("evseId",), "1", "evseId", "valid integer"),
    _case("type-integer-bool", SET, set_tx_profile, ("evseId",), True, "evseId", "valid integer"),
    _case("type-integer-float", SET, set_tx_profile, ("evseId",), 1.0, "evseId", "valid integer"),
    _case(
        "type-integer-32-bit",
        SET,
        set_tx_profile,
        (*PROFILE, "id"),
        2**31,
        "id",
        "less than or equal to 2147483647",
    ),
    _case(
        "type-number-string",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "limit"),
        "16",
        "limit",
        "valid number",
    ),
    _case(
        "type-number-bool",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "limit"),
        True,
        "limit",
        "valid number",
    ),
    _case(
        "type-boolean-string",
        ocpp.ReportChargingProfilesRequest,
        report,
        ("tbc",),
        "false",
        "tbc",
        "valid boolean",
    ),
    _case(
        "type-date-time",
        SET,
        set_tx_profile,
        (*PROFILE, "validFrom"),
        "yesterday",
        "validFrom",
        "RFC 3339",
    ),
    # ranges stated in the schemas
    _case(
        "minimum-ePriceLevel-0",
        SET,
        set_tx_profile,
        (*ENTRY, "ePriceLevel"),
        -1,
        "ePriceLevel",
        "greater than or equal to 0",
    ),
    _case(
        "maximum-stateOfCharge-100",
        NEEDS,
        ev_charging_needs,
        (*DC, "stateOfCharge"),
        101,
        "stateOfCharge",
        "less than or equal to 100",
    ),
    _case(
        "minimum-fullSoC-0",
        NEEDS,
        ev_charging_needs,
        (*DC, "fullSoC"),
        -1,
        "fullSoC",
        "greater than or equal to 0",
    ),
    _case(
        "maximum-bulkSoC-100",
        NEEDS,
        ev_charging_needs,
        (*DC, "bulkSoC"),
        101,
        "bulkSoC",
        "less than or equal to 100",
    ),
    _case(
        "description-amountMultiplier-3",
        SET,
        set_tx_profile,
        (*ENTRY, "consumptionCost", 0, "cost", 0, "amountMultiplier"),
        4,
        "amountMultiplier",
        "less than or equal to 3",
    ),
]


@pytest.mark.parametrize(("cls", "base", "path", "value", "field", "fragment"), SCHEMA_CONSTRAINTS)
def test_schema_constraint_is_enforced(cls, base, path, value, field, fragment):
    assert_rejected(cls, changed(base(), path, value), field, fragment)


SPEC_RULES = [
    # schedule periods
    _case(
        "K01.FR.31-first-startPeriod-0",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "startPeriod"),
        60,
        "startPeriod",
        "K01.FR.31",
    ),
    _case(
        "K01.FR.35-startPeriod-repeated",
        SET,
        set_tx_profile,
        (*PERIODS, 1, "startPeriod"),
        0,
        "startPeriod",
        "K01.FR.35",
    ),
    _case(
        "K01.FR.35-startPeriod-decreasing",
        SET,
        set_tx_profile,
        PERIODS,
        [
            {"startPeriod": 0, "limit": 6.0},
            {"startPeriod": 900, "limit": 6.0},
            {"startPeriod": 600, "limit": 6.0},
        ],
        "chargingSchedulePeriod[2].startPeriod",
        "K01.FR.35",
    ),
    _case(
        "K01.FR.31-composite-schedule",
        ocpp.GetCompositeScheduleResponse,
        composite_response,
        ("schedule", "chargingSchedulePeriod", 0, "startPeriod"),
        5,
        "startPeriod",
        "K01.FR.31",
    ),
    _case(
        "elapsed-time-startPeriod-non-negative",
        ocpp.ChargingSchedulePeriod,
        lambda: {"startPeriod": 0, "limit": 1.0},
        ("startPeriod",),
        -1,
        "startPeriod",
        "greater than or equal to 0",
    ),
    _case(
        "elapsed-time-duration-non-negative",
        SET,
        set_tx_profile,
        (*SCHEDULE, "duration"),
        -60,
        "duration",
        "greater than or equal to 0",
    ),
    _case(
        "limit-one-fractional-digit",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "limit"),
        16.25,
        "limit",
        "at most one",
    ),
    _case(
        "minChargingRate-one-fractional-digit",
        SET,
        set_tx_profile,
        (*SCHEDULE, "minChargingRate"),
        1.25,
        "minChargingRate",
        "at most one",
    ),
    _case("limit-finite", SET, set_tx_profile, (*PERIODS, 0, "limit"), math.inf, "limit", "finite"),
    _case(
        "numberPhases-at-least-1",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "numberPhases"),
        0,
        "numberPhases",
        "greater than or equal to 1",
    ),
    _case(
        "numberPhases-at-most-3",
        SET,
        set_tx_profile,
        (*PERIODS, 0, "numberPhases"),
        4,
        "numberPhases",
        "less than or equal to 3",
    ),
    _case(
        "phaseToUse-at-most-3",
        SET,
        set_tx_profile,
        (*PERIODS, 1, "phaseToUse"),
        4,
        "phaseToUse",
        "less than or equal to 3",
    ),
    _case(
        "K01.FR.19-phaseToUse-needs-numberPhases-1",
        SET,
        set_tx_profile,
        (*PERIODS, 1, "numberPhases"),
        3,
        "phaseToUse",
        "K01.FR.19",
    ),
    _case(
        "K01.FR.19-phaseToUse-without-numberPhases",
        SET,
        set_tx_profile,
        (*PERIODS, 1, "numberPhases"),
        DELETE,
        "phaseToUse",
        "absent means 3",
    ),
    # charging profile
    _case(
        "stackLevel-non-negative",
        SET,
        set_tx_profile,
        (*PROFILE, "stackLevel"),
        -1,
        "stackLevel",
        "greater than or equal to 0",
    ),
    _case(
        "transactionId-only-with-TxProfile",
        SET,
        set_tx_default_relative,
        (*PROFILE, "transactionId"),
        "tx-1",
        "transactionId",
        "only allowed with chargingProfilePurpose = 'TxProfile'",
    ),
    _case(
        "K01.FR.38-station-max-not-relative",
        SET,
        set_station_max,
        (*PROFILE, "chargingProfileKind"),
        "Relative",
        "chargingProfileKind",
        "K01.FR.38",
    ),
    _case(
        "recurring-needs-recurrencyKind",
        SET,
        set_tx_profile,
        (*PROFILE, "chargingProfileKind"),
        "Recurring",
        "recurrencyKind",
        "needs recurrencyKind",
    ),
    _case(
        "K01.FR.40-absolute-needs-startSchedule",
        SET,
        set_tx_profile,
        (*SCHEDULE, "startSchedule"),
        DELETE,
        "startSchedule",
        "K01.FR.40",
    ),
    _case(
        "K01.FR.40-recurring-needs-startSchedule",
        SET,
        lambda: changed(
            changed(set_tx_profile(), (*PROFILE, "chargingProfileKind"), "Recurring"),
            (*PROFILE, "recurrencyKind"),
            "Daily",
        ),
        (*SCHEDULE, "startSchedule"),
        DELETE,
        "startSchedule",
        "K01.FR.40",
    ),
    _case(
        "K01.FR.41-relative-has-no-startSchedule",
        SET,
        set_tx_default_relative,
        (*SCHEDULE, "startSchedule"),
        "2024-03-01T08:00:00Z",
        "startSchedule",
        "K01.FR.41",
    ),
    _case(
        "validFrom-before-validTo-equal",
        SET,
        lambda: changed(set_tx_profile(), (*PROFILE, "validFrom"), "2024-03-01T10:00:00Z"),
        (*PROFILE, "validTo"),
        "2024-03-01T12:00:00+02:00",
        "validTo",
        "must be after validFrom",
    ),
    _case(
        "validFrom-before-validTo-reversed",
        SET,
        lambda: changed(set_tx_profile(), (*PROFILE, "validFrom"), "2024-03-01T10:00:00Z"),
        (*PROFILE, "validTo"),
        "2024-03-01T09:00:00Z",
        "validTo",
        "must be after validFrom",
    ),
    # SetChargingProfileRequest
    _case(
        "evseId-non-negative",
        SET,
        set_tx_default_relative,
        ("evseId",),
        -1,
        "evseId",
        "greater than or equal to 0",
    ),
    _case(
        "K01.FR.16-TxProfile-evseId-gt-0",
        SET,
        set_tx_profile,
        ("evseId",),
        0,
        "evseId",
        "K01.FR.16",
    ),
    _case(
        "K01.FR.03-TxProfile-needs-transactionId",
        SET,
        set_tx_profile,
        (*PROFILE, "transactionId"),
        DELETE,
        "transactionId",
        "K01.FR.03",
    ),
    _case(
        "K01.FR.03-station-max-on-evse-0",
        SET,
        set_station_max,
        ("evseId",),
        2,
        "evseId",
        "ChargingStationMaxProfile",
    ),
    _case(
        "K01.FR.22-csms-sets-no-external-constraints",
        SET,
        set_station_max,
        (*PROFILE, "chargingProfilePurpose"),
        "ChargingStationExternalConstraints",
        "chargingProfilePurpose",
        "K01.FR.22",
    ),
    # ClearChargingProfileRequest
    _case(
        "K10.FR.02-id-or-criterion",
        ocpp.ClearChargingProfileRequest,
        clear_by_id,
        ("chargingProfileId",),
        DELETE,
        "chargingProfileCriteria",
        "K10.FR.02",
    ),
    _case(
        "K10.FR.02-empty-criteria",
        ocpp.ClearChargingProfileRequest,
        lambda: {},
        ("chargingProfileCriteria",),
        {"customData": {"vendorId": "x"}},
        "chargingProfileCriteria",
        "K10.FR.02",
    ),
    _case(
        "K10.FR.06-external-constraints-not-cleared",
        ocpp.ClearChargingProfileRequest,
        clear_by_id,
        ("chargingProfileCriteria",),
        {"chargingProfilePurpose": "ChargingStationExternalConstraints"},
        "chargingProfilePurpose",
        "K10.FR.06",
    ),
    _case(
        "criteria-evseId-non-negative",
        ocpp.ClearChargingProfileRequest,
        clear_by_id,
        ("chargingProfileCriteria",),
        {"evseId": -1},
        "evseId",
        "greater than or equal to 0",
    ),
    # EVSE-bound messages
    _case(
        "NotifyEVChargingNeeds-evseId-not-0",
        NEEDS,
        ev_charging_needs,
        ("evseId",),
        0,
        "evseId",
        "greater than or equal to 1",
    ),
    _case(
        "NotifyEVChargingSchedule-evseId-gt-0",
        ocpp.NotifyEVChargingScheduleRequest,
        ev_charging_schedule,
        ("evseId",),
        0,
        "evseId",
        "greater than or equal to 1",
    ),
    _case(
        "EVSEType-id-gt-0",
        ocpp.TransactionEventRequest,
        transaction_event,
        ("evse", "id"),
        0,
        "id",
        "greater than or equal to 1",
    ),
    _case(
        "GetCompositeSchedule-duration-non-negative",
        ocpp.GetCompositeScheduleRequest,
        lambda: {"duration": 3600, "evseId": 0},
        ("duration",),
        -1,
        "duration",
        "greater than or equal to 0",
    ),
]


@pytest.mark.parametrize(("cls", "base", "path", "value", "field", "fragment"), SPEC_RULES)
def test_spec_rule_is_enforced(cls, base, path, value, field, fragment):
    assert_rejected(cls, changed(base(), path, value), field, fragment)


@pytest.mark.parametrize(
    ("cls", "payload"),
    [
        pytest.param(
            SET,
            changed(
                changed(set_station_max(), (*PROFILE, "chargingProfileKind"), "Recurring"),
                (*PROFILE, "recurrencyKind"),
                "Weekly",
            ),
            id="recurring-station-max-with-recurrencyKind-and-startSchedule",
        ),
        pytest.param(
            SET, changed(set_tx_default_relative(), ("evseId",), 0), id="TxDefault-evse-0"
        ),
        pytest.param(
            SET,
            changed(
                set_tx_profile(),
                (*PROFILE, "chargingSchedule"),
                set_tx_profile()["chargingProfile"]["chargingSchedule"] * 3,
            ),
            id="three-schedules",
        ),
        pytest.param(
            ocpp.ClearChargingProfileRequest,
            {"chargingProfileCriteria": {"evseId": 0}},
            id="clear-by-criterion",
        ),
        pytest.param(
            ocpp.ReportChargingProfilesRequest,
            changed(
                report(),
                ("chargingProfile", 0, "chargingProfilePurpose"),
                "ChargingStationExternalConstraints",
            ),
            id="report-external-constraints",
        ),
    ],
)
def test_allowed_edge_cases_are_accepted(cls, payload):
    assert cls.model_validate(payload).model_dump(mode="json") == payload


def test_rules_are_checked_on_assignment_too():
    request = SET.model_validate(set_tx_profile())
    with pytest.raises(ValidationError, match=r"K01\.FR\.16"):
        request.evse_id = 0
