"""ISO 15118 messages from the station: the EV's charging needs and its schedule.

``NotifyEVChargingNeedsRequest`` (K15) tells the CSMS what the EV asks for:
energy [Wh], current [A] and voltage [V] limits, departure time.
``NotifyEVChargingScheduleRequest`` (K17) reports the schedule the EV chose.
Both apply to one EVSE, so ``evseId`` > 0 (schema descriptions: "EvseId may
not be 0", "EvseId must be > 0"). State-of-charge values are 0..100 %.
"""

from typing import ClassVar

from pydantic import Field

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._schedule import ChargingSchedule
from fera_flex.models.ocpp._types import DateTime, Integer, Percentage, PositiveInteger
from fera_flex.models.ocpp.enums import EnergyTransferMode

__all__ = [
    "ACChargingParameters",
    "ChargingNeeds",
    "DCChargingParameters",
    "NotifyEVChargingNeedsRequest",
    "NotifyEVChargingScheduleRequest",
]


class ACChargingParameters(OcppObject):
    """The EV's AC charging parameters (schema ``ACChargingParametersType``).

    Attributes
    ----------
    energy_amount : int
        Energy requested, including preconditioning [Wh].
    ev_min_current : int
        Minimum current the EV supports, per phase [A].
    ev_max_current : int
        Maximum current the EV supports, per phase, cable included [A].
    ev_max_voltage : int
        Maximum voltage the EV supports [V].
    """

    ocpp_type: ClassVar[str] = "ACChargingParametersType"

    energy_amount: Integer
    ev_min_current: Integer
    ev_max_current: Integer
    ev_max_voltage: Integer


class DCChargingParameters(OcppObject):
    """The EV's DC charging parameters (schema ``DCChargingParametersType``).

    Attributes
    ----------
    ev_max_current : int
        Maximum current the EV supports, cable included [A].
    ev_max_voltage : int
        Maximum voltage the EV supports [V].
    energy_amount : int or None
        Energy requested, including preconditioning [Wh].
    ev_max_power : int or None
        Maximum power the EV supports [W].
    state_of_charge : int or None
        Energy in the battery [% of capacity], 0..100.
    ev_energy_capacity : int or None
        Battery capacity [Wh].
    full_soc : int or None
        State of charge the EV considers full [%], 0..100 (``fullSoC``).
    bulk_soc : int or None
        State of charge where fast charging ends [%], 0..100 (``bulkSoC``).
    """

    ocpp_type: ClassVar[str] = "DCChargingParametersType"

    ev_max_current: Integer
    ev_max_voltage: Integer
    energy_amount: Integer | None = None
    ev_max_power: Integer | None = None
    state_of_charge: Percentage | None = None
    ev_energy_capacity: Integer | None = None
    full_soc: Percentage | None = Field(default=None, alias="fullSoC")
    bulk_soc: Percentage | None = Field(default=None, alias="bulkSoC")


class ChargingNeeds(OcppObject):
    """What the EV needs (schema ``ChargingNeedsType``).

    Attributes
    ----------
    ac_charging_parameters : ACChargingParameters or None
        AC parameters.
    dc_charging_parameters : DCChargingParameters or None
        DC parameters.
    requested_energy_transfer : EnergyTransferMode
        Mode of energy transfer the EV requests.
    departure_time : datetime or None
        Estimated departure of the EV (aware, UTC).
    """

    ocpp_type: ClassVar[str] = "ChargingNeedsType"

    ac_charging_parameters: ACChargingParameters | None = None
    dc_charging_parameters: DCChargingParameters | None = None
    requested_energy_transfer: EnergyTransferMode
    departure_time: DateTime | None = None


class NotifyEVChargingNeedsRequest(OcppObject):
    """The station relays the EV's charging needs (K15).

    Maps to schema ``NotifyEVChargingNeedsRequest``.

    Attributes
    ----------
    max_schedule_tuples : int or None
        Most schedule periods the EV supports per schedule.
    charging_needs : ChargingNeeds
        The needs.
    evse_id : int
        EVSE the EV is connected to, > 0.
    """

    ocpp_type: ClassVar[str] = "NotifyEVChargingNeedsRequest"

    max_schedule_tuples: Integer | None = None
    charging_needs: ChargingNeeds
    evse_id: PositiveInteger


class NotifyEVChargingScheduleRequest(OcppObject):
    """The station relays the schedule the EV will follow (K17).

    Maps to schema ``NotifyEVChargingScheduleRequest``.

    Attributes
    ----------
    time_base : datetime
        Instant the schedule's periods are relative to (aware, UTC).
    charging_schedule : ChargingSchedule
        The EV's schedule.
    evse_id : int
        EVSE the schedule applies to, > 0.
    """

    ocpp_type: ClassVar[str] = "NotifyEVChargingScheduleRequest"

    time_base: DateTime
    charging_schedule: ChargingSchedule
    evse_id: PositiveInteger
