"""The ISO 15118 sales tariff that a ChargingSchedule may carry.

``SalesTariffType`` and its parts are based on ISO 15118-2; in OCPP 2.0.1 they
travel inside ``ChargingScheduleType.salesTariff`` (SetChargingProfile,
ReportChargingProfiles, NotifyEVChargingSchedule).
"""

from typing import Annotated, ClassVar

from pydantic import Field

from fera_flex.models.ocpp._base import OcppObject
from fera_flex.models.ocpp._types import Integer, NonNegativeInteger, Number, String
from fera_flex.models.ocpp.enums import CostKind

__all__ = ["ConsumptionCost", "Cost", "RelativeTimeInterval", "SalesTariff", "SalesTariffEntry"]


class Cost(OcppObject):
    """One cost of a consumption block (schema ``CostType``).

    Attributes
    ----------
    cost_kind : CostKind
        What :attr:`amount` measures (``costKind``).
    amount : int
        Estimated or actual cost per kWh, scaled by ``10**amount_multiplier``.
    amount_multiplier : int or None
        Decimal exponent of :attr:`amount`; the schema description allows -3..3.
    """

    ocpp_type: ClassVar[str] = "CostType"

    cost_kind: CostKind
    amount: Integer
    amount_multiplier: Annotated[Integer, Field(ge=-3, le=3)] | None = None


class ConsumptionCost(OcppObject):
    """Costs from a consumption level upwards (schema ``ConsumptionCostType``).

    Attributes
    ----------
    start_value : float
        Lowest consumption of this block; the block extends to the next one's start.
    cost : list of Cost
        One to three costs (``cost``).
    """

    ocpp_type: ClassVar[str] = "ConsumptionCostType"

    start_value: Number
    cost: Annotated[list[Cost], Field(min_length=1, max_length=3)]


class RelativeTimeInterval(OcppObject):
    """A time interval relative to now (schema ``RelativeTimeIntervalType``).

    Attributes
    ----------
    start : int
        Start of the interval from now [s].
    duration : int or None
        Length of the interval [s].
    """

    ocpp_type: ClassVar[str] = "RelativeTimeIntervalType"

    start: NonNegativeInteger
    duration: NonNegativeInteger | None = None


class SalesTariffEntry(OcppObject):
    """One interval of a sales tariff (schema ``SalesTariffEntryType``).

    Attributes
    ----------
    relative_time_interval : RelativeTimeInterval
        When the entry applies.
    e_price_level : int or None
        Price level, >= 0; small values are cheap (``ePriceLevel``).
    consumption_cost : list of ConsumptionCost or None
        One to three consumption blocks.
    """

    ocpp_type: ClassVar[str] = "SalesTariffEntryType"

    relative_time_interval: RelativeTimeInterval
    e_price_level: NonNegativeInteger | None = None
    consumption_cost: Annotated[list[ConsumptionCost], Field(min_length=1, max_length=3)] | None = (
        None
    )


class SalesTariff(OcppObject):
    """An ISO 15118 sales tariff (schema ``SalesTariffType``).

    Attributes
    ----------
    id : int
        Sales tariff identifier (SAID), unique for one schedule in a session.
    sales_tariff_description : str or None
        Short human-readable title, at most 32 characters.
    num_e_price_levels : int or None
        Number of distinct price levels used (``numEPriceLevels``).
    sales_tariff_entry : list of SalesTariffEntry
        1 to 1024 entries.
    """

    ocpp_type: ClassVar[str] = "SalesTariffType"

    id: Integer
    sales_tariff_description: String(32) | None = None
    num_e_price_levels: Integer | None = None
    sales_tariff_entry: Annotated[list[SalesTariffEntry], Field(min_length=1, max_length=1024)]
