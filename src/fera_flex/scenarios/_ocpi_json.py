"""Small builders of OCPI 2.2.1 JSON objects for generated scenarios."""

from datetime import datetime
from typing import Any

from fera_flex.models.ocpi import format_datetime

__all__ = ["ac_evse", "format_datetime", "location", "session"]

_CPO = {"country_code": "NL", "party_id": "FFX"}
_SMART = ["CHARGING_PROFILE_CAPABLE", "CHARGING_PREFERENCES_CAPABLE", "RFID_READER"]


def ac_evse(uid: str, phases: int, amperage_a: int, updated: datetime) -> dict[str, Any]:
    """An AC EVSE with one Type 2 socket: 230 V, ``phases`` x ``amperage_a``."""
    stamp = format_datetime(updated)
    return {
        "uid": uid,
        "evse_id": f"NL*FFX*E{uid.replace('-', '')}",
        "status": "AVAILABLE",
        "capabilities": _SMART,
        "connectors": [
            {
                "id": "1",
                "standard": "IEC_62196_T2",
                "format": "SOCKET",
                "power_type": "AC_3_PHASE" if phases == 3 else "AC_1_PHASE",
                "max_voltage": 230,
                "max_amperage": amperage_a,
                "last_updated": stamp,
            }
        ],
        "last_updated": stamp,
    }


def location(
    location_id: str,
    name: str | None,
    address: str,
    city: str,
    coordinates: tuple[str, str],
    evses: list[dict[str, Any]],
    updated: datetime,
    parking_type: str = "PARKING_LOT",
) -> dict[str, Any]:
    """A published Dutch Location with the given EVSEs (``name`` omitted when None)."""
    result = {
        **_CPO,
        "id": location_id,
        "publish": True,
        "address": address,
        "city": city,
        "country": "NLD",
        "coordinates": {"latitude": coordinates[0], "longitude": coordinates[1]},
        "parking_type": parking_type,
        "evses": evses,
        "time_zone": "Europe/Amsterdam",
        "last_updated": format_datetime(updated),
    }
    if name is not None:
        result["name"] = name
    return result


def session(
    session_id: str, location_id: str, evse_uid: str, start: datetime, token_uid: str
) -> dict[str, Any]:
    """An ACTIVE Session that has not delivered energy yet."""
    stamp = format_datetime(start)
    return {
        **_CPO,
        "id": session_id,
        "start_date_time": stamp,
        "kwh": 0.0,
        "cdr_token": {
            "country_code": "NL",
            "party_id": "MSP",
            "uid": token_uid,
            "type": "RFID",
            "contract_id": f"NL-MSP-{token_uid}",
        },
        "auth_method": "WHITELIST",
        "location_id": location_id,
        "evse_uid": evse_uid,
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": stamp,
    }
