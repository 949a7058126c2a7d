"""Flexibility offers per grid node and the aggregator's dispatch.

Both live on a regular slot grid (``start``, ``step_s``) with one value per
slot. Their exact content will be finalised with the flexibility module; the
shapes here are what a scenario file carries.
"""

from typing import Annotated, Self

import numpy as np
from pydantic import Field, model_validator

from fera_flex.models.fera._base import FeraModel, FiniteFloat, Identifier, Timestamp

__all__ = ["FlexibilityDispatch", "FlexibilityOffer"]

_Values = Annotated[list[FiniteFloat], Field(min_length=1)]
_TOLERANCE = 1e-9


class _SlotSeries(FeraModel):
    start: Timestamp
    step_s: Annotated[int, Field(gt=0, strict=True)]


class FlexibilityOffer(_SlotSeries):
    """What a grid node's EVs can do, per slot, around a baseline.

    Parameters
    ----------
    id, node_id : str
        Offer id and the grid node it is for.
    baseline_kw : list of float
        Planned power per slot [kW].
    power_min_kw, power_max_kw : list of float
        Lowest and highest power per slot [kW]; ``power_min_kw <= baseline_kw
        <= power_max_kw``.
    energy_min_kwh, energy_max_kwh : list of float, optional
        Bounds on the energy delivered from ``start`` to the end of each slot
        [kWh].
    price_per_kwh : list of float, optional
        Price asked for deviating from the baseline [currency/kWh].
    currency : str, optional
        ISO 4217 code, required with ``price_per_kwh``.
    """

    id: Identifier
    node_id: Identifier
    baseline_kw: _Values
    power_min_kw: _Values
    power_max_kw: _Values
    energy_min_kwh: _Values | None = None
    energy_max_kwh: _Values | None = None
    price_per_kwh: _Values | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n_slots = len(self.baseline_kw)
        for name in (
            "power_min_kw",
            "power_max_kw",
            "energy_min_kwh",
            "energy_max_kwh",
            "price_per_kwh",
        ):
            values = getattr(self, name)
            if values is not None and len(values) != n_slots:
                raise ValueError(f"{name} has {len(values)} values, baseline_kw has {n_slots}")
        low, base, high = (
            np.asarray(v) for v in (self.power_min_kw, self.baseline_kw, self.power_max_kw)
        )
        _ordered("power_min_kw", low, "baseline_kw", base)
        _ordered("baseline_kw", base, "power_max_kw", high)
        if self.energy_min_kwh is not None and self.energy_max_kwh is not None:
            _ordered(
                "energy_min_kwh",
                np.asarray(self.energy_min_kwh),
                "energy_max_kwh",
                np.asarray(self.energy_max_kwh),
            )
        if self.price_per_kwh is not None and self.currency is None:
            raise ValueError("currency is required with price_per_kwh")
        return self


class FlexibilityDispatch(_SlotSeries):
    """The aggregator's activated profile for a grid node [kW per slot]."""

    id: Identifier
    node_id: Identifier
    offer_id: Identifier | None = None
    power_kw: _Values


def _ordered(low_name: str, low: np.ndarray, high_name: str, high: np.ndarray) -> None:
    bad = np.flatnonzero(low > high + _TOLERANCE)
    if bad.size:
        slot = int(bad[0])
        raise ValueError(
            f"slot {slot}: {low_name} ({low[slot]}) exceeds {high_name} ({high[slot]})"
        )
