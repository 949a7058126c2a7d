"""Building load behind the meter at a grid node (FERA: the BEMS's information needs).

Sign convention: consumption is positive, generation negative. The net
non-EV load at the node is ``load_kw + generation_kw``.
"""

from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex.models.fera._base import FeraModel, FiniteFloat, Identifier
from fera_flex.models.fera.series import TimeSeries

__all__ = ["BuildingLoad"]


class BuildingLoad(FeraModel):
    """Forecast non-EV load and generation at a grid node.

    Parameters
    ----------
    node_id : str
        The grid node the building is connected to.
    load_kw : TimeSeries
        Non-EV consumption [kW], values >= 0.
    generation_kw : TimeSeries, optional
        Local generation (PV, CHP) [kW], values <= 0.
    min_grid_load_kw, max_grid_load_kw : float, optional
        Bounds the BEMS keeps on the net load of the connection [kW]
        (e.g. a contracted capacity, or a minimum to avoid export).
    """

    id: Identifier
    node_id: Identifier
    load_kw: TimeSeries
    generation_kw: TimeSeries | None = None
    min_grid_load_kw: FiniteFloat | None = None
    max_grid_load_kw: Annotated[FiniteFloat, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _signs(self) -> Self:
        self.load_kw.check_range("load_kw", low=0.0)
        if self.generation_kw is not None:
            self.generation_kw.check_range("generation_kw (generation is negative)", high=0.0)
        if (
            self.min_grid_load_kw is not None
            and self.max_grid_load_kw is not None
            and self.min_grid_load_kw > self.max_grid_load_kw
        ):
            raise ValueError(
                f"min_grid_load_kw ({self.min_grid_load_kw}) exceeds max_grid_load_kw "
                f"({self.max_grid_load_kw})"
            )
        return self
