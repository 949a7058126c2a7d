"""Valid wire payloads of OCPP 2.0.1 messages, and a helper to vary one value."""

import copy
from typing import Any

DELETE = object()

PROFILE = ("chargingProfile",)
SCHEDULE = (*PROFILE, "chargingSchedule", 0)
PERIODS = (*SCHEDULE, "chargingSchedulePeriod")
TARIFF = (*SCHEDULE, "salesTariff")
ENTRY = (*TARIFF, "salesTariffEntry", 0)
DC = ("chargingNeeds", "dcChargingParameters")


def set_tx_profile() -> dict[str, Any]:
    """A valid SetChargingProfileRequest with an absolute TxProfile and a sales tariff."""
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 10,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": "tx-1",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2024-03-01T08:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0},
                        {"startPeriod": 1800, "limit": 8.1, "numberPhases": 1, "phaseToUse": 2},
                    ],
                    "salesTariff": {
                        "id": 1,
                        "salesTariffEntry": [
                            {
                                "relativeTimeInterval": {"start": 0},
                                "ePriceLevel": 1,
                                "consumptionCost": [
                                    {
                                        "startValue": 0,
                                        "cost": [
                                            {"costKind": "RelativePricePercentage", "amount": 5}
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                }
            ],
        },
    }


def set_station_max() -> dict[str, Any]:
    payload = set_tx_profile()
    payload["evseId"] = 0
    profile = payload["chargingProfile"]
    profile["chargingProfilePurpose"] = "ChargingStationMaxProfile"
    del profile["transactionId"]
    return payload


def set_tx_default_relative() -> dict[str, Any]:
    payload = set_tx_profile()
    profile = payload["chargingProfile"]
    profile.update(chargingProfilePurpose="TxDefaultProfile", chargingProfileKind="Relative")
    del profile["transactionId"]
    del profile["chargingSchedule"][0]["startSchedule"]
    return payload


def clear_by_id() -> dict[str, Any]:
    return {"chargingProfileId": 10}


def ev_charging_needs() -> dict[str, Any]:
    return {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "departureTime": "2024-03-01T17:00:00Z",
            "dcChargingParameters": {"evMaxCurrent": 200, "evMaxVoltage": 800, "stateOfCharge": 40},
            "acChargingParameters": {
                "energyAmount": 20000,
                "evMinCurrent": 6,
                "evMaxCurrent": 32,
                "evMaxVoltage": 400,
            },
        },
    }


def ev_charging_schedule() -> dict[str, Any]:
    return {
        "timeBase": "2024-03-01T08:00:00Z",
        "evseId": 1,
        "chargingSchedule": {
            "id": 1,
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
        },
    }


def composite_response() -> dict[str, Any]:
    return {
        "status": "Accepted",
        "statusInfo": {"reasonCode": "Ok"},
        "schedule": {
            "evseId": 0,
            "duration": 3600,
            "scheduleStart": "2024-03-01T08:00:00Z",
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 22000}],
        },
    }


def report() -> dict[str, Any]:
    return {
        "requestId": 3,
        "chargingLimitSource": "CSO",
        "evseId": 0,
        "tbc": False,
        "chargingProfile": [set_station_max()["chargingProfile"]],
    }


def transaction_event() -> dict[str, Any]:
    return {
        "eventType": "Started",
        "timestamp": "2024-03-01T08:00:00Z",
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1", "chargingState": "EVConnected"},
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
        "meterValue": [{"timestamp": "2024-03-01T08:00:00Z", "sampledValue": [{"value": 1234.5}]}],
    }


def changed(payload: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    """A copy of ``payload`` with the value at ``path`` replaced (or deleted)."""
    result = copy.deepcopy(payload)
    node = result
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return result
