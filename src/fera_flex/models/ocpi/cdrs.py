"""OCPI 2.2.1 CDRs module: CDR, CdrToken, CdrLocation, ChargingPeriod, CdrDimension.

ChargingPeriod and CdrToken are shared with the Sessions module.

The unit of each CdrDimensionType is in :data:`CDR_DIMENSION_UNITS`. The
ENERGY dimension is defined in kWh; the spec's own session examples use
Wh-like numbers there, so no sum of ENERGY volumes is compared with a
session's ``kwh``.
"""

from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex.models._scalars import require_order
from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import (
    Boolean,
    CiString,
    DateTime,
    Int,
    Number,
    String,
)
from fera_flex.models.ocpi.enums import (
    AuthMethod,
    CdrDimensionType,
    ConnectorFormat,
    ConnectorType,
    PowerType,
    TokenType,
)
from fera_flex.models.ocpi.generic import Price
from fera_flex.models.ocpi.locations import GeoLocation
from fera_flex.models.ocpi.tariffs import Tariff

__all__ = [
    "CDR",
    "CDR_DIMENSION_UNITS",
    "SESSION_ONLY_DIMENSIONS",
    "CdrDimension",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "SignedData",
    "SignedValue",
]

CDR_DIMENSION_UNITS: dict[CdrDimensionType, str] = {
    CdrDimensionType.CURRENT: "A",
    CdrDimensionType.ENERGY: "kWh",
    CdrDimensionType.ENERGY_EXPORT: "kWh",
    CdrDimensionType.ENERGY_IMPORT: "kWh",
    CdrDimensionType.MAX_CURRENT: "A",
    CdrDimensionType.MIN_CURRENT: "A",
    CdrDimensionType.MAX_POWER: "kW",
    CdrDimensionType.MIN_POWER: "kW",
    CdrDimensionType.PARKING_TIME: "h",
    CdrDimensionType.POWER: "kW",
    CdrDimensionType.RESERVATION_TIME: "h",
    CdrDimensionType.STATE_OF_CHARGE: "%",
    CdrDimensionType.TIME: "h",
}
"""Unit of the ``volume`` of each CdrDimensionType."""

SESSION_ONLY_DIMENSIONS = frozenset(
    {
        CdrDimensionType.CURRENT,
        CdrDimensionType.ENERGY_EXPORT,
        CdrDimensionType.ENERGY_IMPORT,
        CdrDimensionType.POWER,
        CdrDimensionType.STATE_OF_CHARGE,
    }
)
"""Dimensions that SHALL NOT appear in a CDR (only in a Session)."""

_NON_NEGATIVE_DIMENSIONS = frozenset(
    {
        CdrDimensionType.ENERGY_EXPORT,
        CdrDimensionType.ENERGY_IMPORT,
        CdrDimensionType.PARKING_TIME,
        CdrDimensionType.RESERVATION_TIME,
        CdrDimensionType.TIME,
    }
)
_NON_CREDIT_ID_MAX_LENGTH = 36


class CdrDimension(OcpiModel):
    """One measured quantity of a ChargingPeriod, in the unit of its type.

    Time, import and export volumes must be >= 0 and a state of charge lies
    in [0, 100] %; ENERGY, CURRENT and POWER may be negative (net export).
    """

    type: CdrDimensionType
    volume: Number

    @model_validator(mode="after")
    def _volume_fits_unit(self) -> Self:
        unit = CDR_DIMENSION_UNITS[self.type]
        if self.type in _NON_NEGATIVE_DIMENSIONS and self.volume < 0:
            raise ValueError(f"volume of a {self.type.value} dimension [{unit}] must be >= 0")
        if self.type is CdrDimensionType.STATE_OF_CHARGE and not 0 <= self.volume <= 100:
            raise ValueError("volume of a STATE_OF_CHARGE dimension [%] must be in [0, 100]")
        return self


class ChargingPeriod(OcpiModel):
    """A period of a Session or CDR; it ends where the next one starts."""

    start_date_time: DateTime
    dimensions: Annotated[list[CdrDimension], Field(min_length=1)]
    tariff_id: CiString(36) | None = None


class CdrToken(OcpiModel):
    """The token that started a Session (country_code and party_id new in 2.2.1).

    ``contract_id`` is not checked against the eMA ID pattern: the spec only
    recommends it and its own examples do not follow it.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    uid: CiString(36)
    type: TokenType
    contract_id: CiString(36)


class CdrLocation(OcpiModel):
    """A snapshot of the Location and EVSE as they were at session start.

    ``address`` and ``state`` keep their 2.2.1 lengths (45 and 20); the errata
    lengthened them only on Location.
    """

    id: CiString(36)
    name: String(255) | None = None
    address: String(45)
    city: String(45)
    postal_code: String(10) | None = None
    state: String(20) | None = None
    country: String(3)
    coordinates: GeoLocation
    evse_uid: CiString(36)
    evse_id: CiString(48)
    connector_id: CiString(36)
    connector_standard: ConnectorType
    connector_format: ConnectorFormat
    connector_power_type: PowerType


class SignedValue(OcpiModel):
    """One signed meter value (lengths per the 2.2.1 errata)."""

    nature: CiString(32)
    plain_data: String(5000)
    signed_data: String(5000)


class SignedData(OcpiModel):
    """Signed meter data of a charging session."""

    encoding_method: CiString(36)
    encoding_method_version: Int | None = None
    public_key: String(512) | None = None
    signed_values: Annotated[list[SignedValue], Field(min_length=1)]
    url: String(512) | None = None


class CDR(OcpiModel):
    """A Charge Detail Record: what a finished session delivered and cost.

    Rules checked: ``end_date_time`` not before ``start_date_time``; a credit
    CDR names ``credit_reference_id``; a non-credit id is at most 36
    characters; ``total_energy``, ``total_time`` and ``total_parking_time`` are
    >= 0 (credit CDRs, which reverse an earlier CDR, are exempt) and parking
    time does not exceed total time; no session-only dimension appears in a
    charging period.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(39)
    start_date_time: DateTime
    end_date_time: DateTime
    session_id: CiString(36) | None = None
    cdr_token: CdrToken
    auth_method: AuthMethod
    authorization_reference: CiString(36) | None = None
    cdr_location: CdrLocation
    meter_id: String(255) | None = None
    currency: String(3)
    tariffs: list[Tariff] | None = None
    charging_periods: Annotated[list[ChargingPeriod], Field(min_length=1)]
    signed_data: SignedData | None = None
    total_cost: Price
    total_fixed_cost: Price | None = None
    total_energy: Number
    total_energy_cost: Price | None = None
    total_time: Number
    total_time_cost: Price | None = None
    total_parking_time: Number | None = None
    total_parking_cost: Price | None = None
    total_reservation_cost: Price | None = None
    remark: String(255) | None = None
    invoice_reference_id: CiString(39) | None = None
    credit: Boolean | None = None
    credit_reference_id: CiString(39) | None = None
    home_charging_compensation: Boolean | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Self:
        require_order(
            "start_date_time",
            self.start_date_time,
            "end_date_time",
            self.end_date_time,
            strict=False,
        )
        if self.credit:
            if self.credit_reference_id is None:
                raise ValueError("credit_reference_id must be set when credit is true")
        else:
            self._check_non_credit()
        for index, period in enumerate(self.charging_periods):
            for dimension in period.dimensions:
                if dimension.type in SESSION_ONLY_DIMENSIONS:
                    raise ValueError(
                        f"charging_periods[{index}]: dimension {dimension.type.value} may only "
                        "appear in a Session, not in a CDR"
                    )
        return self

    def _check_non_credit(self) -> None:
        if len(self.id) > _NON_CREDIT_ID_MAX_LENGTH:
            raise ValueError(
                f"id {self.id!r} has {len(self.id)} characters; only credit CDRs may exceed "
                f"{_NON_CREDIT_ID_MAX_LENGTH}"
            )
        for name in ("total_energy", "total_time", "total_parking_time"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} = {value} must be >= 0 (only credit CDRs are negative)")
        if self.total_parking_time is not None and self.total_parking_time > self.total_time:
            raise ValueError(
                f"total_parking_time ({self.total_parking_time} h) exceeds "
                f"total_time ({self.total_time} h)"
            )
