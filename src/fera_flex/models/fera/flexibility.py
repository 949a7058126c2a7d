"""Flexibility offers per grid node and the aggregator's dispatch.

Both live on a regular slot grid (``start``, ``step_s``) with one value per
slot (an offer's ISPs). An offer is what
:meth:`fera_flex.flexibility.NodeOffer.to_fera` writes: an inner,
deliverable set of node loads (box, battery or options), never the outer
envelope; a dispatch is an activated node load, followed by
:func:`fera_flex.disaggregate`.
"""

from typing import Annotated, Literal, Self

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
        [kWh] (a battery offer's cumulative-energy band).
    price_per_kwh : list of float, optional
        Price asked for deviating from the baseline [currency/kWh].
    currency : str, optional
        ISO 4217 code, required with ``price_per_kwh`` or ``option_prices``.
    shape : {"box", "battery", "options"}
        How to read the offer: ``box``, any profile within the power range
        is deliverable; ``battery``, any profile within the power range and
        the cumulative energy range; ``options``, exactly one of ``options_kw``.
    options_kw : list of list of float, optional
        The alternative profiles of an ``options`` offer [kW per slot].
    option_prices : list of float, optional
        Price of each option [currency].
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
    shape: Literal["box", "battery", "options"] = "box"
    options_kw: list[_Values] | None = None
    option_prices: list[FiniteFloat] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n_slots = len(self.baseline_kw)
        if (self.shape == "options") != (self.options_kw is not None):
            raise ValueError("options_kw is given exactly for shape 'options'")
        for k, option in enumerate(self.options_kw or []):
            if len(option) != n_slots:
                raise ValueError(
                    f"options_kw[{k}] has {len(option)} values, baseline_kw has {n_slots}"
                )
        if self.option_prices is not None:
            if self.options_kw is None or len(self.option_prices) != len(self.options_kw):
                raise ValueError("option_prices needs one price per option of options_kw")
            if self.currency is None:
                raise ValueError("currency is required with option_prices")
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
