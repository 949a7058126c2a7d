"""The information objects FERA says OCPI 2.2 lacks.

Grid topology with time-varying limits, location-based price and emission
signals, arrival estimates, building load behind the meter, OEM charging
curves, flexibility offers and dispatch, and the :class:`TimeSeries` value
type they share. These are fera_flex's own JSON format: snake_case, units in
field names, aware times written in UTC with ``Z``, unknown fields rejected.
"""

from fera_flex.models.fera.arrivals import ArrivalEstimate
from fera_flex.models.fera.building import BuildingLoad
from fera_flex.models.fera.flexibility import FlexibilityDispatch, FlexibilityOffer
from fera_flex.models.fera.oem import OemChargingCurve
from fera_flex.models.fera.series import Period, TimeSeries
from fera_flex.models.fera.signals import EmissionSignal, PriceSignal, ScopeKind, SignalScope
from fera_flex.models.fera.topology import Capacity, GridNode, GridTopology, NodeKind, Phase

__all__ = [
    "ArrivalEstimate",
    "BuildingLoad",
    "Capacity",
    "EmissionSignal",
    "FlexibilityDispatch",
    "FlexibilityOffer",
    "GridNode",
    "GridTopology",
    "NodeKind",
    "OemChargingCurve",
    "Period",
    "Phase",
    "PriceSignal",
    "ScopeKind",
    "SignalScope",
    "TimeSeries",
]
