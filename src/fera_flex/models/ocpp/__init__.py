"""OCPP 2.0.1 smart-charging messages as pydantic models.

The models follow the official OCA JSON schemas (OCPP 2.0.1 FINAL): field
names, types, enums, required lists, lengths and array sizes. They also check
the smart-charging rules the schemas cannot express but the specification
states (first ``startPeriod`` 0, strictly increasing periods, TxProfile needs
an EVSE > 0 and a transactionId, ...); each rule names its requirement id in
the error message and in the docstring of the module that holds it.

On the wire names are camelCase (``evseId``); in Python they are snake_case
(``evse_id``); both are accepted on input. Unknown fields and ``customData``
survive a round trip; absent optional fields stay absent. dateTimes must carry
a UTC offset, are held as aware UTC datetimes and are written with ``Z``.
Limits stay in the wire units (W or A, Wh, V): no unit conversion happens here.

Examples
--------
>>> from datetime import datetime, timezone
>>> from fera_flex.models import ocpp
>>> request = ocpp.SetChargingProfileRequest(
...     evse_id=1,
...     charging_profile=ocpp.ChargingProfile(
...         id=7,
...         stack_level=0,
...         charging_profile_purpose=ocpp.ChargingProfilePurpose.TX_PROFILE,
...         charging_profile_kind=ocpp.ChargingProfileKind.ABSOLUTE,
...         transaction_id="tx-42",
...         charging_schedule=[
...             ocpp.ChargingSchedule(
...                 id=1,
...                 start_schedule=datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc),
...                 charging_rate_unit=ocpp.ChargingRateUnit.W,
...                 charging_schedule_period=[
...                     ocpp.ChargingSchedulePeriod(start_period=0, limit=11000.0),
...                     ocpp.ChargingSchedulePeriod(start_period=3600, limit=3700.0),
...                 ],
...             )
...         ],
...     ),
... )
>>> text = ocpp.to_json(request)
>>> text[:80]
'{"evseId":1,"chargingProfile":{"id":7,"stackLevel":0,"chargingProfilePurpose":"T'
>>> ocpp.parse_message("SetChargingProfile", text) == request
True
>>> ocpp.parse_message("SetChargingProfile", {"evseId": 0, "chargingProfile": {}})
Traceback (most recent call last):
    ...
pydantic_core._pydantic_core.ValidationError: 5 validation errors for OcppMessage
...
>>> ocpp.parse_message("Heartbeat", {})
Traceback (most recent call last):
    ...
fera_flex.errors.InputError: parse_message: action = 'Heartbeat': not a supported OCPP 2.0.1 ...
"""

from fera_flex.models.ocpp._base import CustomData, OcppModel, OcppObject
from fera_flex.models.ocpp._ev_charging import (
    ACChargingParameters,
    ChargingNeeds,
    DCChargingParameters,
    NotifyEVChargingNeedsRequest,
    NotifyEVChargingScheduleRequest,
)
from fera_flex.models.ocpp._messages import MESSAGE_TYPES, message_name, parse_message, to_json
from fera_flex.models.ocpp._profile import ChargingProfile
from fera_flex.models.ocpp._schedule import (
    ChargingSchedule,
    ChargingSchedulePeriod,
    CompositeSchedule,
)
from fera_flex.models.ocpp._smart_charging import (
    ClearChargingProfileCriteria,
    ClearChargingProfileRequest,
    ClearChargingProfileResponse,
    GetCompositeScheduleRequest,
    GetCompositeScheduleResponse,
    ReportChargingProfilesRequest,
    SetChargingProfileRequest,
    SetChargingProfileResponse,
    StatusInfo,
)
from fera_flex.models.ocpp._tariff import (
    ConsumptionCost,
    Cost,
    RelativeTimeInterval,
    SalesTariff,
    SalesTariffEntry,
)
from fera_flex.models.ocpp._transaction import (
    AdditionalInfo,
    Evse,
    IdToken,
    MeterValue,
    SampledValue,
    SignedMeterValue,
    Transaction,
    TransactionEventRequest,
    UnitOfMeasure,
)
from fera_flex.models.ocpp.enums import (
    ChargingLimitSource,
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    ChargingRateUnit,
    ChargingState,
    ClearChargingProfileStatus,
    CostKind,
    EnergyTransferMode,
    GenericStatus,
    IdTokenKind,
    Measurand,
    MeasurementLocation,
    Phase,
    ReadingContext,
    RecurrencyKind,
    StoppedReason,
    TransactionEventKind,
    TriggerReason,
)

__all__ = [
    "MESSAGE_TYPES",
    "ACChargingParameters",
    "AdditionalInfo",
    "ChargingLimitSource",
    "ChargingNeeds",
    "ChargingProfile",
    "ChargingProfileKind",
    "ChargingProfilePurpose",
    "ChargingProfileStatus",
    "ChargingRateUnit",
    "ChargingSchedule",
    "ChargingSchedulePeriod",
    "ChargingState",
    "ClearChargingProfileCriteria",
    "ClearChargingProfileRequest",
    "ClearChargingProfileResponse",
    "ClearChargingProfileStatus",
    "CompositeSchedule",
    "ConsumptionCost",
    "Cost",
    "CostKind",
    "CustomData",
    "DCChargingParameters",
    "EnergyTransferMode",
    "Evse",
    "GenericStatus",
    "GetCompositeScheduleRequest",
    "GetCompositeScheduleResponse",
    "IdToken",
    "IdTokenKind",
    "Measurand",
    "MeasurementLocation",
    "MeterValue",
    "NotifyEVChargingNeedsRequest",
    "NotifyEVChargingScheduleRequest",
    "OcppModel",
    "OcppObject",
    "Phase",
    "ReadingContext",
    "RecurrencyKind",
    "RelativeTimeInterval",
    "ReportChargingProfilesRequest",
    "SalesTariff",
    "SalesTariffEntry",
    "SampledValue",
    "SetChargingProfileRequest",
    "SetChargingProfileResponse",
    "SignedMeterValue",
    "StatusInfo",
    "StoppedReason",
    "Transaction",
    "TransactionEventKind",
    "TransactionEventRequest",
    "TriggerReason",
    "UnitOfMeasure",
    "message_name",
    "parse_message",
    "to_json",
]
