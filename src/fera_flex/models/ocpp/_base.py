"""The base classes of every OCPP 2.0.1 object.

The dialect's configuration is set once, on :class:`OcppModel`: camelCase on
the wire (``evseId``), snake_case in Python (``evse_id``); either name is
accepted on input, the wire name is written on output. From
:class:`~fera_flex.models._wire.WireModel` come the wire rules shared by all
dialects: unknown fields are kept and written back, absent optional fields are
omitted (never ``null``).

Every schema type except ``CustomDataType`` itself carries an optional
``customData`` object: that field lives on :class:`OcppObject`.
"""

from typing import ClassVar

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel

from fera_flex.models._wire import WireModel
from fera_flex.models.ocpp._types import String

__all__ = ["CustomData", "OcppModel", "OcppObject"]


class OcppModel(WireModel):
    """Base of every OCPP 2.0.1 model: camelCase on the wire, snake_case in Python.

    Attributes
    ----------
    ocpp_type : ClassVar[str]
        The name of the schema definition (``"ChargingProfileType"``) or of
        the message schema (``"SetChargingProfileRequest"``) the class models.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    ocpp_type: ClassVar[str]


class CustomData(OcppModel):
    """Vendor-specific data (schema ``CustomDataType``).

    The schema requires ``vendorId`` and allows any other property; those are
    kept in :attr:`model_extra` and written back unchanged.

    Attributes
    ----------
    vendor_id : str
        Identifies the vendor that defines the extra properties (at most 255 characters).

    Examples
    --------
    >>> data = CustomData.model_validate({"vendorId": "com.example", "tariffZone": 3})
    >>> data.model_extra
    {'tariffZone': 3}
    """

    ocpp_type: ClassVar[str] = "CustomDataType"

    vendor_id: String(255)


class OcppObject(OcppModel):
    """An OCPP 2.0.1 object or message: every schema type except ``CustomDataType``.

    Attributes
    ----------
    custom_data : CustomData or None
        Vendor extension (``customData``).
    """

    custom_data: CustomData | None = None
