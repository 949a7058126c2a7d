"""Location-based price and emission signals (FERA: "location transparency in dynamic pricing").

A signal applies to a scope: the whole scenario (``global``), one grid node
(and every EVSE below it), or one OCPI Location. Where several signals apply
to an EVSE, the most specific wins: location, then the nearest node, then
global. A signal applies where its defining series (import price; emission,
else renewable share) is defined (:meth:`PriceSignal.intervals_s`), so
signals of one scope that do not overlap in time combine (a scenario rejects
overlapping ones).

Examples
--------
>>> signal = PriceSignal.model_validate({
...     "id": "day-ahead", "currency": "EUR",
...     "import_price_per_kwh": {"start": "2026-03-02T00:00:00Z", "step_s": 3600,
...                              "values": [0.21, 0.19]}})
>>> signal.scope.kind.value
'global'
"""

from enum import StrEnum
from typing import Annotated, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from fera_flex.models.fera._base import FeraModel, Identifier
from fera_flex.models.fera.series import TimeSeries

__all__ = ["EmissionSignal", "PriceSignal", "ScopeKind", "SignalScope"]


class ScopeKind(StrEnum):
    """What a signal applies to."""

    GLOBAL = "global"
    NODE = "node"
    LOCATION = "location"


class SignalScope(FeraModel):
    """The scope of a signal: ``global``, or a grid node id, or an OCPI Location id."""

    kind: ScopeKind = ScopeKind.GLOBAL
    id: Identifier | None = None

    @model_validator(mode="after")
    def _id_matches_kind(self) -> Self:
        if (self.kind is ScopeKind.GLOBAL) != (self.id is None):
            raise ValueError(
                f"scope kind {self.kind.value!r} "
                + ("takes no id" if self.kind is ScopeKind.GLOBAL else "needs an id")
            )
        return self

    @property
    def key(self) -> tuple[ScopeKind, str]:
        """``(kind, case-folded id)``; the id is ``""`` for ``global``."""
        return self.kind, (self.id or "").casefold()


class _AppliesWhereDefined:
    """When a signal applies: where its ``defining_field`` series is defined."""

    def intervals_s(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Starts and ends [epoch s] of the intervals in which the signal applies.

        Those on which its ``defining_field`` series is defined, contiguous
        periods merged.
        """
        starts, ends, _ = getattr(self, self.defining_field).to_arrays()
        breaks = np.flatnonzero(starts[1:] != ends[:-1]) + 1
        return starts[np.r_[0, breaks]], ends[np.r_[breaks - 1, len(ends) - 1]]


class PriceSignal(_AppliesWhereDefined, FeraModel):
    """Import (and optionally export) energy prices over time [currency/kWh]."""

    id: Identifier
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    scope: SignalScope = Field(default_factory=SignalScope)
    import_price_per_kwh: TimeSeries
    export_price_per_kwh: TimeSeries | None = None

    @property
    def defining_field(self) -> str:
        """The series that says when the signal applies: ``import_price_per_kwh``."""
        return "import_price_per_kwh"


class EmissionSignal(_AppliesWhereDefined, FeraModel):
    """Marginal or average emissions [gCO2/kWh] and/or renewable share [0..1] over time."""

    id: Identifier
    scope: SignalScope = Field(default_factory=SignalScope)
    emission_g_per_kwh: TimeSeries | None = None
    renewable_share: TimeSeries | None = None

    @model_validator(mode="after")
    def _some_series(self) -> Self:
        if self.emission_g_per_kwh is None and self.renewable_share is None:
            raise ValueError("give emission_g_per_kwh, renewable_share or both")
        if self.emission_g_per_kwh is not None:
            self.emission_g_per_kwh.check_range("emission_g_per_kwh", low=0.0)
        if self.renewable_share is not None:
            self.renewable_share.check_range("renewable_share", low=0.0, high=1.0)
        return self

    @property
    def defining_field(self) -> str:
        """The series that says when the signal applies: emissions, else renewable share."""
        return "renewable_share" if self.emission_g_per_kwh is None else "emission_g_per_kwh"
