"""The fera_flex error hierarchy.

Every error fera_flex raises on purpose derives from :class:`FeraFlexError`.
pydantic's ``ValidationError`` (raised when an information object is invalid)
is let through unwrapped: its error list already names the object and field.

Examples
--------
>>> from fera_flex.errors import InputError
>>> err = InputError("units.kw_from_current_a", "voltage_v", -230.0, "must be > 0")
>>> str(err)
'units.kw_from_current_a: voltage_v = -230.0: must be > 0'
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FeraFlexError",
    "InputError",
    "OcpiRuleError",
    "PatchError",
]


class FeraFlexError(Exception):
    """Root of every error fera_flex raises on purpose."""


class InputError(FeraFlexError, ValueError):
    """An argument or field value that fera_flex cannot accept.

    Parameters
    ----------
    obj : str
        The object or function that received the value (``"Session"``,
        ``"units.kw_from_current_a"``).
    field : str
        The field or argument name.
    value : Any
        The offending value (kept as :attr:`value`).
    reason : str
        What is wrong, in a few words.
    """

    def __init__(self, obj: str, field: str, value: Any, reason: str) -> None:
        self.obj = obj
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{obj}: {field} = {_short_repr(value)}: {reason}")

    def __reduce__(self):
        """Pickle by the four arguments (the default passes only the message back)."""
        return type(self), (self.obj, self.field, self.value, self.reason)


class OcpiRuleError(InputError):
    """A rule of the OCPI 2.2.1 specification that spans objects is broken.

    Rules inside one object are checked by the model itself and surface as a
    pydantic ``ValidationError``; this error is for rules that relate two
    objects (for example ChargingPreferences against the Session they are for).
    """


class PatchError(InputError):
    """An OCPI PATCH body cannot be applied to the stored object."""


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
