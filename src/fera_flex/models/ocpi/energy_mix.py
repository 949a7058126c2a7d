"""OCPI 2.2.1 EnergyMix: the energy supplied at a Location or with a Tariff."""

from typing import Annotated

from pydantic import Field

from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import Boolean, NonNegativeNumber, String
from fera_flex.models.ocpi.enums import EnergySourceCategory, EnvironmentalImpactCategory

__all__ = ["EnergyMix", "EnergySource", "EnvironmentalImpact"]


class EnergySource(OcpiModel):
    """Share of one category of energy source [%]."""

    source: EnergySourceCategory
    percentage: Annotated[NonNegativeNumber, Field(le=100)]


class EnvironmentalImpact(OcpiModel):
    """Environmental impact of the supplied energy [g/kWh]."""

    category: EnvironmentalImpactCategory
    amount: NonNegativeNumber


class EnergyMix(OcpiModel):
    """The energy mix of a Location or Tariff.

    ``energy_sources`` should add up to 100 %; the spec says "should", so the
    sum is not enforced (real feeds round).
    """

    is_green_energy: Boolean
    energy_sources: list[EnergySource] | None = None
    environ_impact: list[EnvironmentalImpact] | None = None
    supplier_name: String(64) | None = None
    energy_product_name: String(64) | None = None
