"""The base class of every OCPI 2.2.1 object."""

from pydantic import ConfigDict

from fera_flex.models._wire import WireModel

__all__ = ["OcpiModel"]


class OcpiModel(WireModel):
    """An OCPI 2.2.1 object: snake_case on the wire as in Python.

    Unknown fields are kept and written back; absent optional fields are
    omitted from the JSON (the spec never sends ``null``).
    """

    model_config = ConfigDict(populate_by_name=False)
