"""Smart-charging messages between CSMS and station (use cases K01, K08, K09, K10).

Rules checked here besides the schemas' own (see the class docstrings):

- SetChargingProfileRequest: a ``TxProfile`` goes to an EVSE > 0 (K01.FR.16)
  and carries a ``transactionId`` (K01.FR.03); a ``ChargingStationMaxProfile``
  goes to EVSE 0 (K01.FR.03 as cited by EVerest libocpp; OCPP 1.6 3.13.1:
  "can only be set at Charge Point ConnectorId 0"); the CSMS does not set
  ``ChargingStationExternalConstraints`` (K01.FR.22).
- ClearChargingProfileRequest: a profile id or at least one criterion
  (K10.FR.02); no criterion purpose ``ChargingStationExternalConstraints``
  (K10.FR.06).
- EVSE ids are >= 0 (0 is the whole station) and durations >= 0 s.
"""

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._profile import ChargingProfile
from fera_flex.models.ocpp._schedule import CompositeSchedule
from fera_flex.models.ocpp._types import Boolean, Integer, NonNegativeInteger, String
from fera_flex.models.ocpp.enums import (
    ChargingLimitSource,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    ChargingRateUnit,
    ClearChargingProfileStatus,
    GenericStatus,
)

__all__ = [
    "ClearChargingProfileCriteria",
    "ClearChargingProfileRequest",
    "ClearChargingProfileResponse",
    "GetCompositeScheduleRequest",
    "GetCompositeScheduleResponse",
    "ReportChargingProfilesRequest",
    "SetChargingProfileRequest",
    "SetChargingProfileResponse",
    "StatusInfo",
]

_EXTERNAL = ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS


class StatusInfo(OcppObject):
    """More information about a response's status (schema ``StatusInfoType``).

    Attributes
    ----------
    reason_code : str
        Predefined, case-insensitive reason code, at most 20 characters.
    additional_info : str or None
        Free text, at most 512 characters.
    """

    ocpp_type: ClassVar[str] = "StatusInfoType"

    reason_code: String(20)
    additional_info: String(512) | None = None


class _Response(OcppObject):
    """Fields every response here shares: the status details."""

    status_info: StatusInfo | None = None


class SetChargingProfileRequest(OcppObject):
    """Install a charging profile on an EVSE or the station (K01).

    Maps to schema ``SetChargingProfileRequest``.

    Attributes
    ----------
    evse_id : int
        Target EVSE; 0 is the station (for TxDefaultProfile: each EVSE).
    charging_profile : ChargingProfile
        The profile to install.
    """

    ocpp_type: ClassVar[str] = "SetChargingProfileRequest"

    evse_id: NonNegativeInteger
    charging_profile: ChargingProfile

    @model_validator(mode="after")
    def _purpose_fits_evse(self) -> Self:
        """K01.FR.16, K01.FR.03 (TxProfile), K01.FR.03/libocpp (station max), K01.FR.22."""
        profile = self.charging_profile
        purpose = profile.charging_profile_purpose
        if purpose is ChargingProfilePurpose.TX_PROFILE:
            if self.evse_id == 0:
                raise ValueError(
                    "evseId = 0: a 'TxProfile' must be sent to a specific EVSE, evseId > 0 "
                    "(K01.FR.16)"
                )
            if profile.transaction_id is None:
                raise ValueError(
                    "chargingProfile.transactionId = None: a 'TxProfile' in "
                    "SetChargingProfileRequest needs the transactionId it is for (K01.FR.03)"
                )
        elif purpose is ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE and self.evse_id != 0:
            raise ValueError(
                f"evseId = {self.evse_id}: a 'ChargingStationMaxProfile' is a station-wide "
                "limit and is set on evseId = 0 (K01.FR.03)"
            )
        elif purpose is _EXTERNAL:
            raise ValueError(
                "chargingProfile.chargingProfilePurpose = 'ChargingStationExternalConstraints': "
                "the CSMS shall not set this purpose; it reports limits from an external "
                "system (K01.FR.22)"
            )
        return self


class SetChargingProfileResponse(_Response):
    """Whether the station accepted a SetChargingProfileRequest.

    Maps to schema ``SetChargingProfileResponse``.

    Attributes
    ----------
    status : ChargingProfileStatus
        ``Accepted`` or ``Rejected``.
    status_info : StatusInfo or None
        Details, e.g. the reason for a rejection.
    """

    ocpp_type: ClassVar[str] = "SetChargingProfileResponse"

    status: ChargingProfileStatus


class ClearChargingProfileCriteria(OcppObject):
    """Which profiles to clear (schema ``ClearChargingProfileType``).

    Attributes
    ----------
    evse_id : int or None
        EVSE whose profiles are cleared; 0 is the station, absent means all.
    charging_profile_purpose : ChargingProfilePurpose or None
        Purpose of the profiles to clear.
    stack_level : int or None
        Stack level of the profiles to clear, >= 0.
    """

    ocpp_type: ClassVar[str] = "ClearChargingProfileType"

    evse_id: NonNegativeInteger | None = None
    charging_profile_purpose: ChargingProfilePurpose | None = None
    stack_level: NonNegativeInteger | None = None


class ClearChargingProfileRequest(OcppObject):
    """Clear charging profiles by id or by criteria (K10).

    Maps to schema ``ClearChargingProfileRequest``.

    Attributes
    ----------
    charging_profile_id : int or None
        Id of the profile to clear.
    charging_profile_criteria : ClearChargingProfileCriteria or None
        Criteria the cleared profiles meet.
    """

    ocpp_type: ClassVar[str] = "ClearChargingProfileRequest"

    charging_profile_id: Integer | None = None
    charging_profile_criteria: ClearChargingProfileCriteria | None = None

    @model_validator(mode="after")
    def _id_or_criterion(self) -> Self:
        """K10.FR.02: a chargingProfileId or at least one criterion."""
        criteria = self.charging_profile_criteria
        has_criterion = criteria is not None and any(
            value is not None
            for value in (criteria.evse_id, criteria.charging_profile_purpose, criteria.stack_level)
        )
        if self.charging_profile_id is None and not has_criterion:
            raise ValueError(
                "chargingProfileId = None and chargingProfileCriteria has no evseId, "
                "chargingProfilePurpose or stackLevel: give an id or at least one criterion "
                "(K10.FR.02)"
            )
        return self

    @model_validator(mode="after")
    def _external_constraints_not_cleared(self) -> Self:
        """K10.FR.06: the CSMS cannot clear ChargingStationExternalConstraints."""
        criteria = self.charging_profile_criteria
        if criteria is not None and criteria.charging_profile_purpose is _EXTERNAL:
            raise ValueError(
                "chargingProfileCriteria.chargingProfilePurpose = "
                "'ChargingStationExternalConstraints': these profiles cannot be cleared by "
                "the CSMS (K10.FR.06)"
            )
        return self


class ClearChargingProfileResponse(_Response):
    """Whether matching profiles were found and cleared.

    Maps to schema ``ClearChargingProfileResponse``.

    Attributes
    ----------
    status : ClearChargingProfileStatus
        ``Accepted`` or ``Unknown`` (no profile matched).
    status_info : StatusInfo or None
        Details.
    """

    ocpp_type: ClassVar[str] = "ClearChargingProfileResponse"

    status: ClearChargingProfileStatus


class GetCompositeScheduleRequest(OcppObject):
    """Ask for the composite schedule of an EVSE or the station (K08).

    Maps to schema ``GetCompositeScheduleRequest``.

    Attributes
    ----------
    duration : int
        Length of the requested schedule [s].
    charging_rate_unit : ChargingRateUnit or None
        Unit to force: ``W`` or ``A``.
    evse_id : int
        The EVSE; 0 asks for the expected consumption of the grid connection.
    """

    ocpp_type: ClassVar[str] = "GetCompositeScheduleRequest"

    duration: NonNegativeInteger
    charging_rate_unit: ChargingRateUnit | None = None
    evse_id: NonNegativeInteger


class GetCompositeScheduleResponse(_Response):
    """The composite schedule, if the station could compute it.

    Maps to schema ``GetCompositeScheduleResponse``.

    Attributes
    ----------
    status : GenericStatus
        ``Accepted`` or ``Rejected``.
    status_info : StatusInfo or None
        Details.
    schedule : CompositeSchedule or None
        The schedule (schema ``CompositeScheduleType``).
    """

    ocpp_type: ClassVar[str] = "GetCompositeScheduleResponse"

    status: GenericStatus
    schedule: CompositeSchedule | None = None


class ReportChargingProfilesRequest(OcppObject):
    """Profiles installed on an EVSE, answering GetChargingProfiles (K09).

    Maps to schema ``ReportChargingProfilesRequest``.

    Attributes
    ----------
    request_id : int
        The GetChargingProfilesRequest this report answers.
    charging_limit_source : ChargingLimitSource
        Who installed the profiles.
    charging_profile : list of ChargingProfile
        At least one profile.
    tbc : bool or None
        "To be continued": more reports follow (absent means false).
    evse_id : int
        The EVSE; 0 means the station as a whole.
    """

    ocpp_type: ClassVar[str] = "ReportChargingProfilesRequest"

    request_id: Integer
    charging_limit_source: ChargingLimitSource
    charging_profile: Annotated[list[ChargingProfile], Field(min_length=1)]
    tbc: Boolean | None = None
    evse_id: NonNegativeInteger
