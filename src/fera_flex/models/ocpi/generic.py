"""OCPI 2.2.1 generic types (``types.asciidoc``): DisplayText and Price."""

from fera_flex.models.ocpi._base import OcpiModel
from fera_flex.models.ocpi._types import Number, String

__all__ = ["DisplayText", "Price"]


class DisplayText(OcpiModel):
    """A text in one language (ISO 639-1), without markup."""

    language: String(2)
    text: String(512)


class Price(OcpiModel):
    """An amount of money excluding and, optionally, including VAT.

    Amounts may be negative (credit CDRs), so no sign rule is applied here.
    """

    excl_vat: Number
    incl_vat: Number | None = None
