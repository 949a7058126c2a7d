"""The charging profile (schema ``ChargingProfileType``) and its rules.

Rules that hold wherever a profile travels (SetChargingProfile,
ReportChargingProfiles), besides the schema's own:

- ``transactionId`` only with purpose ``TxProfile`` (schema description:
  "SHALL only be included if ChargingProfilePurpose is set to TxProfile");
- a ``ChargingStationMaxProfile`` is not ``Relative`` (K01.FR.38);
- kind ``Recurring`` needs ``recurrencyKind`` (a recurrence without a period
  cannot be evaluated; reference note, section 4);
- kinds ``Absolute`` and ``Recurring`` need ``startSchedule`` in every schedule
  (K01.FR.40); kind ``Relative`` has none (K01.FR.41);
- ``validFrom`` before ``validTo`` (otherwise the profile is never valid);
- ``stackLevel`` >= 0 ("Lowest level is 0").

Rules that depend on the EVSE the profile is sent to live on
:class:`~fera_flex.models.ocpp.SetChargingProfileRequest`.
"""

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._schedule import ChargingSchedule
from fera_flex.models.ocpp._types import DateTime, Integer, NonNegativeInteger, String
from fera_flex.models.ocpp.enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    RecurrencyKind,
)

__all__ = ["ChargingProfile"]

_MAX_SCHEDULES = 3


class ChargingProfile(OcppObject):
    """A charging profile: purpose, stacking, validity and 1..3 schedules.

    Maps to schema ``ChargingProfileType``. More than one schedule is only
    meaningful for ISO 15118 (the EV picks one); otherwise send exactly one
    (K01.FR.30, not checked here because the model cannot know).

    Attributes
    ----------
    id : int
        Profile id; a profile with an existing id replaces that profile.
    stack_level : int
        Precedence among profiles of one purpose, >= 0; higher wins.
    charging_profile_purpose : ChargingProfilePurpose
        What the profile is for.
    charging_profile_kind : ChargingProfileKind
        How its schedules are anchored in time.
    recurrency_kind : RecurrencyKind or None
        Daily or weekly recurrence; required for ``Recurring``.
    valid_from, valid_to : datetime or None
        Validity window (aware, UTC); absent means "from reception" / "until replaced".
    charging_schedule : list of ChargingSchedule
        One to three schedules.
    transaction_id : str or None
        The transaction a ``TxProfile`` is for, at most 36 characters.

    Examples
    --------
    >>> profile = ChargingProfile.model_validate({
    ...     "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
    ...     "chargingProfileKind": "Relative",
    ...     "chargingSchedule": [{"id": 1, "chargingRateUnit": "A",
    ...                           "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}],
    ... })
    >>> profile.charging_schedule[0].charging_schedule_period[0].limit
    16.0
    """

    ocpp_type: ClassVar[str] = "ChargingProfileType"

    id: Integer
    stack_level: NonNegativeInteger
    charging_profile_purpose: ChargingProfilePurpose
    charging_profile_kind: ChargingProfileKind
    recurrency_kind: RecurrencyKind | None = None
    valid_from: DateTime | None = None
    valid_to: DateTime | None = None
    charging_schedule: Annotated[
        list[ChargingSchedule], Field(min_length=1, max_length=_MAX_SCHEDULES)
    ]
    transaction_id: String(36) | None = None

    @model_validator(mode="after")
    def _transaction_id_only_for_tx_profile(self) -> Self:
        """Schema description of transactionId: only with purpose TxProfile."""
        purpose = self.charging_profile_purpose
        if self.transaction_id is not None and purpose is not ChargingProfilePurpose.TX_PROFILE:
            raise ValueError(
                f"transactionId = {self.transaction_id!r} is only allowed with "
                f"chargingProfilePurpose = 'TxProfile', got {purpose.value!r}"
            )
        return self

    @model_validator(mode="after")
    def _station_max_profile_not_relative(self) -> Self:
        """K01.FR.38: a ChargingStationMaxProfile is not Relative."""
        if (
            self.charging_profile_purpose is ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE
            and self.charging_profile_kind is ChargingProfileKind.RELATIVE
        ):
            raise ValueError(
                "chargingProfileKind = 'Relative' is not allowed with chargingProfilePurpose = "
                "'ChargingStationMaxProfile' (K01.FR.38)"
            )
        return self

    @model_validator(mode="after")
    def _recurring_needs_recurrency_kind(self) -> Self:
        """A Recurring profile says how it recurs (Daily or Weekly)."""
        if self.charging_profile_kind is ChargingProfileKind.RECURRING and (
            self.recurrency_kind is None
        ):
            raise ValueError(
                "recurrencyKind = None: chargingProfileKind = 'Recurring' needs "
                "recurrencyKind 'Daily' or 'Weekly'"
            )
        return self

    @model_validator(mode="after")
    def _start_schedule_matches_kind(self) -> Self:
        """K01.FR.40 (Absolute/Recurring need startSchedule), K01.FR.41 (Relative has none)."""
        kind = self.charging_profile_kind
        for index, schedule in enumerate(self.charging_schedule):
            start = schedule.start_schedule
            if kind is ChargingProfileKind.RELATIVE and start is not None:
                raise ValueError(
                    f"chargingSchedule[{index}].startSchedule = {start.isoformat()}: a 'Relative' "
                    "profile has no startSchedule; its periods count from the start of "
                    "charging (K01.FR.41)"
                )
            if kind is not ChargingProfileKind.RELATIVE and start is None:
                raise ValueError(
                    f"chargingSchedule[{index}].startSchedule = None: chargingProfileKind = "
                    f"{kind.value!r} needs a startSchedule (K01.FR.40)"
                )
        return self

    @model_validator(mode="after")
    def _valid_from_before_valid_to(self) -> Self:
        """A validity window that ends before it starts is never valid."""
        if (
            self.valid_from is not None
            and self.valid_to is not None
            and self.valid_from >= self.valid_to
        ):
            raise ValueError(
                f"validTo = {self.valid_to.isoformat()} must be after "
                f"validFrom = {self.valid_from.isoformat()}"
            )
        return self
