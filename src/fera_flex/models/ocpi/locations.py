"""OCPI 2.2.1 Locations module: Location, EVSE, Connector and their parts.

Examples
--------
>>> conn = Connector.model_validate({
...     "id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
...     "power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 16,
...     "last_updated": "2024-01-01T00:00:00Z"})
>>> conn.max_power_kw
11.04
"""

from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex import units
from fera_flex.models._scalars import require_order
from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import (
    URL,
    Boolean,
    CiString,
    DateTime,
    Latitude,
    LocalTime,
    Longitude,
    NonNegativeInt,
    String,
)
from fera_flex.models.ocpi.energy_mix import EnergyMix
from fera_flex.models.ocpi.enums import (
    Capability,
    ConnectorFormat,
    ConnectorType,
    Facility,
    ImageCategory,
    ParkingRestriction,
    ParkingType,
    PowerType,
    Status,
    TokenType,
)
from fera_flex.models.ocpi.generic import DisplayText

__all__ = [
    "EVSE",
    "PHASES_OF_POWER_TYPE",
    "AdditionalGeoLocation",
    "BusinessDetails",
    "Connector",
    "ExceptionalPeriod",
    "GeoLocation",
    "Hours",
    "Image",
    "Location",
    "PublishTokenType",
    "RegularHours",
    "StatusSchedule",
]

PHASES_OF_POWER_TYPE: dict[PowerType, int] = {
    PowerType.AC_1_PHASE: 1,
    PowerType.AC_2_PHASE: 2,
    PowerType.AC_2_PHASE_SPLIT: 2,
    PowerType.AC_3_PHASE: 3,
    PowerType.DC: 1,
}
"""Number of conductors carrying ``max_amperage`` at ``max_voltage`` (DC counts as 1)."""

_Int5 = Annotated[NonNegativeInt, Field(le=99_999)]


class GeoLocation(OcpiModel):
    """WGS 84 coordinates as JSON strings with 5 to 7 decimals."""

    latitude: Latitude
    longitude: Longitude


class AdditionalGeoLocation(GeoLocation):
    """A related point of a Location (an entrance, an exit), optionally named."""

    name: DisplayText | None = None


class Image(OcpiModel):
    """A link to an image (photo, logo) and what it shows."""

    url: URL
    thumbnail: URL | None = None
    category: ImageCategory
    type: CiString(4)
    width: _Int5 | None = None
    height: _Int5 | None = None


class BusinessDetails(OcpiModel):
    """Name, website and logo of an operator, suboperator or owner."""

    name: String(100)
    website: URL | None = None
    logo: Image | None = None


class RegularHours(OcpiModel):
    """Opening hours on one weekday (1 = Monday ... 7 = Sunday), local time."""

    weekday: Annotated[NonNegativeInt, Field(ge=1, le=7)]
    period_begin: LocalTime
    period_end: LocalTime

    @model_validator(mode="after")
    def _end_after_begin(self) -> Self:
        require_order("period_begin", self.period_begin, "period_end", self.period_end)
        return self


class ExceptionalPeriod(OcpiModel):
    """An exceptional opening or closing period (UTC)."""

    period_begin: DateTime
    period_end: DateTime

    @model_validator(mode="after")
    def _end_after_begin(self) -> Self:
        require_order("period_begin", self.period_begin, "period_end", self.period_end)
        return self


class Hours(OcpiModel):
    """Opening times of a Location.

    With ``twentyfourseven`` false, ``regular_hours`` must hold at least one
    entry. With it true, ``regular_hours`` are not used (the spec's words) and
    are kept as sent.
    """

    twentyfourseven: Boolean
    regular_hours: list[RegularHours] | None = None
    exceptional_openings: list[ExceptionalPeriod] | None = None
    exceptional_closings: list[ExceptionalPeriod] | None = None

    @model_validator(mode="after")
    def _regular_hours_when_not_247(self) -> Self:
        if not self.twentyfourseven and not self.regular_hours:
            raise ValueError(
                "regular_hours must contain at least one entry when twentyfourseven is false"
            )
        return self


class StatusSchedule(OcpiModel):
    """A planned status of an EVSE over a period."""

    period_begin: DateTime
    period_end: DateTime | None = None
    status: Status

    @model_validator(mode="after")
    def _end_not_before_begin(self) -> Self:
        require_order(
            "period_begin", self.period_begin, "period_end", self.period_end, strict=False
        )
        return self


class PublishTokenType(OcpiModel):
    """A token (or token group) allowed to see an unpublished Location."""

    uid: CiString(36) | None = None
    type: TokenType | None = None
    visual_number: String(64) | None = None
    issuer: String(64) | None = None
    group_id: CiString(36) | None = None

    @model_validator(mode="after")
    def _identifies_a_token(self) -> Self:
        if self.uid is None and self.visual_number is None and self.group_id is None:
            raise ValueError("at least one of uid, visual_number or group_id must be set")
        if self.uid is not None and self.type is None:
            raise ValueError(f"type must be set when uid is set (uid={self.uid!r})")
        if self.visual_number is not None and self.issuer is None:
            raise ValueError(
                f"issuer must be set when visual_number is set "
                f"(visual_number={self.visual_number!r})"
            )
        return self


class Connector(OcpiModel):
    """One socket or cable of an EVSE, with its electrical limits.

    ``max_voltage`` is line-to-neutral for AC_3_PHASE [V]; ``max_amperage``
    per phase [A]; ``max_electric_power`` [W] when lower than their product.
    """

    id: CiString(36)
    standard: ConnectorType
    format: ConnectorFormat
    power_type: PowerType
    max_voltage: NonNegativeInt
    max_amperage: NonNegativeInt
    max_electric_power: NonNegativeInt | None = None
    tariff_ids: list[CiString(36)] | None = None
    terms_and_conditions: URL | None = None
    last_updated: DateTime

    @property
    def phases(self) -> int:
        """Number of conductors carrying ``max_amperage`` (DC: 1)."""
        return PHASES_OF_POWER_TYPE[self.power_type]

    @property
    def max_power_kw(self) -> float:
        """Maximum power of the connector [kW].

        ``phases * max_voltage * max_amperage``, capped by
        ``max_electric_power`` when that is given.
        """
        if self.max_voltage == 0:
            power_kw = 0.0
        else:
            power_kw = units.kw_from_current_a(
                float(self.max_amperage), voltage_v=float(self.max_voltage), phases=self.phases
            )
        if self.max_electric_power is not None:
            power_kw = min(power_kw, units.kw_from_w(float(self.max_electric_power)))
        return power_kw


def _check_unique(kind: str, key: str, ids: list[str]) -> None:
    seen: dict[str, str] = {}
    for value in ids:
        folded = value.casefold()
        if folded in seen:
            raise ValueError(
                f"{kind} {key} must be unique (compared case-insensitively): "
                f"{seen[folded]!r} and {value!r}"
            )
        seen[folded] = value


class EVSE(OcpiModel):
    """An EVSE: one vehicle at a time, one or more connectors (one in use)."""

    uid: CiString(36)
    evse_id: CiString(48) | None = None
    status: Status
    status_schedule: list[StatusSchedule] | None = None
    capabilities: list[Capability] | None = None
    connectors: Annotated[list[Connector], Field(min_length=1)]
    floor_level: String(4) | None = None
    coordinates: GeoLocation | None = None
    physical_reference: String(16) | None = None
    directions: list[DisplayText] | None = None
    parking_restrictions: list[ParkingRestriction] | None = None
    images: list[Image] | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _unique_connector_ids(self) -> Self:
        _check_unique("Connector", "id", [c.id for c in self.connectors])
        return self

    @property
    def max_power_kw(self) -> float:
        """Maximum power of the EVSE [kW]: its strongest connector (one is used at a time)."""
        return max(connector.max_power_kw for connector in self.connectors)

    def connector(self, connector_id: str) -> Connector:
        """Return the connector with this id (compared case-insensitively).

        Raises
        ------
        KeyError
            With the EVSE uid and the connector id, if there is none.
        """
        for candidate in self.connectors:
            if candidate.id.casefold() == connector_id.casefold():
                return candidate
        raise KeyError(f"EVSE {self.uid!r} has no connector {connector_id!r}")


class Location(OcpiModel):
    """A charging location: address, coordinates, EVSEs and opening times."""

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    publish: Boolean
    publish_allowed_to: list[PublishTokenType] | None = None
    name: String(255) | None = None
    address: String(255)
    city: String(45)
    postal_code: String(10) | None = None
    state: String(45) | None = None
    country: String(3)
    coordinates: GeoLocation
    related_locations: list[AdditionalGeoLocation] | None = None
    parking_type: ParkingType | None = None
    evses: list[EVSE] | None = None
    directions: list[DisplayText] | None = None
    operator: BusinessDetails | None = None
    suboperator: BusinessDetails | None = None
    owner: BusinessDetails | None = None
    facilities: list[Facility] | None = None
    time_zone: String(255)
    opening_times: Hours | None = None
    charging_when_closed: Boolean | None = None
    images: list[Image] | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Self:
        if self.publish and self.publish_allowed_to:
            raise ValueError("publish_allowed_to may only be set when publish is false")
        _check_unique("EVSE", "uid", [evse.uid for evse in self.evses or ()])
        return self

    def evse(self, evse_uid: str) -> EVSE:
        """Return the EVSE with this uid (compared case-insensitively).

        Raises
        ------
        KeyError
            With the Location id and the EVSE uid, if there is none.
        """
        for candidate in self.evses or ():
            if candidate.uid.casefold() == evse_uid.casefold():
                return candidate
        raise KeyError(f"Location {self.id!r} has no EVSE {evse_uid!r}")
