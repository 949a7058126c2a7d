"""OCPI 2.2.1 information objects.

Locations, Sessions, CDRs, Tariffs, Tokens, ChargingProfiles and the generic types.

Python attributes are snake_case as on the wire. Unknown fields are kept and
written back; absent optional fields are omitted from the JSON. DateTimes are
UTC: a string without zone designator is read as UTC and output carries ``Z``.
Field lengths follow the 2.2.1 errata (``reference/ocpi-objects.md``).

Examples
--------
>>> from fera_flex.models import ocpi
>>> prefs = ocpi.ChargingPreferences.model_validate_json(
...     '{"profile_type": "CHEAP", "departure_time": "2024-03-01T17:00:00", "energy_need": 20}')
>>> prefs.profile_type is ocpi.ProfileType.CHEAP, prefs.allows_discharge
(True, False)
>>> prefs.model_dump_json()
'{"profile_type":"CHEAP","departure_time":"2024-03-01T17:00:00Z","energy_need":20.0}'
"""

from fera_flex.models.ocpi._types import ci_equal, format_datetime, parse_datetime
from fera_flex.models.ocpi.cdrs import (
    CDR,
    CDR_DIMENSION_UNITS,
    SESSION_ONLY_DIMENSIONS,
    CdrDimension,
    CdrLocation,
    CdrToken,
    ChargingPeriod,
    SignedData,
    SignedValue,
)
from fera_flex.models.ocpi.charging_profiles import (
    ActiveChargingProfile,
    ActiveChargingProfileResult,
    ChargingProfile,
    ChargingProfilePeriod,
    ChargingProfileResponse,
    ChargingProfileResult,
    ClearProfileResult,
    SetChargingProfile,
)
from fera_flex.models.ocpi.energy_mix import (
    EnergyMix,
    EnergySource,
    EnvironmentalImpact,
)
from fera_flex.models.ocpi.enums import (
    AllowedType,
    AuthMethod,
    Capability,
    CdrDimensionType,
    ChargingPreferencesResponse,
    ChargingProfileResponseType,
    ChargingProfileResultType,
    ChargingRateUnit,
    ConnectorFormat,
    ConnectorType,
    DayOfWeek,
    EnergySourceCategory,
    EnvironmentalImpactCategory,
    Facility,
    ImageCategory,
    ParkingRestriction,
    ParkingType,
    PowerType,
    ProfileType,
    ReservationRestrictionType,
    SessionStatus,
    Status,
    TariffDimensionType,
    TariffType,
    TokenType,
    WhitelistType,
)
from fera_flex.models.ocpi.generic import (
    DisplayText,
    Price,
)
from fera_flex.models.ocpi.locations import (
    EVSE,
    PHASES_OF_POWER_TYPE,
    AdditionalGeoLocation,
    BusinessDetails,
    Connector,
    ExceptionalPeriod,
    GeoLocation,
    Hours,
    Image,
    Location,
    PublishTokenType,
    RegularHours,
    StatusSchedule,
)
from fera_flex.models.ocpi.patch import (
    apply_patch,
    patch_location,
)
from fera_flex.models.ocpi.sessions import (
    ChargingPreferences,
    Session,
    check_preferences_for_session,
)
from fera_flex.models.ocpi.tariffs import (
    PriceComponent,
    Tariff,
    TariffElement,
    TariffRestrictions,
)
from fera_flex.models.ocpi.tokens import (
    AuthorizationInfo,
    EnergyContract,
    LocationReferences,
    Token,
)
from fera_flex.models.ocpi.transport import (
    Response,
)

OCPI_VERSION = "2.2.1"
"""The OCPI version these models implement."""

__all__ = [
    "CDR",
    "CDR_DIMENSION_UNITS",
    "EVSE",
    "OCPI_VERSION",
    "PHASES_OF_POWER_TYPE",
    "SESSION_ONLY_DIMENSIONS",
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "AdditionalGeoLocation",
    "AllowedType",
    "AuthMethod",
    "AuthorizationInfo",
    "BusinessDetails",
    "Capability",
    "CdrDimension",
    "CdrDimensionType",
    "CdrLocation",
    "CdrToken",
    "ChargingPeriod",
    "ChargingPreferences",
    "ChargingPreferencesResponse",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResponseType",
    "ChargingProfileResult",
    "ChargingProfileResultType",
    "ChargingRateUnit",
    "ClearProfileResult",
    "Connector",
    "ConnectorFormat",
    "ConnectorType",
    "DayOfWeek",
    "DisplayText",
    "EnergyContract",
    "EnergyMix",
    "EnergySource",
    "EnergySourceCategory",
    "EnvironmentalImpact",
    "EnvironmentalImpactCategory",
    "ExceptionalPeriod",
    "Facility",
    "GeoLocation",
    "Hours",
    "Image",
    "ImageCategory",
    "Location",
    "LocationReferences",
    "ParkingRestriction",
    "ParkingType",
    "PowerType",
    "Price",
    "PriceComponent",
    "ProfileType",
    "PublishTokenType",
    "RegularHours",
    "ReservationRestrictionType",
    "Response",
    "Session",
    "SessionStatus",
    "SetChargingProfile",
    "SignedData",
    "SignedValue",
    "Status",
    "StatusSchedule",
    "Tariff",
    "TariffDimensionType",
    "TariffElement",
    "TariffRestrictions",
    "TariffType",
    "Token",
    "TokenType",
    "WhitelistType",
    "apply_patch",
    "check_preferences_for_session",
    "ci_equal",
    "format_datetime",
    "parse_datetime",
    "patch_location",
]
