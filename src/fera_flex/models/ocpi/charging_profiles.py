"""OCPI 2.2.1 ChargingProfiles module.

A ChargingProfile limits charging over time in W (total over all phases) or A
(per phase). With ``start_date_time`` it is absolute; without, relative to the
start of charging. Limits and ``min_charging_rate`` carry at most one decimal.
Unlike OCPP, ``charging_profile_period`` may be empty.
"""

from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import URL, DateTime, NonNegativeInt, OneDecimal
from fera_flex.models.ocpi.enums import (
    ChargingProfileResponseType,
    ChargingProfileResultType,
    ChargingRateUnit,
)

__all__ = [
    "ActiveChargingProfile",
    "ActiveChargingProfileResult",
    "ChargingProfile",
    "ChargingProfilePeriod",
    "ChargingProfileResponse",
    "ChargingProfileResult",
    "ClearProfileResult",
    "SetChargingProfile",
]

_NonNegativeOneDecimal = Annotated[OneDecimal, Field(ge=0)]


class ChargingProfilePeriod(OcpiModel):
    """A limit from ``start_period`` [s after the profile start] to the next period."""

    start_period: NonNegativeInt
    limit: _NonNegativeOneDecimal


class ChargingProfile(OcpiModel):
    """Charging limits over time for one session.

    Start periods must increase strictly; ``duration`` [s], when set, must be
    > 0 and later than the last start period.
    """

    start_date_time: DateTime | None = None
    duration: NonNegativeInt | None = None
    charging_rate_unit: ChargingRateUnit
    min_charging_rate: _NonNegativeOneDecimal | None = None
    charging_profile_period: list[ChargingProfilePeriod] | None = None

    @model_validator(mode="after")
    def _periods_ordered(self) -> Self:
        periods = self.charging_profile_period or []
        for index in range(1, len(periods)):
            if periods[index].start_period <= periods[index - 1].start_period:
                raise ValueError(
                    f"charging_profile_period[{index}].start_period "
                    f"({periods[index].start_period}) must be greater than the previous one "
                    f"({periods[index - 1].start_period})"
                )
        if self.duration is not None and periods and self.duration <= periods[-1].start_period:
            raise ValueError(
                f"duration ({self.duration} s) must be after the last start_period "
                f"({periods[-1].start_period} s)"
            )
        return self


class SetChargingProfile(OcpiModel):
    """Body of the PUT that sets a session's ChargingProfile."""

    charging_profile: ChargingProfile
    response_url: URL


class ActiveChargingProfile(OcpiModel):
    """The profile an EVSE is actually applying; times relative to ``start_date_time``."""

    start_date_time: DateTime
    charging_profile: ChargingProfile


class ChargingProfileResponse(OcpiModel):
    """The CPO's synchronous answer; the result follows within ``timeout`` [s]."""

    result: ChargingProfileResponseType
    timeout: NonNegativeInt


class ActiveChargingProfileResult(OcpiModel):
    """Asynchronous result of a GET of the active profile."""

    result: ChargingProfileResultType
    profile: ActiveChargingProfile | None = None

    @model_validator(mode="after")
    def _profile_when_accepted(self) -> Self:
        if self.result is ChargingProfileResultType.ACCEPTED and self.profile is None:
            raise ValueError("profile must be set when result is ACCEPTED")
        return self


class ChargingProfileResult(OcpiModel):
    """Asynchronous result of setting a ChargingProfile."""

    result: ChargingProfileResultType


class ClearProfileResult(OcpiModel):
    """Asynchronous result of clearing a ChargingProfile."""

    result: ChargingProfileResultType
