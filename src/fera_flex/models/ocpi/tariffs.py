"""OCPI 2.2.1 Tariffs module: Tariff, TariffElement, PriceComponent, TariffRestrictions.

Prices are per unit and exclude VAT: ENERGY per kWh, TIME and PARKING_TIME per
hour, FLAT per session. ``step_size`` is a multiplier of 1 Wh (ENERGY) or
1 s (TIME, PARKING_TIME).
"""

from typing import Annotated, Self

from pydantic import Field, model_validator

from fera_flex.models._scalars import require_order
from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import (
    URL,
    CiString,
    DateTime,
    LocalDate,
    LocalTime,
    NonNegativeInt,
    NonNegativeNumber,
    Number,
    String,
)
from fera_flex.models.ocpi.energy_mix import EnergyMix
from fera_flex.models.ocpi.enums import (
    DayOfWeek,
    ReservationRestrictionType,
    TariffDimensionType,
    TariffType,
)
from fera_flex.models.ocpi.generic import DisplayText, Price

__all__ = ["PriceComponent", "Tariff", "TariffElement", "TariffRestrictions"]

_RESERVATION_DIMENSIONS = frozenset({TariffDimensionType.FLAT, TariffDimensionType.TIME})


class PriceComponent(OcpiModel):
    """The price of one dimension, excluding VAT.

    ``vat`` absent means no VAT applies, which differs from ``0.0``.
    """

    type: TariffDimensionType
    price: Number
    vat: Annotated[NonNegativeNumber, Field(le=100)] | None = None
    step_size: NonNegativeInt


class TariffRestrictions(OcpiModel):
    """Conditions under which a TariffElement applies (all must hold).

    ``end_time`` before ``start_time`` wraps past midnight; ``end_date`` is
    exclusive; ``min_*`` bounds are inclusive and ``max_*`` exclusive, so a
    minimum must be below its maximum.
    """

    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: NonNegativeNumber | None = None
    max_kwh: NonNegativeNumber | None = None
    min_current: NonNegativeNumber | None = None
    max_current: NonNegativeNumber | None = None
    min_power: NonNegativeNumber | None = None
    max_power: NonNegativeNumber | None = None
    min_duration: NonNegativeInt | None = None
    max_duration: NonNegativeInt | None = None
    day_of_week: list[DayOfWeek] | None = None
    reservation: ReservationRestrictionType | None = None

    @model_validator(mode="after")
    def _ranges_not_empty(self) -> Self:
        for low, high in (
            ("start_date", "end_date"),
            ("min_kwh", "max_kwh"),
            ("min_current", "max_current"),
            ("min_power", "max_power"),
            ("min_duration", "max_duration"),
        ):
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and high_value <= low_value:
                raise ValueError(
                    f"{high} ({high_value}) must be greater than {low} ({low_value}): "
                    f"{low} is inclusive and {high} exclusive"
                )
        return self


class TariffElement(OcpiModel):
    """Price components that apply together under optional restrictions.

    An element with a ``reservation`` restriction may only contain FLAT and
    TIME components.
    """

    price_components: Annotated[list[PriceComponent], Field(min_length=1)]
    restrictions: TariffRestrictions | None = None

    @model_validator(mode="after")
    def _reservation_components(self) -> Self:
        if self.restrictions is not None and self.restrictions.reservation is not None:
            for component in self.price_components:
                if component.type not in _RESERVATION_DIMENSIONS:
                    raise ValueError(
                        f"price_components: a {component.type.value} component is not allowed in "
                        "an element with a reservation restriction (only FLAT and TIME)"
                    )
        return self


class Tariff(OcpiModel):
    """A CPO tariff: currency, elements (first match per dimension wins), validity.

    ``min_price`` may not exceed ``max_price`` and ``end_date_time`` must be
    after ``start_date_time``.
    """

    country_code: CiString(2)
    party_id: CiString(3)
    id: CiString(36)
    currency: String(3)
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] | None = None
    tariff_alt_url: URL | None = None
    min_price: Price | None = None
    max_price: Price | None = None
    elements: Annotated[list[TariffElement], Field(min_length=1)]
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None
    last_updated: DateTime

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Self:
        require_order("start_date_time", self.start_date_time, "end_date_time", self.end_date_time)
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price.excl_vat > self.max_price.excl_vat
        ):
            raise ValueError(
                f"min_price.excl_vat ({self.min_price.excl_vat}) exceeds "
                f"max_price.excl_vat ({self.max_price.excl_vat})"
            )
        return self
