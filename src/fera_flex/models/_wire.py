"""The base class shared by every wire dialect (OCPI, OCPP, FERA).

One rule lives here: absent optional fields stay absent. A field whose value is
``None`` is left out of ``model_dump()`` / ``model_dump_json()``, so fera_flex
never invents a ``null`` that the feed did not send. Unknown fields (a newer
protocol version, a vendor extension) are kept in ``model_extra`` and written
back unchanged, ``null`` values included.

Each dialect subclasses :class:`WireModel` once and sets its own
``model_config`` there (pydantic merges it with this one; nothing is mutated).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """Base of all wire-format models: extras kept, absent optionals omitted."""

    model_config = ConfigDict(
        extra="allow",
        validate_assignment=True,
        allow_inf_nan=False,
    )

    @model_serializer(mode="wrap")
    def _omit_absent_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        for name, field in type(self).model_fields.items():
            if getattr(self, name) is None:
                data.pop(name, None)
                if field.alias is not None:
                    data.pop(field.alias, None)
        return data
