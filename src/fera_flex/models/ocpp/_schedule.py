"""Charging schedules: periods, the schedule of a profile, the composite schedule.

Rules enforced here besides the schemas' own:

- at least one period, the first with ``startPeriod`` 0 (K01.FR.31);
- ``startPeriod`` strictly increasing (K01.FR.35);
- ``limit`` and ``minChargingRate`` with at most one fractional digit (schema
  descriptions: "Accepts at most one digit fraction (e.g. 8.1)");
- ``numberPhases`` and ``phaseToUse`` in 1..3, ``phaseToUse`` only with
  ``numberPhases`` = 1 (schema description of ``phaseToUse``: "It's not
  allowed unless both conditions above are true"; K01.FR.19/K01.FR.48);
- elapsed times (``startPeriod``, ``duration``) are >= 0.

Limits are in the schedule's ``chargingRateUnit``: watts (total over all
phases) or amperes (per phase). No unit conversion happens here.
"""

from itertools import pairwise
from typing import Annotated, ClassVar, Self

from pydantic import AfterValidator, Field, model_validator

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._tariff import SalesTariff
from fera_flex.models.ocpp._types import (
    DateTime,
    Integer,
    NonNegativeInteger,
    OneDecimal,
    PhaseCount,
)
from fera_flex.models.ocpp.enums import ChargingRateUnit

__all__ = ["ChargingSchedule", "ChargingSchedulePeriod", "CompositeSchedule"]

_MAX_PERIODS = 1024


class ChargingSchedulePeriod(OcppObject):
    """One period of a charging schedule (schema ``ChargingSchedulePeriodType``).

    Attributes
    ----------
    start_period : int
        Start of the period from the start of the schedule [s]; it also ends
        the previous period.
    limit : float
        Charging rate limit [W] or [A], per the schedule's ``chargingRateUnit``;
        at most one fractional digit.
    number_phases : int or None
        Number of phases that may be used, 1..3 (absent means 3).
    phase_to_use : int or None
        Phase to switch to, 1..3; only allowed with ``number_phases`` = 1.
    """

    ocpp_type: ClassVar[str] = "ChargingSchedulePeriodType"

    start_period: NonNegativeInteger
    limit: OneDecimal
    number_phases: PhaseCount | None = None
    phase_to_use: PhaseCount | None = None

    @model_validator(mode="after")
    def _phase_to_use_needs_single_phase(self) -> Self:
        """K01.FR.19/K01.FR.48, schema description: phaseToUse only with numberPhases 1."""
        if self.phase_to_use is not None and self.number_phases != 1:
            raise ValueError(
                f"phaseToUse = {self.phase_to_use} is only allowed with numberPhases = 1, "
                f"got numberPhases = {self.number_phases} (absent means 3) (K01.FR.19)"
            )
        return self


def _check_start_periods(periods: list[ChargingSchedulePeriod]) -> list[ChargingSchedulePeriod]:
    first = periods[0].start_period
    if first != 0:
        raise ValueError(
            f"chargingSchedulePeriod[0].startPeriod = {first}: the first period must start at 0 "
            "(K01.FR.31)"
        )
    for index, (previous, period) in enumerate(pairwise(periods), start=1):
        if period.start_period <= previous.start_period:
            raise ValueError(
                f"chargingSchedulePeriod[{index}].startPeriod = {period.start_period}: start "
                f"periods must strictly increase, the previous one is {previous.start_period} "
                "(K01.FR.35)"
            )
    return periods


SchedulePeriods = Annotated[
    list[ChargingSchedulePeriod], Field(min_length=1), AfterValidator(_check_start_periods)
]
"""At least one period, the first at 0 s, start periods strictly increasing."""


class ChargingSchedule(OcppObject):
    """The schedule of a charging profile (schema ``ChargingScheduleType``).

    Whether ``start_schedule`` must be present depends on the profile's kind;
    :class:`~fera_flex.models.ocpp.ChargingProfile` checks that.

    Attributes
    ----------
    id : int
        Identifies the schedule.
    start_schedule : datetime or None
        Start of an absolute or recurring schedule (aware, UTC).
    duration : int or None
        Length of the schedule [s]; absent means the last period continues
        indefinitely (or until the transaction ends, for a TxProfile).
    charging_rate_unit : ChargingRateUnit
        Unit of every period's limit: ``W`` or ``A``.
    charging_schedule_period : list of ChargingSchedulePeriod
        1 to 1024 periods.
    min_charging_rate : float or None
        Minimum charging rate the EV supports [W] or [A]; at most one fractional digit.
    sales_tariff : SalesTariff or None
        ISO 15118 sales tariff for this schedule.
    """

    ocpp_type: ClassVar[str] = "ChargingScheduleType"

    id: Integer
    start_schedule: DateTime | None = None
    duration: NonNegativeInteger | None = None
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: Annotated[SchedulePeriods, Field(max_length=_MAX_PERIODS)]
    min_charging_rate: OneDecimal | None = None
    sales_tariff: SalesTariff | None = None


class CompositeSchedule(OcppObject):
    """The schedule a station computed from all its profiles (schema ``CompositeScheduleType``).

    Attributes
    ----------
    evse_id : int
        The EVSE; 0 means the station's grid connection.
    duration : int
        Length of the schedule [s].
    schedule_start : datetime
        Instant the periods are relative to (aware, UTC).
    charging_rate_unit : ChargingRateUnit
        Unit of every period's limit: ``W`` or ``A``.
    charging_schedule_period : list of ChargingSchedulePeriod
        At least one period.
    """

    ocpp_type: ClassVar[str] = "CompositeScheduleType"

    evse_id: NonNegativeInteger
    duration: NonNegativeInteger
    schedule_start: DateTime
    charging_rate_unit: ChargingRateUnit
    charging_schedule_period: SchedulePeriods
