"""OCPI 2.2.1 Tokens module: Token, EnergyContract, AuthorizationInfo, LocationReferences."""

from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import Boolean, CiString, DateTime, String
from fera_flex.models.ocpi.enums import AllowedType, ProfileType, TokenType, WhitelistType
from fera_flex.models.ocpi.generic import DisplayText

__all__ = ["AuthorizationInfo", "EnergyContract", "LocationReferences", "Token"]


class EnergyContract(OcpiModel):
    """The driver's own energy supplier and contract."""

    supplier_name: String(64)
    contract_id: String(64) | None = None


class Token(OcpiModel):
    """A charging token (RFID card, app user) issued by an eMSP.

    ``default_profile_type`` is the smart-charging preference used when a
    session has no ChargingPreferences of its own.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    uid: CiString(36)
    type: TokenType
    contract_id: CiString(36)
    visual_number: String(64) | None = None
    issuer: String(64)
    group_id: CiString(36) | None = None
    valid: Boolean
    whitelist: WhitelistType
    language: String(2) | None = None
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: DateTime


class LocationReferences(OcpiModel):
    """A Location and, optionally, some of its EVSEs, in an authorisation request."""

    location_id: CiString(36)
    evse_uids: list[CiString(36)] | None = None


class AuthorizationInfo(OcpiModel):
    """The eMSP's answer to a real-time authorisation request."""

    allowed: AllowedType
    token: Token
    location: LocationReferences | None = None
    authorization_reference: CiString(36) | None = None
    info: DisplayText | None = None
