"""OEM-advised charging curves: maximum power as a function of state of charge.

Examples
--------
>>> curve = OemChargingCurve.model_validate({
...     "id": "ev-model-x", "battery_capacity_kwh": 60,
...     "soc_percent": [0, 80, 100], "max_power_kw": [11, 11, 3.7]})
>>> curve.max_power_at(90.0)
7.35
"""

from typing import Annotated, Self

import numpy as np
from pydantic import Field, model_validator

from fera_flex.models.fera._base import FeraModel, FiniteFloat, Identifier

__all__ = ["OemChargingCurve"]

_Percent = Annotated[FiniteFloat, Field(ge=0, le=100)]


class OemChargingCurve(FeraModel):
    """Maximum charging power versus state of charge, piecewise linear.

    Parameters
    ----------
    id : str
        Curve id (a vehicle model, or one vehicle).
    battery_capacity_kwh : float
        Usable battery capacity [kWh], > 0.
    soc_percent : list of float
        State-of-charge breakpoints [%], strictly increasing from 0 to 100.
    max_power_kw : list of float
        Maximum power at each breakpoint [kW], >= 0; linear in between.
    state_of_charge_percent : float, optional
        The EV's state of charge when known [%].
    session_ids, token_uids : list of str
        The OCPI Sessions or Tokens this curve applies to.
    """

    id: Identifier
    battery_capacity_kwh: Annotated[FiniteFloat, Field(gt=0)]
    soc_percent: Annotated[list[_Percent], Field(min_length=2)]
    max_power_kw: Annotated[list[Annotated[FiniteFloat, Field(ge=0)]], Field(min_length=2)]
    state_of_charge_percent: _Percent | None = None
    session_ids: list[Identifier] = Field(default_factory=list)
    token_uids: list[Identifier] = Field(default_factory=list)

    @model_validator(mode="after")
    def _curve_shape(self) -> Self:
        if len(self.soc_percent) != len(self.max_power_kw):
            raise ValueError(
                f"soc_percent has {len(self.soc_percent)} points but max_power_kw has "
                f"{len(self.max_power_kw)}"
            )
        soc = np.asarray(self.soc_percent)
        if np.any(np.diff(soc) <= 0):
            raise ValueError(f"soc_percent must increase strictly: {self.soc_percent}")
        if soc[0] != 0 or soc[-1] != 100:
            raise ValueError(f"soc_percent must run from 0 to 100: {self.soc_percent}")
        return self

    def max_power_at(self, soc_percent: float) -> float:
        """Maximum power [kW] at a state of charge [%] (linear interpolation)."""
        return float(np.interp(soc_percent, self.soc_percent, self.max_power_kw))

    def energy_breakpoints_kwh(self, start_soc_percent: float) -> tuple[np.ndarray, np.ndarray]:
        """The curve as a function of energy delivered from a starting SoC.

        Parameters
        ----------
        start_soc_percent : float
            State of charge at plug-in [%].

        Returns
        -------
        energy_kwh : ndarray
            Energy delivered at the start and at each later SoC breakpoint [kWh].
        max_power_kw : ndarray
            Maximum power at those points [kW]; linear in between.
        """
        soc = np.asarray(self.soc_percent)
        keep = soc > start_soc_percent
        soc_points = np.concatenate([[start_soc_percent], soc[keep]])
        power = np.interp(soc_points, self.soc_percent, self.max_power_kw)
        energy = (soc_points - start_soc_percent) / 100.0 * self.battery_capacity_kwh
        return energy, power
