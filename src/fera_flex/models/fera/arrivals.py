"""Estimated arrivals of EVs and their energy needs (FERA: "estimate on arrival of EVs").

Examples
--------
>>> estimate = ArrivalEstimate.model_validate({
...     "id": "A-1", "location_id": "DEPOT-UTR", "energy_need_kwh": 25,
...     "expected_arrival": "2026-03-02T08:00:00Z", "expected_departure": "2026-03-02T17:00:00Z"})
>>> estimate.window_h
9.0
"""

from datetime import datetime
from itertools import pairwise
from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex.models._scalars import require_order
from fera_flex.models.fera._base import FeraModel, FiniteFloat, Identifier, Timestamp
from fera_flex.models.ocpi.enums import ProfileType

__all__ = ["ArrivalEstimate"]

_NonNegative = Annotated[FiniteFloat, Field(ge=0)]


class ArrivalEstimate(FeraModel):
    """An EV expected at a Location (optionally at a given EVSE) with its energy need.

    The earliest, expected and latest times must be ordered, and the expected
    departure must be after the expected arrival. ``energy_need_kwh`` [kWh],
    ``max_power_kw`` [kW] are >= 0.
    """

    id: Identifier
    location_id: Identifier
    evse_uid: Identifier | None = None
    expected_arrival: Timestamp
    earliest_arrival: Timestamp | None = None
    latest_arrival: Timestamp | None = None
    expected_departure: Timestamp
    earliest_departure: Timestamp | None = None
    latest_departure: Timestamp | None = None
    energy_need_kwh: _NonNegative
    max_power_kw: _NonNegative | None = None
    profile_type: ProfileType = ProfileType.REGULAR
    discharge_allowed: bool = False
    token_uid: Identifier | None = None
    contract_id: Identifier | None = None
    probability: Annotated[FiniteFloat, Field(gt=0, le=1)] = 1.0

    @model_validator(mode="after")
    def _times_ordered(self) -> Self:
        for kind in ("arrival", "departure"):
            chain = [
                (name, getattr(self, name))
                for name in (f"earliest_{kind}", f"expected_{kind}", f"latest_{kind}")
                if getattr(self, name) is not None
            ]
            for (early_name, early), (late_name, late) in pairwise(chain):
                require_order(early_name, early, late_name, late, strict=False)
        require_order(
            "expected_arrival", self.expected_arrival, "expected_departure", self.expected_departure
        )
        return self

    @property
    def window_h(self) -> float:
        """Expected stay [h]."""
        return _hours(self.expected_arrival, self.expected_departure)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600.0
